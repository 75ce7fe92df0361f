// Rotating a profile's access key without ever leaving the user without a working one.
//
//   1. save stage "creating"        (a kill after CreateAccessKey leaves an orphan we can recognise)
//   2. CreateAccessKey (old key)    → save stage "created" with the new key beside the old one
//   3. GetCallerIdentity (new key)  → same identity? save stage "promoted": new key in use, old kept
//   4. DeleteAccessKey old (new key) → save the record without rotation state
//
// Each save is one atomic write, and in every saved state the record's key works, so a rotate
// killed at any point is finished by running `keyless rotate` again (it resumes from the saved stage),
// and every other command keeps working meanwhile. The AWS calls are injected (rotate-aws.ts).
import { awsFailureHint } from '../aws/failure.js';
import { KeylessError } from '../errors.js';
import { redactAccessKeyId } from '../util/redact.js';
import { VaultErrorCode } from './errors.js';
import type { KeyRecord, LongTermKey, VaultStore } from './types.js';

export interface AccessKeyInfo {
  readonly accessKeyId: string;
  readonly createdAt?: Date;
}

/** The IAM/STS calls a rotation needs; each signed with the key it is given. */
export interface RotationApi {
  /** sts:GetCallerIdentity → the caller's ARN */
  whoAmI(key: LongTermKey): Promise<string>;
  /** iam:CreateAccessKey for the signing key's own user; throws RotationLimitError at the 2-key quota */
  createAccessKey(key: LongTermKey): Promise<LongTermKey>;
  /** iam:DeleteAccessKey for the signing key's own user; resolves when the key is already gone */
  deleteAccessKey(signWith: LongTermKey, accessKeyId: string): Promise<void>;
  /** iam:ListAccessKeys for the signing key's own user */
  listAccessKeys(key: LongTermKey): Promise<AccessKeyInfo[]>;
}

export class RotationLimitError extends Error {
  override name = 'RotationLimitError';
}

