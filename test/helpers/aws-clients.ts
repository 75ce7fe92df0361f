// awscli v1, awscli v2, boto3 and the JS SDK v3 asking STS who they are, as run inside a container that
// borrows the host's programs (test/helpers/docker.ts hostMounts): awscli v2 here needs --endpoint-url.
export const CLIENT_NAMES = ['awscli v1', 'awscli v2', 'boto3', 'JS SDK v3'] as const;
export type ClientName = (typeof CLIENT_NAMES)[number];

const JS = `import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts'; console.log((await new STSClient({}).send(new GetCallerIdentityCommand({}))).Arn);`;

/** awscli v1 (the host's Python) printing the caller's ARN. */
export function awscliV1Arn(py: string): string[] {
  return [
    `${py}/bin/python3`,
    '-m',
    'awscli',
    'sts',
    'get-caller-identity',
    '--query',
    'Arn',
    '--output',
    'text',
  ];
}

export function containerClientCommands(py: string, motoUrl: string): [ClientName, string[]][] {
  return [
    ['awscli v1', awscliV1Arn(py)],
    [
      'awscli v2',
      [
        '/usr/bin/aws',
        '--endpoint-url',
        motoUrl,
        'sts',
        'get-caller-identity',
        '--query',
        'Arn',
        '--output',
        'text',
      ],
    ],
    [
      'boto3',
      [`${py}/bin/python3`, '-c', "import boto3;print(boto3.client('sts').get_caller_identity()['Arn'])"],
    ],
    ['JS SDK v3', ['/usr/bin/node', '--input-type=module', '-e', JS]],
  ];
}
