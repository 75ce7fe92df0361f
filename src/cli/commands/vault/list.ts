// keyless list [--json] [--backend file|keychain]
import { loadEnv } from '../../../config/env.js';
import { openStore } from '../../../store/index.js';
import { redactAccessKeyId } from '../../../util/redact.js';
import type { ExitCode } from '../../action.js';
import { output } from '../../output.js';

export async function runList(opts: { json?: boolean; backend?: string }): Promise<ExitCode> {
  const env = loadEnv();
  const store = await openStore(env, opts.backend !== undefined ? { backend: opts.backend } : {});
  const { records, problems } = await store.listRecords();
  const rows = records.map((r) => ({
    profile: r.profile,
    accessKeyId: redactAccessKeyId(r.key.accessKeyId),
    addedAt: r.addedAt,
    backend: store.backend,
    ...(r.rotation !== undefined ? { rotation: r.rotation.stage } : {}),
  }));
  if (opts.json === true) output.json(rows);
  else if (rows.length === 0)
    output.info(`no profiles in ${store.location}; add one with \`keyless add PROFILE\``);
  else output.data(renderTable(rows));
  // Damaged items are reported after the readable ones are shown: the rest of the vault stays usable.
  for (const p of problems) output.info(`keyless: [${p.code}] ${p.message}`);
  return problems.length > 0 ? 2 : 0;
}

function renderTable(
  rows: { profile: string; accessKeyId: string; addedAt: string; backend: string; rotation?: string }[],
): string {
  const table = [
    ['PROFILE', 'ACCESS KEY', 'ADDED', 'BACKEND'],
    ...rows.map((r) => [
      r.profile,
      r.accessKeyId,
      r.addedAt.replace(/\.\d{3}Z$/, 'Z'),
      r.backend +
        (r.rotation !== undefined ? ` (rotation ${r.rotation}: run keyless rotate ${r.profile})` : ''),
    ]),
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...table.map((row) => (row[i] ?? '').length)));
  return table.map((row) => row.map((c, i) => (i < 3 ? c.padEnd(widths[i] ?? 0) : c)).join('  ')).join('\n');
}
