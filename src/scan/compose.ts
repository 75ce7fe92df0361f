// Compose rules: environment (map and list), env_file targets, build.args, volumes mounting ~/.aws or
// credentials files. Line numbers come from the YAML parser.
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { LineCounter, parseDocument, isMap, isSeq, isScalar, isPair, type Node } from 'yaml';
import { detectCredentials, fingerprint, isSecretPlaceholder, Rule } from './detectors.js';
import type { Finding, Severity } from './types.js';

const SECRET_NAMES = /^(AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID|AWS_SESSION_TOKEN|AWS_SECURITY_TOKEN)$/;
const FIX =
  'Remove it and run the service with `keyless compose` (role credentials through the ECS endpoint, no key in the file).';

/**
 * A value that only refers to the host's environment (`${VAR}`, `$VAR`, `${VAR:?message}`, an empty
 * default `${VAR:-}`) carries no secret in the file; `${VAR:-literal}` / `${VAR-literal}` defaults do
 * (compose spec, interpolation).
 */
export function isInterpolation(value: string): boolean {
  const v = value.trim();
  return v === '' || /^\$(\{[A-Za-z_][A-Za-z0-9_]*(:?\?[^}]*|:?[-=])?\}|[A-Za-z_][A-Za-z0-9_]*)$/.test(v);
}

/**
 * Whether a literal could be the credential its name says: a key id is 20 capitals and digits, a
 * secret key 40 base64 characters, a session token 100 or more. `test` (LocalStack), `minioadmin`,
 * `changeme` or a placeholder cannot be an AWS credential: such a setting is informational. A
 * default (`${VAR:-value}`) is judged by its value.
 */
