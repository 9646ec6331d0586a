import { describe, expect, it } from 'vitest';
import { hashApiKey } from '../src/core/api-keys/hash-key.js';
import { generateApiKey, parseApiKey } from '../src/core/api-keys/key-format.js';
import { newId, newSortableId, randomBase62 } from '../src/core/random.js';

describe('key generation', () => {
  it('makes valid keys of both environments with 43 random base62 characters', () => {
    for (const environment of ['live', 'test'] as const) {
      const { key, displayPrefix } = generateApiKey(environment);
      expect(key).toMatch(new RegExp(`^sk_${environment}_[0-9A-Za-z]{49}$`));
      expect(parseApiKey(key)).toEqual({ ok: true, prefix: 'sk', environment, displayPrefix });
      expect(key.startsWith(displayPrefix)).toBe(true);
    }
  });

  it('makes keys under a deployment prefix, and refuses a malformed prefix', () => {
    const { key, displayPrefix } = generateApiKey('test', 'acme');
    expect(key).toMatch(/^acme_test_[0-9A-Za-z]{49}$/);
    expect(parseApiKey(key)).toEqual({ ok: true, prefix: 'acme', environment: 'test', displayPrefix });
    expect(displayPrefix).toMatch(/^acme_test_[0-9A-Za-z]{6}$/);
    for (const bad of ['', 'A', 'Acme', 'ac_me', 'live', 'test', 'x'.repeat(17)]) expect(() => generateApiKey('live', bad), bad).toThrow(TypeError);
  });

  it('draws characters uniformly (no modulo bias) and never repeats a key', () => {
    const counts = new Map<string, number>();
    const sample = randomBase62(62_000);
    for (const c of sample) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(62);
    // Each character is expected 1000 times; a biased generator (byte % 62) would give the first
    // 8 characters about 1,190 each. 6 standard deviations is about 190.
    for (const n of counts.values()) expect(Math.abs(n - 1000)).toBeLessThan(190);
    const keys = new Set(Array.from({ length: 5000 }, () => generateApiKey('live').key));
    expect(keys.size).toBe(5000);
  });

  it('hashes with SHA-256 hex', () => {
    expect(hashApiKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('ids carry their type prefix; sortable ids sort by time, then by creation order', () => {
    expect(newId('key')).toMatch(/^key_[0-9A-Za-z]{22}$/);
    const ids = [newSortableId('evt', 1000), newSortableId('evt', 1000), newSortableId('evt', 1000), newSortableId('evt', 1001)];
    expect([...ids].sort()).toEqual(ids);
    expect(newSortableId('evt', Date.UTC(2026, 0, 1)) < newSortableId('evt', Date.UTC(2026, 0, 1, 0, 0, 1))).toBe(true);
  });
});
