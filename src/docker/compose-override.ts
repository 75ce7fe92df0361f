// Pure core of `keyless compose`: read the user's compose files (v2/v3 schema and the Compose
// Specification), find the services that ask for AWS access, refuse ones that also carry keys, and
// build the override that adds the keyless network, the relative URI and the watcher's labels.
// The container watcher (src/server) finds containers by the keyless.client label, as for `keyless run`.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, stringify, type Node, type YAMLMap } from 'yaml';
import { KeylessError } from '../errors.js';
import { CLIENT_LABEL, OIDC_LABEL, PROFILE_LABEL, ROLE_ARN_LABEL } from './run-plan.js';

/** One compose file as read from disk. */
export interface ComposeFileText {
  path: string;
  text: string;
}

/** Where something was written: for messages that say which line to fix. */
export interface Place {
  path: string;
  line: number;
}

/** A service that asks for AWS access, and how. */
export interface KeylessService {
  name: string;
  profile?: string;
  roleArn?: string;
  /** web identity token source (formatOidcSpec form; keyless compose --oidc): roleArn is exchanged for */
  oidc?: string;
  /** the service's own networks, in the form the user wrote them; undefined = compose's `default` */
  networks?: { form: 'list' | 'map'; names: string[] };
  /** env_file entries with the compose file they are relative to */
  envFiles: { file: string; composeFile: string; place: Place }[];
}

/** An AWS key variable set on a service, or a mount of ~/.aws: refused. */
const KEY_VARS = new Set(['AWS_SECRET_ACCESS_KEY', 'AWS_ACCESS_KEY_ID', 'AWS_SESSION_TOKEN']);

interface ServiceAcc {
  name: string;
  asks: boolean;
  profile?: string;
  roleArn?: string;
  networks?: { form: 'list' | 'map'; names: string[] };
  networkMode?: Place;
  envFiles: KeylessService['envFiles'];
  keyVars: { name: string; place: Place }[];
  awsMounts: { mount: string; place: Place }[];
}

function placeOf(node: Node | null | undefined, path: string, lc: LineCounter): Place {
  const offset = node?.range?.[0] ?? 0;
  return { path, line: lc.linePos(offset).line };
}

function str(node: unknown): string | undefined {
  if (isScalar(node) && node.value !== null && node.value !== undefined) return String(node.value);
  return undefined;
}

/** True for a volume source that is the user's AWS folder (~/.aws, $HOME/.aws, /root/.aws, …/.aws). */
export function isAwsFolderMount(source: string): boolean {
  const src = source.replace(/\/+$/, '');
  return /(^|\/)\.aws(\/.*)?$/.test(src);
}

/** Reads KEY=VALUE lines of an env_file and returns the lines that set an AWS key variable. */
export function keyVarsInEnvFile(text: string): { name: string; line: number }[] {
  const found: { name: string; line: number }[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const name =
      line
        .replace(/^export\s+/, '')
        .split('=')[0]
        ?.trim() ?? '';
    if (KEY_VARS.has(name)) found.push({ name, line: i + 1 });
  });
  return found;
}

/**
 * Reads the compose files in order (later files override earlier ones, as compose merges them) and
 * returns the services that ask for AWS access: an `x-keyless` block (`{profile}` or `{role-arn}`, or
 * `true`) or a keyless.profile / keyless.role-arn label. With `defaultProfile` (the CLI's --profile),
 * a service that asks without naming a profile or role gets it. Throws COMPOSE_* KeylessErrors naming
 * the file and line to fix.
 */
