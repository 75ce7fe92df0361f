// Images: `docker save` tarballs (legacy layout, and the OCI layout Docker 25+ writes inside), streamed
// entry by entry and never written to disk; every layer (gzip, zstd or plain, sniffed by magic bytes)
// is scanned on its own, so a secret a later layer deleted is still reported, with where it can be
// extracted from. The config's Env, Labels and history created_by are scanned too.
import { gunzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import { decompress as zstdDecompress } from 'fzstd';
import { detectCredentials, Rule } from './detectors.js';
import type { Finding } from './types.js';

const MAX_FILE = 16 * 1024 * 1024;

interface LayerScan {
  findings: Finding[];
  /** paths deleted by whiteouts in this layer; a trailing "/" marks an opaque directory */
  whiteouts: string[];
}

async function collect(stream: unknown, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  for await (const c of stream as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > limit) over = true;
    else chunks.push(c);
  }
  return over ? undefined : Buffer.concat(chunks);
}

/** gzip, zstd or a plain tar (ustar magic at 257), by magic bytes, never by file name. */
function isLayerBlob(b: Buffer): boolean {
  if (b[0] === 0x1f && b[1] === 0x8b) return true;
  if (b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd) return true;
  return b.length >= 262 && b.toString('latin1', 257, 262) === 'ustar';
}

