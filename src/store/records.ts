// Plain-data forms of what the vault stores, shared by both backends (pure). Parsing is strict: an
// item that decrypts but does not have this shape is reported as corrupt, not half-used.
import type { Credentials } from '../sources/types.js';
import { redactAccessKeyId } from '../util/redact.js';
import type { KeyRecord, LongTermKey, StoredKeyInfo } from './types.js';

export interface KeyPayload {
  profile: string;
  accessKeyId: string;
  secretAccessKey: string;
  addedAt: string;
  rotation?: {
    stage: 'creating' | 'created' | 'promoted';
    /** the other key; absent in stage "creating" */
    accessKeyId?: string;
    secretAccessKey?: string;
    startedAt: string;
  };
}

export interface SessionPayload {
  cacheKey: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: string;
  issuedAt?: string;
  arn?: string;
  roleArn?: string;
}

export function keyPayload(record: KeyRecord): KeyPayload {
  const p: KeyPayload = {
    profile: record.profile,
    accessKeyId: record.key.accessKeyId,
    secretAccessKey: record.key.secretAccessKey,
    addedAt: record.addedAt,
  };
  const r = record.rotation;
  if (r !== undefined) {
    p.rotation =
      r.stage === 'creating'
        ? { stage: r.stage, startedAt: r.startedAt }
        : {
            stage: r.stage,
            accessKeyId: r.other.accessKeyId,
            secretAccessKey: r.other.secretAccessKey,
            startedAt: r.startedAt,
          };
  }
  return p;
}

const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** undefined when the payload does not have the shape of a key record */
export function parseKeyPayload(raw: unknown): KeyRecord | undefined {
  const p = raw as Partial<KeyPayload> | null;
  if (p === null || typeof p !== 'object') return undefined;
  if (!isStr(p.profile) || !isStr(p.accessKeyId) || !isStr(p.secretAccessKey) || !isStr(p.addedAt)) {
    return undefined;
  }
  const key: LongTermKey = { accessKeyId: p.accessKeyId, secretAccessKey: p.secretAccessKey };
  const r = p.rotation;
  if (r === undefined) return { profile: p.profile, key, addedAt: p.addedAt };
  if (!isStr(r.startedAt)) return undefined;
  if (r.stage === 'creating') {
    return {
      profile: p.profile,
      key,
      addedAt: p.addedAt,
      rotation: { stage: 'creating', startedAt: r.startedAt },
    };
  }
  if (
    (r.stage !== 'created' && r.stage !== 'promoted') ||
    !isStr(r.accessKeyId) ||
    !isStr(r.secretAccessKey)
  ) {
    return undefined;
  }
  return {
    profile: p.profile,
    key,
    addedAt: p.addedAt,
    rotation: {
      stage: r.stage,
      other: { accessKeyId: r.accessKeyId, secretAccessKey: r.secretAccessKey },
      startedAt: r.startedAt,
    },
  };
}

export function sessionPayload(cacheKey: string, c: Credentials): SessionPayload {
  const p: SessionPayload = { cacheKey, accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey };
  if (c.sessionToken !== undefined) p.sessionToken = c.sessionToken;
  if (c.expiration !== undefined) p.expiration = c.expiration.toISOString();
  if (c.issuedAt !== undefined) p.issuedAt = c.issuedAt.toISOString();
  if (c.arn !== undefined) p.arn = c.arn;
  if (c.roleArn !== undefined) p.roleArn = c.roleArn;
  return p;
}

export function parseSessionPayload(raw: unknown, cacheKey: string): Credentials | undefined {
  const p = raw as Partial<SessionPayload> | null;
  if (p === null || typeof p !== 'object' || p.cacheKey !== cacheKey) return undefined;
  if (!isStr(p.accessKeyId) || !isStr(p.secretAccessKey)) return undefined;
  const expiration = p.expiration === undefined ? undefined : new Date(p.expiration);
  if (expiration !== undefined && Number.isNaN(expiration.getTime())) return undefined;
  const issuedAt = isStr(p.issuedAt) ? new Date(p.issuedAt) : undefined;
  return {
    accessKeyId: p.accessKeyId,
    secretAccessKey: p.secretAccessKey,
    ...(isStr(p.sessionToken) ? { sessionToken: p.sessionToken } : {}),
    ...(expiration !== undefined ? { expiration } : {}),
    ...(issuedAt !== undefined && !Number.isNaN(issuedAt.getTime()) ? { issuedAt } : {}),
    ...(isStr(p.arn) ? { arn: p.arn } : {}),
    ...(isStr(p.roleArn) ? { roleArn: p.roleArn } : {}),
  };
}

export function keyInfo(record: KeyRecord, backend: string): StoredKeyInfo {
  return {
    profile: record.profile,
    accessKeyIdRedacted: redactAccessKeyId(record.key.accessKeyId),
    addedAt: record.addedAt,
    backend,
  };
}
