// Unit tests of the plan runner with an in-memory store, a fixed clock and a recording stand-in for
// the STS calls (the real STS path is proved against moto in test/integration/sources-exec.test.ts).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadEnv } from '../config/env.js';
import { isKeylessError } from '../errors.js';
import { fixedClock } from '../util/clock.js';
import { memoryStore } from '../../test/helpers/memory-store.js';
import { fakeAccessKeyId, fakeSecretAccessKey } from '../../test/helpers/keys.js';
import { parseProfileFiles } from './profile-file.js';
import { planProfile, planWebIdentity } from './plan.js';
import { reuseMargin, runPlan, type RunDeps } from './run-plan.js';
import type { AssumeRoleParams, SessionTokenParams, StsCalls, WebIdentityParams } from './sts.js';
import type { Credentials } from './types.js';

const HOUR = 3_600_000;
const START = Date.parse('2026-01-01T00:00:00Z');

const config = `
[profile dev]
mfa_serial = arn:aws:iam::123456789012:mfa/alice
[profile nomfa]
region = eu-west-1
[profile admin]
role_arn = arn:aws:iam::123456789012:role/admin
source_profile = nomfa
external_id = ext-1
[profile guarded]
role_arn = arn:aws:iam::123456789012:role/guarded
source_profile = nomfa
mfa_serial = arn:aws:iam::123456789012:mfa/alice
[profile deep]
role_arn = arn:aws:iam::123456789012:role/deep
source_profile = admin
`;

interface Call {
  op: 'GetSessionToken' | 'AssumeRole' | 'AssumeRoleWithWebIdentity';
  signedWith: string;
  params: AssumeRoleParams | SessionTokenParams | WebIdentityParams;
}

/** stand-in STS: records who signed each call and hands out distinct one-hour sessions */
function standInSts(clock: { now(): number }): StsCalls & { calls: Call[] } {
  const calls: Call[] = [];
  const session = (): Credentials => ({
    accessKeyId: fakeAccessKeyId('ASIA'),
    secretAccessKey: fakeSecretAccessKey(),
    sessionToken: `token-${calls.length}`,
    expiration: new Date(clock.now() + HOUR),
  });
  return {
    calls,
    async getSessionToken(with_, params) {
      calls.push({ op: 'GetSessionToken', signedWith: with_.accessKeyId, params });
      return session();
    },
    async assumeRole(with_, params) {
      calls.push({ op: 'AssumeRole', signedWith: with_.accessKeyId, params });
      return { ...session(), roleArn: params.roleArn };
    },
    async assumeRoleWithWebIdentity(params) {
      calls.push({ op: 'AssumeRoleWithWebIdentity', signedWith: '-', params });
      return { ...session(), roleArn: params.roleArn };
    },
  };
}

function setup(credentialsText = '') {
  const clock = fixedClock(START);
  const longTerm = { accessKeyId: fakeAccessKeyId(), secretAccessKey: fakeSecretAccessKey() };
  const store = memoryStore({ dev: longTerm, nomfa: longTerm });
  const sts = standInSts(clock);
  let mfaAsked = 0;
  const deps: RunDeps = {
    env: loadEnv({ HOME: '/nonexistent' }),
    store: async () => store,
    sts,
    clock,
    mfa: async () => {
      mfaAsked++;
      return '123456';
    },
  };
  const files = parseProfileFiles(config, credentialsText);
  return { clock, longTerm, store, sts, deps, files, mfaAsked: () => mfaAsked };
}

