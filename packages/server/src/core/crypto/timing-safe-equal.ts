import { createHash, timingSafeEqual as nodeTimingSafeEqual } from 'node:crypto';

/**
 * Compares two secrets in time that depends on neither content nor length: both sides are hashed to a fixed
 * length first, so not even the length of the expected value leaks.
 */
export function timingSafeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return nodeTimingSafeEqual(ha, hb);
}
