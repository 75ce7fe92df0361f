// CI trust policies evaluated by the IAM policy evaluator the project uses (@cloud-copilot/iam-simulate).
// Its checked entry point, runSimulation, cannot evaluate them: it keeps only the condition keys its
// service data lists for sts:AssumeRoleWithWebIdentity, and an OIDC provider's own keys
// (token.actions.githubusercontent.com:sub, gitlab.com:aud, ...) are not among them, so it drops them
// and denies everything (the first test shows it, so a version that learns them is noticed). The same
// engine runs through runUnsafeSimulation, which takes the request context as given: that is what
// evaluates the cases here. The subjects are the ones GitHub and GitLab put in their tokens
// (test/helpers/github-oidc-standin.ts builds GitHub's the documented way).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runSimulation, runUnsafeSimulation } from '@cloud-copilot/iam-simulate';
import { createValidatedPolicy, validateTrustPolicy } from '@cloud-copilot/iam-policy';
import { githubSubject, type GithubJob } from '../../test/helpers/github-oidc-standin.js';
import { oidcProviderArn, oidcTrust, type OidcTrustInput } from './oidc-trust.js';
import { renderOidcTrustHcl } from './render-oidc-hcl.js';
import type { PolicyDocument } from './policy.js';

const ACCOUNT = '123456789012';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/keyless-ci`;

function trustDoc(input: OidcTrustInput): { doc: PolicyDocument; host: string; providerArn: string } {
  const t = oidcTrust(input);
  const providerArn = oidcProviderArn(ACCOUNT, t.host);
  return { doc: t.trustPolicy(providerArn), host: t.host, providerArn };
}

function request(principal: string, context: Record<string, string>) {
  return {
    action: 'sts:AssumeRoleWithWebIdentity',
    principal,
    resource: { accountId: ACCOUNT, resource: ROLE },
    contextVariables: context,
  };
}

/** The evaluator's verdict for a web identity request carrying these claims. */
function decide(input: OidcTrustInput, claims: { sub?: string; aud?: string }, principal?: string): string {
  const { doc, host, providerArn } = trustDoc(input);
  const policy = createValidatedPolicy(doc, validateTrustPolicy, { name: 'trust' });
  assert.deepEqual(policy.errors, [], 'a valid trust policy');
  const context: Record<string, string> = {};
  if (claims.sub !== undefined) context[`${host}:sub`] = claims.sub;
  if (claims.aud !== undefined) context[`${host}:aud`] = claims.aud;
  return runUnsafeSimulation(
    {
      identityPolicies: [],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: policy,
      request: request(principal ?? providerArn, context),
    } as never,
    {},
  ) as unknown as string;
}

const job = (j: Partial<GithubJob>): string =>
  githubSubject({ repository: 'octo-org/app', ref: 'refs/heads/main', event: 'push', ...j });

describe('oidc-trust policies (evaluated with iam-simulate)', () => {
  test("iam-simulate's checked runSimulation drops the provider's condition keys, so it cannot decide these", async () => {
    const { doc, host, providerArn } = trustDoc({
      provider: 'github',
      subjects: ['octo-org/app:refs/heads/main'],
    });
    const r = (await runSimulation(
      {
        identityPolicies: [],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: doc,
        request: request(providerArn, { [`${host}:sub`]: job({}), [`${host}:aud`]: 'sts.amazonaws.com' }),
      } as never,
      {},
    )) as { overallResult?: string; result?: { ignoredContextKeys?: string[] } };
    assert.deepEqual(r.result?.ignoredContextKeys?.sort(), [`${host}:aud`, `${host}:sub`]);
    assert.equal(r.overallResult, 'ImplicitlyDenied', 'even the allowed case: it cannot see the claims');
  });

  test('GitHub, repo and ref: that workflow is allowed; another repository, a fork PR and a missing or other aud are denied', () => {
    const input: OidcTrustInput = { provider: 'github', subjects: ['octo-org/app:refs/heads/main'] };
    const aud = 'sts.amazonaws.com';
    assert.equal(decide(input, { sub: job({}), aud }), 'Allowed');
    assert.equal(decide(input, { sub: job({ repository: 'octo-org/other' }), aud }), 'ImplicitlyDenied');
    assert.equal(decide(input, { sub: job({ repository: 'evil/app' }), aud }), 'ImplicitlyDenied');
    // a pull request (from a fork or not) has sub repo:ORG/REPO:pull_request
    assert.equal(
      decide(input, { sub: job({ event: 'pull_request', ref: 'refs/pull/7/merge' }), aud }),
      'ImplicitlyDenied',
    );
    assert.equal(decide(input, { sub: job({ ref: 'refs/heads/feature' }), aud }), 'ImplicitlyDenied');
    assert.equal(decide(input, { sub: job({}) }), 'ImplicitlyDenied', 'no aud');
    assert.equal(decide(input, { sub: job({}), aud: 'https://github.com/octo-org' }), 'ImplicitlyDenied');
    assert.equal(decide(input, { aud }), 'ImplicitlyDenied', 'no sub');
    // the same claims through another account's provider, or GitLab's: not this principal
    assert.equal(
      decide(
        input,
        { sub: job({}), aud },
        'arn:aws:iam::210987654321:oidc-provider/token.actions.githubusercontent.com',
      ),
      'ImplicitlyDenied',
    );
  });

  test('GitHub: environment, every branch (the default), tag patterns; pull_request only when asked', () => {
    const aud = 'sts.amazonaws.com';
    const env: OidcTrustInput = { provider: 'github', subjects: ['octo-org/app:environment:prod'] };
    assert.equal(decide(env, { sub: job({ environment: 'prod' }), aud }), 'Allowed');
    assert.equal(decide(env, { sub: job({ environment: 'staging' }), aud }), 'ImplicitlyDenied');
    assert.equal(decide(env, { sub: job({}), aud }), 'ImplicitlyDenied');
    const branches: OidcTrustInput = { provider: 'github', subjects: ['octo-org/app'] };
    assert.equal(decide(branches, { sub: job({ ref: 'refs/heads/any/thing' }), aud }), 'Allowed');
    assert.equal(decide(branches, { sub: job({ event: 'pull_request' }), aud }), 'ImplicitlyDenied');
    assert.equal(decide(branches, { sub: job({ repository: 'octo-org/app2' }), aud }), 'ImplicitlyDenied');
    const tags: OidcTrustInput = { provider: 'github', subjects: ['octo-org/app:refs/tags/v*'] };
    assert.equal(decide(tags, { sub: job({ ref: 'refs/tags/v1.2' }), aud }), 'Allowed');
    assert.equal(decide(tags, { sub: job({ ref: 'refs/heads/v1' }), aud }), 'ImplicitlyDenied');
    const prs: OidcTrustInput = { provider: 'github', subjects: ['octo-org/app:pull_request'] };
    assert.equal(decide(prs, { sub: job({ event: 'pull_request' }), aud }), 'Allowed');
  });

  test('GitLab project and ref; subgroups; a self-managed issuer; another project and a missing aud are denied', () => {
    const input: OidcTrustInput = { provider: 'gitlab', subjects: ['group/sub/app:main'] };
    const sub = 'project_path:group/sub/app:ref_type:branch:ref:main';
    assert.equal(decide(input, { sub, aud: 'sts.amazonaws.com' }), 'Allowed');
    assert.equal(
      decide(input, {
        sub: 'project_path:group/sub/other:ref_type:branch:ref:main',
        aud: 'sts.amazonaws.com',
      }),
      'ImplicitlyDenied',
    );
    assert.equal(
      decide(input, { sub: 'project_path:group/sub/app:ref_type:tag:ref:main', aud: 'sts.amazonaws.com' }),
      'ImplicitlyDenied',
    );
    assert.equal(decide(input, { sub }), 'ImplicitlyDenied');
    const own = oidcTrust({
      provider: 'gitlab',
      subjects: ['g/p'],
      issuerUrl: 'https://gitlab.example.com/',
    });
    assert.equal(own.host, 'gitlab.example.com');
    assert.deepEqual(own.subjects, ['project_path:g/p:ref_type:branch:ref:*']);
  });

  test('wildcards that would trust repositories nobody named are refused, with what to write instead', () => {
    for (const bad of ['*', 'octo-org/*', '*/app', 'octo-org/ap?']) {
      assert.throws(
        () => oidcTrust({ provider: 'github', subjects: [bad] }),
        /wildcard .* would trust repositories nobody named/,
      );
    }
    assert.throws(() => oidcTrust({ provider: 'gitlab', subjects: ['group/*'] }), /wildcard/);
    assert.throws(
      () => oidcTrust({ provider: 'github', subjects: [] }),
      /trusting every repository is refused/,
    );
    assert.throws(
      () => oidcTrust({ provider: 'github', subjects: ['octo-org/app:main'] }),
      /a ref \(refs\/heads\/main\), environment:NAME, or pull_request/,
    );
    assert.throws(() => oidcTrust({ provider: 'github', subjects: ['octo-org'] }), /is not ORG\/REPO/);
    assert.throws(
      () => oidcTrust({ provider: 'github', subjects: ['o/a'], audience: '*' }),
      /one exact value/,
    );
  });

  test('the HCL carries the same conditions as the JSON, and refers to the provider resource', () => {
    const t = oidcTrust({ provider: 'github', subjects: ['octo-org/app:refs/heads/main', 'octo-org/lib'] });
    const hcl = renderOidcTrustHcl('keyless-ci', 'github', t);
    assert.match(
      hcl,
      /resource "aws_iam_openid_connect_provider" "github" \{\n {2}url {12}= "https:\/\/token\.actions\.githubusercontent\.com"\n {2}client_id_list = \["sts\.amazonaws\.com"\]/,
    );
    assert.match(hcl, /identifiers = \[aws_iam_openid_connect_provider\.github\.arn\]/);
    const doc = t.trustPolicy('x');
    for (const [op, vars] of Object.entries(doc.Statement[0]?.Condition ?? {}))
      for (const [variable, values] of Object.entries(vars))
        assert.ok(
          hcl.includes(
            `test     = "${op}"\n      variable = "${variable}"\n      values   = [${values.map((v) => JSON.stringify(v)).join(', ')}]`,
          ),
          `${op} ${variable}`,
        );
    assert.match(hcl, /resource "aws_iam_role" "keyless_ci" \{\n {2}name {15}= "keyless-ci"/);
    assert.match(
      renderOidcTrustHcl('r', 'github', t, { existingProvider: true }),
      /data "aws_iam_openid_connect_provider" "github"[\s\S]*data\.aws_iam_openid_connect_provider\.github\.arn/,
    );
  });
});
