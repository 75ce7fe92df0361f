/// <reference lib="dom" />
// The page's script (compiled by tsc like the rest, served as /app.js; no framework, no build step).
// Follows /api/events (server-sent events), renders with DOM calls and textContent only (no HTML from
// data), and sends actions with the CSRF token from the page's meta tag.
import type {
  AuditLineStatus,
  ClientStatus,
  LeaseStatus,
  StatusSnapshot,
  SwarmAgentStatus,
} from '../../server/status-types.js';

const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';
const AUDIT_KEEP = 1000;
let snapshot: StatusSnapshot | undefined;
let receivedAt = 0;
let stopped = false;
const audit: AuditLineStatus[] = [];

const $ = <T extends HTMLElement>(selector: string): T => document.querySelector(selector) as T;

function el(tag: string, text?: string, className?: string): HTMLElement {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (className) e.className = className;
  return e;
}

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d`;
}

function when(iso: string | undefined): string {
  if (!iso) return '–';
  const t = Date.parse(iso);
  const d = t - Date.now();
  const clock = new Date(t).toLocaleTimeString([], { hour12: false });
  return `${clock} (${d >= 0 ? `in ${duration(d)}` : `${duration(-d)} ago`})`;
}

function timeCell(iso: string | undefined, name: string): HTMLElement {
  const td = el('td', when(iso), name);
  if (iso) {
    td.dataset.time = iso;
    td.title = iso;
  }
  return td;
}

function setMessage(text: string): void {
  $('#message').textContent = text;
}

function setConnection(text: string, kind: 'live' | 'down' | ''): void {
  const c = $('#conn');
  c.textContent = text;
  c.className = `conn ${kind}`;
}

async function post(path: string): Promise<unknown> {
  const res = await fetch(path, { method: 'POST', headers: { 'X-CSRF-Token': csrf } });
  const body = (await res.json().catch(() => ({}))) as { error?: string };
  if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body;
}

function actionButton(label: string, run: () => Promise<string>, className = ''): HTMLButtonElement {
  const b = el('button', label, className) as HTMLButtonElement;
  b.type = 'button';
  b.disabled = stopped;
  b.addEventListener('click', () => {
    b.disabled = true;
    run().then(
      (text) => setMessage(text),
      (err: Error) => {
        setMessage(`failed: ${err.message}`);
        b.disabled = false;
      },
    );
  });
  return b;
}

function renderServer(s: StatusSnapshot): void {
  const box = $('#server');
  box.replaceChildren();
  const sv = s.server;
  const up = sv.uptimeSeconds * 1000 + (Date.now() - receivedAt);
  const parts: [string, string][] = [
    ['pid', String(sv.pid)],
    ['mode', sv.mode],
    ['listening on', sv.listen.join(', ') || '(no TCP address)'],
    ['up', duration(up)],
  ];
  if (sv.network) parts.push(['network', sv.network]);
  if (sv.imds) parts.push(['IMDS', 'on']);
  if (sv.endpoint)
    parts.push([
      'endpoint',
      `${sv.endpoint.container ?? '-'} ${sv.endpoint.connected ? 'connected' : 'NOT connected'}`,
    ]);
  parts.forEach(([k, v], i) => {
    if (i) box.append(' · ');
    box.append(`${k} `, el('b', v));
  });
}

function emptyRow(columns: number, text: string): HTMLElement {
  const tr = el('tr', undefined, 'empty');
  const td = el('td', text);
  td.setAttribute('colspan', String(columns));
  tr.append(td);
  return tr;
}

function leaseRow(l: LeaseStatus): HTMLElement {
  const tr = el('tr');
  tr.dataset.lease = l.id;
  tr.append(
    el('td', l.role, 'role'),
    el('td', l.profile ?? '–'),
    el('td', l.accessKeyId ?? '–', 'key'),
    timeCell(l.expiresAt, 'expires'),
    l.refreshing ? el('td', 'refreshing…') : timeCell(l.nextRefreshAt, 'next-refresh'),
    el('td', String(l.clients), 'num'),
    el('td', l.lastError ?? '', 'error'),
  );
  const td = el('td');
  td.append(
    actionButton('Refresh now', async () => {
      const r = (await post(`/api/leases/${l.id}/refresh`)) as { refreshed: boolean; lastError?: string };
      return r.refreshed ? `refreshed ${l.role}` : `refresh of ${l.role} failed: ${r.lastError ?? ''}`;
    }),
  );
  tr.append(td);
  return tr;
}

function clientRow(c: ClientStatus): HTMLElement {
  const tr = el('tr', undefined, c.state);
  tr.dataset.client = c.tag;
  tr.dataset.state = c.state;
  const name = c.container ? (c.container.name ?? c.container.id) : (c.label ?? c.kind);
  tr.append(
    el('td', name, 'name'),
    el('td', c.container?.image ?? '–', 'image'),
    el('td', c.address ?? '–', 'address'),
    el('td', c.role, 'role'),
    timeCell(c.expiresAt, 'expires'),
    timeCell(c.firstRequestAt, 'first'),
    timeCell(c.lastRequestAt, 'last'),
    el('td', String(c.requests), 'num requests'),
    el('td', String(c.refused), 'num refused'),
  );
  const reason = c.revokedReason && c.revokedReason !== 'revoked' ? ` (${c.revokedReason})` : '';
  const state = el('td', `${c.state}${c.state === 'revoked' ? reason : ''}`, 'state');
  state.classList.add(c.state);
  tr.append(state);
  const td = el('td');
  if (c.state !== 'revoked' && /^[0-9a-f]{12}$/.test(c.tag))
    td.append(
      actionButton(
        'Revoke',
        async () => {
          await post(`/api/clients/${c.tag}/revoke`);
          return `revoked ${name}`;
        },
        'danger revoke',
      ),
    );
  tr.append(td);
  return tr;
}

function render(): void {
  if (!snapshot) return;
  renderServer(snapshot);
  const leases = $('#leases tbody');
  leases.replaceChildren(
    ...(snapshot.leases.length ? snapshot.leases.map(leaseRow) : [emptyRow(8, 'no lease yet')]),
  );
  $('#lease-count').textContent = String(snapshot.leases.length);
  // live clients first, then the revoked ones
  const clients = [...snapshot.clients].sort(
    (a, b) => Number(a.state === 'revoked') - Number(b.state === 'revoked'),
  );
  $('#clients tbody').replaceChildren(
    ...(clients.length ? clients.map(clientRow) : [emptyRow(11, 'no client yet')]),
  );
  $('#client-count').textContent = String(snapshot.clients.length);
}

function renderSwarm(agent: SwarmAgentStatus | null): void {
  $('#swarm').hidden = agent === null;
  if (!agent) return;
  $('#swarm-agent').textContent =
    `keyless swarm agent: pid ${agent.pid}, listening on ${agent.listen}, up ${duration(Date.now() - Date.parse(agent.startedAt))}`;
  $('#swarm-count').textContent = String(agent.tasks.length);
  const rows = agent.tasks.map((t) => {
    const tr = el('tr');
    tr.dataset.task = t.task;
    tr.append(
      el('td', t.task.slice(0, 12), 'name'),
      el('td', t.service),
      el('td', t.address),
      el('td', t.role, 'role'),
      el('td', t.accessKeyId ?? '–', 'key'),
      timeCell(t.expiresAt, 'expires'),
      timeCell(t.firstRequestAt, 'first'),
      timeCell(t.lastRequestAt, 'last'),
      el('td', String(t.requests), 'num requests'),
      el('td', String(t.refused), 'num refused'),
    );
    return tr;
  });
  $('#tasks tbody').replaceChildren(...(rows.length ? rows : [emptyRow(10, 'no task has asked yet')]));
}

function renderAudit(): void {
  const filter = ($('#filter') as HTMLInputElement).value.trim().toLowerCase();
  const rows: HTMLElement[] = [];
  for (const a of audit) {
    const cells = [
      a.time,
      a.outcome,
      a.endpoint ?? '',
      a.client ?? '',
      a.container ?? '',
      a.source ?? '',
      a.role ?? '',
      a.key ?? '',
      String(a.count ?? 1),
    ];
    if (filter && !cells.join(' ').toLowerCase().includes(filter)) continue;
    const tr = el('tr');
    tr.dataset.outcome = a.outcome;
    for (const c of cells) tr.append(el('td', c));
    rows.push(tr);
    if (rows.length >= 200) break;
  }
  $('#audit tbody').replaceChildren(...(rows.length ? rows : [emptyRow(9, 'no matching line')]));
}

function wireStop(): void {
  const b = $('#stop') as HTMLButtonElement;
  let armed: number | undefined;
  b.addEventListener('click', () => {
    if (armed === undefined) {
      b.textContent = 'Click again to stop';
      armed = window.setTimeout(() => {
        armed = undefined;
        b.textContent = 'Stop server';
      }, 5000);
      return;
    }
    window.clearTimeout(armed);
    b.disabled = true;
    post('/api/server/stop').then(
      () => setMessage('stopping the server…'),
      (err: Error) => setMessage(`failed: ${err.message}`),
    );
  });
}

function connect(): void {
  const es = new EventSource('/api/events');
  es.addEventListener('open', () => setConnection('live', 'live'));
  es.addEventListener('error', () => {
    if (!stopped) setConnection('reconnecting…', 'down');
  });
  es.addEventListener('snapshot', (e) => {
    snapshot = JSON.parse((e as MessageEvent<string>).data) as StatusSnapshot;
    receivedAt = Date.now();
    render();
  });
  es.addEventListener('audit', (e) => {
    const records = JSON.parse((e as MessageEvent<string>).data) as AuditLineStatus[];
    audit.unshift(...records.reverse());
    audit.length = Math.min(audit.length, AUDIT_KEEP);
    renderAudit();
  });
  es.addEventListener('swarm', (e) => {
    renderSwarm(JSON.parse((e as MessageEvent<string>).data) as SwarmAgentStatus | null);
  });
  es.addEventListener('noserver', () => {
    $('#server').textContent = 'no keyless credential server runs for this KEYLESS_HOME';
  });
  es.addEventListener('stopping', () => {
    stopped = true;
    es.close();
    setConnection('server stopped', 'down');
    document.querySelectorAll('button').forEach((b) => (b.disabled = true));
  });
}

wireStop();
$('#filter').addEventListener('input', renderAudit);
// relative times move on by themselves: only the time cells change, no request is made for it
window.setInterval(() => {
  if (stopped || !snapshot) return;
  renderServer(snapshot);
  document.querySelectorAll<HTMLElement>('td[data-time]').forEach((td) => {
    td.textContent = when(td.dataset.time);
  });
}, 1000);
renderAudit();
connect();
