// The IAM OIDC provider and role trust policy for CI web identity (pure). Facts:
// - GitHub: issuer https://token.actions.githubusercontent.com; sub is repo:ORG/REPO:ref:REF,
//   repo:ORG/REPO:environment:NAME (a job with an environment) or repo:ORG/REPO:pull_request (any
//   pull_request event, forks included); AWS's and GitHub's guides condition on both
//   token.actions.githubusercontent.com:aud and :sub.
// - GitLab: issuer https://gitlab.com (or the instance URL); sub is
//   project_path:GROUP/PROJECT:ref_type:branch|tag:ref:NAME; aud is what the job's id_tokens sets.
// A trust policy without a sub condition, or with a wildcard in the repository part, lets every
// repository on the service assume the role: refused, not generated.
import { KeylessError } from '../errors.js';
import type { PolicyDocument, Statement } from './policy.js';

export const GITHUB_ISSUER_URL = 'https://token.actions.githubusercontent.com';
export const GITLAB_ISSUER_URL = 'https://gitlab.com';
export const DEFAULT_TRUST_AUDIENCE = 'sts.amazonaws.com';

export type CiProvider = 'github' | 'gitlab';

export interface OidcTrustInput {
  provider: CiProvider;
  /** --github ORG/REPO[:QUALIFIER] or --gitlab GROUP/PROJECT[:REF] values (at least one) */
  subjects: string[];
  audience?: string;
  /** GitLab self-managed: the instance URL (its issuer) */
  issuerUrl?: string;
}

export interface OidcTrust {
  issuerUrl: string;
  /** the issuer without https://: the provider ARN's tail and the condition keys' prefix */
  host: string;
  audience: string;
  /** the sub patterns the trust policy allows */
  subjects: string[];
  /** the trust policy for a provider ARN */
  trustPolicy(providerArn: string): PolicyDocument;
}

function invalid(message: string): KeylessError {
  return new KeylessError('IAC_INVALID_INPUT', message);
}

const NAME = /^[A-Za-z0-9_.-]+$/;

/** ORG/REPO with names only: a wildcard there would trust repositories nobody named. */
function repositoryPath(value: string, flag: string, depth: 'exact' | 'groups'): string {
  if (/[*?]/.test(value))
    throw invalid(
      `${flag} "${value}": a wildcard in the ${flag === '--github' ? 'organisation or repository' : 'group or project'} would trust repositories nobody named (a bare * trusts every repository on the service). Name each one; repeat ${flag} for several.`,
    );
  const parts = value.split('/');
  const ok = depth === 'exact' ? parts.length === 2 : parts.length >= 2;
  if (!ok || parts.some((p) => !NAME.test(p)))
    throw invalid(
      `${flag} "${value}" is not ${flag === '--github' ? 'ORG/REPO' : 'GROUP/PROJECT (subgroups allowed: GROUP/SUB/PROJECT)'}.`,
    );
  return value;
}

/**
 * --github ORG/REPO[:QUALIFIER] → the sub pattern. QUALIFIER is a ref (refs/heads/main,
 * refs/tags/v*), environment:NAME, or pull_request (opt-in: that sub covers pull requests from
 * forks). Without one: every branch (refs/heads/*), and neither pull requests nor environments.
 */
export function githubSubjectPattern(value: string): string {
  const colon = value.indexOf(':');
  const repo = repositoryPath(colon < 0 ? value : value.slice(0, colon), '--github', 'exact');
  const q = colon < 0 ? undefined : value.slice(colon + 1);
  if (q === undefined) return `repo:${repo}:ref:refs/heads/*`;
  if (q.startsWith('refs/') && q.length > 'refs/'.length && !/\s/.test(q)) return `repo:${repo}:ref:${q}`;
  if (q.startsWith('environment:') && /^[^\s*?:]+$/.test(q.slice('environment:'.length)))
    return `repo:${repo}:environment:${q.slice('environment:'.length)}`;
  if (q === 'pull_request') return `repo:${repo}:pull_request`;
  throw invalid(
    `--github "${value}": after the colon give a ref (refs/heads/${q}), environment:NAME, or pull_request.`,
  );
}

/** --gitlab GROUP/PROJECT[:REF] → the sub pattern; REF is a branch (main) or refs/heads|tags/NAME. */
export function gitlabSubjectPattern(value: string): string {
  const colon = value.indexOf(':');
  const project = repositoryPath(colon < 0 ? value : value.slice(0, colon), '--gitlab', 'groups');
  const ref = colon < 0 ? undefined : value.slice(colon + 1);
  const base = `project_path:${project}`;
  if (ref === undefined) return `${base}:ref_type:branch:ref:*`;
  if (ref === '' || /\s/.test(ref)) throw invalid(`--gitlab "${value}": the ref after the colon is empty.`);
  if (ref.startsWith('refs/tags/')) return `${base}:ref_type:tag:ref:${ref.slice('refs/tags/'.length)}`;
  if (ref.startsWith('refs/heads/')) return `${base}:ref_type:branch:ref:${ref.slice('refs/heads/'.length)}`;
  return `${base}:ref_type:branch:ref:${ref}`;
}

export function oidcTrust(input: OidcTrustInput): OidcTrust {
  if (input.subjects.length === 0)
    throw invalid(
      `name at least one --${input.provider} repository: a role trusting every repository is refused.`,
    );
  const issuerUrl = (
    input.issuerUrl ?? (input.provider === 'github' ? GITHUB_ISSUER_URL : GITLAB_ISSUER_URL)
  ).replace(/\/+$/, '');
  if (!/^https:\/\/[a-z0-9.-]+(:\d+)?(\/[\w./-]*)?$/i.test(issuerUrl))
    throw invalid(`the issuer "${issuerUrl}" is not an https URL (IAM OIDC providers need https).`);
  const host = issuerUrl.slice('https://'.length);
  const audience = input.audience ?? DEFAULT_TRUST_AUDIENCE;
  if (audience === '' || /[*?\s]/.test(audience))
    throw invalid(
      `--audience "${audience}" must be one exact value (no wildcard): it is what the token's aud must equal.`,
    );
  const pattern = input.provider === 'github' ? githubSubjectPattern : gitlabSubjectPattern;
  const subjects = [...new Set(input.subjects.map(pattern))].sort();
  const uses = subjects.some((s) => /[*?]/.test(s)) ? 'StringLike' : 'StringEquals';
  return {
    issuerUrl,
    host,
    audience,
    subjects,
    trustPolicy: (providerArn) => {
      const statement: Statement = {
        Sid: input.provider === 'github' ? 'GithubActions' : 'GitlabCi',
        Effect: 'Allow',
        Principal: { Federated: [providerArn] },
        Action: ['sts:AssumeRoleWithWebIdentity'],
        // StringEquals on aud: a token for another audience, or with none, does not match; sub with
        // StringLike only when a pattern has a wildcard (a ref pattern, never the repository)
        Condition:
          uses === 'StringLike'
            ? { StringEquals: { [`${host}:aud`]: [audience] }, StringLike: { [`${host}:sub`]: subjects } }
            : { StringEquals: { [`${host}:aud`]: [audience], [`${host}:sub`]: subjects } },
      };
      return { Version: '2012-10-17', Statement: [statement] };
    },
  };
}

/** The provider's ARN in an account. */
export function oidcProviderArn(account: string, host: string): string {
  if (!/^\d{12}$/.test(account)) throw invalid(`--account "${account}" is not a 12-digit AWS account id.`);
  return `arn:aws:iam::${account}:oidc-provider/${host}`;
}
