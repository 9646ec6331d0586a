import { hash } from 'node:crypto';

/**
 * Keys are 256-bit random values, so one SHA-256 is the right storage hash: there is nothing for a slow
 * password hash to protect against, and verification stays on the hot path's budget.
 */
export function hashApiKey(key: string): string {
  // One-shot crypto.hash: about 2.5x faster than createHash().update().digest() for inputs this small.
  return hash('sha256', key, 'hex');
}