async function rejectsWith(p: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isKeylessError(err), String(err));
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('runPlan (stand-in STS, in-memory store)', () => {
  test('a plain profile calls GetSessionToken signed with the stored key, with the MFA serial and code', async () => {
    const s = setup();
    const creds = await runPlan(planProfile(s.files, 'dev'), s.deps);
    assert.equal(s.sts.calls.length, 1);
    const call = s.sts.calls[0] as Call;
    assert.equal(call.op, 'GetSessionToken');
    assert.equal(call.signedWith, s.longTerm.accessKeyId);
    assert.deepEqual(call.params, {
      mfaSerial: 'arn:aws:iam::123456789012:mfa/alice',
      mfaCode: '123456',
    });
    assert.notEqual(creds.accessKeyId, s.longTerm.accessKeyId);
    assert.ok(creds.sessionToken);
  });

  test('MFA is asked once per session: the cached session is reused until 15 minutes before expiry', async () => {
    const s = setup();
    const plan = planProfile(s.files, 'dev');
    const first = await runPlan(plan, s.deps);
    s.clock.advance(44 * 60_000);
    const second = await runPlan(plan, s.deps);
    assert.equal(second.accessKeyId, first.accessKeyId);
    assert.equal(s.sts.calls.length, 1);
    assert.equal(s.mfaAsked(), 1);
    s.clock.advance(2 * 60_000); // 14 minutes left: too little, a new session is made
    const third = await runPlan(plan, s.deps);
    assert.notEqual(third.accessKeyId, first.accessKeyId);
    assert.equal(s.sts.calls.length, 2);
    assert.equal(s.mfaAsked(), 2);
  });

  test('a 900-second session is still reused: the margin is at most a third of its lifetime', async () => {
    assert.equal(reuseMargin(undefined, 900), 300_000);
    assert.equal(reuseMargin(undefined, 3600), 15 * 60_000);
    assert.equal(reuseMargin(60_000, undefined), 60_000);
    const s = setup();
    const plan = planProfile(s.files, 'dev');
    await runPlan(plan, s.deps, { durationSeconds: 900 });
    s.clock.advance(9 * 60_000);
    await runPlan(plan, s.deps, { durationSeconds: 900 });
    assert.equal(s.mfaAsked(), 1);
  });

  test('the session cache holds sessions only, never the long-term key', async () => {
    const s = setup();
    await runPlan(planProfile(s.files, 'deep'), s.deps);
    assert.equal(s.store.sessions.size, 2);
    for (const [key, c] of s.store.sessions) {
      assert.match(key, /^[0-9a-f]{64}$/, 'cache keys are opaque hashes');
      assert.notEqual(c.accessKeyId, s.longTerm.accessKeyId);
      assert.ok(c.sessionToken);
    }
  });

  test('a role profile is AssumeRole signed directly with the source key, external id passed, no GetSessionToken', async () => {
    const s = setup();
    const creds = await runPlan(planProfile(s.files, 'admin'), s.deps);
    assert.deepEqual(
      s.sts.calls.map((c) => [c.op, c.signedWith]),
      [['AssumeRole', s.longTerm.accessKeyId]],
    );
    const params = (s.sts.calls[0] as Call).params as AssumeRoleParams;
    assert.equal(params.roleArn, 'arn:aws:iam::123456789012:role/admin');
    assert.equal(params.externalId, 'ext-1');
    assert.equal(params.roleSessionName, 'keyless-admin');
    assert.equal(creds.roleArn, 'arn:aws:iam::123456789012:role/admin');
  });

  test('a two-deep chain signs each AssumeRole with the previous session', async () => {
    const s = setup();
    const creds = await runPlan(planProfile(s.files, 'deep'), s.deps);
    const [a, b] = s.sts.calls as [Call, Call];
    assert.equal(a.signedWith, s.longTerm.accessKeyId);
    assert.equal((a.params as AssumeRoleParams).roleArn, 'arn:aws:iam::123456789012:role/admin');
    assert.notEqual(b.signedWith, s.longTerm.accessKeyId);
    assert.equal((b.params as AssumeRoleParams).roleArn, 'arn:aws:iam::123456789012:role/deep');
    assert.equal(creds.roleArn, 'arn:aws:iam::123456789012:role/deep');
  });

  test('mfa_serial on a role profile goes to AssumeRole as SerialNumber/TokenCode', async () => {
    const s = setup();
    await runPlan(planProfile(s.files, 'guarded'), s.deps);
    const params = (s.sts.calls[0] as Call).params as AssumeRoleParams;
    assert.equal(params.mfaSerial, 'arn:aws:iam::123456789012:mfa/alice');
    assert.equal(params.mfaCode, '123456');
  });

  test('--role-arn and --duration apply on top of the profile, with their own cache entry', async () => {
    const s = setup();
    const extra = { roleArn: 'arn:aws:iam::123456789012:role/extra', durationSeconds: 1800 };
    const creds = await runPlan(planProfile(s.files, 'nomfa'), s.deps, extra);
    assert.deepEqual(
      s.sts.calls.map((c) => c.op),
      ['AssumeRole'],
    );
    assert.equal((s.sts.calls[0] as Call).params.durationSeconds, 1800);
    assert.equal(creds.roleArn, extra.roleArn);
    await runPlan(planProfile(s.files, 'nomfa'), s.deps);
    assert.deepEqual(
      s.sts.calls.map((c) => c.op),
      ['AssumeRole', 'GetSessionToken'],
    );
  });

  test('MFA needed without a prompt is SOURCE_MFA_REQUIRED saying to pass --mfa-token', async () => {
    const s = setup();
    const { mfa: _mfa, ...noPrompt } = s.deps;
    await rejectsWith(runPlan(planProfile(s.files, 'dev'), noPrompt), 'SOURCE_MFA_REQUIRED', /--mfa-token/);
    assert.equal(s.sts.calls.length, 0);
  });

  test('an MFA code that is not 6 digits is refused before calling STS', async () => {
    const s = setup();
    await rejectsWith(
      runPlan(planProfile(s.files, 'dev'), { ...s.deps, mfa: async () => '12ab' }),
      'SOURCE_MFA_REQUIRED',
      /6 digits/,
    );
    assert.equal(s.sts.calls.length, 0);
  });

  test('a profile with no stored key and no file entry is SOURCE_PROFILE_NOT_FOUND naming keyless add', async () => {
    const s = setup();
    await rejectsWith(
      runPlan(planProfile(s.files, 'ghost'), s.deps),
      'SOURCE_PROFILE_NOT_FOUND',
      /keyless add ghost/,
    );
  });

  test('plaintext keys still work when the keyless store has no passphrase, and are only sent to STS', async () => {
    const plainId = fakeAccessKeyId();
    const s = setup(`[plain]\naws_access_key_id = ${plainId}\naws_secret_access_key = x\n`);
    s.store.locked = true;
    const creds = await runPlan(planProfile(s.files, 'plain'), s.deps);
    assert.equal((s.sts.calls[0] as Call).signedWith, plainId);
    assert.notEqual(creds.accessKeyId, plainId);
  });

  test('a locked store without plaintext keys fails with the store error, not a silent fallback', async () => {
    const s = setup();
    s.store.locked = true;
    await rejectsWith(
      runPlan(planProfile(s.files, 'dev'), s.deps),
      'VAULT_PASSPHRASE_REQUIRED',
      /passphrase/,
    );
  });
});

