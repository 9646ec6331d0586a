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

export type IdPrefix = 'key' | 'evt' | 'req' | 'cli' | 'usr' | 'grt' | 'sig' | 'whe' | 'whd' | 'ca' | 'crt' | 'ses' | 'res' | 'rgt';

let sequence = 0;

/**
 * An id that sorts by creation: 9 base36 digits of the time in ms, 5 of a per-process sequence (so events of
 * one millisecond keep their order), then 10 random base62 characters. Only [0-9a-z] in the ordered part,
 * so any collation orders it like bytes.
 */
export function newSortableId(prefix: IdPrefix, nowMs: number): string {
  sequence = (sequence + 1) % 36 ** 5;
  return `${prefix}_${nowMs.toString(36).padStart(9, '0')}${sequence.toString(36).padStart(5, '0')}${randomBase62(10)}`;
}

/** A type-prefixed identifier such as `key_3kTMd0aQ9vVb7x1FfPq2Zy` (22 base62 chars, about 131 bits). */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomBase62(22)}`;
}
