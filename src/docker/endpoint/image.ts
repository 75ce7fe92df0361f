// The endpoint image, made without any registry where possible:
// - `local`: on a Linux engine of this machine's architecture, `docker import` of a tar holding this
//   machine's Node.js binary, the shared libraries it loads (as ldd lists them) and relay.mjs;
// - `base`: otherwise a `docker build` of `FROM <base image>` + relay.mjs (the engine pulls the base
//   image, by default the official node image of the running major version).
// Either way the tag carries a hash of what went in, so a changed keyless or Node.js gives a new image
// (and a new endpoint container).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, realpathSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import tar from 'tar-stream';
import { KeylessError } from '../../errors.js';
import { readBody, type DockerClient } from '../engine/index.js';

const exec = promisify(execFile);

export const ENDPOINT_IMAGE_REPO = 'keyless-endpoint';
/** where relay.mjs and the settings file live inside the container */
export const ENDPOINT_DIR = '/keyless';

export interface EngineInfo {
  OSType?: string;
  Architecture?: string;
  OperatingSystem?: string;
  Name?: string;
  SecurityOptions?: string[];
}

export interface EndpointImage {
  ref: string;
  kind: 'local' | 'base';
  entrypoint: string[];
}

export function relayScriptPath(): string {
  return fileURLToPath(new URL('../../endpoint/relay.js', import.meta.url));
}

const ARCH: Record<string, string> = {
  x64: 'x86_64',
  arm64: 'aarch64',
  arm: 'armv7l',
  s390x: 's390x',
  ppc64: 'ppc64le',
};

/** Whether this machine's Node.js can run on the engine (a Linux engine of the same architecture). */
export function canUseLocalNode(info: EngineInfo): boolean {
  return process.platform === 'linux' && info.OSType === 'linux' && ARCH[process.arch] === info.Architecture;
}

export function defaultBaseImage(): string {
  return `node:${process.versions.node.split('.')[0]}-alpine`;
}

/** Shared libraries of a binary as ldd lists them (absolute paths, the loader included). */
export async function sharedLibraries(binary: string): Promise<string[]> {
  let out: string;
  try {
    out = (await exec('ldd', [binary], { timeout: 10_000 })).stdout;
  } catch (err) {
    const text =
      String((err as { stdout?: string }).stdout ?? '') + String((err as { stderr?: string }).stderr ?? '');
    if (/not a dynamic executable|statically linked/.test(text)) return [];
    throw new KeylessError(
      'ENDPOINT_IMAGE',
      `cannot list the libraries of ${binary} with ldd (${(err as Error).message}). Use --endpoint-base-image.`,
    );
  }
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    const m = /=>\s*(\/\S+)|^\s*(\/\S+)\s+\(/.exec(line);
    const p = m?.[1] ?? m?.[2];
    if (p) libs.push(p);
  }
  return libs;
}

function fileKey(path: string): string {
  const st = statSync(path);
  return `${path}:${st.size}:${st.mtimeMs}:${st.ino}`;
}

async function addFile(pack: tar.Pack, name: string, source: string, mode: number): Promise<void> {
  const real = realpathSync(source);
  const size = statSync(real).size;
  await new Promise<void>((resolve, reject) => {
    const entry = pack.entry({ name, size, mode, uid: 0, gid: 0 }, (err) => (err ? reject(err) : resolve()));
    const input = createReadStream(real);
    input.on('error', reject);
    input.pipe(entry);
  });
}