export function credentialShaped(name: string, value: string): boolean {
  const v = value
    .trim()
    .replace(/^\$\{[A-Za-z_][A-Za-z0-9_]*:?[-=](.*)\}$/s, '$1')
    .replace(/^(["'])(.*)\1$/s, '$2');
  if (isSecretPlaceholder(v)) return false;
  if (/ACCESS_KEY_ID/.test(name)) return /^[A-Z0-9]{20}$/.test(v);
  if (/SECRET/.test(name)) return /^[A-Za-z0-9+/]{40}$/.test(v);
  return /^[A-Za-z0-9+/]{100,}={0,2}$/.test(v);
}

const NOT_SHAPED =
  ', to a value not shaped like an AWS credential (a placeholder or a local emulator such as LocalStack or MinIO)';

/** Rules of the value detectors: a line with one of them needs no compose finding of its own. */
const VALUE_RULES: ReadonlySet<string> = new Set([
  Rule.ACCESS_KEY_ID,
  Rule.SECRET_ACCESS_KEY,
  Rule.SESSION_TOKEN,
  Rule.EXAMPLE_KEY,
]);

export async function scanCompose(text: string, path: string): Promise<Finding[]> {
  const findings = detectCredentials(text, { base: { path } });
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  const at = (n: Node | null | undefined): number => (n?.range ? lc.linePos(n.range[0]).line : 1);
  /** the last line of a node (a block or folded scalar spans several) */
  const atEnd = (n: Node | null | undefined): number =>
    n?.range ? lc.linePos(Math.max(n.range[0], n.range[1] - 1)).line : at(n);
  /** one finding per setting: none when a value detector already reported a line of it (the value itself) */
  const reported = (file: string, from: number, to: number): boolean =>
    findings.some(
      (f) =>
        VALUE_RULES.has(f.rule) &&
        f.location.path === file &&
        f.location.line !== undefined &&
        f.location.line >= from &&
        f.location.line <= to,
    );
  const add = (name: string, line: number, what: string, lastLine: number, severity: Severity): void => {
    if (reported(path, line, lastLine)) return;
    findings.push({
      rule: Rule.COMPOSE_SECRET_ENV,
      severity,
      message: `${what}`,
      fix: FIX,
      location: { path, line },
      excerpt: name,
      fingerprint: fingerprint(Rule.COMPOSE_SECRET_ENV, name, `${path}:${line}`),
    });
  };
  const services = doc.get('services', true);
  if (!isMap(services)) return findings;
  for (const item of services.items) {
    if (!isPair(item) || !isMap(item.value)) continue;
    const svc = String(isScalar(item.key) ? item.key.value : item.key);
    const body = item.value;
    const envNode = body.get('environment', true);
    const visitEnv = (name: string, value: unknown, line: number, where: string, lastLine = line): void => {
      if (!SECRET_NAMES.test(name) || value === undefined || value === null) return;
      const v = String(value);
      if (isInterpolation(v)) return;
      const shaped = credentialShaped(name, v);
      add(
        name,
        line,
        `service ${svc}: ${where} sets ${name}${shaped ? '' : NOT_SHAPED}`,
        lastLine,
        shaped ? 'high' : 'info',
      );
    };
    /**
     * A build arg named like a credential: its value, from the file or the host's environment (an
     * interpolation, or no value at all), is stored in the image history.
     */
    const visitArg = (name: string, value: unknown, line: number, lastLine = line): void => {
      if (!SECRET_NAMES.test(name)) return;
      const v = value === undefined || value === null ? '' : String(value);
      const literal = !isInterpolation(v);
      const info = literal && !credentialShaped(name, v);
      add(
        name,
        line,
        `service ${svc}: build.args passes ${name}${info ? NOT_SHAPED : literal ? '' : ' from the environment'}; build args are stored in the image history`,
        lastLine,
        info ? 'info' : 'high',
      );
    };
    if (isMap(envNode))
      for (const p of envNode.items)
        if (isPair(p))
          visitEnv(
            String((p.key as { value?: unknown })?.value),
            (p.value as { value?: unknown })?.value,
            at(p.key as Node),
            'environment',
            atEnd((p.value as Node | null) ?? (p.key as Node)),
          );
    if (isSeq(envNode))
      for (const e of envNode.items) {
        const s = String((e as { value?: unknown }).value ?? '');
        const [k, ...v] = s.split('=');
        visitEnv(k as string, v.join('='), at(e as Node), 'environment', atEnd(e as Node));
      }
    const build = body.get('build', true);
    if (isMap(build)) {
      const args = build.get('args', true);
      if (isMap(args))
        for (const p of args.items)
          if (isPair(p))
            visitArg(
              String((p.key as { value?: unknown })?.value),
              (p.value as { value?: unknown })?.value,
              at(p.key as Node),
              atEnd((p.value as Node | null) ?? (p.key as Node)),
            );
      if (isSeq(args))
        for (const e of args.items) {
          const [k, ...v] = String((e as { value?: unknown }).value ?? '').split('=');
          visitArg(k as string, v.join('='), at(e as Node), atEnd(e as Node));
        }
    }
    const volumes = body.get('volumes', true);
    if (isSeq(volumes)) {
      for (const v of volumes.items) {
        const s = isScalar(v) ? String(v.value) : isMap(v) ? String(v.get('source') ?? '') : '';
        if (/(^|\/|~)\.aws(\/|:|$)|aws\/credentials/.test(s)) {
          findings.push({
            rule: Rule.AWS_MOUNT,
            severity: 'high',
            message: `service ${svc}: volume ${s.split(':')[0]} shares AWS credentials files with the container`,
            fix: FIX,
            location: { path, line: at(v as Node) },
            excerpt: s.split(':')[0] as string,
            fingerprint: fingerprint(Rule.AWS_MOUNT, s, `${path}:${svc}`),
          });
        }
      }
    }
    const envFile = body.get('env_file', true);
    const files = isSeq(envFile)
      ? envFile.items.map((x) => String((x as { value?: unknown }).value ?? (isMap(x) ? x.get('path') : '')))
      : isScalar(envFile)
        ? [String(envFile.value)]
        : [];
    for (const f of files) {
      // joined as the directory walk joins it: the same file reached both ways is one path (dedupe)
      const target = isAbsolute(f) ? f : join(dirname(path), f);
      const content = await readFile(target, 'utf8').catch(() => undefined);
      if (content === undefined) continue;
      findings.push(...detectCredentials(content, { base: { path: target } }));
      for (const [i, line] of content.split('\n').entries()) {
        const eq = line.indexOf('=');
        if (eq < 0) continue;
        const name = line
          .slice(0, eq)
          .replace(/^\s*export\s+/, '')
          .trim();
        const value = line
          .slice(eq + 1)
          .trim()
          .replace(/^(["'])(.*)\1$/, '$2');
        // (beside the value findings, as before: the line says which service reads the file)
        if (SECRET_NAMES.test(name) && !isInterpolation(value)) {
          const shaped = credentialShaped(name, value);
          findings.push({
            rule: Rule.COMPOSE_SECRET_ENV,
            severity: shaped ? 'high' : 'info',
            message: `service ${svc}: env_file ${f} sets ${name}${shaped ? '' : NOT_SHAPED}`,
            fix: FIX,
            location: { path: target, line: i + 1 },
            excerpt: name,
            fingerprint: fingerprint(Rule.COMPOSE_SECRET_ENV, name, `${target}:${i + 1}`),
          });
        }
      }
    }
  }
  return findings;
}
