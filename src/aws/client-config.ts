// The one factory for AWS SDK client configuration: region, endpoint (AWS_ENDPOINT_URL and
// AWS_ENDPOINT_URL_<SERVICE>, as the AWS CLI reads them), credentials.
import type { KeylessEnv } from '../config/env.js';
import { nonEmpty } from '../config/env.js';
import type { Credentials } from '../sources/types.js';
import { KeylessError } from '../errors.js';

export interface ClientConfigOptions {
  /** service id as in AWS_ENDPOINT_URL_<ID>: STS, IAM, ECR, ECR_PUBLIC, EC2 */
  service: string;
  region?: string;
  credentials?: Credentials | (() => Promise<Credentials>);
}

export interface AwsClientConfig {
  region: string;
  endpoint?: string;
  credentials?: Credentials | (() => Promise<Credentials>);
  maxAttempts?: number;
  /** NodeHttpHandler options (the SDK builds the handler): a hung endpoint never hangs keyless */
  requestHandler: {
    connectionTimeout: number;
    requestTimeout: number;
    throwOnRequestTimeout: boolean;
  };
}

/**
 * Every AWS call: connect within 3 s, answer within 10 s (in @smithy/node-http-handler 4.x
 * requestTimeout only logs a warning unless throwOnRequestTimeout is set), at most 3 attempts.
 */
export const AWS_TIMEOUTS = { connectionTimeout: 3_000, requestTimeout: 10_000, throwOnRequestTimeout: true };

export const DEFAULT_REGION = 'us-east-1';

/** what the SDK accepts as a region: one host name label */
const REGION_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** AWS_ENDPOINT_URL_<SERVICE> wins over AWS_ENDPOINT_URL, as in the AWS CLI and SDKs. */
export function endpointFor(env: KeylessEnv, service: string): string | undefined {
  const id = service.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  return nonEmpty(env.vars[`AWS_ENDPOINT_URL_${id}`]) ?? nonEmpty(env.vars.AWS_ENDPOINT_URL);
}

export function awsClientConfig(env: KeylessEnv, options: ClientConfigOptions): AwsClientConfig {
  const region = options.region ?? env.awsRegion ?? DEFAULT_REGION;
  // the SDK refuses it too, but only at the first call and as an error of its own
  if (!REGION_NAME.test(region)) {
    throw new KeylessError(
      'CONFIG_INVALID',
      `region "${region.slice(0, 60)}" is not an AWS region name (like eu-west-1). Fix --region, AWS_REGION or the profile's region.`,
    );
  }
  const endpoint = endpointFor(env, options.service);
  if (endpoint !== undefined && !/^https?:\/\//.test(endpoint)) {
    throw new KeylessError(
      'CONFIG_INVALID',
      `endpoint URL "${endpoint}" for ${options.service} is not an http(s) URL. Fix AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_${options.service}.`,
    );
  }
  const config: AwsClientConfig = { region, maxAttempts: 3, requestHandler: { ...AWS_TIMEOUTS } };
  if (endpoint !== undefined) config.endpoint = endpoint;
  if (options.credentials !== undefined) config.credentials = options.credentials;
  return config;
}
