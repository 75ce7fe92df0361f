// The Docker Engine API surface other areas use.
import type { KeylessEnv } from '../../config/env.js';
import { DockerClient, endpointFromEnv } from './client.js';

export { DockerClient, DockerErrorCode, endpointFromEnv, readBody, compareVersions } from './client.js';
export type { DockerEndpoint, RequestParams } from './client.js';

/** A client for the engine the docker CLI would use (DOCKER_HOST, else the docker context in use). */
export function dockerClientFromEnv(env: KeylessEnv): DockerClient {
  return new DockerClient(endpointFromEnv(env));
}
