// Least privilege proven by evaluation: each generated policy goes through a real IAM policy evaluator
// (@cloud-copilot/iam-simulate) for the actions and resources that matter.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { checkRoleName, ecrPolicy, s3Policy } from './policy.js';
import { renderPolicyDocumentHcl } from './render-hcl.js';
import type { PolicyDocument } from './policy.js';

const REPO = 'arn:aws:ecr:eu-west-1:123456789012:repository/app';
const OTHER = 'arn:aws:ecr:eu-west-1:123456789012:repository/other';

async function allowed(
  doc: PolicyDocument,
  action: string,
  resource: string,
  context: Record<string, string | string[]> = {},
): Promise<boolean> {
  const r = await runSimulation(
    {
      identityPolicies: [{ name: 'p', policy: doc }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: undefined,
      request: {
        action,
        principal: 'arn:aws:iam::123456789012:role/r',
        resource: { accountId: '123456789012', resource },
        contextVariables: context,
      },
    } as never,
    {},
  );
  const result = r as { overallResult?: string; errors?: unknown };
  assert.equal(result.errors, undefined, JSON.stringify(result).slice(0, 400));
  return result.overallResult === 'Allowed';
}

describe('policy documents (evaluated with iam-simulate)', () => {
  test('ECR pull allows BatchGetImage and GetDownloadUrlForLayer on the named repository only, denies PutImage', async () => {
    const doc = ecrPolicy('pull', [REPO]);
    assert.equal(await allowed(doc, 'ecr:BatchGetImage', REPO), true);
    assert.equal(await allowed(doc, 'ecr:GetDownloadUrlForLayer', REPO), true);
    assert.equal(await allowed(doc, 'ecr:GetAuthorizationToken', '*'), true);
    assert.equal(await allowed(doc, 'ecr:PutImage', REPO), false);
    assert.equal(await allowed(doc, 'ecr:BatchGetImage', OTHER), false);
  });

  test('ECR push allows the upload actions on the repository', async () => {
    const doc = ecrPolicy('push', [REPO]);
    for (const a of [
      'ecr:InitiateLayerUpload',
      'ecr:UploadLayerPart',
      'ecr:CompleteLayerUpload',
      'ecr:PutImage',
    ]) {
      assert.equal(await allowed(doc, a, REPO), true, a);
      assert.equal(await allowed(doc, a, OTHER), false, a);
    }
    assert.equal(await allowed(doc, 'ecr:DeleteRepository', REPO), false);
  });

  test('S3 read and write policies allow only their bucket and prefix', async () => {
    const read = s3Policy('read', 'data-bucket', 'team/');
    assert.equal(await allowed(read, 's3:GetObject', 'arn:aws:s3:::data-bucket/team/a.txt'), true);
    assert.equal(await allowed(read, 's3:GetObject', 'arn:aws:s3:::data-bucket/other/a.txt'), false);
    assert.equal(await allowed(read, 's3:GetObject', 'arn:aws:s3:::other-bucket/team/a.txt'), false);
    assert.equal(await allowed(read, 's3:PutObject', 'arn:aws:s3:::data-bucket/team/a.txt'), false);
    assert.equal(
      await allowed(read, 's3:ListBucket', 'arn:aws:s3:::data-bucket', { 's3:prefix': 'team/x' }),
      true,
    );
    assert.equal(
      await allowed(read, 's3:ListBucket', 'arn:aws:s3:::data-bucket', { 's3:prefix': 'other/' }),
      false,
    );
    const write = s3Policy('write', 'data-bucket');
    assert.equal(await allowed(write, 's3:PutObject', 'arn:aws:s3:::data-bucket/any/key'), true);
    assert.equal(await allowed(write, 's3:PutObject', 'arn:aws:s3:::other-bucket/key'), false);
  });

  test('bad input is refused with what to fix', () => {
    assert.throws(() => ecrPolicy('pull', ['app']), /not an ECR repository ARN/);
    assert.throws(() => s3Policy('read', 'Bad_Bucket'), /not a valid S3 bucket name/);
  });

  test('the HCL describes the same statements as the JSON', () => {
    const doc = s3Policy('write', 'data-bucket', 'team/');
    const hcl = renderPolicyDocumentHcl('s3_write', doc);
    const blocks = hcl.split(/\n {2}statement \{/).slice(1);
    assert.equal(blocks.length, doc.Statement.length);
    doc.Statement.forEach((s, i) => {
      const b = blocks[i] as string;
      assert.match(b, new RegExp(`sid\\s+= "${s.Sid}"`));
      assert.ok(b.includes(`actions   = [${s.Action.map((a) => JSON.stringify(a)).join(', ')}]`), b);
      assert.ok(
        b.includes(`resources = [${(s.Resource ?? []).map((a) => JSON.stringify(a)).join(', ')}]`),
        b,
      );
    });
    assert.match(
      hcl,
      /condition \{\n {6}test {5}= "StringLike"\n {6}variable = "s3:prefix"\n {6}values {3}= \["team\/\*"\]/,
    );
  });
});

test('a refused bucket or role name says what a valid one looks like', () => {
  assert.throws(() => s3Policy('read', 'b'), /"b" is not a valid S3 bucket name: 3-63 lower-case letters/);
  assert.throws(
    () => checkRoleName('--name', 'a b'),
    /--name "a b" is not a valid IAM role name: 1-64 letters/,
  );
  assert.doesNotThrow(() => checkRoleName('--name', 'app-node@eu+1'));
});