async function scanLayer(blob: Buffer, imageName: string, layerPath: string): Promise<LayerScan> {
  const scan: LayerScan = { findings: [], whiteouts: [] };
  let tarBytes: Buffer;
  if (blob[0] === 0x1f && blob[1] === 0x8b) tarBytes = gunzipSync(blob);
  else if (blob[0] === 0x28 && blob[1] === 0xb5 && blob[2] === 0x2f && blob[3] === 0xfd)
    tarBytes = Buffer.from(zstdDecompress(blob));
  else tarBytes = blob;
  const source = Readable.from([tarBytes]);
  const ex = extract();
  await new Promise<void>((resolve, reject) => {
    ex.on('entry', (header, stream, next) => {
      const name = header.name.replace(/^\.\//, '');
      const base = name.split('/').pop() ?? '';
      if (base === '.wh..wh..opq') scan.whiteouts.push(`${name.slice(0, -base.length)}`);
      else if (base.startsWith('.wh.')) scan.whiteouts.push(`${name.slice(0, -base.length)}${base.slice(4)}`);
      if (header.type !== 'file' || (header.size ?? 0) > MAX_FILE) {
        stream.resume();
        stream.on('end', next);
        return;
      }
      collect(stream, MAX_FILE)
        .then((buf) => {
          if (buf) {
            for (const f of detectCredentials(buf.toString('latin1'), {
              base: { path: `image/${imageName}/${layerPath}/${name}`, image: imageName },
            })) {
              f.location.path = name;
              scan.findings.push(f);
            }
          }
          next();
        })
        .catch(reject);
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
    source.on('error', reject);
    source.pipe(ex);
  });
  return scan;
}

interface ImageConfig {
  config?: { Env?: string[]; Labels?: Record<string, string> };
  history?: { created_by?: string; empty_layer?: boolean }[];
}

/** An OCI image layout (no manifest.json): index.json → the first image manifest → config and layers. */
function ociManifest(jsons: Map<string, Buffer>): { Config: string; Layers: string[] } | undefined {
  const blob = (digest: string | undefined): string => `blobs/${(digest ?? '').replace(':', '/')}`;
  const read = (name: string): Record<string, unknown> | undefined => {
    const b = jsons.get(name);
    return b ? (JSON.parse(b.toString('utf8')) as Record<string, unknown>) : undefined;
  };
  let node = read('index.json');
  // an index may point at another index (multi-platform) before the image manifest
  for (let depth = 0; node && depth < 4; depth++) {
    if (Array.isArray(node.layers)) {
      return {
        Config: blob((node.config as { digest?: string } | undefined)?.digest),
        Layers: (node.layers as { digest?: string }[]).map((l) => blob(l.digest)),
      };
    }
    const first = (node.manifests as { digest?: string }[] | undefined)?.[0];
    node = first ? read(blob(first.digest)) : undefined;
  }
  return undefined;
}

/** Scans a docker-save tar stream, or an OCI image layout packed as a tar. */
export async function scanImageArchive(stream: NodeJS.ReadableStream, imageName: string): Promise<Finding[]> {
  const layers = new Map<string, LayerScan>();
  const jsons = new Map<string, Buffer>();
  let manifest: { Config: string; Layers: string[]; RepoTags?: string[] }[] | undefined;
  const ex = extract();
  await new Promise<void>((resolve, reject) => {
    ex.on('entry', (header, entry, next) => {
      const name = header.name.replace(/^\.\//, '');
      if (header.type !== 'file') {
        entry.resume();
        entry.on('end', next);
        return;
      }
      collect(entry, 4 * 1024 * 1024 * 1024)
        .then(async (buf) => {
          if (!buf || buf.length === 0) return;
          if (name === 'manifest.json') manifest = JSON.parse(buf.toString('utf8')) as typeof manifest;
          else if (buf[0] === 0x7b || buf[0] === 0x5b || name === 'oci-layout') jsons.set(name, buf);
          else if (isLayerBlob(buf)) layers.set(name, await scanLayer(buf, imageName, name));
        })
        .then(() => next())
        .catch(reject);
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
    stream.on('error', reject);
    stream.pipe(ex);
  });
  const findings: Finding[] = [];
  const m = manifest?.[0] ?? ociManifest(jsons);
  const order = m?.Layers ?? [...layers.keys()];
  order.forEach((layerPath, index) => {
    const l = layers.get(layerPath);
    if (!l) return;
    const digest = layerPath.replace(/^blobs\/sha256\//, 'sha256:').replace(/\/layer\.tar$/, '');
    for (const f of l.findings) {
      const path = f.location.path;
      const deletedAt = order.findIndex(
        (p, j) =>
          j > index &&
          (layers.get(p)?.whiteouts ?? []).some((w) =>
            w.endsWith('/') ? path.startsWith(w) : path === w || path.startsWith(`${w}/`),
          ),
      );
      f.location = {
        ...f.location,
        path: `image/${imageName}/layer${index + 1}/${path}`,
        layer: { index: index + 1, digest },
        image: imageName,
      };
      f.message = `${f.message} in /${path}`;
      if (deletedAt >= 0)
        f.deleted = `deleted in layer ${deletedAt + 1}, still extractable from layer ${index + 1}`;
      findings.push(f);
    }
  });
  const configBuf = m ? jsons.get(m.Config) : undefined;
  if (configBuf) {
    const cfg = JSON.parse(configBuf.toString('utf8')) as ImageConfig;
    const env = (cfg.config?.Env ?? []).join('\n');
    for (const f of detectCredentials(env, {
      base: { path: `image/${imageName}/config/Env`, image: imageName },
    }))
      findings.push({
        ...f,
        rule: f.rule === Rule.EXAMPLE_KEY ? f.rule : f.rule,
        message: `${f.message} in the image config Env`,
      });
    const labels = Object.entries(cfg.config?.Labels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join('\n');
    for (const f of detectCredentials(labels, {
      base: { path: `image/${imageName}/config/Labels`, image: imageName },
    }))
      findings.push({ ...f, message: `${f.message} in an image label` });
    (cfg.history ?? []).forEach((h, i) => {
      for (const f of detectCredentials(h.created_by ?? '', {
        base: { path: `image/${imageName}/history/${i + 1}`, image: imageName },
      })) {
        findings.push({
          ...f,
          message: `${f.message} in the image history (step ${i + 1}: a build arg or ENV shows here)`,
        });
      }
    });
  }
  return findings;
}
