// Body of `keyless policy ...`.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { KeylessError } from '../../../errors.js';
import {
  checkRoleName,
  ec2TrustPolicy,
  ecrPolicy,
  s3Policy,
  type PolicyDocument,
} from '../../../iac/policy.js';
import { renderEc2RoleHcl, renderPolicyDocumentHcl } from '../../../iac/render-hcl.js';
import { output } from '../../output.js';
import type { ExitCode } from '../../action.js';

type PolicyRequest =
  | { kind: 'ecr'; access: 'pull' | 'push'; repository: string[]; format: string }
  | { kind: 's3'; access: 'read' | 'write'; bucket: string; prefix?: string; format: string }
  | { kind: 'ec2-role'; name: string; policyFile?: string[]; format: string };

export async function runPolicy(r: PolicyRequest): Promise<ExitCode> {
  if (r.kind === 'ec2-role') {
    checkRoleName('--name', r.name);
    const policies: { name: string; doc: PolicyDocument }[] = [];
    for (const f of r.policyFile ?? []) {
      let doc: PolicyDocument;
      try {
        doc = JSON.parse(await readFile(f, 'utf8')) as PolicyDocument;
      } catch (err) {
        throw new KeylessError(
          'IAC_INVALID_INPUT',
          `--policy-file ${f}: not a readable JSON policy document (${(err as Error).message}).`,
        );
      }
      policies.push({
        name: `${r.name}_${basename(f)
          .replace(/\.json$/, '')
          .replace(/[^\w]/g, '_')}`,
        doc,
      });
    }
    if (r.format === 'hcl')
      output.data(renderEc2RoleHcl(r.name.replace(/[^\w]/g, '_'), policies, ec2TrustPolicy()));
    else
      output.json({
        RoleName: r.name,
        AssumeRolePolicyDocument: ec2TrustPolicy(),
        Policies: policies.map((p) => ({ PolicyName: p.name, PolicyDocument: p.doc })),
        InstanceProfileName: r.name,
      });
    return 0;
  }
  const doc = r.kind === 'ecr' ? ecrPolicy(r.access, r.repository) : s3Policy(r.access, r.bucket, r.prefix);
  if (r.format === 'hcl') output.data(renderPolicyDocumentHcl(`${r.kind}_${r.access}`, doc));
  else output.json(doc);
  return 0;
}
