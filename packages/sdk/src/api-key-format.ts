import { crc32 } from './crc32.js';

/**
 * Gatehouse API key format, modelled on GitHub's token format:
 *
 *   <prefix>_<environment>_<43 base62 characters: 256 bits of randomness><6 base62 characters: CRC-32 checksum>
 *
 * The prefix is `sk` unless a deployment sets its own (GATEHOUSE_KEY_PREFIX, e.g. `acme_live_...`), so secret
 * scanners can tell its keys from Stripe's `sk_live_`. The typed prefix tells people and secret scanners what the
 * key is and where it works; the checksum (over prefix, environment and random part) lets anyone tell a real
 * Gatehouse key from random text offline, so typos and look-alikes are rejected before any database lookup.
 *
 * Every function here accepts a key of any well-formed prefix, not only `sk` or one configured value: the check
 * is an offline filter in front of the server's lookup (by hash), which alone decides whether a key exists. So a
 * deployment can change its prefix without reconfiguring the SDKs in front of it, and keys issued under an earlier
 * prefix keep working. The checksum covers the prefix, so accepting any prefix lets no extra random text through.
 */
export const BASE62_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const API_KEY_ENVIRONMENTS = ['live', 'test'] as const;
export type ApiKeyEnvironment = (typeof API_KEY_ENVIRONMENTS)[number];

/** The prefix of keys when a deployment sets none. */
export const DEFAULT_API_KEY_PREFIX = 'sk';
/** A prefix: a lowercase letter, then lowercase letters and digits, 2 to 16 characters in all (never `_`). */
const PREFIX_SOURCE = '[a-z][a-z0-9]{1,15}';
const PREFIX_PATTERN = new RegExp(`^${PREFIX_SOURCE}$`);
const PREFIX_MAX_LENGTH = 16;

/** 43 base62 characters carry 43 * log2(62) = 256.03 bits. */
export const API_KEY_RANDOM_LENGTH = 43;
/** 6 base62 characters hold any 32-bit value (62^6 > 2^32). */
export const API_KEY_CHECKSUM_LENGTH = 6;
/** How much of the random part the display prefix keeps: enough to recognise a key, far too little to use it. */
export const API_KEY_DISPLAY_RANDOM_LENGTH = 6;

const TAIL_LENGTH = API_KEY_RANDOM_LENGTH + API_KEY_CHECKSUM_LENGTH;
/** `_live_` and `_test_`: both environments have 4-letter names. */
const ENVIRONMENT_LENGTH = '_live_'.length;
/** The length of a key with the default prefix `sk` (57); a deployment's own prefix makes its keys longer. */
export const API_KEY_LENGTH = DEFAULT_API_KEY_PREFIX.length + ENVIRONMENT_LENGTH + TAIL_LENGTH;
/** The longest key of any prefix (71 characters). */
export const API_KEY_MAX_LENGTH = PREFIX_MAX_LENGTH + ENVIRONMENT_LENGTH + TAIL_LENGTH;

const KEY_PATTERN = new RegExp(`^(${PREFIX_SOURCE})_(live|test)_([0-9A-Za-z]{${TAIL_LENGTH}})$`);
/** A cheap test of the start of a credential: an API key rather than a JWT (whose first character is `e`, then `y`). */
export const API_KEY_START = new RegExp(`^${PREFIX_SOURCE}_(?:live|test)_`);

/**
 * Why `prefix` cannot be a key prefix, or undefined when it can: lowercase letters and digits, starting with a
 * letter, 2 to 16 characters, and not an environment name (`live_live_...` would read as a typo).
 */
export function apiKeyPrefixProblem(prefix: string): string | undefined {
  if (typeof prefix !== 'string' || !PREFIX_PATTERN.test(prefix)) {
    return 'a key prefix is 2 to 16 lowercase letters and digits, starting with a letter (e.g. sk or acme)';
  }
  if ((API_KEY_ENVIRONMENTS as readonly string[]).includes(prefix)) return `a key prefix cannot be "${prefix}", an environment name`;
  return undefined;
}

export function encodeChecksum(value: number): string {
  let out = '';
  let rest = value >>> 0;
  for (let i = 0; i < API_KEY_CHECKSUM_LENGTH; i++) {
    out = BASE62_ALPHABET[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  return out;
}

/** The checksum characters for `<prefix>_<env>_<random>`. */
export function apiKeyChecksum(prefixAndRandom: string): string {
  return encodeChecksum(crc32(prefixAndRandom));
}

export type ParsedApiKey =
  | { ok: true; prefix: string; environment: ApiKeyEnvironment; displayPrefix: string }
  | { ok: false };

/**
 * Recognises a Gatehouse API key (of any well-formed prefix) by shape and checksum, without any lookup. Bounded
 * work for any input length: anything longer than API_KEY_MAX_LENGTH is rejected before the pattern runs.
 */
export function parseApiKey(candidate: string): ParsedApiKey {
  if (typeof candidate !== 'string' || candidate.length > API_KEY_MAX_LENGTH) return { ok: false };
  const match = KEY_PATTERN.exec(candidate);
  if (!match) return { ok: false };
  const prefix = match[1]!;
  if (apiKeyPrefixProblem(prefix) !== undefined) return { ok: false };
  const body = candidate.slice(0, candidate.length - API_KEY_CHECKSUM_LENGTH);
  if (apiKeyChecksum(body) !== candidate.slice(-API_KEY_CHECKSUM_LENGTH)) return { ok: false };
  const randomStart = prefix.length + ENVIRONMENT_LENGTH;
  return {
    ok: true,
    prefix,
    environment: match[2] as ApiKeyEnvironment,
    displayPrefix: candidate.slice(0, randomStart + API_KEY_DISPLAY_RANDOM_LENGTH),
  };
}

/** True when the string is a well-formed Gatehouse API key (any prefix) with a valid checksum. */
export function isApiKey(candidate: string): boolean {
  return parseApiKey(candidate).ok;
}

const API_KEY_IN_TEXT = new RegExp(`(?<![0-9A-Za-z_])${PREFIX_SOURCE}_(?:live|test)_[0-9A-Za-z]{${TAIL_LENGTH}}(?![0-9A-Za-z])`, 'g');

/**
 * Every run of `text` shaped like a Gatehouse key of any prefix and not inside a longer word, with its index; the
 * checksum is not checked (parseApiKey does that).
 */
export function apiKeyShapesIn(text: string): IterableIterator<RegExpExecArray> {
  return text.matchAll(API_KEY_IN_TEXT);
}

/** Finds every checksum-valid Gatehouse key, of any prefix, in a text (for secret scanners). */
export function findApiKeys(text: string): string[] {
  const found: string[] = [];
  for (const match of apiKeyShapesIn(text)) {
    if (isApiKey(match[0])) found.push(match[0]);
  }
  return found;
}
