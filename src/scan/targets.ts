// Scan targets: files (Dockerfile, compose, text), directories (recursive, .dockerignore-style
// excludes), docker-save archives, images by reference (Engine API, streamed) and containers.
import { createReadStream, readdirSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import type { DockerClient } from '../docker/engine/client.js';
import { detectCredentials, fingerprint, Rule } from './detectors.js';
import { scanDockerfile } from './dockerfile.js';
import { scanImageArchive, scanOciLayout as scanOciLayoutFolder } from './image.js';
import type { ImageProgressFactory } from './progress.js';
import { mappedRead } from './mapped-read.js';
import { scanPlainFile } from './file-read.js';
import type { Finding } from './types.js';

export type TargetKind =
  'auto' | 'dockerfile' | 'compose' | 'dir' | 'file' | 'archive' | 'image' | 'container';

const MAX_TEXT = 8 * 1024 * 1024;
const SKIP_DIRS = new Set(['.git', 'node_modules']);

export function kindOfFile(path: string): Exclude<TargetKind, 'auto' | 'dir' | 'image' | 'container'> {
  const b = basename(path).toLowerCase();
  if (b === 'dockerfile' || b.startsWith('dockerfile.') || b.endsWith('.dockerfile') || b === 'containerfile')
    return 'dockerfile';
  if (/^(docker-)?compose(\.[\w-]+)?\.ya?ml$/.test(b)) return 'compose';
  if (b.endsWith('.tar')) return 'archive';
  return 'file';
}

/** .dockerignore-style patterns → a matcher of relative paths (*, **, ?, leading !, trailing /). */
export function ignoreMatcher(patterns: string[]): (rel: string) => boolean {
  const rules = patterns
    .map((p) => p.trim())
    .filter((p) => p && !p.startsWith('#'))
    .map((p) => {
      const negate = p.startsWith('!');
      const body = (negate ? p.slice(1) : p).replace(/^\/+|\/+$/g, '');
      const re = body
        .split('**')
        .map((part) =>
          part
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '[^/]*')
            .replace(/\?/g, '[^/]'),
        )
        .join('.*');
      return { negate, re: new RegExp(`^${re}(/.*)?$`) };
    });
  return (rel) => {
    let ignored = false;
    for (const r of rules) if (r.re.test(rel)) ignored = !r.negate;
    return ignored;
  };
}

export interface TargetScanOptions {
  /** progress for images (archives, OCI layouts, images by reference); the CLI sets it on a terminal */
  progress?: ImageProgressFactory;
}

export async function scanFile(
  path: string,
  kind = kindOfFile(path),
  options: TargetScanOptions = {},
): Promise<Finding[]> {
  if (kind === 'archive') {
    // a regular file is mapped (mapped-read.ts); a pipe is streamed. (Measured here and rejected:
    // layers on worker threads, no faster on 2 cores.)
    const st = await stat(path);
    const progress = options.progress?.(basename(path), { totalBytes: st.size });
    const bytes = st.isFile() ? mappedRead(path) : createReadStream(path, { highWaterMark: 1 << 20 });
    return scanImageArchive(bytes, basename(path), { progress });
  }
  if (kind === 'file') return scanPlainFile(path);
  const st = await stat(path);
  if (st.size > MAX_TEXT) return [];
  const text = await readFile(path, 'latin1');
  if (kind === 'dockerfile') return scanDockerfile(text, path);
  // the YAML parser costs ~40 ms to load: only when there is a compose file
  const { scanCompose } = await import('./compose.js');
  return scanCompose(text, path);
}

/** An OCI image-layout folder; with progress, its total is the size of its files. */
export async function scanOciLayout(root: string, options: TargetScanOptions = {}): Promise<Finding[]> {
  if (!options.progress) return scanOciLayoutFolder(root);
  const sizeOf = async (dir: string): Promise<number> => {
    let n = 0;
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) n += await sizeOf(p);
      else if (e.isFile()) n += (await stat(p)).size;
    }
    return n;
  };
  const progress = options.progress(basename(root), { totalBytes: await sizeOf(root) });
  return scanOciLayoutFolder(root, { progress });
}

