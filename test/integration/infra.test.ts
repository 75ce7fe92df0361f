// keyless ec2 metadata-options and keyless policy against moto_server (signature checks on).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EC2Client, RunInstancesCommand, DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { IAMClient, PutRolePolicyCommand, DeleteRolePolicyCommand } from '@aws-sdk/client-iam';
import { motoWithStoredProfile } from '../helpers/profiles.js';
import { runKeyless } from '../helpers/cli.js';

describe('keyless ec2 metadata-options and policy (moto)', () => {
  test('metadata-options changes an instance to tokens required and hop limit 2; --dry-run changes nothing', async (t) => {
    const { moto, te } = await motoWithStoredProfile(t, {
      moto: { roles: ['ops'] },
      awsConfig: '[profile ops]\nrole_arn = ROLE:ops\nsource_profile = dev\n',
    });
    const ec2 = new EC2Client({
      region: 'us-east-1',
      endpoint: moto.url,
      credentials: { accessKeyId: moto.identity.accessKeyId, secretAccessKey: moto.identity.secretAccessKey },
    });
    t.after(() => ec2.destroy());
    const run = await ec2.send(
      new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 1, MaxCount: 1 }),
    );
    const id = run.Instances?.[0]?.InstanceId as string;
    const options = async () =>
      (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations?.[0]?.Instances?.[0]
        ?.MetadataOptions;
    assert.equal((await options())?.HttpPutResponseHopLimit, 1);
    const dry = await runKeyless(
      ['ec2', 'metadata-options', '--instance-id', id, '--dry-run', '--profile', 'ops'],
      { env: te.vars },
    );
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /before: tokens optional, hop limit 1/);
    assert.match(dry.stdout, /would be: tokens required, hop limit 2/);
    assert.equal((await options())?.HttpPutResponseHopLimit, 1, 'dry run changed nothing');
    const change = await runKeyless(['ec2', 'metadata-options', '--instance-id', id, '--profile', 'ops'], {
      env: te.vars,
    });
    assert.equal(change.code, 0, change.stderr);
    const after = await options();
    assert.equal(after?.HttpPutResponseHopLimit, 2);
    assert.equal(after?.HttpTokens, 'required');
    assert.equal(after?.HttpEndpoint, 'enabled', 'options to keep were sent (moto drops the others)');
    const missing = await runKeyless(
      ['ec2', 'metadata-options', '--instance-id', 'i-0000000000000dead', '--profile', 'ops'],
      { env: te.vars },
    );
    assert.equal(missing.code, 2);
  });

  test('a role carrying only the generated ECR pull policy gets an ECR token (moto matches ECR resources as "*")', async (t) => {
    const { moto, te } = await motoWithStoredProfile(t, {
      moto: { roles: ['puller'] },
      awsConfig: '[profile puller]\nrole_arn = ROLE:puller\nsource_profile = dev\n',
    });
    const pol = await runKeyless(
      [
        'policy',
        'ecr',
        '--access',
        'pull',
        '--repository',
        'arn:aws:ecr:us-east-1:123456789012:repository/app',
      ],
      { env: te.vars },
    );
    assert.equal(pol.code, 0, pol.stderr);
    const iam = new IAMClient({
      region: 'us-east-1',
      endpoint: moto.url,
      credentials: { accessKeyId: moto.identity.accessKeyId, secretAccessKey: moto.identity.secretAccessKey },
    });
    t.after(() => iam.destroy());
    await iam.send(new DeleteRolePolicyCommand({ RoleName: 'puller', PolicyName: 'keyless-test' }));
    await iam.send(
      new PutRolePolicyCommand({ RoleName: 'puller', PolicyName: 'ecr-pull', PolicyDocument: pol.stdout }),
    );
    const r = await runKeyless(
      [
        'exec',
        'puller',
        '--',
        'aws',
        'ecr',
        'get-authorization-token',
        '--query',
        'authorizationData[0].proxyEndpoint',
        '--output',
        'text',
      ],
      { env: te.vars },
    );
    assert.equal(r.code, 0, r.stderr);
    const denied = await runKeyless(
      ['exec', 'puller', '--', 'aws', 'ecr', 'create-repository', '--repository-name', 'xy'],
      { env: te.vars },
    );
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /AccessDenied|not authorized/);
  });
});
