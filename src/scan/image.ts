// Images: `docker save` tarballs (legacy layout, and the OCI layout Docker 25+ writes inside), OCI
// image-layout folders and images by reference (the Engine's GET /images/{name}/get tar), streamed
// entry by entry and never written to disk. Every layer (gzip, zstd or plain, sniffed by magic bytes)
// is scanned on its own, so a secret a later layer deleted is still reported, with where it can be
// extracted from; the config's Env, Labels, Cmd and history created_by are scanned too.
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { KeylessError } from '../errors.js';
import { ImageCollector } from './image/collector.js';
import type { ImageProgress } from './progress.js';
import { TarWalker } from './tar-walk.js';
import type { Finding } from './types.js';

export interface ImageScanOptions {
  /** counts the bytes and layers as they are read (the CLI draws it on a terminal) */
  progress?: ImageProgress;
}

/** Scans a docker-save tar stream, or an OCI image layout packed as a tar. */
export async function scanImageArchive(
  source: AsyncIterable<Buffer> | NodeJS.ReadableStream,
  imageName: string,
  options: ImageScanOptions = {},
): Promise<Finding[]> {
  const collector = new ImageCollector(imageName);
  const progress = options.progress;
  if (progress) collector.onLayer = () => progress.layerStarted();
  const stream = progress?.counted(source as AsyncIterable<Buffer>) ?? (source as AsyncIterable<Buffer>);
  const walker = new TarWalker((e) => collector.entry(e), imageName);
  try {
    for await (const chunk of stream) await walker.push(chunk);
    await walker.end();
  } catch (err) {
    if (err instanceof KeylessError && err.code !== 'SCAN_TAR_INVALID') throw err;
    throw new KeylessError(
      'SCAN_IMAGE_UNREADABLE',
      `${imageName} is not a readable tar archive (${(err as Error).message}). Scan a docker-save tarball (docker save -o FILE IMAGE) or an OCI layout.`,
      { cause: err },
    );
  }
  return collector.finish();
}

/** An OCI image-layout folder (oci-layout + index.json + blobs/), each file streamed from disk. */
export async function scanOciLayout(root: string, options: ImageScanOptions = {}): Promise<Finding[]> {
  const collector = new ImageCollector(basename(root));
  const progress = options.progress;
  if (progress) collector.onLayer = () => progress.layerStarted();
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.isFile()) {
        const content = createReadStream(full);
        await collector.add(
          relative(root, full).split(sep).join('/'),
          'file',
          undefined,
          options.progress?.file(content) ?? content,
        );
      }
    }
  };
  await walk(root);
  return collector.finish();
}
