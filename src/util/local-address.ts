// Whether an address is one of this network namespace's own, by binding a UDP socket to it. Unlike
// os.networkInterfaces(), this also sees addresses on interfaces that are down (a Docker bridge with no
// container attached).
import { createSocket } from 'node:dgram';
import { isIP, isIPv6 } from 'node:net';

/** Whether an address can be bound here: it is one of this network namespace's own addresses. */
export function bindable(address: string): Promise<boolean> {
  if (isIP(address) === 0) return Promise.resolve(false);
  return new Promise((resolve) => {
    const sock = createSocket(isIPv6(address) ? 'udp6' : 'udp4');
    sock.once('error', () => {
      sock.close();
      resolve(false);
    });
    sock.bind(0, address, () => {
      sock.close();
      resolve(true);
    });
  });
}
