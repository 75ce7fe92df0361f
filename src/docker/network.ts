// The keyless bridge network: by default `keyless`, 169.254.170.0/24, gateway 169.254.170.2 on the host
// (the address every SDK's relative container-credentials URI points at).
import { KeylessError } from '../errors.js';
import type { DockerClient } from './engine/client.js';

export interface NetworkSettings {
  name: string;
  subnet: string;
  gateway: string;
}

export const DEFAULT_NETWORK: NetworkSettings = {
  name: 'keyless',
  subnet: '169.254.170.0/24',
  gateway: '169.254.170.2',
};

interface NetworkInfo {
  Id: string;
  Driver: string;
  IPAM?: { Config?: { Subnet?: string; Gateway?: string }[] };
}

/** Creates the network, or checks that an existing one of that name has the same subnet and gateway. */
export async function ensureNetwork(
  client: DockerClient,
  settings: NetworkSettings = DEFAULT_NETWORK,
): Promise<'created' | 'existing'> {
  let info: NetworkInfo | undefined;
  try {
    info = await client.json<NetworkInfo>('GET', `/networks/${encodeURIComponent(settings.name)}`);
  } catch (err) {
    if ((err as { code?: string }).code !== 'DOCKER_NOT_FOUND') throw err;
  }
  if (info) {
    const configs = info.IPAM?.Config ?? [];
    if (!configs.some((c) => c.Subnet === settings.subnet && c.Gateway === settings.gateway)) {
      const have =
        configs.map((c) => `${c.Subnet ?? '?'} gateway ${c.Gateway ?? '?'}`).join(', ') || 'no subnet';
      const hostMade = configs.some((c) => c.Subnet === settings.subnet && c.Gateway === '169.254.170.2');
      const why =
        settings.gateway === '169.254.170.2'
          ? ' The host mode needs the gateway at 169.254.170.2 (the server listens there); this network was made for the endpoint container.'
          : hostMade
            ? " Its gateway holds 169.254.170.2, where the endpoint container must sit: it was made for the host mode (keyless as root on the engine's host). Run keyless as root with --endpoint host to keep using it."
            : '';
      throw new KeylessError(
        'DOCKER_NETWORK_MISMATCH',
        `the Docker network "${settings.name}" exists with ${have}, not ${settings.subnet} gateway ${settings.gateway}.${why} ` +
          `Remove it when no container uses it (docker network rm ${settings.name}) or pick another name with --network-name.`,
      );
    }
    return 'existing';
  }
  await client.json('POST', '/networks/create', {
    body: {
      Name: settings.name,
      Driver: 'bridge',
      CheckDuplicate: true,
      IPAM: { Driver: 'default', Config: [{ Subnet: settings.subnet, Gateway: settings.gateway }] },
      Labels: { 'keyless.network': 'true' },
    },
  });
  return 'created';
}