export function findKeylessServices(files: ComposeFileText[], defaultProfile?: string): KeylessService[] {
  const services = new Map<string, ServiceAcc>();
  for (const file of files) {
    const lc = new LineCounter();
    const doc = parseDocument(file.text, { lineCounter: lc, prettyErrors: false });
    if (doc.errors.length > 0) {
      const e = doc.errors[0]!;
      const line = lc.linePos(e.pos[0]).line;
      throw new KeylessError(
        'COMPOSE_YAML',
        `${file.path}:${line}: not valid YAML (${e.code}). Fix the file.`,
      );
    }
    const root = doc.contents;
    if (root === null || root === undefined) continue;
    if (!isMap(root)) throw new KeylessError('COMPOSE_SHAPE', `${file.path}:1: a compose file is a mapping.`);
    const svcs = root.get('services', true);
    if (svcs === undefined || svcs === null) continue;
    if (!isMap(svcs))
      throw new KeylessError(
        'COMPOSE_SHAPE',
        `${file.path}:${placeOf(svcs as Node, file.path, lc).line}: services is a mapping.`,
      );
    for (const pair of svcs.items) {
      const name = str(pair.key);
      if (!name) continue;
      const acc: ServiceAcc = services.get(name) ?? {
        name,
        asks: false,
        envFiles: [],
        keyVars: [],
        awsMounts: [],
      };
      services.set(name, acc);
      const svc = pair.value;
      if (!isMap(svc)) continue;
      readService(acc, svc, file.path, lc);
    }
  }
  const result: KeylessService[] = [];
  for (const acc of services.values()) {
    if (!acc.asks) continue;
    const first = acc.keyVars[0];
    if (first)
      throw new KeylessError(
        'COMPOSE_KEY_IN_ENV',
        `${first.place.path}:${first.place.line}: service "${acc.name}" sets ${first.name} and asks keyless for AWS access. Remove the key; keyless gives the service role credentials.`,
      );
    const mount = acc.awsMounts[0];
    if (mount)
      throw new KeylessError(
        'COMPOSE_AWS_MOUNT',
        `${mount.place.path}:${mount.place.line}: service "${acc.name}" mounts "${mount.mount}", which shares AWS credential files with the container. Remove the mount; keyless gives the service role credentials.`,
      );
    if (acc.networkMode)
      throw new KeylessError(
        'COMPOSE_NETWORK_MODE',
        `${acc.networkMode.path}:${acc.networkMode.line}: service "${acc.name}" sets network_mode, so it cannot join the keyless network. Remove network_mode or the keyless request.`,
      );
    const profile = acc.profile ?? (acc.roleArn ? undefined : defaultProfile);
    result.push({
      name: acc.name,
      ...(profile ? { profile } : {}),
      ...(acc.roleArn ? { roleArn: acc.roleArn } : {}),
      ...(acc.networks ? { networks: acc.networks } : {}),
      envFiles: acc.envFiles,
    });
  }
  return result;
}

