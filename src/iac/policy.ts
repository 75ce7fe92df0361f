// Least-privilege IAM documents (pure). Facts: shared/docs/reference/docker-integration.md §8.
import { KeylessError } from '../errors.js';

export interface Statement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource?: string[];
  Principal?: { Service: string[] } | { Federated: string[] };
  /** operator → condition key → values, as IAM writes them */
  Condition?: Record<string, Record<string, string[]>>;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: Statement[];
}

const ECR_REPO_ARN = /^arn:aws[a-z-]*:ecr:[a-z0-9-]+:\d{12}:repository\/[a-z0-9._/*-]+$/;

function invalid(message: string): KeylessError {
  return new KeylessError('IAC_INVALID_INPUT', message);
}

export const ECR_PULL_ACTIONS = [
  'ecr:BatchCheckLayerAvailability',
  'ecr:BatchGetImage',
  'ecr:GetDownloadUrlForLayer',
];
export const ECR_PUSH_ACTIONS = [
  ...ECR_PULL_ACTIONS,
  'ecr:CompleteLayerUpload',
  'ecr:InitiateLayerUpload',
  'ecr:PutImage',
  'ecr:UploadLayerPart',
];

/** ECR pull or push on named repositories; GetAuthorizationToken on "*" apart, as AWS requires. */
/** IAM role (and instance profile) names: 1-64 of letters, digits and + = , . @ _ - */
export function checkRoleName(option: string, name: string): void {
  if (!/^[\w+=,.@-]{1,64}$/.test(name))
    throw invalid(
      `${option} "${name}" is not a valid IAM role name: 1-64 letters, digits and + = , . @ _ - (no spaces or slashes).`,
    );
}

export function ecrPolicy(access: 'pull' | 'push', repositories: string[]): PolicyDocument {
  if (repositories.length === 0) throw invalid('name at least one --repository ARN.');
  for (const r of repositories) {
    if (!ECR_REPO_ARN.test(r)) {
      throw invalid(
        `--repository "${r}" is not an ECR repository ARN (arn:aws:ecr:REGION:ACCOUNT:repository/NAME).`,
      );
    }
  }
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'EcrAuthorizationToken',
        Effect: 'Allow',
        Action: ['ecr:GetAuthorizationToken'],
        Resource: ['*'],
      },
      {
        Sid: access === 'pull' ? 'EcrPull' : 'EcrPush',
        Effect: 'Allow',
        Action: access === 'pull' ? ECR_PULL_ACTIONS : ECR_PUSH_ACTIONS,
        Resource: [...repositories].sort(),
      },
    ],
  };
}

/** S3 read or write on one bucket, optionally one prefix. */
export function s3Policy(access: 'read' | 'write', bucket: string, prefix?: string): PolicyDocument {
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    throw invalid(
      `--bucket "${bucket}" is not a valid S3 bucket name: 3-63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit.`,
    );
  const p = prefix === undefined ? '' : prefix.replace(/^\/+/, '').replace(/\*+$/, '');
  if (/[*?]/.test(p)) throw invalid('--prefix must be a plain prefix (no wildcards).');
  const objects = `arn:aws:s3:::${bucket}/${p}*`;
  const list: Statement = {
    Sid: 'S3List',
    Effect: 'Allow',
    Action: ['s3:ListBucket'],
    Resource: [`arn:aws:s3:::${bucket}`],
  };
  const statements: Statement[] = [list];
  statements.push({ Sid: 'S3Read', Effect: 'Allow', Action: ['s3:GetObject'], Resource: [objects] });
  if (access === 'write') {
    statements.push({
      Sid: 'S3Write',
      Effect: 'Allow',
      Action: ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:PutObject'],
      Resource: [objects],
    });
  }
  const doc: PolicyDocument = { Version: '2012-10-17', Statement: statements };
  if (p !== '') {
    // ListBucket limited to the prefix
    list.Condition = { StringLike: { 's3:prefix': [`${p}*`] } };
  }
  return doc;
}

/** The trust policy that lets EC2 instances assume a role. */
export function ec2TrustPolicy(): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'Ec2AssumeRole',
        Effect: 'Allow',
        Principal: { Service: ['ec2.amazonaws.com'] },
        Action: ['sts:AssumeRole'],
      },
    ],
  };
}
