// ECR registry hosts → account, region, partition (pure). Accepts every form callers send: `host`,
// `host:443`, `https://host:443/path` (nerdctl tries `host:443` first). Patterns as in
// amazon-ecr-credential-helper 0.12 (standard, FIPS, dual-stack, China, EUSC, ISO partitions, Public).

export type RegistryHost =
  | { kind: 'private'; host: string; account: string; region: string; fips: boolean; partition: string }
  | { kind: 'public'; host: string; region: 'us-east-1'; partition: 'aws' };

const PRIVATE =
  /^(\d{12})\.dkr[.-]ecr(-fips)?\.([a-zA-Z0-9][a-zA-Z0-9-_]*)\.(amazonaws\.(?:com(?:\.cn)?|eu)|on\.(?:aws|amazonwebservices\.com\.cn)|sc2s\.sgov\.gov|c2s\.ic\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)$/;
const PUBLIC = new Set(['public.ecr.aws', 'ecr-public.aws.com']);

/** The bare hostname: trims, drops the scheme, the path and the port (IPv6 brackets kept intact). */
export function hostOf(serverUrl: string): string {
  let s = serverUrl.trim().toLowerCase();
  s = s.replace(/^[a-z][a-z0-9+.-]*:\/\//, '');
  s = s.split('/')[0] ?? '';
  if (s.startsWith('[')) return s.slice(0, s.indexOf(']') + 1);
  return s.replace(/:\d+$/, '');
}

/** The partition of a registry host's domain suffix and region (a suffix of '' : by the region alone). */
export function partitionOf(suffix: string, region: string): string {
  if (suffix.endsWith('.cn') || region.startsWith('cn-')) return 'aws-cn';
  if (suffix === 'amazonaws.eu') return 'aws-eusc';
  if (suffix === 'c2s.ic.gov') return 'aws-iso';
  if (suffix === 'sc2s.sgov.gov') return 'aws-iso-b';
  if (suffix === 'cloud.adc-e.uk') return 'aws-iso-e';
  if (suffix === 'csp.hci.ic.gov') return 'aws-iso-f';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

export function parseRegistryHost(serverUrl: string): RegistryHost | undefined {
  const host = hostOf(serverUrl);
  if (PUBLIC.has(host)) return { kind: 'public', host, region: 'us-east-1', partition: 'aws' };
  const m = PRIVATE.exec(host);
  if (!m) return undefined;
  const region = m[3] as string;
  return {
    kind: 'private',
    host,
    account: m[1] as string,
    region,
    fips: m[2] !== undefined,
    partition: partitionOf(m[4] as string, region),
  };
}
