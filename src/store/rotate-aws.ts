// The AWS side of a rotation, with the SDK v3 through aws/client-config.ts (honours AWS_ENDPOINT_URL,
// AWS_ENDPOINT_URL_IAM and AWS_ENDPOINT_URL_STS). Every call omits UserName: IAM then acts on the
// signing key's own user, so rotate needs no user name and no rights over other users.
import {
  IAMClient,
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  ListAccessKeysCommand,
} from '@aws-sdk/client-iam';
import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { KeylessEnv } from '../config/env.js';
import { awsClientConfig } from '../aws/client-config.js';
import { RotationLimitError, type RotationApi } from './rotate.js';
import type { LongTermKey } from './types.js';

export function awsRotationApi(env: KeylessEnv): RotationApi {
  const iam = (key: LongTermKey): IAMClient =>
    new IAMClient({ ...awsClientConfig(env, { service: 'IAM', credentials: { ...key } }), maxAttempts: 2 });
  const sts = (key: LongTermKey): STSClient =>
    new STSClient({ ...awsClientConfig(env, { service: 'STS', credentials: { ...key } }), maxAttempts: 2 });
  const using = async <C extends { destroy(): void }, T>(client: C, fn: (c: C) => Promise<T>): Promise<T> => {
    try {
      return await fn(client);
    } finally {
      client.destroy();
    }
  };
  return {
    whoAmI: (key) =>
      using(sts(key), async (c) => {
        const out = await c.send(new GetCallerIdentityCommand({}));
        if (out.Arn === undefined) throw new Error('GetCallerIdentity returned no ARN');
        return out.Arn;
      }),
    createAccessKey: (key) =>
      using(iam(key), async (c) => {
        try {
          const out = await c.send(new CreateAccessKeyCommand({}));
          const k = out.AccessKey;
          if (k?.AccessKeyId === undefined || k.SecretAccessKey === undefined) {
            throw new Error('CreateAccessKey returned no key');
          }
          return { accessKeyId: k.AccessKeyId, secretAccessKey: k.SecretAccessKey };
        } catch (err) {
          if ((err as Error).name === 'LimitExceededException' || (err as Error).name === 'LimitExceeded') {
            throw new RotationLimitError((err as Error).message);
          }
          throw err;
        }
      }),
    deleteAccessKey: (signWith, accessKeyId) =>
      using(iam(signWith), async (c) => {
        try {
          await c.send(new DeleteAccessKeyCommand({ AccessKeyId: accessKeyId }));
        } catch (err) {
          if ((err as Error).name !== 'NoSuchEntityException' && (err as Error).name !== 'NoSuchEntity')
            throw err;
        }
      }),
    listAccessKeys: (key) =>
      using(iam(key), async (c) => {
        const out = await c.send(new ListAccessKeysCommand({}));
        return (out.AccessKeyMetadata ?? []).flatMap((m) =>
          m.AccessKeyId === undefined
            ? []
            : [
                {
                  accessKeyId: m.AccessKeyId,
                  ...(m.CreateDate !== undefined ? { createdAt: m.CreateDate } : {}),
                },
              ],
        );
      }),
  };
}
