// Collects the entries of a docker-save tar or an OCI image layout as they stream by (in any order:
// manifest.json usually comes last), scanning each layer blob on arrival and keeping only small
// JSON blobs, then resolves images → layers → findings. Memory: findings, whiteouts and JSON only.
import { KeylessError } from '../../errors.js';
import type { Finding } from '../types.js';
import { layerTar, peek, readAll, sniffBlob } from './blob.js';
import { scanImageConfig, type ImageConfig, type LayerRef } from './config.js';
import { layerPath, scanLayer, type LayerScan } from './layer.js';
import { scanBuffer } from '../stream-text.js';

/** JSON blobs (configs, manifests, indexes, attestations) are kept up to this size. */
const MAX_JSON_BYTES = 64 * 1024 * 1024;

interface ImageManifest {
  name: string;
  config: string;
  layers: string[];
}

interface Descriptor {
  mediaType?: string;
  digest?: string;
  annotations?: Record<string, string>;
}

const blobPath = (digest: string | undefined): string => `blobs/${(digest ?? '').replace(':', '/')}`;

export class ImageCollector {
  private readonly layers = new Map<string, LayerScan>();
  private readonly jsons = new Map<string, Buffer>();
  private readonly links = new Map<string, string>();

  constructor(private readonly source: string) {}

  /** One entry of the archive (or file of the layout folder), consumed to its end. */
  async add(
    name: string,
    type: string | null | undefined,
    linkname: string | null | undefined,
    content: AsyncIterable<Buffer>,
  ): Promise<void> {
    const path = layerPath(name);
    if ((type === 'symlink' || type === 'link') && linkname) {
      // legacy docker save links a layer.tar shared by two images to the first copy
      const target = type === 'symlink' ? joinRelative(path, linkname) : layerPath(linkname);
      this.links.set(path, target);
    }
    if (type !== 'file' && type !== 'contiguous-file') {
      for await (const _ of content) void _;
      return;
    }
    const { head, stream } = await peek(content);
    const kind = sniffBlob(head);
    if (kind === 'json' || path === 'oci-layout') {
      const buf = await readAll(stream, MAX_JSON_BYTES);
      if (buf) this.jsons.set(path, buf);
      return;
    }
    if (kind === 'other') {
      for await (const _ of stream) void _;
      return;
    }
    try {
      this.layers.set(path, await scanLayer(layerTar(kind, stream), { image: this.source }));
    } catch (err) {
      throw new KeylessError(
        'SCAN_IMAGE_UNREADABLE',
        `${this.source}: the layer ${path} is not a readable ${kind === 'tar' ? 'tar' : `${kind}-compressed tar`} (${(err as Error).message}). Re-export the image (docker save) and scan again.`,
        { cause: err },
      );
    }
  }

  private json<T>(path: string): T | undefined {
    const b = this.jsons.get(path);
    if (!b) return undefined;
    try {
      return JSON.parse(b.toString('utf8')) as T;
    } catch {
      return undefined;
    }
  }

  /** Images in the archive: manifest.json (docker save), else index.json (OCI layout), walked down. */
  private manifests(): ImageManifest[] {
    const legacy =
      this.json<{ Config: string; Layers: string[]; RepoTags?: string[] | null }[]>('manifest.json');
    if (Array.isArray(legacy) && legacy.length > 0) {
      return legacy.map((m) => ({
        name: m.RepoTags?.[0] ?? this.source,
        config: layerPath(m.Config),
        layers: m.Layers.map(layerPath),
      }));
    }
    const out: ImageManifest[] = [];
    const walk = (
      node: { manifests?: Descriptor[]; layers?: Descriptor[]; config?: Descriptor } | undefined,
      name: string,
      depth: number,
    ): void => {
      if (!node || depth > 4) return;
      if (Array.isArray(node.layers)) {
        out.push({
          name,
          config: blobPath(node.config?.digest),
          layers: node.layers.map((l) => blobPath(l.digest)),
        });
        return;
      }
      for (const d of node.manifests ?? []) {
        const ref =
          d.annotations?.['io.containerd.image.name'] ?? d.annotations?.['org.opencontainers.image.ref.name'];
        const attestation = d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest';
        walk(this.json(blobPath(d.digest)), attestation ? `${name} (attestation)` : (ref ?? name), depth + 1);
      }
    };
    walk(this.json('index.json'), this.source, 0);
    return out;
  }

  /** All findings, layers in order, deleted secrets marked. Throws when the input holds no image. */
  finish(): Finding[] {
    const images = this.manifests();
    if (images.length === 0) {
      throw new KeylessError(
        'SCAN_NOT_AN_IMAGE',
        `${this.source} holds neither manifest.json (docker save) nor index.json (OCI image layout). Scan a docker-save tarball, an OCI layout, or the folder it came from.`,
      );
    }
    const findings: Finding[] = [];
    const reported = new Set<string>();
    for (const image of images) {
      const cfg = this.json<ImageConfig>(image.config);
      const diffIds = cfg?.rootfs?.diff_ids ?? [];
      const resolved = image.layers.map((p) => this.links.get(p) ?? p);
      const refs: LayerRef[] = resolved.map((p, i) => ({
        index: i + 1,
        digest: p.startsWith('blobs/sha256/')
          ? `sha256:${p.slice('blobs/sha256/'.length)}`
          : (diffIds[i] ?? p),
      }));
      resolved.forEach((p, i) => {
        const ref = refs[i] as LayerRef;
        const scan = this.layers.get(p);
        if (reported.has(p)) return;
        reported.add(p);
        if (!scan) {
          // an attestation's "layer" is an in-toto JSON document: scan it as text
          const doc = this.jsons.get(p);
          if (doc)
            for (const f of scanBuffer(doc, {
              base: { path: `image/${image.name}/layer${ref.index}`, image: image.name },
            }))
              findings.push({ ...f, location: { ...f.location, layer: ref } });
          return;
        }
        for (const f of scan.findings) {
          const inner = f.location.path;
          const deletedBy = resolved.findIndex(
            (q, j) => j > i && (this.layers.get(q)?.whiteouts ?? []).some((w) => deletes(w, inner)),
          );
          findings.push({
            ...f,
            message: `${f.message} in /${inner}`,
            location: {
              ...f.location,
              path: `image/${image.name}/layer${ref.index}/${inner}`,
              image: image.name,
              layer: ref,
            },
            ...(deletedBy >= 0
              ? { deleted: `deleted in layer ${deletedBy + 1}, still extractable from layer ${ref.index}` }
              : {}),
          });
        }
      });
      if (cfg) findings.push(...scanImageConfig(cfg, image.name, refs));
    }
    return findings;
  }
}

/** Whether whiteout w (a path, or "dir/" for an opaque directory) hides path p of a lower layer. */
export function deletes(w: string, p: string): boolean {
  if (w === '' || w.endsWith('/')) return p.startsWith(w);
  return p === w || p.startsWith(`${w}/`);
}

function joinRelative(from: string, link: string): string {
  if (link.startsWith('/')) return layerPath(link);
  const parts = from.split('/').slice(0, -1);
  for (const seg of link.split('/')) {
    if (seg === '..') parts.pop();
    else if (seg !== '.' && seg !== '') parts.push(seg);
  }
  return parts.join('/');
}
