// Whose key it is, offline and without using it: access key ids issued since about 2019 carry the
// account number. After the 4-letter prefix, the first 10 base32 characters (50 bits) hold 48 bits
// whose bits 7-46 are the account id (bit 47 set marks the format; the low 7 bits are not the
// account). Older ids (fifth character A-P, e.g. AKIAI…, AKIAJ…, the documentation's
// AKIAIOSFODNN7EXAMPLE) predate it: no account can be read from them, and none is claimed.
// Reference: Aidan Steele, "AWS Access Key ID formats" (2020); checked here against the example id
// published there (not committed: AWS-shaped ids are generated at test time).
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const PREFIXES = new Set(['AKIA', 'ASIA', 'ABIA', 'ACCA', 'AIDA', 'AROA', 'AGPA', 'ANPA', 'ANVA', 'APKA']);

/** The 12-digit account id encoded in a key id, or undefined for formats that do not carry one. */
export function accountOfKeyId(id: string): string | undefined {
  if (id.length !== 20 || !PREFIXES.has(id.slice(0, 4))) return undefined;
  let v = 0n;
  for (let i = 4; i < 14; i++) {
    const d = BASE32.indexOf(id[i] as string);
    if (d < 0) return undefined;
    v = (v << 5n) | BigInt(d);
  }
  v >>= 2n; // 50 bits → the top 48
  if ((v & (1n << 47n)) === 0n) return undefined; // fifth character A-P: the older format
  const account = (v & 0x7fffffffff80n) >> 7n;
  if (account >= 1_000_000_000_000n) return undefined;
  return account.toString().padStart(12, '0');
}

/** A key id of the newer format for an account (tests and fixtures; the tail is random). */
export function keyIdForAccount(
  account: string,
  prefix = 'AKIA',
  random: () => number = Math.random,
): string {
  let v = (1n << 47n) | (BigInt(account) << 7n) | BigInt(Math.floor(random() * 128));
  v <<= 2n;
  v |= BigInt(Math.floor(random() * 4));
  let s = '';
  for (let i = 9; i >= 0; i--) s += BASE32[Number((v >> BigInt(i * 5)) & 31n)];
  while (s.length < 16) s += BASE32[Math.floor(random() * 32)];
  return `${prefix}${s}`;
}
