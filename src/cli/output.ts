// stdout carries only data; everything else goes to stderr. Colour only on a TTY, NO_COLOR honoured.

export interface Output {
  /** data for stdout */
  data(text: string): void;
  /** JSON data for stdout */
  json(value: unknown): void;
  /** human messages for stderr */
  info(text: string): void;
  warn(text: string): void;
  readonly color: boolean;
}

export function createOutput(
  stdout: NodeJS.WritableStream & { isTTY?: boolean } = process.stdout,
  stderr: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr,
  noColor = process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '',
): Output {
  const color = Boolean(stderr.isTTY) && !noColor;
  return {
    color,
    data: (text) => void stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    json: (value) => void stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    info: (text) => void stderr.write(`${text}\n`),
    warn: (text) => void stderr.write(`${color ? '\x1b[33mwarning:\x1b[0m' : 'warning:'} ${text}\n`),
  };
}

export const output = createOutput();
