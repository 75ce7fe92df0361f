// One image layer, streamed: every regular file is scanned on its own (bounded memory, binaries
// skipped), and the layer's whiteouts are recorded so findings in lower layers can be marked as
// deleted afterwards. Nothing is extracted to disk, so hostile names (../, absolute) are only text.
import { FileScanner } from '../file-scan.js';
import { TarWalker, type TarEntry, type TarEntrySink } from '../tar-walk.js';
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

/** One layer's tar bytes pushed through as they arrive; every regular file scanned on its own. */
export class LayerScanner implements TarEntrySink {
  readonly result: LayerScan = { findings: [], whiteouts: [] };
  private readonly walker: TarWalker;
  private current: TarEntry | undefined;
  private readonly describe = (): Omit<Location, 'line' | 'column'> => ({
    ...this.base,
    path: layerPath(this.current?.name() ?? ''),
  });
  private readonly file = new FileScanner(0, this.describe);

  constructor(private readonly base: Omit<Location, 'path' | 'line' | 'column'>) {
    this.walker = new TarWalker((e) => this.entry(e), base.image ? `${base.image} layer` : 'layer');
  }

  push(chunk: Buffer): Promise<void> {
    return this.walker.push(chunk);
  }

  async finish(): Promise<LayerScan> {
    await this.walker.end();
    return this.result;
  }

  private entry(e: TarEntry): TarEntrySink | undefined {
    if (e.type !== 'file') return undefined;
    if (e.size === 0) {
      // whiteouts are empty regular files (OCI image-spec layer.md)
      const whiteout = whiteoutOf(e.name(), 'file');
      if (whiteout !== undefined) this.result.whiteouts.push(whiteout);
      return undefined;
    }
    this.current = e;
    this.file.reset(e.size, this.describe);
    return this;
  }

  // the sink of the current entry (entries come one after another)
  data(buf: Buffer, start: number, end: number): void {
    this.file.push(buf, start, end);
  }

  end(): void {
    const found = this.file.end();
    if (found.length > 0) this.result.findings.push(...found);
  }
}

export async function scanLayer(
  tarBytes: AsyncIterable<Buffer>,
  base: Omit<Location, 'path' | 'line' | 'column'>,
): Promise<LayerScan> {
  const layer = new LayerScanner(base);
  for await (const chunk of tarBytes) await layer.push(chunk);
  return layer.finish();
}
