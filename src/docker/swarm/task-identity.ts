// Who is asking: a request's source address → the task container behind it → its service and labels,
// through the local engine. Tasks on overlay networks reach a node-local address through
// docker_gwbridge, so that network's endpoints map addresses to containers; containers on other local
// networks are found by their network settings. Lookups are cached briefly and refreshed on a miss.
import type { DockerClient } from '../engine/client.js';
import { inspectService } from '../engine/swarm.js';

export interface TaskIdentity {
  containerId: string;
  taskId: string;
  serviceId: string;
  serviceName: string;
  serviceLabels: Record<string, string>;
}

interface ContainerSummary {
  Id: string;
  State: string;
  Labels?: Record<string, string>;
  NetworkSettings?: { Networks?: Record<string, { IPAddress?: string }> };
}

const ADDRESS_TTL_MS = 2_000;
const SERVICE_TTL_MS = 3_000;

export class TaskIdentityResolver {
  private byAddress = new Map<string, string>();
  private addressesAt = 0;
  private containers = new Map<string, ContainerSummary>();
  private services = new Map<string, { at: number; name: string; labels: Record<string, string> }>();
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly client: DockerClient,
    private readonly now: () => number = Date.now,
  ) {}

  /** The running swarm task behind an address, or undefined (not a task, not running, unknown). */
  async resolve(address: string): Promise<TaskIdentity | undefined> {
    const ip = address.replace(/^::ffff:/, '');
    let containerId = this.fresh() ? this.byAddress.get(ip) : undefined;
    if (containerId === undefined) {
      await this.refresh();
      containerId = this.byAddress.get(ip);
    }
    if (containerId === undefined) return undefined;
    const c = this.containers.get(containerId);
    const labels = c?.Labels ?? {};
    const serviceId = labels['com.docker.swarm.service.id'];
    const taskId = labels['com.docker.swarm.task.id'];
    if (!c || c.State !== 'running' || !serviceId || !taskId) return undefined;
    const service = await this.service(serviceId);
    if (!service) return undefined;
    return { containerId, taskId, serviceId, serviceName: service.name, serviceLabels: service.labels };
  }

  private fresh(): boolean {
    return this.now() - this.addressesAt < ADDRESS_TTL_MS;
  }

  private async service(id: string): Promise<{ name: string; labels: Record<string, string> } | undefined> {
    const cached = this.services.get(id);
    if (cached && this.now() - cached.at < SERVICE_TTL_MS) return cached;
    try {
      const s = await inspectService(this.client, id);
      const entry = { at: this.now(), name: s.Spec.Name, labels: s.Spec.Labels ?? {} };
      this.services.set(id, entry);
      return entry;
    } catch {
      this.services.delete(id);
      return undefined;
    }
  }

  private refresh(): Promise<void> {
    // one engine round-trip at a time however many requests miss at once
    this.refreshing ??= this.load().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async load(): Promise<void> {
    const containers = await this.client.json<ContainerSummary[]>('GET', '/containers/json', {
      query: { filters: JSON.stringify({ label: ['com.docker.swarm.task.id'] }) },
    });
    const byAddress = new Map<string, string>();
    const byId = new Map<string, ContainerSummary>();
    for (const c of containers) {
      byId.set(c.Id, c);
      for (const n of Object.values(c.NetworkSettings?.Networks ?? {}))
        if (n.IPAddress) byAddress.set(n.IPAddress, c.Id);
    }
    try {
      const gw = await this.client.json<{ Containers?: Record<string, { IPv4Address?: string }> }>(
        'GET',
        '/networks/docker_gwbridge',
      );
      for (const [id, ep] of Object.entries(gw.Containers ?? {})) {
        const ip = ep.IPv4Address?.split('/')[0];
        if (ip && byId.has(id)) byAddress.set(ip, id);
      }
    } catch {
      // no docker_gwbridge: not a swarm node yet
    }
    this.byAddress = byAddress;
    this.containers = byId;
    this.addressesAt = this.now();
  }
}