export interface RotateOptions {
  log?: (line: string) => void;
  now?: () => Date;
  /** how long a new key may take to start working (IAM is eventually consistent; default 60 s) */
  verifyTimeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface RotateResult {
  readonly profile: string;
  readonly oldAccessKeyId: string;
  readonly newAccessKeyId: string;
  /** true when this run finished a rotation an earlier, interrupted run had started */
  readonly resumed: boolean;
}

/** Throws VAULT_PROFILE_NOT_FOUND, VAULT_ROTATE_KEY_LIMIT, VAULT_ROTATE_FAILED (saying what state is left). */
export async function rotateKey(
  store: VaultStore,
  profile: string,
  api: RotationApi,
  options: RotateOptions = {},
): Promise<RotateResult> {
  const log = options.log ?? (() => undefined);
  const now = options.now ?? (() => new Date());
  let record = await store.getRecord(profile);
  if (record === undefined) {
    throw new KeylessError(
      VaultErrorCode.PROFILE_NOT_FOUND,
      `profile ${profile} is not in ${store.location}. Run \`keyless list\` to see stored profiles.`,
    );
  }
  const resumed = record.rotation !== undefined;
  const save = async (r: KeyRecord): Promise<KeyRecord> => {
    await store.putRecord(r);
    return r;
  };

  if (record.rotation === undefined || record.rotation.stage === 'creating') {
    const startedAt = record.rotation?.startedAt ?? now().toISOString();
    const current = record.key;
    const identity = await step('check the current key', () => api.whoAmI(current));
    if (record.rotation?.stage === 'creating') await removeOrphans(api, record, startedAt, log);
    else record = await save({ ...record, rotation: { stage: 'creating', startedAt } });
    log(
      `${profile}: current key ${redactAccessKeyId(record.key.accessKeyId)} belongs to ${identity}; creating a new key`,
    );
    const created = await createKey(api, record);
    record = await save({ ...record, rotation: { stage: 'created', other: created, startedAt } });
  }

  if (record.rotation?.stage === 'created') {
    const oldKey = record.key;
    const newKey = record.rotation.other;
    const identity = await step('check the current key', () => api.whoAmI(oldKey));
    const newIdentity = await verify(api, newKey, options);
    if (newIdentity !== identity) {
      throw failed(
        `the new key ${redactAccessKeyId(newKey.accessKeyId)} belongs to ${newIdentity}, not ${identity}; the current key stays in use`,
      );
    }
    log(`${profile}: new key ${redactAccessKeyId(newKey.accessKeyId)} works; switching to it`);
    record = await save({
      profile,
      key: newKey,
      addedAt: now().toISOString(),
      rotation: { stage: 'promoted', other: oldKey, startedAt: record.rotation.startedAt },
    });
  }

  if (record.rotation?.stage !== 'promoted') throw failed('the saved rotation state is inconsistent');
  const oldKey = record.rotation.other;
  const newKey = record.key;
  await step(`delete the old key ${redactAccessKeyId(oldKey.accessKeyId)}`, () =>
    api.deleteAccessKey(newKey, oldKey.accessKeyId),
  );
  log(`${profile}: deleted the old key ${redactAccessKeyId(oldKey.accessKeyId)}`);
  await save({ profile, key: newKey, addedAt: record.addedAt });
  return { profile, oldAccessKeyId: oldKey.accessKeyId, newAccessKeyId: newKey.accessKeyId, resumed };
}

async function createKey(api: RotationApi, record: KeyRecord): Promise<LongTermKey> {
  try {
    return await api.createAccessKey(record.key);
  } catch (err) {
    if (!(err instanceof RotationLimitError)) throw wrap('create a new key', err);
    const keys = await api.listAccessKeys(record.key).catch(() => []);
    const others = keys
      .filter((k) => k.accessKeyId !== record.key.accessKeyId)
      .map((k) => redactAccessKeyId(k.accessKeyId));
    throw new KeylessError(
      VaultErrorCode.ROTATE_KEY_LIMIT,
      `the IAM user of profile ${record.profile} already has two access keys (the stored one and ${others.join(', ') || 'another'}), ` +
        'and IAM allows no third. Delete the key you no longer use (`aws iam delete-access-key --access-key-id …`) and run ' +
        `\`keyless rotate ${record.profile}\` again. The stored key is unchanged and still works.`,
      { cause: err },
    );
  }
}

/** Keys created after the interrupted rotation started, that the vault does not hold, are its orphans. */
async function removeOrphans(
  api: RotationApi,
  record: KeyRecord,
  startedAt: string,
  log: (l: string) => void,
): Promise<void> {
  const since = Date.parse(startedAt) - 1000;
  const keys = await step('list the access keys', () => api.listAccessKeys(record.key));
  for (const k of keys) {
    if (
      k.accessKeyId === record.key.accessKeyId ||
      k.createdAt === undefined ||
      k.createdAt.getTime() < since
    )
      continue;
    log(
      `${record.profile}: deleting ${redactAccessKeyId(k.accessKeyId)}, created by an interrupted rotation and never stored`,
    );
    await step('delete an orphaned key', () => api.deleteAccessKey(record.key, k.accessKeyId));
  }
}

/** A new IAM key can take seconds to work everywhere; retry until the timeout. */
async function verify(api: RotationApi, key: LongTermKey, options: RotateOptions): Promise<string> {
  const deadline = Date.now() + (options.verifyTimeoutMs ?? 60_000);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let delay = 500; ; delay = Math.min(delay * 2, 5000)) {
    try {
      return await api.whoAmI(key);
    } catch (err) {
      if (Date.now() + delay > deadline) {
        throw failed(
          `the new key ${redactAccessKeyId(key.accessKeyId)} does not work yet (${(err as Error).message}); ` +
            'the current key stays in use. Run `keyless rotate` again in a minute to retry',
          err,
        );
      }
      await sleep(delay);
    }
  }
}

async function step<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw wrap(what, err);
  }
}

function wrap(what: string, err: unknown): KeylessError {
  if (err instanceof KeylessError) return err;
  const hint = awsFailureHint(err)?.replace(/\.$/, '');
  return failed(
    `could not ${what}: ${(err as Error).name}: ${(err as Error).message.replace(/\.$/, '')}${hint ? `. ${hint}` : ''}`,
    err,
  );
}

function failed(why: string, cause?: unknown): KeylessError {
  return new KeylessError(
    VaultErrorCode.ROTATE_FAILED,
    `rotation stopped: ${why}. The stored key works; fix the cause and run \`keyless rotate\` again to finish.`,
    { cause },
  );
}
