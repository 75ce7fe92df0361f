// Hand-made OCI image layouts for scanner tests: layers as tar bytes (tar-stream), compressed with
// gzip (node:zlib), zstd (the zstd CLI, a real encoder) or left plain, blobs named by their digest.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';

const exec = promisify(execFile);

export type LayerFiles = Record<string, string | Buffer>;

/** A tar of the given files (directories are implied). */
export async function tarOf(files: LayerFiles): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => void chunks.push(c as Buffer));
  const done = new Promise<void>((resolve) => p.on('end', () => resolve()));
  for (const [name, content] of Object.entries(files)) {
    await new Promise<void>((resolve, reject) =>
      p.entry({ name, size: Buffer.byteLength(content) }, content, (err) => (err ? reject(err) : resolve())),
    );
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** zstd-compressed bytes from the real zstd CLI (apt-get install zstd; scripts/setup.sh does). */
export async function zstdOf(data: Buffer): Promise<Buffer> {
  const child = exec('zstd', ['-q', '-c', '-3'], { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 });
  child.child.stdin?.end(data);
  const { stdout } = await child;
  return stdout as unknown as Buffer;
}

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export interface CraftedLayer {
  files: LayerFiles;
  compression: 'gzip' | 'zstd' | 'none';
}

export interface CraftedImage {
  layers: CraftedLayer[];
  env?: string[];
  history?: { created_by: string; empty_layer?: boolean }[];
  ref?: string;
}

/** Writes an OCI image layout (oci-layout, index.json, blobs/sha256/*) to dir; returns the files. */
export async function writeOciLayout(dir: string, image: CraftedImage): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {};
  const blob = (b: Buffer): string => {
    const d = sha(b);
    out[`blobs/sha256/${d.slice(7)}`] = b;
    return d;
  };
  const layerDescs = [];
  const diffIds: string[] = [];
  for (const l of image.layers) {
    const tar = await tarOf(l.files);
    diffIds.push(sha(tar));
    const bytes =
      l.compression === 'gzip' ? gzipSync(tar) : l.compression === 'zstd' ? await zstdOf(tar) : tar;
    const suffix = l.compression === 'gzip' ? '+gzip' : l.compression === 'zstd' ? '+zstd' : '';
    layerDescs.push({
      mediaType: `application/vnd.oci.image.layer.v1.tar${suffix}`,
      digest: blob(bytes),
      size: bytes.length,
    });
  }
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Env: image.env ?? ['PATH=/bin'] },
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: image.history ?? image.layers.map((_, i) => ({ created_by: `layer ${i + 1}` })),
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: blob(config),
        size: config.length,
      },
      layers: layerDescs,
    }),
  );
  const md = blob(manifest);
  out['index.json'] = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: md,
          size: manifest.length,
          annotations: { 'org.opencontainers.image.ref.name': image.ref ?? 'crafted:latest' },
        },
      ],
    }),
  );
  out['oci-layout'] = Buffer.from('{"imageLayoutVersion":"1.0.0"}');
  for (const [name, b] of Object.entries(out)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), b);
  }
  return out;
}

/**
 * A legacy `docker save` tarball (manifest.json, <config>.json, <id>/layer.tar, <id>/VERSION), as the
 * classic image store writes it: layers uncompressed unless a layer asks for gzip or zstd.
 */
export async function dockerSaveTarOf(image: CraftedImage): Promise<Buffer> {
  const files: Record<string, Buffer> = {};
  const layerNames: string[] = [];
  const diffIds: string[] = [];
  for (const l of image.layers) {
    const tar = await tarOf(l.files);
    diffIds.push(sha(tar));
    const bytes =
      l.compression === 'gzip' ? gzipSync(tar) : l.compression === 'zstd' ? await zstdOf(tar) : tar;
    const id = sha(bytes).slice(7);
    files[`${id}/VERSION`] = Buffer.from('1.0');
    files[`${id}/layer.tar`] = bytes;
    layerNames.push(`${id}/layer.tar`);
  }
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Env: image.env ?? ['PATH=/bin'] },
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: image.history ?? image.layers.map((_, i) => ({ created_by: `layer ${i + 1}` })),
    }),
  );
  const configName = `${sha(config).slice(7)}.json`;
  files[configName] = config;
  // manifest.json last, as docker save writes it
  files['manifest.json'] = Buffer.from(
    JSON.stringify([{ Config: configName, RepoTags: [image.ref ?? 'crafted:latest'], Layers: layerNames }]),
  );
  return tarOf(files);
}
