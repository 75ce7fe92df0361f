// Dockerfile rules (pure): credentials in any instruction (ENV, ARG defaults, RUN, heredocs), ARG/ENV
// named like AWS secrets even without a value (the value arrives by --build-arg and lands in the
// image history), COPY/ADD of .aws, credentials files or .env. Secret mounts are never a finding.
import { detectCredentials, fingerprint, Rule } from './detectors.js';
import type { Finding } from './types.js';

const SECRET_NAMES = /^(AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID|AWS_SESSION_TOKEN|AWS_SECURITY_TOKEN)$/;
const FIX_BUILD =
  'Pass credentials as a BuildKit secret: RUN --mount=type=secret,id=aws,target=/root/.aws/credentials ... and build with `keyless build` (or docker build --secret id=aws,src=FILE).';

export function scanDockerfile(text: string, path: string): Finding[] {
  const findings = detectCredentials(text, { base: { path } });
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (/keyless:ignore/.test(line)) return;
    const m = /^(ARG|ENV)\s+(.+)$/i.exec(line);
    if (m) {
      const names = (m[2] as string).split(/\s+/).map((p) => p.split('=')[0] as string);
      for (const name of names) {
        if (SECRET_NAMES.test(name)) {
          findings.push({
            rule: Rule.SECRET_NAME_IN_BUILD,
            severity: 'high',
            message: `${(m[1] as string).toUpperCase()} ${name}: a credential passed this way is stored in the image (history or env)`,
            fix: FIX_BUILD,
            location: { path, line: i + 1, column: raw.indexOf(name) + 1 },
            excerpt: `${(m[1] as string).toUpperCase()} ${name}`,
            fingerprint: fingerprint(Rule.SECRET_NAME_IN_BUILD, name, `${path}:${i + 1}`),
          });
        }
      }
    }
    const c = /^(COPY|ADD)\s+(.+)$/i.exec(line);
    if (c) {
      const args = (c[2] as string).split(/\s+/).filter((a) => !a.startsWith('--'));
      const sources = args.slice(0, -1);
      const bad = sources.find((s) => /(^|\/)\.aws(\/|$)|(^|\/)credentials$|(^|\/)\.env(\.|$)/.test(s));
      if (bad) {
        findings.push({
          rule: Rule.COPY_CREDENTIALS,
          severity: 'high',
          message: `${(c[1] as string).toUpperCase()} ${bad}: credentials files copied into a layer stay there even if deleted later`,
          fix: FIX_BUILD,
          location: { path, line: i + 1, column: raw.indexOf(bad) + 1 },
          excerpt: `${(c[1] as string).toUpperCase()} ${bad}`,
          fingerprint: fingerprint(Rule.COPY_CREDENTIALS, bad, `${path}:${i + 1}`),
        });
      }
    }
  });
  return findings;
}
