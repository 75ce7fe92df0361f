import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { startMoto } from '../helpers/moto.js';

test('moto_server checks signatures: the seeded key works and a wrong secret is refused', async (t) => {
  const moto = await startMoto(t);
  const ok = new STSClient({
    region: 'us-east-1',
    endpoint: moto.url,
    credentials: { accessKeyId: moto.identity.accessKeyId, secretAccessKey: moto.identity.secretAccessKey },
  });
  const bad = new STSClient({
    region: 'us-east-1',
    endpoint: moto.url,
    maxAttempts: 1,
    credentials: { accessKeyId: moto.identity.accessKeyId, secretAccessKey: 'x'.repeat(40) },
  });
  t.after(() => {
    ok.destroy();
    bad.destroy();
  });
  const id = await ok.send(new GetCallerIdentityCommand({}));
  assert.equal(id.Arn, moto.identity.userArn);
  await assert.rejects(bad.send(new GetCallerIdentityCommand({})), /SignatureDoesNotMatch|signature/i);
  assert.equal(moto.countRequests('GetCallerIdentity'), 2);
});