function readService(acc: ServiceAcc, svc: YAMLMap, path: string, lc: LineCounter): void {
  const xk = svc.get('x-keyless', true);
  if (xk !== undefined) {
    if (isMap(xk)) {
      acc.asks = true;
      const p = str(xk.get('profile', true));
      const r = str(xk.get('role-arn', true)) ?? str(xk.get('role_arn', true));
      if (p) acc.profile = p;
      if (r) acc.roleArn = r;
    } else if (isScalar(xk) && xk.value === true) {
      acc.asks = true;
    } else if (!(isScalar(xk) && xk.value === false)) {
      throw new KeylessError(
        'COMPOSE_X_KEYLESS',
        `${path}:${placeOf(xk as Node, path, lc).line}: service "${acc.name}": x-keyless is true or a mapping with profile or role-arn.`,
      );
    }
  }
  const labels = svc.get('labels', true);
  const label = (key: string): string | undefined => {
    if (isMap(labels)) return str(labels.get(key, true));
    if (isSeq(labels))
      for (const item of labels.items) {
        const s = str(item);
        if (s?.startsWith(`${key}=`)) return s.slice(key.length + 1);
      }
    return undefined;
  };
  const lp = label(PROFILE_LABEL);
  const lr = label(ROLE_ARN_LABEL);
  if (lp) {
    acc.asks = true;
    acc.profile = lp;
  }
  if (lr) {
    acc.asks = true;
    acc.roleArn = lr;
  }

  const env = svc.get('environment', true);
  if (isMap(env)) {
    for (const p of env.items) {
      const k = str(p.key);
      if (k && KEY_VARS.has(k)) acc.keyVars.push({ name: k, place: placeOf(p.key as Node, path, lc) });
    }
  } else if (isSeq(env)) {
    for (const item of env.items) {
      const k = str(item)?.split('=')[0];
      if (k && KEY_VARS.has(k)) acc.keyVars.push({ name: k, place: placeOf(item as Node, path, lc) });
    }
  }
  const envFile = svc.get('env_file', true);
  const envFileNodes = isSeq(envFile) ? envFile.items : envFile !== undefined ? [envFile] : [];
  for (const n of envFileNodes) {
    const f = str(n) ?? (isMap(n) ? str(n.get('path', true)) : undefined);
    if (f) acc.envFiles.push({ file: f, composeFile: path, place: placeOf(n as Node, path, lc) });
  }
  const vols = svc.get('volumes', true);
  if (isSeq(vols)) {
    for (const v of vols.items) {
      const short = str(v);
      const source =
        short !== undefined ? short.split(':')[0] : isMap(v) ? str(v.get('source', true)) : undefined;
      // a short form without ':' is an anonymous volume at a container path, not a host mount
      const hostMount = short === undefined || short.includes(':');
      if (source && hostMount && isAwsFolderMount(source))
        acc.awsMounts.push({ mount: short ?? source ?? '', place: placeOf(v as Node, path, lc) });
    }
  }
  const nets = svc.get('networks', true);
  if (isSeq(nets)) {
    const names = nets.items.map((i) => str(i)).filter((s): s is string => !!s);
    acc.networks = { form: 'list', names: [...new Set([...(acc.networks?.names ?? []), ...names])] };
  } else if (isMap(nets)) {
    const names = nets.items.map((p) => str(p.key)).filter((s): s is string => !!s);
    acc.networks = { form: 'map', names: [...new Set([...(acc.networks?.names ?? []), ...names])] };
  }
  const nm = svc.get('network_mode', true);
  if (nm !== undefined) acc.networkMode = placeOf(nm as Node, path, lc);
}

/** What keyless gives one service: its credential id's URI, the id's hash (label) and the region. */
export interface ServiceGrant {
  relativeUri: string;
  clientHash: string;
  region?: string;
}

/**
 * The override compose file (YAML text). Adds, per service, the keyless network next to its own
 * networks (or `default`), AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (and the region), and the labels the
 * container watcher binds and revokes by; declares the keyless network as external. `version` is
 * copied from the user's first file because docker-compose 1.x refuses to mix file versions.
 */
export function buildOverride(input: {
  services: KeylessService[];
  grants: Map<string, ServiceGrant>;
  network: string;
  version?: string;
}): string {
  const services: Record<string, unknown> = {};
  for (const s of input.services) {
    const grant = input.grants.get(s.name);
    if (!grant) throw new Error(`no grant for service ${s.name}`);
    const own = s.networks?.names ?? ['default'];
    const names = own.includes(input.network) ? own : [...own, input.network];
    const networks = s.networks?.form === 'map' ? Object.fromEntries(names.map((n) => [n, null])) : names;
    const environment: Record<string, string> = {
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: grant.relativeUri,
    };
    if (grant.region) {
      environment.AWS_REGION = grant.region;
      environment.AWS_DEFAULT_REGION = grant.region;
    }
    const labels: Record<string, string> = { [CLIENT_LABEL]: grant.clientHash };
    if (s.profile) labels[PROFILE_LABEL] = s.profile;
    if (s.roleArn) labels[ROLE_ARN_LABEL] = s.roleArn;
    if (s.oidc) labels[OIDC_LABEL] = s.oidc;
    services[s.name] = { networks, environment, labels };
  }
  const doc: Record<string, unknown> = {};
  if (input.version) doc.version = input.version;
  doc.services = services;
  doc.networks = { [input.network]: { external: true } };
  return `# generated by keyless compose; removed when compose exits\n${stringify(doc, { nullStr: '' })}`;
}

/** The `version` of the first file that has one (compose 1.x needs the override to match). */
export function composeVersion(files: ComposeFileText[]): string | undefined {
  for (const f of files) {
    const doc = parseDocument(f.text);
    const v = doc.get('version');
    if (v !== undefined && v !== null) return String(v);
  }
  return undefined;
}
