// Body of `keyless ec2 metadata-options`: show and change IMDS options through the EC2 API.
// moto builds a new options object from each request (fields not sent are dropped), so every option
// to keep is sent explicitly; the change is polled until State is "applied".
import { awsClientConfig } from '../../../aws/client-config.js';
import { loadEnv } from '../../../config/env.js';
import { isKeylessError, KeylessError, usageError } from '../../../errors.js';
import { awsFailureHint, awsFailureMessage } from '../../../aws/failure.js';
import { createCredentialSource } from '../../../sources/index.js';
import { output } from '../../output.js';
import type { ExitCode } from '../../action.js';
import type { Ec2Flags } from '../infra.js';

interface Options {
  HttpTokens?: string;
  HttpPutResponseHopLimit?: number;
  HttpEndpoint?: string;
  HttpProtocolIpv6?: string;
  InstanceMetadataTags?: string;
  State?: string;
}

function show(label: string, o: Options): string {
  return `${label}: tokens ${o.HttpTokens ?? '?'}, hop limit ${o.HttpPutResponseHopLimit ?? '?'}, endpoint ${o.HttpEndpoint ?? '?'}${o.State ? ` (${o.State})` : ''}`;
}

export async function runMetadataOptions(flags: Ec2Flags): Promise<ExitCode> {
  if (!flags.instanceId && !flags.launchTemplateId)
    throw usageError('say which: --instance-id ID or --launch-template-id ID.');
  let hop: number | undefined;
  if (flags.hopLimit !== undefined) {
    hop = Number(flags.hopLimit);
    if (!Number.isInteger(hop) || hop < 1 || hop > 64)
      throw usageError(`--hop-limit must be 1 to 64, got "${flags.hopLimit}".`);
  }
  const env = loadEnv();
  const profile = flags.profile ?? env.awsProfile;
  const source = profile ? await createCredentialSource({ profile }, { env }) : undefined;
  const region = flags.region ?? env.awsRegion ?? source?.region;
  const {
    EC2Client,
    DescribeInstancesCommand,
    ModifyInstanceMetadataOptionsCommand,
    DescribeLaunchTemplateVersionsCommand,
    CreateLaunchTemplateVersionCommand,
    ModifyLaunchTemplateCommand,
  } = await import('@aws-sdk/client-ec2');
  const ec2 = new EC2Client({
    ...awsClientConfig(env, {
      service: 'EC2',
      ...(region ? { region } : {}),
      ...(source ? { credentials: source } : {}),
    }),
  });
  try {
    if (flags.launchTemplateId) {
      const v = await ec2.send(
        new DescribeLaunchTemplateVersionsCommand({
          LaunchTemplateId: flags.launchTemplateId,
          Versions: ['$Default'],
        }),
      );
      const cur = (v.LaunchTemplateVersions?.[0]?.LaunchTemplateData?.MetadataOptions ?? {}) as Options;
      output.data(show('before', cur));
      const want = {
        HttpTokens: flags.tokens ?? 'required',
        HttpPutResponseHopLimit: hop ?? 2,
        HttpEndpoint: cur.HttpEndpoint ?? 'enabled',
      };
      output.data(show('after', want));
      if (flags.dryRun) return 0;
      const created = await ec2.send(
        new CreateLaunchTemplateVersionCommand({
          LaunchTemplateId: flags.launchTemplateId,
          SourceVersion: String(v.LaunchTemplateVersions?.[0]?.VersionNumber ?? '$Default'),
          LaunchTemplateData: { MetadataOptions: want as never },
        }),
      );
      const n = created.LaunchTemplateVersion?.VersionNumber;
      await ec2.send(
        new ModifyLaunchTemplateCommand({
          LaunchTemplateId: flags.launchTemplateId,
          DefaultVersion: String(n),
        }),
      );
      output.data(`launch template ${flags.launchTemplateId}: new default version ${n}`);
      return 0;
    }
    const id = flags.instanceId as string;
    const describe = async (): Promise<Options> => {
      const r = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
      const inst = r.Reservations?.[0]?.Instances?.[0];
      if (!inst)
        throw new KeylessError(
          'EC2_INSTANCE_NOT_FOUND',
          `instance ${id} was not found in ${region ?? 'this region'}. Check --instance-id and --region.`,
        );
      return (inst.MetadataOptions ?? {}) as Options;
    };
    const before = await describe();
    output.data(show('before', before));
    const want: Options = {
      HttpTokens: flags.tokens ?? 'required',
      HttpPutResponseHopLimit: hop ?? 2,
      HttpEndpoint: before.HttpEndpoint ?? 'enabled',
      HttpProtocolIpv6: before.HttpProtocolIpv6 ?? 'disabled',
      InstanceMetadataTags: before.InstanceMetadataTags ?? 'disabled',
    };
    output.data(show(flags.dryRun ? 'would be' : 'after', want));
    if (flags.dryRun) return 0;
    await ec2.send(
      new ModifyInstanceMetadataOptionsCommand({ InstanceId: id, ...(want as Record<string, never>) }),
    );
    for (let i = 0; i < 60; i++) {
      const now = await describe();
      if (now.State !== 'pending') {
        output.data(show('applied', now));
        return 0;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    throw new KeylessError(
      'EC2_OPTIONS_PENDING',
      `instance ${id}: the new metadata options are still pending after 60 s; check again with keyless ec2 metadata-options --instance-id ${id} --dry-run.`,
    );
  } catch (err) {
    throw ec2Failed(err);
  } finally {
    ec2.destroy();
  }
}

/** An EC2 API failure as the user's error: the SDK's message and what to check (never an internal error). */
export function ec2Failed(err: unknown): KeylessError {
  if (isKeylessError(err)) return err;
  return new KeylessError(
    'EC2_API_FAILED',
    `the EC2 API call failed: ${awsFailureMessage(err)}. ` +
      (awsFailureHint(err) ??
        'Check --instance-id / --launch-template-id, --region and the ec2:Describe*/Modify* permissions.'),
    { cause: err },
  );
}
