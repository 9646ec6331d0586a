import { crc32 } from './crc32.js';

/**
 * Gatehouse API key format, modelled on GitHub's token format:
 *
 *   sk_<environment>_<43 base62 characters: 256 bits of randomness><6 base62 characters: CRC-32 checksum>
 *
 * The typed prefix tells people and secret scanners what the key is and where it works; the checksum (over
 * prefix and random part) lets anyone tell a real Gatehouse key from random text offline, so typos and
 * look-alikes are rejected before any database lookup.
 */
export const BASE62_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const API_KEY_ENVIRONMENTS = ['live', 'test'] as const;
export type ApiKeyEnvironment = (typeof API_KEY_ENVIRONMENTS)[number];

/** 43 base62 characters carry 43 * log2(62) = 256.03 bits. */
export const API_KEY_RANDOM_LENGTH = 43;
/** 6 base62 characters hold any 32-bit value (62^6 > 2^32). */
export const API_KEY_CHECKSUM_LENGTH = 6;
/** How much of the random part the display prefix keeps: enough to recognise a key, far too little to use it. */
export const API_KEY_DISPLAY_RANDOM_LENGTH = 6;

const PREFIX_LENGTH = 'sk_live_'.length; // both environments have 4-letter names
export const API_KEY_LENGTH = PREFIX_LENGTH + API_KEY_RANDOM_LENGTH + API_KEY_CHECKSUM_LENGTH;

const KEY_PATTERN = /^sk_(live|test)_([0-9A-Za-z]{49})$/;

export function encodeChecksum(value: number): string {
  let out = '';
  let rest = value >>> 0;
  for (let i = 0; i < API_KEY_CHECKSUM_LENGTH; i++) {
    out = BASE62_ALPHABET[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  return out;
}

/** The checksum characters for `sk_<env>_<random>`. */
export function apiKeyChecksum(prefixAndRandom: string): string {
  return encodeChecksum(crc32(prefixAndRandom));
}

export type ParsedApiKey =
  | { ok: true; environment: ApiKeyEnvironment; displayPrefix: string }
  | { ok: false };

/**
 * Recognises a Gatehouse API key by shape and checksum, without any lookup. Constant work for any input
 * length: anything that is not exactly API_KEY_LENGTH long is rejected before the pattern runs.
 */
export function parseApiKey(candidate: string): ParsedApiKey {
  if (typeof candidate !== 'string' || candidate.length !== API_KEY_LENGTH) return { ok: false };
  const match = KEY_PATTERN.exec(candidate);
  if (!match) return { ok: false };
  const body = candidate.slice(0, API_KEY_LENGTH - API_KEY_CHECKSUM_LENGTH);
  if (apiKeyChecksum(body) !== candidate.slice(-API_KEY_CHECKSUM_LENGTH)) return { ok: false };
  return {
    ok: true,
    environment: match[1] as ApiKeyEnvironment,
    displayPrefix: candidate.slice(0, PREFIX_LENGTH + API_KEY_DISPLAY_RANDOM_LENGTH),
  };
}

/** True when the string is a well-formed Gatehouse API key with a valid checksum. */
export function isApiKey(candidate: string): boolean {
  return parseApiKey(candidate).ok;
}

/** Finds every checksum-valid Gatehouse key in a text (for secret scanners). */
export function findApiKeys(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/(?<![0-9A-Za-z_])sk_(?:live|test)_[0-9A-Za-z]{49}(?![0-9A-Za-z])/g)) {
    if (isApiKey(match[0])) found.push(match[0]);
  }
  return found;
}
