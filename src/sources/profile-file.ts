// Parses ~/.aws/config and ~/.aws/credentials text into profiles (pure). Rules as in the AWS CLI:
// in the config file sections are `[default]`, `[profile NAME]` and `[sso-session NAME]`; in the
// credentials file they are bare `[NAME]`; keys are case-insensitive; `#` and `;` start comments;
// indented lines continue a nested block (kept as raw text, unused here).

export type ProfileSettings = Readonly<Record<string, string>>;

export interface ProfileFiles {
  /** profile name → settings from the config file */
  config: Map<string, ProfileSettings>;
  /** sso-session name → settings */
  ssoSessions: Map<string, ProfileSettings>;
  /** profile name → settings from the credentials file */
  credentials: Map<string, ProfileSettings>;
  /** where they were read from (AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE), for messages */
  paths?: { config: string; credentials: string };
}

interface Section {
  name: string;
  settings: Record<string, string>;
}

/** A line the AWS CLI would refuse too (configparser): 1-based line number and what is wrong. */
export interface IniProblem {
  line: number;
  problem: string;
}

/** Cuts an echoed value to a readable length. */
export function clip(value: string, max = 80): string {
  const printable = value.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > max ? `${printable.slice(0, max)}… (${value.length} characters)` : printable;
}

export function findIniProblems(text: string): IniProblem[] {
  const problems: IniProblem[] = [];
  let inSection = false;
  let continued = false;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length && problems.length < 5; i++) {
    const rawLine = lines[i] as string;
    if (/^\s*[#;]/.test(rawLine) || rawLine.trim() === '') continue;
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x08\x0e-\x1f\ufffd]/.test(rawLine)) {
      problems.push({
        line: i + 1,
        problem: 'binary or non-UTF-8 bytes: is this really an AWS config file?',
      });
      continue;
    }
    if (/^\s*\[/.test(rawLine)) {
      if (!/^\s*\[([^\]]+)\]\s*(?:[#;].*)?$/.test(rawLine))
        problems.push({
          line: i + 1,
          problem: `a section header without its closing "]": ${clip(rawLine.trim())}`,
        });
      inSection = true;
      continued = false;
      continue;
    }
    if (/^\s/.test(rawLine) && continued) continue;
    if (!inSection) {
      problems.push({ line: i + 1, problem: `a setting before any [section]: ${clip(rawLine.trim())}` });
      continue;
    }
    if (rawLine.indexOf('=') < 0) {
      problems.push({
        line: i + 1,
        problem: `a line without "=" (write key = value): ${clip(rawLine.trim())}`,
      });
      continue;
    }
    continued = true;
  }
  return problems;
}

function parseIni(text: string): Section[] {
  const sections: Section[] = [];
  let current: Section | undefined;
  let lastKey: string | undefined;
  for (const rawLine of text.split(/\r?\n/)) {
    if (/^\s*[#;]/.test(rawLine) || rawLine.trim() === '') continue;
    const header = /^\s*\[([^\]]+)\]\s*(?:[#;].*)?$/.exec(rawLine);
    if (header) {
      current = { name: (header[1] as string).trim(), settings: {} };
      sections.push(current);
      lastKey = undefined;
      continue;
    }
    if (!current) continue;
    if (/^\s/.test(rawLine) && lastKey !== undefined) {
      current.settings[lastKey] = `${current.settings[lastKey] ?? ''}\n${rawLine.trim()}`;
      continue;
    }
    const eq = rawLine.indexOf('=');
    if (eq < 0) continue;
    const key = rawLine.slice(0, eq).trim().toLowerCase();
    let value = rawLine.slice(eq + 1).trim();
    // inline comments need whitespace before # or ; (as botocore)
    value = value.replace(/\s+[#;].*$/, '');
    current.settings[key] = value;
    lastKey = key;
  }
  return sections;
}

export function parseConfigFile(text: string): Pick<ProfileFiles, 'config' | 'ssoSessions'> {
  const config = new Map<string, ProfileSettings>();
  const ssoSessions = new Map<string, ProfileSettings>();
  for (const s of parseIni(text)) {
    if (s.name === 'default') config.set('default', { ...(config.get('default') ?? {}), ...s.settings });
    else if (s.name.startsWith('profile ')) {
      const name = s.name.slice('profile '.length).trim();
      config.set(name, { ...(config.get(name) ?? {}), ...s.settings });
    } else if (s.name.startsWith('sso-session '))
      ssoSessions.set(s.name.slice('sso-session '.length).trim(), s.settings);
  }
  return { config, ssoSessions };
}

export function parseCredentialsFile(text: string): Map<string, ProfileSettings> {
  const out = new Map<string, ProfileSettings>();
  for (const s of parseIni(text)) out.set(s.name, { ...(out.get(s.name) ?? {}), ...s.settings });
  return out;
}

export function parseProfileFiles(configText: string, credentialsText: string): ProfileFiles {
  return { ...parseConfigFile(configText), credentials: parseCredentialsFile(credentialsText) };
}
