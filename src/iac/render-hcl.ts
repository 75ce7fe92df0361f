// OpenTofu/Terraform rendering (pure): aws_iam_policy_document data sources, formatted as
// `terraform fmt` would (two-space indent, `=` aligned within a block's run of arguments).
import type { PolicyDocument, Statement } from './policy.js';

export function str(v: string): string {
  return JSON.stringify(v).replace(/\$\{/g, '$${');
}

export function list(xs: string[]): string {
  return `[${xs.map(str).join(', ')}]`;
}

export function block(name: string, args: [string, string][], children: string[], indent: string): string {
  const width = Math.max(0, ...args.map(([k]) => k.length));
  const lines = [`${indent}${name} {`];
  for (const [k, v] of args) lines.push(`${indent}  ${k.padEnd(width)} = ${v}`);
  if (args.length > 0 && children.length > 0) lines.push('');
  children.forEach((c, i) => {
    if (i > 0) lines.push('');
    lines.push(c);
  });
  lines.push(`${indent}}`);
  return lines.join('\n');
}

/**
 * One statement block. `principalIdentifiers` replaces the principal's identifiers with an HCL
 * expression (a provider resource's arn), so OpenTofu orders the resources itself.
 */
export function statementHcl(s: Statement, indent: string, principalIdentifiers?: string): string {
  const args: [string, string][] = [
    ['sid', str(s.Sid)],
    ['effect', str(s.Effect)],
    ['actions', list(s.Action)],
  ];
  if (s.Resource) args.push(['resources', list(s.Resource)]);
  const children: string[] = [];
  if (s.Principal) {
    const [type, ids] =
      'Service' in s.Principal ? ['Service', s.Principal.Service] : ['Federated', s.Principal.Federated];
    children.push(
      block(
        'principals',
        [
          ['type', str(type)],
          ['identifiers', principalIdentifiers ?? list(ids)],
        ],
        [],
        `${indent}  `,
      ),
    );
  }
  for (const [test, vars] of Object.entries(s.Condition ?? {})) {
    for (const [variable, values] of Object.entries(vars)) {
      children.push(
        block(
          'condition',
          [
            ['test', str(test)],
            ['variable', str(variable)],
            ['values', list(values)],
          ],
          [],
          `${indent}  `,
        ),
      );
    }
  }
  return block('statement', args, children, indent);
}

export function renderPolicyDocumentHcl(name: string, doc: PolicyDocument): string {
  return `${block(
    `data "aws_iam_policy_document" ${str(name)}`,
    [],
    doc.Statement.map((s) => statementHcl(s, '  ')),
    '',
  )}\n`;
}

export function renderEc2RoleHcl(
  name: string,
  policies: { name: string; doc: PolicyDocument }[],
  trust: PolicyDocument,
): string {
  const out: string[] = [renderPolicyDocumentHcl(`${name}_trust`, trust)];
  out.push(
    `${block(
      `resource "aws_iam_role" ${str(name)}`,
      [
        ['name', str(name)],
        ['assume_role_policy', `data.aws_iam_policy_document.${name}_trust.json`],
      ],
      [],
      '',
    )}\n`,
  );
  for (const p of policies) {
    out.push(renderPolicyDocumentHcl(p.name, p.doc));
    out.push(
      `${block(
        `resource "aws_iam_role_policy" ${str(p.name)}`,
        [
          ['name', str(p.name)],
          ['role', `aws_iam_role.${name}.id`],
          ['policy', `data.aws_iam_policy_document.${p.name}.json`],
        ],
        [],
        '',
      )}\n`,
    );
  }
  out.push(
    `${block(
      `resource "aws_iam_instance_profile" ${str(name)}`,
      [
        ['name', str(name)],
        ['role', `aws_iam_role.${name}.name`],
      ],
      [],
      '',
    )}\n`,
  );
  return out.join('\n');
}
