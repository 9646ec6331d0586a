import { describe, expect, it } from 'vitest';
import { useFreshStores, type OpenStores } from './fresh-stores.js';


export function metaStoreContract(name: string, open: OpenStores): void {
  describe(`MetaStore contract (${name})`, () => {
    const stores = useFreshStores(open);
    const meta = () => stores().meta;

    it('get returns undefined for a missing name', async () => {
      expect(await meta().get('master_key.check')).toBeUndefined();
      await meta().getOrInsert('other', 'x');
      expect(await meta().get('master_key.check')).toBeUndefined();
    });

    it('getOrInsert stores the first value and keeps it when called again with another', async () => {
      expect(await meta().getOrInsert('master_key.check', 'first')).toBe('first');
      expect(await meta().get('master_key.check')).toBe('first');

      expect(await meta().getOrInsert('master_key.check', 'second')).toBe('first');
      expect(await meta().get('master_key.check')).toBe('first');
    });

    it('keeps names apart', async () => {
      expect(await meta().getOrInsert('a', '1')).toBe('1');
      expect(await meta().getOrInsert('b', '2')).toBe('2');
      expect(await meta().get('a')).toBe('1');
      expect(await meta().get('b')).toBe('2');
      expect(await meta().get('A')).toBeUndefined();
    });

    it('stores values exactly, the empty string and long unicode values included', async () => {
      const long = `v1:${'ünïcode ✓ '.repeat(500)}`;
      expect(await meta().getOrInsert('empty', '')).toBe('');
      expect(await meta().get('empty')).toBe('');
      expect(await meta().getOrInsert('empty', 'not empty')).toBe('');
      expect(await meta().getOrInsert('long', long)).toBe(long);
      expect(await meta().get('long')).toBe(long);
    });

    it('concurrent getOrInsert calls with different values all agree on one of them', async () => {
      const values = Array.from({ length: 10 }, (_, i) => `value-${i}`);

      // Open as many pooled connections as the race will use, so that the racing calls start together.
      await Promise.all(values.map(() => meta().get('warm-up')));
      const results = await Promise.all(values.map((value) => meta().getOrInsert('race', value)));

      const winner = results[0]!;
      expect(values).toContain(winner);
      expect(results).toStrictEqual(values.map(() => winner));
      expect(await meta().get('race')).toBe(winner);
    });
  });
}
