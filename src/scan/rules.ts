// The rule registry: stable ids (never change meaning once released), a title, the default severity,
// and help that says the fix. Reports (SARIF rules, text) read it; detectors emit the ids.
import type { Severity } from './types.js';

export interface RuleInfo {
  id: string;
  title: string;
  severity: Severity;
  /** what it means and how to fix it, plain text */
  help: string;
}

const ROTATE =
  'Rotate the key now (it is compromised once it is in a file, image or history), remove it, and give the workload short-lived credentials with keyless run / keyless compose / keyless build instead.';
const BUILD_SECRET =
  'Pass credentials to a build as a BuildKit secret (RUN --mount=type=secret,id=aws,target=/root/.aws/credentials, or env=AWS_SECRET_ACCESS_KEY) or build with `keyless build`; build args and ENV values are stored in the image history and config.';

export const RULES: readonly RuleInfo[] = [
  {
    id: 'SCAN_AWS_SECRET_ACCESS_KEY',
    title: 'AWS secret access key',
    severity: 'critical',
    help: `A 40-character AWS secret access key: assigned to a secret key's name in any syntax (aws_secret_access_key, SecretAccessKey, secret_key in an AWS context such as a Terraform provider "aws" or backend "s3" block, a CloudFormation parameter's Default, ...), or placed as a value (after =, :, >, a comma, in a table cell or tab-separated field, or alone on its line) within 1,024 bytes of an access key id. Also found inside base64 values, JSON escapes, URL-encoding and HTML entities. ${ROTATE}`,
  },
  {
    id: 'SCAN_AWS_ACCESS_KEY_ID',
    title: 'AWS access key id',
    severity: 'high',
    help: `An AWS access key id (AKIA long-term, ASIA temporary, ABIA, ACCA). The secret usually sits next to it. ${ROTATE}`,
  },
  {
    id: 'SCAN_AWS_SESSION_TOKEN',
    title: 'AWS session token',
    severity: 'medium',
    help: 'An AWS session token (100+ base64 characters) assigned to a session or security token name (aws_session_token, SessionToken, security_token, aws_token; session or token next to a key id). It expires, but until then it is as good as the key; remove it and use keyless to hand out credentials at run time.',
  },
  {
    id: 'SCAN_AWS_EXAMPLE_KEY',
    title: 'AWS documentation example or placeholder key',
    severity: 'info',
    help: 'The AWS documentation example keys (AKIAIOSFODNN7EXAMPLE, ...) or an obvious placeholder (EXAMPLE, xxxx, your..., one repeated character, an all-hex digest such as a SHA-1). Not a live credential; reported for information only.',
  },
  {
    id: 'SCAN_DOCKERFILE_SECRET_ARG_ENV',
    title: 'Dockerfile ARG/ENV named like an AWS credential',
    severity: 'high',
    help: `An ARG or ENV named like an AWS credential, even without a value: the value arrives by --build-arg or the environment and lands in the image. ${BUILD_SECRET}`,
  },
  {
    id: 'SCAN_DOCKERFILE_COPY_CREDENTIALS',
    title: 'Dockerfile copies AWS credentials files into a layer',
    severity: 'high',
    help: `COPY or ADD of .aws, a credentials file or .env puts them into a layer, which stays extractable even if a later step deletes them. ${BUILD_SECRET}`,
  },
  {
    id: 'SCAN_COMPOSE_SECRET_ENV',
    title: 'Compose file sets an AWS credential',
    severity: 'high',
    help: "A compose service sets an AWS credential variable to a literal value (environment, env_file or build.args), or passes one from the environment as a build arg (stored in the image history). A value not shaped like an AWS credential (LocalStack's `test`, `minioadmin`, a placeholder) is informational. Remove it and run the service with `keyless compose`: role credentials through the ECS endpoint, nothing in the file.",
  },
  {
    id: 'SCAN_AWS_CREDENTIALS_MOUNT',
    title: 'AWS credentials files mounted into a container',
    severity: 'high',
    help: 'A volume or bind mount shares ~/.aws or a credentials file with a container, handing it your long-term keys. Use `keyless run` / `keyless compose` instead; the container gets short-lived role credentials.',
  },
];

const BY_ID = new Map(RULES.map((r) => [r.id, r]));

/** The registry entry for an id; an unknown id (a bug) still yields a usable entry. */
export function ruleInfo(id: string): RuleInfo {
  return BY_ID.get(id) ?? { id, title: id, severity: 'medium', help: ROTATE };
}
