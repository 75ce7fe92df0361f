// Audit log: JSON lines under $KEYLESS_HOME (time, client, source address, container, role, outcome).
// Never a secret: clients appear by a short hash of their id, credentials by a redacted key id.
import { appendFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ensurePrivateDir } from '../util/atomic-file.js';

export interface AuditEntry {
  client?: string;
  source: string;
  container?: string;
  role?: string;
  endpoint: 'ecs' | 'imds';
  outcome: string;
  key?: string;
}

export type AuditLog = (entry: AuditEntry) => void;

export function fileAuditLog(path: string): AuditLog {
  let ready: Promise<void> | undefined;
  let queue = Promise.resolve();
  return (entry) => {
    ready ??= ensurePrivateDir(dirname(path));
    const line = `${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`;
    queue = queue
      .then(() => ready)
      .then(() => appendFile(path, line, { mode: 0o600 }))
      .catch(() => undefined);
  };
}
