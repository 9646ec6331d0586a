import { describe, expect, it } from 'vitest';
import { createAuditEvent } from '../../core/audit/audit-event.js';
import type { IpBlockRecord } from '../stores.js';
import { useFreshStores, type OpenStores } from './fresh-stores.js';

const T0 = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;

const block = (overrides: Partial<IpBlockRecord> = {}): IpBlockRecord => ({
  ip: '203.0.113.7',
  reason: 'brute_force',
  failures: 101,
  createdAt: T0,
  expiresAt: T0 + 15 * MINUTE,
  ...overrides,
});

export function ipBlockStoreContract(name: string, open: OpenStores): void {
  describe(`IpBlockStore contract (${name})`, () => {
    const stores = useFreshStores(open);
    const blocks = () => stores().ipBlocks;

    it('stores a block with its events, lists it while in force, and not after', async () => {
      const event = createAuditEvent(T0, { type: 'ip.blocked', outcome: 'success', ip: '203.0.113.7' });
      expect(await blocks().upsert(block(), [event])).toStrictEqual(block());
      await blocks().upsert(block({ ip: '2001:db8::1', failures: null, expiresAt: T0 + 5 * MINUTE }), []);
      expect(await blocks().listActive(T0)).toStrictEqual([block({ ip: '2001:db8::1', failures: null, expiresAt: T0 + 5 * MINUTE }), block()]);
      expect((await blocks().listActive(T0 + 5 * MINUTE)).map((b) => b.ip)).toEqual(['203.0.113.7']);
      expect(await blocks().listActive(T0 + 15 * MINUTE)).toEqual([]);
      expect((await stores().audit.list({ type: 'ip.blocked', limit: 10 })).map((e) => e.id)).toEqual([event.id]);
    });

    it('extends a block in force but never shortens it; replaces an ended one', async () => {
      await blocks().upsert(block(), []);
      const extended = await blocks().upsert(block({ createdAt: T0 + MINUTE, expiresAt: T0 + 30 * MINUTE, failures: 150 }), []);
      expect(extended).toStrictEqual(block({ expiresAt: T0 + 30 * MINUTE, failures: 150 }));
      const kept = await blocks().upsert(block({ createdAt: T0 + 2 * MINUTE, expiresAt: T0 + 3 * MINUTE }), []);
      expect(kept.expiresAt).toBe(T0 + 30 * MINUTE);
      const later = T0 + 60 * MINUTE;
      const replaced = await blocks().upsert(block({ createdAt: later, expiresAt: later + MINUTE, reason: 'manual' }), []);
      expect(replaced).toStrictEqual(block({ createdAt: later, expiresAt: later + MINUTE, reason: 'manual' }));
    });

    it('remove ends a block in force and writes its events only then', async () => {
      await blocks().upsert(block(), []);
      const event = createAuditEvent(T0, { type: 'ip.unblocked', outcome: 'success', ip: '203.0.113.7' });
      expect(await blocks().remove('203.0.113.7', T0 + MINUTE, [event])).toStrictEqual(block());
      expect(await blocks().listActive(T0 + MINUTE)).toEqual([]);
      expect(await blocks().remove('203.0.113.7', T0 + MINUTE, [createAuditEvent(T0, { type: 'ip.unblocked', outcome: 'success' })])).toBeUndefined();
      await blocks().upsert(block({ ip: '198.51.100.1' }), []);
      expect(await blocks().remove('198.51.100.1', T0 + 15 * MINUTE, [createAuditEvent(T0, { type: 'ip.unblocked', outcome: 'success' })])).toBeUndefined();
      expect((await stores().audit.list({ type: 'ip.unblocked', limit: 10 })).map((e) => e.id)).toEqual([event.id]);
    });

    it('concurrent upserts of one address leave one block, ending at the latest time asked', async () => {
      const ends = Array.from({ length: 8 }, (_, i) => T0 + (10 + i) * MINUTE);
      await Promise.all(ends.map((expiresAt) => blocks().upsert(block({ expiresAt }), [])));
      expect(await blocks().listActive(T0)).toStrictEqual([block({ expiresAt: T0 + 17 * MINUTE })]);
    });
  });
}