describe('runPlan with a web identity base (stand-in STS and token reader)', () => {
  test('every run reads a new token and exchanges it unsigned; a role on top is signed with that session', async () => {
    const s = setup();
    s.store.locked = true; // nothing of a web identity chain needs the keyless vault
    let n = 0;
    const deps: RunDeps = { ...s.deps, oidcToken: () => async () => `jwt-${++n}` };
    const plan = planWebIdentity({
      spec: { kind: 'github', audience: 'sts.amazonaws.com' },
      roleArn: 'arn:aws:iam::123456789012:role/ci',
      roleArnFrom: '--role-arn',
    });
    const first = await runPlan(plan, deps);
    await runPlan(plan, deps);
    const exchanges = s.sts.calls.filter((c) => c.op === 'AssumeRoleWithWebIdentity');
    assert.deepEqual(
      exchanges.map((c) => (c.params as WebIdentityParams).webIdentityToken),
      ['jwt-1', 'jwt-2'],
    );
    assert.equal((exchanges[0]?.params as WebIdentityParams).roleSessionName, 'keyless-github');
    assert.ok(first.sessionToken);
    s.sts.calls.length = 0;
    s.store.locked = false;
    const chained = await runPlan(plan, deps, { roleArn: 'arn:aws:iam::123456789012:role/deploy' });
    const [exchange, assume] = s.sts.calls;
    assert.equal(exchange?.op, 'AssumeRoleWithWebIdentity');
    assert.equal(assume?.op, 'AssumeRole');
    assert.notEqual(assume?.signedWith, '-');
    assert.equal(chained.roleArn, 'arn:aws:iam::123456789012:role/deploy');
  });
});
