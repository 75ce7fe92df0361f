// Collects the entries of a docker-save tar or an OCI image layout as they stream by (in any order:
// manifest.json usually comes last), scanning each layer blob on arrival and keeping only small
// JSON blobs, then resolves images → layers → findings. Memory: findings, whiteouts and JSON only.
import { KeylessError } from '../../errors.js';
import type { Finding } from '../types.js';
import { createGunzip, type Gunzip } from 'node:zlib';
import { Decompress } from 'fzstd';
import { SNIFF_BYTES, sniffBlob, type BlobKind } from './blob.js';
import { scanImageConfig, type ImageConfig, type LayerRef } from './config.js';
import { LayerScanner, layerPath, type LayerScan } from './layer.js';
import { scanBuffer } from '../stream-text.js';
import type { TarEntry, TarEntrySink, TarEntryType } from '../tar-walk.js';

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
    const t: TarEntryType =
      type === 'file' || type === 'contiguous-file'
        ? 'file'
        : type === 'symlink' || type === 'link' || type === 'directory'
          ? type
          : 'other';
    const sink = this.entry({ type: t, size: 0, name: () => name, linkname: () => linkname ?? undefined });
    for await (const c of content) if (sink) await sink.data(c, 0, c.length);
    if (sink) await sink.end();
  }

  /** An entry of the archive as the tar walker sees it; returns where its bytes go. */
  entry(e: TarEntry): TarEntrySink | undefined {
    const path = layerPath(e.name());
    const linkname = e.linkname();
    if ((e.type === 'symlink' || e.type === 'link') && linkname) {
      // legacy docker save links a layer.tar shared by two images to the first copy
      const target = e.type === 'symlink' ? joinRelative(path, linkname) : layerPath(linkname);
      this.links.set(path, target);
    }
    if (e.type !== 'file') return undefined;
    return new BlobSink(path, this.source, this.jsons, this.layers, this.onLayer);
  }

  /** Called when a blob turns out to be a layer, by its first bytes (for progress). */
  onLayer: (() => void) | undefined;

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

/**
 * Where one blob's bytes go: its first bytes decide (gzip, zstd, tar → a layer scanned as it streams;
 * JSON → kept; anything else → dropped).
 */
class BlobSink implements TarEntrySink {
  private head: Buffer[] = [];
  private headLen = 0;
  private kind: BlobKind | undefined;
  private layer: LayerScanner | undefined;
  private json: Buffer[] | undefined;
  private jsonLen = 0;
  private gunzip: Gunzip | undefined;
  private gunzipDone: Promise<void> | undefined;
  private zstd: Decompress | undefined;
  private zstdOut: Buffer[] = [];

  constructor(
    private readonly path: string,
    private readonly source: string,
    private readonly jsons: Map<string, Buffer>,
    private readonly layers: Map<string, LayerScan>,
    private readonly onLayer: (() => void) | undefined,
  ) {}

  async data(buf: Buffer, start: number, end: number): Promise<void> {
    if (this.kind === undefined) {
      if (this.headLen === 0 && end - start >= SNIFF_BYTES) {
        this.begin(sniffBlob(buf.subarray(start, start + SNIFF_BYTES)));
      } else {
        this.head.push(Buffer.from(buf.subarray(start, end)));
        this.headLen += end - start;
        if (this.headLen < SNIFF_BYTES) return;
        const all = Buffer.concat(this.head);
        this.head = [];
        this.begin(sniffBlob(all.subarray(0, SNIFF_BYTES)));
        return this.feed(all, 0, all.length);
      }
    }
    return this.feed(buf, start, end);
  }

  async end(): Promise<void> {
    if (this.kind === undefined) {
      const all = Buffer.concat(this.head);
      this.head = [];
      this.begin(sniffBlob(all));
      await this.feed(all, 0, all.length);
    }
    try {
      if (this.gunzip) {
        this.gunzip.end();
        await this.gunzipDone;
      }
      if (this.zstd) {
        this.zstd.push(new Uint8Array(0), true);
        await this.drainZstd();
      }
      if (this.layer) this.layers.set(this.path, await this.layer.finish());
      if (this.json) this.jsons.set(this.path, Buffer.concat(this.json));
    } catch (err) {
      throw this.unreadable(err);
    }
  }

  private begin(kind: BlobKind): void {
    this.kind = kind === 'other' && this.path === 'oci-layout' ? 'json' : kind;
    if (this.kind === 'json') this.json = [];
    if (this.kind === 'tar' || this.kind === 'gzip' || this.kind === 'zstd') {
      this.layer = new LayerScanner({ image: this.source });
      this.onLayer?.();
    }
    if (this.kind === 'gzip') {
      const gunzip = createGunzip({ chunkSize: 256 * 1024 });
      const layer = this.layer as LayerScanner;
      this.gunzip = gunzip;
      this.gunzipDone = (async () => {
        for await (const c of gunzip) await layer.push(c as Buffer);
      })();
      // a failure surfaces when end() awaits it; until then it must not be unhandled
      this.gunzipDone.catch(() => undefined);
    }
    if (this.kind === 'zstd') {
      // fzstd hands out views of its own window buffer: copy before the next push overwrites them
      this.zstd = new Decompress((chunk) => void this.zstdOut.push(Buffer.from(chunk)));
    }
  }

  private async feed(buf: Buffer, start: number, end: number): Promise<void> {
    try {
      if (this.layer && this.kind === 'tar') return await this.layer.push(buf.subarray(start, end));
      if (this.gunzip) {
        // zlib works on it later, on another thread: a copy (the caller may reuse its buffer)
        if (!this.gunzip.write(Buffer.from(buf.subarray(start, end)))) {
          // not events.once(gz, 'drain'): when the layer scan fails, the for-await above destroys
          // gunzip without an 'error', and only 'close' ever comes
          await new Promise<void>((resolve, reject) => {
            const gz = this.gunzip as Gunzip;
            const done = (): void => {
              gz.off('drain', done);
              gz.off('error', fail);
              gz.off('close', done);
              resolve();
            };
            const fail = (err: Error): void => {
              gz.off('drain', done);
              gz.off('close', done);
              reject(err);
            };
            gz.on('drain', done);
            gz.on('close', done);
            gz.once('error', fail);
          });
        }
        return;
      }
      if (this.zstd) {
        this.zstd.push(Buffer.from(buf.subarray(start, end)));
        return await this.drainZstd();
      }
      if (this.json) {
        this.jsonLen += end - start;
        if (this.jsonLen <= MAX_JSON_BYTES) this.json.push(Buffer.from(buf.subarray(start, end)));
        else this.json = undefined;
      }
    } catch (err) {
      throw this.unreadable(err);
    }
  }

  private async drainZstd(): Promise<void> {
    const layer = this.layer as LayerScanner;
    while (this.zstdOut.length > 0) await layer.push(this.zstdOut.shift() as Buffer);
  }

  private unreadable(err: unknown): Error {
    if (err instanceof KeylessError && err.code !== 'SCAN_TAR_INVALID' && err.code !== 'SCAN_TAR_TRUNCATED')
      return err;
    const kind = this.kind === 'tar' ? 'tar' : `${this.kind ?? 'unknown'}-compressed tar`;
    return new KeylessError(
      'SCAN_IMAGE_UNREADABLE',
      `${this.source}: the layer ${this.path} is not a readable ${kind} (${(err as Error).message}). Re-export the image (docker save) and scan again.`,
      { cause: err },
    );
  }
}
