// IAM users with their own access key in a test's moto, created with the seeded admin key, so each
// test case rotates or deletes keys of its own user.
import {
  IAMClient,
  CreateUserCommand,
  CreateAccessKeyCommand,
  PutUserPolicyCommand,
  ListAccessKeysCommand,
} from '@aws-sdk/client-iam';
import { randomBytes } from 'node:crypto';
import type { Moto } from './moto.js';

export interface TestUser {
  userName: string;
  accessKeyId: string;
  secretAccessKey: string;
}

function adminIam(moto: Moto): IAMClient {
  return new IAMClient({
    region: 'us-east-1',
    endpoint: moto.directUrl,
    credentials: { accessKeyId: moto.identity.accessKeyId, secretAccessKey: moto.identity.secretAccessKey },
    maxAttempts: 1,
  });
}

/** A user allowed everything (so it may manage its own keys), with one access key. */
export async function createTestUser(moto: Moto, prefix = 'rotate'): Promise<TestUser> {
  const iam = adminIam(moto);
  try {
    const userName = `${prefix}-${randomBytes(4).toString('hex')}`;
    await iam.send(new CreateUserCommand({ UserName: userName }));
    await iam.send(
      new PutUserPolicyCommand({
        UserName: userName,
        PolicyName: 'all',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
        }),
      }),
    );
    const key = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
    return {
      userName,
      accessKeyId: key.AccessKey?.AccessKeyId ?? '',
      secretAccessKey: key.AccessKey?.SecretAccessKey ?? '',
    };
  } finally {
    iam.destroy();
  }
}

/** The user's access key ids as moto has them (asked with the admin key). */
export async function accessKeyIdsOf(moto: Moto, userName: string): Promise<string[]> {
  const iam = adminIam(moto);
  try {
    const out = await iam.send(new ListAccessKeysCommand({ UserName: userName }));
    return (out.AccessKeyMetadata ?? []).map((m) => m.AccessKeyId ?? '').sort();
  } finally {
    iam.destroy();
  }
}

/** Whether a key signs a request moto accepts (iam:ListAccessKeys on its own user). */
export async function keyWorks(
  moto: Moto,
  key: { accessKeyId: string; secretAccessKey: string },
): Promise<boolean> {
  const iam = new IAMClient({
    region: 'us-east-1',
    endpoint: moto.directUrl,
    credentials: { ...key },
    maxAttempts: 1,
  });
  try {
    await iam.send(new ListAccessKeysCommand({}));
    return true;
  } catch (err) {
    if (['InvalidClientTokenId', 'SignatureDoesNotMatch'].includes((err as Error).name)) return false;
    throw err;
  } finally {
    iam.destroy();
  }
}
