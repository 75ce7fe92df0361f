// One image layer, streamed: every regular file is scanned on its own (bounded memory, binaries
// skipped), and the layer's whiteouts are recorded so findings in lower layers can be marked as
// deleted afterwards. Nothing is extracted to disk, so hostile names (../, absolute) are only text.
import { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import { scanChunks } from '../stream-text.js';
import type { Finding, Location } from '../types.js';

export interface LayerScan {
  /** findings with location.path = the path inside the layer (no leading slash) */
  findings: Finding[];
  /** paths this layer deletes from lower layers; a trailing "/" marks an opaque directory */
  whiteouts: string[];
}

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

/** "./etc/x" and "/etc/x" → "etc/x" */
export function layerPath(name: string): string {
  return name.replace(/^(\.\/|\/)+/, '').replace(/\/+$/, '');
}

/**
 * The whiteout a tar entry stands for (OCI image-spec layer.md), or undefined. Only regular files
 * are markers; `.wh..wh.*` other than the opaque marker (aufs' `.wh..wh.plnk`) are ignored.
 */
export function whiteoutOf(name: string, type: string | null | undefined): string | undefined {
  if (type !== 'file') return undefined;
  const path = layerPath(name);
  const slash = path.lastIndexOf('/');
  const dir = slash < 0 ? '' : path.slice(0, slash + 1);
  const base = path.slice(slash + 1);
  if (base === OPAQUE) return dir;
  if (!base.startsWith(WHITEOUT) || base.startsWith(`${WHITEOUT}${WHITEOUT}`)) return undefined;
  const target = base.slice(WHITEOUT.length);
  if (target === '' || target === '.' || target === '..') return undefined;
  return `${dir}${target}`;
}

export async function scanLayer(
  tarBytes: AsyncIterable<Buffer>,
  base: Omit<Location, 'path' | 'line' | 'column'>,
): Promise<LayerScan> {
  const scan: LayerScan = { findings: [], whiteouts: [] };
  const ex = extract();
  const input = Readable.from(tarBytes, { objectMode: false });
  input.on('error', (err) => ex.destroy(err));
  input.pipe(ex);
  for await (const entry of ex) {
    const { name, type } = entry.header;
    const whiteout = whiteoutOf(name, type);
    if (whiteout !== undefined) scan.whiteouts.push(whiteout);
    if (whiteout === undefined && (type === 'file' || type === 'contiguous-file')) {
      const path = layerPath(name);
      scan.findings.push(...(await scanChunks(entry as AsyncIterable<Buffer>, { base: { ...base, path } })));
    } else {
      for await (const _ of entry) void _;
    }
  }
  return scan;
}
