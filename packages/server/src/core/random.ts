import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
// Bytes are drawn from a pool refilled from the CSPRNG 4 KiB at a time, so ids on the hot path (audit events)
// cost no system call each.
const pool = Buffer.allocUnsafe(4096);
let poolOffset = pool.length;

function nextByte(): number {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  return pool[poolOffset++]!;
}

/** Uniformly random base62 string: rejection sampling keeps every character exactly 1/62 likely. */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    const byte = nextByte();
    if (byte < 248) out += ALPHABET[byte % 62];
  }
  return out;
}

export type IdPrefix = 'key' | 'evt' | 'req';

/** A type-prefixed identifier such as `key_3kTMd0aQ9vVb7x1FfPq2Zy` (22 base62 chars, about 131 bits). */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomBase62(22)}`;
}
