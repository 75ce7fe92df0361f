// After `keyless build`: stream the image (GET /images/{id}/get, a docker-save tar) and look for the
// minted secret in every layer, gunzipping compressed layers. Needles may straddle chunk boundaries,
// so the last (longest needle - 1) bytes are kept between chunks.
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import type { DockerClient } from './engine/index.js';

/** True when a byte stream contains any needle. */
export async function streamContains(stream: AsyncIterable<Buffer>, needles: Buffer[]): Promise<boolean> {
  const keep = Math.max(0, ...needles.map((n) => n.length)) - 1;
  let tail = Buffer.alloc(0);
  for await (const chunk of stream) {
    const buf = Buffer.concat([tail, chunk]);
    if (needles.some((n) => buf.includes(n))) return true;
    tail = buf.subarray(Math.max(0, buf.length - keep));
  }
  return false;
}

/** The names of the image archive's entries that contain a needle (layers gunzipped when gzipped). */
export async function entriesContaining(archive: Readable, needles: Buffer[]): Promise<string[]> {
  const hits: string[] = [];
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      void (async () => {
        // one entry at a time in memory (tar-stream needs each drained before the next)
        const chunks: Buffer[] = [];
        for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
        const raw = Buffer.concat(chunks);
        let found = await streamContains(Readable.from([raw]), needles);
        // gzip magic 1f 8b: look inside the compressed layer too
        if (!found && raw[0] === 0x1f && raw[1] === 0x8b)
          found = await streamContains(Readable.from([raw]).pipe(createGunzip()), needles);
        if (found) hits.push(header.name);
        next();
      })().catch(reject);
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  archive.pipe(extract);
  await done;
  return hits;
}

/** Streams image ID from the engine and returns the archive entries holding a needle. */
export async function scanImage(docker: DockerClient, imageId: string, needles: Buffer[]): Promise<string[]> {
  const res = await docker.stream('GET', `/images/${encodeURIComponent(imageId)}/get`);
  return entriesContaining(res, needles);
}
