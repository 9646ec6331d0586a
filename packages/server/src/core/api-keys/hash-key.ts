import { createHash } from 'node:crypto';

/**
 * Keys are 256-bit random values, so one SHA-256 is the right storage hash: there is nothing for a slow
 * password hash to protect against, and verification stays on the hot path's budget.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}