/** Builds the `local` image if it is not there yet. */
async function ensureLocalImage(client: DockerClient, log: (l: string) => void): Promise<EndpointImage> {
  const node = realpathSync(process.execPath);
  const relay = readFileSync(relayScriptPath());
  const libs = await sharedLibraries(node);
  const hash = createHash('sha256');
  hash.update(relay);
  for (const f of [node, ...libs]) hash.update(fileKey(f));
  const ref = `${ENDPOINT_IMAGE_REPO}:local-${hash.digest('hex').slice(0, 16)}`;
  const image: EndpointImage = {
    ref,
    kind: 'local',
    entrypoint: ['/usr/local/bin/node', `${ENDPOINT_DIR}/relay.mjs`],
  };
  if (await imageExists(client, ref)) return image;
  log(`building the endpoint image ${ref} from this machine's Node.js (${process.version})`);
  const pack = tar.pack();
  const writing = (async () => {
    for (const dir of ['keyless/', 'usr/', 'usr/local/', 'usr/local/bin/', 'tmp/'])
      pack.entry({ name: dir, type: 'directory', mode: dir === 'tmp/' ? 0o1777 : 0o755 });
    pack.entry({ name: 'keyless/relay.mjs', mode: 0o444 }, relay);
    await addFile(pack, 'usr/local/bin/node', node, 0o755);
    const dirs = new Set<string>();
    for (const lib of libs) {
      const parts = lib.split('/').slice(1, -1);
      for (let i = 1; i <= parts.length; i++) {
        const d = `${parts.slice(0, i).join('/')}/`;
        if (!dirs.has(d)) {
          dirs.add(d);
          pack.entry({ name: d, type: 'directory', mode: 0o755 });
        }
      }
      await addFile(pack, lib.slice(1), lib, 0o755);
    }
    pack.finalize();
  })();
  writing.catch((err: Error) => pack.destroy(err));
  const res = await client.request('POST', '/images/create', {
    query: { fromSrc: '-', repo: ENDPOINT_IMAGE_REPO, tag: ref.split(':')[1] },
    headers: { 'Content-Type': 'application/x-tar' },
    body: pack,
    timeoutMs: 300_000,
  });
  await writing;
  const text = (await readBody(res)).toString('utf8');
  if ((res.statusCode ?? 500) >= 400 || /"error"/.test(text))
    throw new KeylessError('ENDPOINT_IMAGE', `the engine refused the endpoint image: ${firstError(text)}`);
  return image;
}

function firstError(stream: string): string {
  for (const line of stream.split('\n')) {
    try {
      const v = JSON.parse(line) as { error?: string; message?: string };
      if (v.error ?? v.message) return (v.error ?? v.message) as string;
    } catch {
      // not JSON
    }
  }
  return stream.slice(0, 300);
}

async function imageExists(client: DockerClient, ref: string): Promise<boolean> {
  try {
    await client.json('GET', `/images/${encodeURIComponent(ref)}/json`);
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === 'DOCKER_NOT_FOUND') return false;
    throw err;
  }
}

/** Builds the `base` image (FROM base + relay.mjs) if it is not there yet; the engine pulls the base. */
async function ensureBaseImage(
  client: DockerClient,
  base: string,
  log: (l: string) => void,
): Promise<EndpointImage> {
  const relay = readFileSync(relayScriptPath());
  const dockerfile = `FROM ${base}\nCOPY relay.mjs ${ENDPOINT_DIR}/relay.mjs\n`;
  const ref = `${ENDPOINT_IMAGE_REPO}:base-${createHash('sha256').update(dockerfile).update(relay).digest('hex').slice(0, 16)}`;
  const image: EndpointImage = { ref, kind: 'base', entrypoint: ['node', `${ENDPOINT_DIR}/relay.mjs`] };
  if (await imageExists(client, ref)) return image;
  log(`building the endpoint image ${ref} from ${base}`);
  const pack = tar.pack();
  pack.entry({ name: 'Dockerfile', mode: 0o644 }, dockerfile);
  pack.entry({ name: 'relay.mjs', mode: 0o444 }, relay);
  pack.finalize();
  const res = await client.request('POST', '/build', {
    query: { t: ref, rm: 1, forcerm: 1 },
    headers: { 'Content-Type': 'application/x-tar' },
    body: pack,
    timeoutMs: 600_000,
  });
  const text = (await readBody(res)).toString('utf8');
  if ((res.statusCode ?? 500) >= 400 || /"error"/.test(text))
    throw new KeylessError(
      'ENDPOINT_IMAGE',
      `building the endpoint image from ${base} failed: ${firstError(text)}. Pull it first or name another Node.js image with --endpoint-base-image.`,
    );
  return image;
}

export async function ensureEndpointImage(
  client: DockerClient,
  info: EngineInfo,
  options: { baseImage?: string; log?: (l: string) => void } = {},
): Promise<EndpointImage> {
  const log = options.log ?? (() => undefined);
  if (!options.baseImage && canUseLocalNode(info)) return ensureLocalImage(client, log);
  return ensureBaseImage(client, options.baseImage ?? defaultBaseImage(), log);
}
