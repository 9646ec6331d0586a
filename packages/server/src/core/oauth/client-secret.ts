import { hash, timingSafeEqual } from 'node:crypto';
import { randomBase62 } from '../random.js';

/** `cs_` + 43 base62 characters: 256 bits from the CSPRNG. */
export const CLIENT_SECRET_PREFIX = 'cs_';
const RANDOM_LENGTH = 43;
const DISPLAY_LENGTH = 6;

export function generateClientSecret(): { secret: string; displayPrefix: string } {
  const secret = CLIENT_SECRET_PREFIX + randomBase62(RANDOM_LENGTH);
  return { secret, displayPrefix: secret.slice(0, CLIENT_SECRET_PREFIX.length + DISPLAY_LENGTH) };
}

/** Client secrets are 256-bit random values: one SHA-256 (hex) is the right storage hash. */
export function hashClientSecret(secret: string): string {
  return hash('sha256', secret, 'hex');
}

/** Timing-safe comparison of two SHA-256 hex digests. */
export function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}
