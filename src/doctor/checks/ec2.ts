// EC2: only with an instance id from the user (doctor never probes the metadata address): reads the
// instance's metadata options through the EC2 API and explains what they mean for containers.
import type { KeylessEnv } from '../../config/env.js';
import { awsClientConfig } from '../../aws/client-config.js';
import { awsFailureHint } from '../../aws/failure.js';
import { isKeylessError } from '../../errors.js';
import { createCredentialSource } from '../../sources/index.js';
import type { CheckResult } from '../types.js';

/** Pure: what metadata options mean for containers on that instance. */
export function judgeMetadataOptions(
  id: string,
  o: { HttpTokens?: string; HttpPutResponseHopLimit?: number },
): CheckResult {
  const base = { id: 'ec2-metadata-options', title: `instance ${id} metadata options` };
  const hop = o.HttpPutResponseHopLimit ?? 1;
  const found = `HttpTokens ${o.HttpTokens ?? '?'}, hop limit ${hop}`;
  const fix = `keyless ec2 metadata-options --instance-id ${id} --hop-limit 2 --tokens required`;
  if (hop < 2)
    return {
      ...base,
      status: 'fail',
      found: `${found}: containers on a bridge network get no IMDSv2 token (one hop too far)`,
      fix,
    };
  if (o.HttpTokens !== 'required')
    return {
      ...base,
      status: 'warn',
      found: `${found}: IMDSv1 is allowed (SSRF can read role credentials)`,
      fix,
    };
  return { ...base, status: 'ok', found: `${found}: containers can use IMDSv2` };
}

export async function checkInstance(env: KeylessEnv, id: string, profile?: string): Promise<CheckResult> {
  const p = profile ?? env.awsProfile;
  const source = p ? await createCredentialSource({ profile: p }, { env }) : undefined;
  const { EC2Client, DescribeInstancesCommand } = await import('@aws-sdk/client-ec2');
  const ec2 = new EC2Client(
    awsClientConfig(env, {
      service: 'EC2',
      ...(source?.region ? { region: source.region } : {}),
      ...(source ? { credentials: source } : {}),
    }),
  );
  try {
    const r = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
    const o = r.Reservations?.[0]?.Instances?.[0]?.MetadataOptions ?? {};
    return judgeMetadataOptions(id, o);
  } catch (err) {
    return {
      id: 'ec2-metadata-options',
      title: `instance ${id} metadata options`,
      status: 'fail',
      found: (err as Error).message,
      fix: isKeylessError(err)
        ? 'do what the message says, or pass --profile with credentials that work'
        : (awsFailureHint(err) ?? 'check --instance-id, the region and the ec2:DescribeInstances permission'),
    };
  } finally {
    ec2.destroy();
  }
}
