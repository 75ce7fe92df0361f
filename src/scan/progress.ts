// Image scan progress: a counting pass-through over the bytes of an image as they are read (a
// docker-save tar, the files of an OCI layout, the Engine's GET /images/{name}/get stream), layers
// counted as their blobs start (told by their first bytes, as the collector tells them), and a pure
// renderer of the one-line status. Drawing it (terminal only, throttled, erased) is cli/progress.ts.

export interface ProgressSnapshot {
  /** what is scanned: the image reference or archive name */
  label: string;
  bytes: number;
  /** total bytes, when known */
  totalBytes?: number;
  /** totalBytes is an estimate (the Engine's image Size, not the length of the export stream) */
  approximate?: boolean;
  /** layers started so far */
  layers: number;
  layersTotal?: number;
  /** time since the first byte (not since the start: an export can take a while to begin), for the rate */
  elapsedMs: number;
}

export interface ProgressTotals {
  totalBytes?: number;
  approximate?: boolean;
  layersTotal?: number;
}

export interface ImageProgressOptions extends ProgressTotals {
  /** called after every chunk and at every new layer; throttling is the listener's job */
  onUpdate: (snapshot: ProgressSnapshot) => void;
  now?: () => number;
}

/** Makes the progress of one image (targets.ts calls it when the CLI asked for progress). */
export type ImageProgressFactory = (label: string, totals: ProgressTotals) => ImageProgress;

/** Yields the chunks of source unchanged, reporting the length of each. */
export async function* countBytes(
  source: AsyncIterable<Buffer | string>,
  onBytes: (n: number) => void,
): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    onBytes(b.length);
    yield b;
  }
}

export class ImageProgress {
  private bytes = 0;
  private layers = 0;
  private readonly now: () => number;
  private firstByteAt: number | undefined;

  constructor(
    readonly label: string,
    private readonly options: ImageProgressOptions,
  ) {
    this.now = options.now ?? Date.now;
    // the empty state at once: an export can take a while to send its first byte
    options.onUpdate(this.snapshot());
  }

  snapshot(): ProgressSnapshot {
    const o = this.options;
    return {
      label: this.label,
      bytes: this.bytes,
      ...(o.totalBytes !== undefined ? { totalBytes: o.totalBytes } : {}),
      ...(o.approximate ? { approximate: true } : {}),
      layers: this.layers,
      ...(o.layersTotal !== undefined ? { layersTotal: o.layersTotal } : {}),
      elapsedMs: this.firstByteAt === undefined ? 0 : this.now() - this.firstByteAt,
    };
  }

  /** The archive's bytes as they are read (every byte of the tar counts, headers included). */
  counted(source: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
    return countBytes(source, (n) => this.addBytes(n));
  }

  /** One file of an OCI layout folder: its bytes counted. */
  file(source: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
    return countBytes(source, (n) => this.addBytes(n));
  }

  /** A blob turned out to be a layer (its first bytes say so: the collector tells). */
  layerStarted(): void {
    this.layers += 1;
    this.options.onUpdate(this.snapshot());
  }

  private addBytes(n: number): void {
    this.firstByteAt ??= this.now();
    this.bytes += n;
    this.options.onUpdate(this.snapshot());
  }
}

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'];

/** Bytes in decimal units, as disks and docker images are sized: 512 B, 4.2 MB, 430 MB, 1.0 GB. */
export function formatBytes(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 999.5 && u < UNITS.length - 1) {
    v /= 1000;
    u += 1;
  }
  if (u === 0) return `${Math.round(v)} B`;
  return `${v < 9.95 ? v.toFixed(1) : Math.round(v)} ${UNITS[u]}`;
}

const BAR = 20;
const PREFIX = 'scanning ';
const MIN_LABEL = 16;

/**
 * The status line, pure: `scanning app:1  [########............]  42% 430 MB/1.0 GB  layer 3/8  610 MB/s`.
 * An approximate total shows as `~1.0 GB` and `~42%` (never past 99% before the end); without a
 * total (or once an estimate is passed) only the bytes read. The rate shows after half a second.
 * Never longer than columns - 1 characters (a full-width line would wrap, and \r redraws one line):
 * when narrow, the rate goes first, then the layer, then the label is cut.
 */
export function renderProgress(s: ProgressSnapshot, columns = 80): string {
  const parts: string[] = [];
  const total =
    s.totalBytes !== undefined && s.totalBytes > 0 && !(s.approximate && s.bytes > s.totalBytes)
      ? s.totalBytes
      : undefined;
  if (total !== undefined) {
    let fraction = Math.min(1, s.bytes / total);
    if (s.approximate) fraction = Math.min(fraction, 0.99);
    const filled = Math.floor(fraction * BAR);
    const pct = `${s.approximate ? '~' : ''}${Math.floor(fraction * 100)}%`;
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}]`;
    parts.push(
      `${bar} ${pct.padStart(4)} ${formatBytes(s.bytes)}/${s.approximate ? '~' : ''}${formatBytes(total)}`,
    );
  } else {
    parts.push(formatBytes(s.bytes));
  }
  if (s.layersTotal !== undefined && s.layersTotal > 0)
    parts.push(`layer ${Math.min(s.layers, s.layersTotal)}/${s.layersTotal}`);
  else if (s.layers > 0) parts.push(`layer ${s.layers}`);
  if (s.elapsedMs >= 500) parts.push(`${formatBytes((s.bytes * 1000) / s.elapsedMs)}/s`);
  // too narrow: drop the rate, then the layer, before cutting the label below MIN_LABEL characters
  const width = Math.max(0, columns - 1);
  let tail = '';
  let room = 0;
  for (let keep = parts.length; keep >= 1; keep -= 1) {
    tail = `  ${parts.slice(0, keep).join('  ')}`;
    room = width - PREFIX.length - tail.length;
    if (room >= Math.min(MIN_LABEL, s.label.length)) break;
  }
  const label = s.label.length <= room ? s.label : room > 1 ? `${s.label.slice(0, room - 1)}…` : '';
  return `${PREFIX}${label}${tail}`.slice(0, width);
}