export async function isOciLayout(dir: string): Promise<boolean> {
  return (await stat(join(dir, 'oci-layout')).catch(() => undefined))?.isFile() === true;
}

export async function scanDirectory(root: string, extraExcludes: string[] = []): Promise<Finding[]> {
  const ignore = await readFile(join(root, '.dockerignore'), 'utf8').catch(() => '');
  const ignored = ignoreMatcher([...ignore.split('\n'), ...extraExcludes]);
  const files: { path: string; kind: ReturnType<typeof kindOfFile> }[] = [];
  // synchronous: from the dentry cache a readdir takes microseconds, a promise round trip more
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      const rel = relative(root, p);
      if (ignored(rel)) continue;
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) walk(p);
      } else if (e.isFile()) {
        const kind = kindOfFile(p);
        if (kind !== 'archive') files.push({ path: p, kind });
      }
    }
  };
  walk(root);
  // one after another: small files are read synchronously (cheapest from the page cache)
  const out: Finding[] = [];
  for (const f of files)
    out.push(...(f.kind === 'file' ? await scanPlainFile(f.path, true) : await scanFile(f.path, f.kind)));
  return out;
}

interface ImageInfo {
  Size?: number;
  RootFS?: { Layers?: string[] };
}

export async function scanImageRef(
  client: DockerClient,
  ref: string,
  options: TargetScanOptions = {},
): Promise<Finding[]> {
  // Size is the unpacked size: the export is about that with the classic store, less with the
  // containerd store (compressed blobs), hence an approximate total
  const info = options.progress
    ? await client.json<ImageInfo>('GET', `/images/${encodeURIComponent(ref)}/json`).catch(() => undefined)
    : undefined;
  const totals = {
    ...(info?.Size ? { totalBytes: info.Size, approximate: true } : {}),
    ...(info?.RootFS?.Layers ? { layersTotal: info.RootFS.Layers.length } : {}),
  };
  // a known image shows at once (the export can take a while to start); an unknown one only if it opens
  let progress = info ? options.progress?.(ref, totals) : undefined;
  const res = await client.stream('GET', `/images/${encodeURIComponent(ref)}/get`);
  progress ??= options.progress?.(ref, totals);
  return scanImageArchive(res, ref, { progress });
}

interface ContainerInfo {
  Name: string;
  Config?: { Env?: string[]; Labels?: Record<string, string> };
  Mounts?: { Source?: string; Destination?: string }[];
}

export async function scanContainer(client: DockerClient, id: string): Promise<Finding[]> {
  const c = await client.json<ContainerInfo>('GET', `/containers/${encodeURIComponent(id)}/json`);
  const name = c.Name.replace(/^\//, '');
  const out: Finding[] = [];
  const base = { path: `container/${name}`, container: name };
  for (const f of detectCredentials((c.Config?.Env ?? []).join('\n'), {
    base: { ...base, path: `${base.path}/Env` },
  }))
    out.push({ ...f, message: `${f.message} in the container env` });
  const labels = Object.entries(c.Config?.Labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
  for (const f of detectCredentials(labels, { base: { ...base, path: `${base.path}/Labels` } }))
    out.push({ ...f, message: `${f.message} in a container label` });
  for (const m of c.Mounts ?? []) {
    if (/(^|\/)\.aws(\/|$)|aws\/credentials/.test(`${m.Source ?? ''} ${m.Destination ?? ''}`)) {
      out.push({
        rule: Rule.AWS_MOUNT,
        severity: 'high',
        message: `container ${name} mounts ${m.Source} at ${m.Destination}: AWS credentials files shared with the container`,
        fix: 'Recreate it with keyless run (role credentials through the ECS endpoint) and no .aws mount.',
        location: { ...base, path: `${base.path}/Mounts` },
        excerpt: `${m.Source} → ${m.Destination}`,
        fingerprint: fingerprint(Rule.AWS_MOUNT, `${m.Source}`, base.path),
      });
    }
  }
  return out;
}
