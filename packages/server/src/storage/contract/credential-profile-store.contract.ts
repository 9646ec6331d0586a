import { describe, expect, it } from 'vitest';
import type { CredentialProfileRecord } from '../stores.js';
import { useFreshStores, type OpenStores } from './fresh-stores.js';

const T0 = Date.UTC(2026, 0, 1);

const profile = (overrides: Partial<CredentialProfileRecord> = {}): CredentialProfileRecord => ({
  credentialId: 'key_a',
  firstSeenAt: T0,
  baselinePerMinute: 12.5,
  updatedAt: T0 + 1,
  networks: ['203.0.113.0/24'],
  ...overrides,
});

export function credentialProfileStoreContract(name: string, open: OpenStores): void {
  describe(`CredentialProfileStore contract (${name})`, () => {
    const stores = useFreshStores(open);
    const profiles = () => stores().credentialProfiles;

    it('saves and loads profiles with their networks', async () => {
      expect(await profiles().loadAll()).toEqual([]);
      await profiles().save([profile(), profile({ credentialId: 'cli_b', networks: ['2001:db8:1::/48', '198.51.100.0/24'], baselinePerMinute: 0 })]);
      const loaded = await profiles().loadAll();
      expect(loaded.sort((a, b) => a.credentialId.localeCompare(b.credentialId))).toStrictEqual([
        profile({ credentialId: 'cli_b', networks: ['2001:db8:1::/48', '198.51.100.0/24'], baselinePerMinute: 0 }),
        profile(),
      ]);
      expect(await profiles().hasNetwork('key_a', '203.0.113.0/24')).toBe(true);
      expect(await profiles().hasNetwork('key_a', '198.51.100.0/24')).toBe(false);
      expect(await profiles().hasNetwork('key_x', '203.0.113.0/24')).toBe(false);
    });

    it('replaces the baseline, keeps the first-seen time, and adds networks without losing any', async () => {
      await profiles().save([profile()]);
      // Another process that learned the same key separately.
      await profiles().save([profile({ firstSeenAt: T0 + 500, baselinePerMinute: 3, updatedAt: T0 + 600, networks: ['198.51.100.0/24'] })]);
      await profiles().save([profile({ firstSeenAt: T0 + 700, baselinePerMinute: 4, updatedAt: T0 + 800, networks: ['203.0.113.0/24'] })]);
      const [loaded] = await profiles().loadAll();
      expect(loaded).toMatchObject({ credentialId: 'key_a', firstSeenAt: T0, baselinePerMinute: 4, updatedAt: T0 + 800 });
      expect(loaded!.networks.sort()).toEqual(['198.51.100.0/24', '203.0.113.0/24']);
    });

    it('saves large batches (more rows than one statement takes)', async () => {
      const many = Array.from({ length: 1_100 }, (_, i) => profile({ credentialId: `key_${i}`, networks: [`10.${i >> 8}.${i & 255}.0/24`, '203.0.113.0/24'] }));
      await profiles().save(many);
      const loaded = await profiles().loadAll();
      expect(loaded).toHaveLength(1_100);
      expect(loaded.every((p) => p.networks.length === 2)).toBe(true);
    });
  });
}
