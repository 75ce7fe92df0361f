// Findings pipeline steps (pure): drop duplicates (one file reached twice: as a directory entry and as
// a compose env_file target) and sort most severe first, then by place.
import { severityRank, type Finding } from './types.js';

export function dedupeFindings(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const k = `${f.rule}\0${f.fingerprint}\0${f.location.path}\0${f.location.line ?? ''}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      severityRank(b.severity) - severityRank(a.severity) ||
      a.location.path.localeCompare(b.location.path) ||
      (a.location.line ?? 0) - (b.location.line ?? 0) ||
      a.rule.localeCompare(b.rule),
  );
}
