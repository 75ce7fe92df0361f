// Credential sources for tests that are not about sources: real AssumeRole calls against moto.
import { STSClient, AssumeRoleCommand } from '@aws-sdk/client-sts';
import type { CredentialSource, Credentials } from '../../src/sources/types.js';
import type { Moto } from './moto.js';

/** Each call assumes roleArn at moto with the seeded user's key (a real, signature-checked call). */
export function assumeRoleSource(moto: Moto, roleArn: string, durationSeconds = 3600): CredentialSource {
  const sts = new STSClient({
    region: 'us-east-1',
    endpoint: moto.url,
    credentials: { accessKeyId: moto.identity.accessKeyId, secretAccessKey: moto.identity.secretAccessKey },
  });
  return async (): Promise<Credentials> => {
    const r = await sts.send(
      new AssumeRoleCommand({
        RoleArn: roleArn,
        RoleSessionName: 'keyless-test',
        DurationSeconds: durationSeconds,
      }),
    );
    const c = r.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration)
      throw new Error('AssumeRole returned no credentials');
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration,
      arn: r.AssumedRoleUser?.Arn,
      roleArn,
    };
  };
}
