// The terminal view of a status snapshot (keyless status): plain columns, times relative to the
// snapshot. Pure: snapshot in, text out.
import type {
  ClientStatus,
  LeaseStatus,
  StatusReport,
  SwarmAgentStatus,
} from '../../../server/status-types.js';

/** "42s", "5m", "2h05m", "3d"; a duration in ms, never negative. */
export function renderDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86400)}d`;
}

/** "in 5m" / "3s ago" relative to now; "-" when unknown. */
export function renderWhen(iso: string | undefined, now: number): string {
  if (iso === undefined) return '-';
  const d = Date.parse(iso) - now;
  return d >= 0 ? `in ${renderDuration(d)}` : `${renderDuration(-d)} ago`;
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].map((l) => `  ${l}`);
}

function leaseRows(leases: LeaseStatus[], now: number): string[][] {
  return leases.map((l) => [
    l.id,
    l.role,
    l.profile ?? '-',
    l.accessKeyId ?? '-',
    renderWhen(l.expiresAt, now),
    l.refreshing ? 'now' : renderWhen(l.nextRefreshAt, now),
    String(l.clients),
    l.lastError ?? '',
  ]);
}

function clientName(c: ClientStatus): string {
  if (c.container) {
    const name = c.container.name ?? c.container.id;
    return c.container.image ? `${name} (${c.container.image})` : name;
  }
  return c.label ?? c.kind;
}

function clientRows(clients: ClientStatus[], now: number): string[][] {
  return clients.map((c) => [
    c.tag,
    clientName(c),
    c.address ?? '-',
    c.role,
    c.state === 'revoked' && c.revokedReason && c.revokedReason !== 'revoked'
      ? `revoked (${c.revokedReason})`
      : c.state,
    renderWhen(c.expiresAt, now),
    renderWhen(c.firstRequestAt, now),
    renderWhen(c.lastRequestAt, now),
    String(c.requests),
    String(c.refused),
  ]);
}

function renderSwarm(a: SwarmAgentStatus, now: number): string[] {
  const lines = [
    `swarm agent  pid ${a.pid}, listening on ${a.listen}, up ${renderDuration(now - Date.parse(a.startedAt))}`,
    '',
    `swarm tasks (${a.tasks.length})`,
  ];
  if (a.tasks.length)
    lines.push(
      ...table(
        ['TASK', 'SERVICE', 'ADDRESS', 'ROLE', 'KEY', 'EXPIRES', 'FIRST', 'LAST', 'REQUESTS', 'REFUSED'],
        a.tasks.map((t) => [
          t.task.slice(0, 12),
          t.service,
          t.address,
          t.role,
          t.accessKeyId ?? '-',
          renderWhen(t.expiresAt, now),
          renderWhen(t.firstRequestAt, now),
          renderWhen(t.lastRequestAt, now),
          String(t.requests),
          String(t.refused),
        ]),
      ),
    );
  return lines;
}

export function renderStatus(s: StatusReport): string {
  const now = Date.parse(s.generatedAt);
  const lines: string[] = [];
  const sv = s.server;
  if (sv) {
    lines.push(
      `server  pid ${sv.pid}, ${sv.mode} mode, listening on ${sv.listen.join(', ') || '(no TCP address)'}, up ${renderDuration(sv.uptimeSeconds * 1000)}` +
        `${sv.network ? `, network ${sv.network}` : ''}${sv.imds ? ', IMDS on' : ''}`,
    );
    if (sv.endpoint)
      lines.push(
        `        endpoint container ${sv.endpoint.container ?? '(none)'}: ${sv.endpoint.connected ? 'connected' : 'NOT connected'}`,
      );
    const leases = s.leases ?? [];
    const clients = s.clients ?? [];
    lines.push('', `leases (${leases.length})`);
    if (leases.length)
      lines.push(
        ...table(
          ['LEASE', 'ROLE', 'PROFILE', 'KEY', 'EXPIRES', 'REFRESH', 'CLIENTS', 'LAST ERROR'],
          leaseRows(leases, now),
        ),
      );
    lines.push('', `clients (${clients.length})`);
    if (clients.length)
      lines.push(
        ...table(
          [
            'CLIENT',
            'CONTAINER',
            'ADDRESS',
            'ROLE',
            'STATE',
            'EXPIRES',
            'FIRST',
            'LAST',
            'REQUESTS',
            'REFUSED',
          ],
          clientRows(clients, now),
        ),
      );
  } else lines.push('server  not running for this KEYLESS_HOME');
  if (s.swarm) lines.push('', ...renderSwarm(s.swarm, now));
  return `${lines.join('\n')}\n`;
}
