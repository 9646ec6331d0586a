import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { createAuditEvent, type AuditEvent, type AuditEventType } from '../../core/audit/audit-event.js';
import { newId } from '../../core/random.js';
import type { ApiKeyListQuery, ApiKeyPatch, ApiKeyRecord } from '../stores.js';
import { useFreshStores, type OpenStores } from './fresh-stores.js';


const T0 = Date.UTC(2026, 0, 1);
const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const TIMESTAMP_FIELDS = ['createdAt', 'updatedAt', 'expiresAt', 'revokedAt', 'lastUsedAt'] as const;

/** A minimal active key; every test states what it needs on top. */
export function makeKey(overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return {
    id: newId('key'),
    hash: randomBytes(32).toString('hex'),
    displayPrefix: 'sk_test_Ab12Cd',
    environment: 'test',
    name: 'worker',
    scopes: [],
    tenantId: null,
    metadata: {},
    rateLimit: null,
    createdAt: T0,
    updatedAt: T0,
    expiresAt: null,
    revokedAt: null,
    lastUsedAt: null,
    rotatedFromId: null,
    rotatedToId: null,
    createdBy: null,
    anomalyAction: 'notify',
    ...overrides,
  };
}

/** A key with every optional field set to a non-default value. */
function makeFullKey(overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return makeKey({
    displayPrefix: 'sk_live_Zq9xY1',
    environment: 'live',
    name: 'billing worker — Zürich ✓',
    scopes: ['invoices:read', 'invoices:write', 'admin'],
    tenantId: 'tenant_acme',
    metadata: { team: 'billing', tier: 2, beta: true, ratio: 0.25, none: null, nested: { list: [1, 'two', { three: 3 }] } },
    rateLimit: { limit: 100, windowSeconds: 60 },
    createdAt: T0 + 1,
    updatedAt: T0 + 2,
    expiresAt: T0 + 30 * DAY,
    revokedAt: T0 + 3,
    lastUsedAt: T0 + 4,
    rotatedFromId: newId('key'),
    rotatedToId: newId('key'),
    createdBy: newId('key'),
    anomalyAction: 'revoke',
    ...overrides,
  });
}

function keyEvent(type: AuditEventType, key: ApiKeyRecord, at: number, details: Record<string, unknown> | null = null): AuditEvent {
  return createAuditEvent(at, {
    type,
    outcome: 'success',
    keyId: key.id,
    keyPrefix: key.displayPrefix,
    tenantId: key.tenantId,
    actorKeyId: 'key_actor',
    details,
  });
}

function expectNumericTimestamps(key: ApiKeyRecord | undefined): void {
  expect(key).toBeDefined();
  for (const field of TIMESTAMP_FIELDS) {
    const value = key![field];
    if (value !== null) expect(typeof value, field).toBe('number');
  }
}

export function apiKeyStoreContract(name: string, open: OpenStores): void {
  describe(`ApiKeyStore contract (${name})`, () => {
    const stores = useFreshStores(open);
    const keys = () => stores().apiKeys;
    /** Every audit event about one key, newest first. */
    const eventsOf = (keyId: string) => stores().audit.list({ keyId, limit: 1_000 });
    /**
     * Opens as many pooled connections as a race will use, by reading concurrently, so that the racing calls
     * below start together instead of the first one finishing while the others are still connecting.
     */
    const warmUp = async () => {
      await Promise.all(Array.from({ length: 10 }, () => keys().findById('key_warm_up')));
    };
    /** Ids of every key in the store, newest first. */
    const allKeyIds = async (query: Partial<ApiKeyListQuery> = {}) =>
      (await keys().list({ now: T0, limit: 1_000, ...query })).map((k) => k.id);

    describe('insert, findById, findByHash', () => {
      it('round-trips every field of a fully populated key exactly', async () => {
        const key = makeFullKey();
        await keys().insert(key, []);

        const byId = await keys().findById(key.id);
        const byHash = await keys().findByHash(key.hash);
        expect(byId).toStrictEqual(key);
        expect(byHash).toStrictEqual(key);
        expectNumericTimestamps(byId);
        expectNumericTimestamps(byHash);
        expect(typeof byId!.rateLimit!.limit).toBe('number');
        expect(typeof byId!.rateLimit!.windowSeconds).toBe('number');
      });

      it('round-trips a minimal key: nulls, empty scopes and metadata, no rate limit', async () => {
        const key = makeKey();
        await keys().insert(key, []);

        const byId = await keys().findById(key.id);
        expect(byId).toStrictEqual(key);
        expect(await keys().findByHash(key.hash)).toStrictEqual(key);
        expect(byId!.rateLimit).toBeNull();
        expect(byId!.tenantId).toBeNull();
        expect(byId!.expiresAt).toBeNull();
        expectNumericTimestamps(byId);
      });

      it('keeps timestamps beyond 32 bits and distinct keys apart', async () => {
        // 2^53 - 1 is the largest exact integer; far beyond int32, so a 32-bit column or a lossy parse would show.
        const far = makeKey({ createdAt: Number.MAX_SAFE_INTEGER, updatedAt: T0, expiresAt: Number.MAX_SAFE_INTEGER - 1 });
        const other = makeKey({ name: 'other', tenantId: 't-other' });
        await keys().insert(far, []);
        await keys().insert(other, []);

        expect(await keys().findById(far.id)).toStrictEqual(far);
        expect(await keys().findByHash(other.hash)).toStrictEqual(other);
        expectNumericTimestamps(await keys().findById(far.id));
      });

      it('returns undefined for an unknown id or hash', async () => {
        const key = makeKey();
        await keys().insert(key, []);
        expect(await keys().findById(newId('key'))).toBeUndefined();
        expect(await keys().findByHash(randomBytes(32).toString('hex'))).toBeUndefined();
        // Lookups are exact: an id is not a hash and vice versa.
        expect(await keys().findByHash(key.id)).toBeUndefined();
        expect(await keys().findById(key.hash)).toBeUndefined();
      });

      it('writes the given audit events with the key, visible through AuditStore.list', async () => {
        const key = makeFullKey({ revokedAt: null });
        const created = keyEvent('key.created', key, T0 + 10, { scopes: key.scopes, via: 'contract' });
        const second = keyEvent('key.updated', key, T0 + 20);
        await keys().insert(key, [created, second]);

        expect(await eventsOf(key.id)).toStrictEqual([second, created]);
      });

      it('writes no audit event when given none', async () => {
        const key = makeKey();
        await keys().insert(key, []);
        expect(await stores().audit.list({ limit: 100 })).toStrictEqual([]);
      });

      it('rejects a duplicate hash and leaves neither the key nor its audit events behind', async () => {
        const first = makeKey({ name: 'first' });
        const firstEvent = keyEvent('key.created', first, T0);
        await keys().insert(first, [firstEvent]);

        const clash = makeKey({ name: 'clash', hash: first.hash });
        const clashEvent = keyEvent('key.created', clash, T0 + 1);
        await expect(keys().insert(clash, [clashEvent])).rejects.toThrow();

        expect(await keys().findById(clash.id)).toBeUndefined();
        expect(await keys().findByHash(first.hash)).toStrictEqual(first);
        expect(await eventsOf(clash.id)).toStrictEqual([]);
        expect(await stores().audit.list({ limit: 100 })).toStrictEqual([firstEvent]);
      });

      it('rejects a duplicate id and leaves neither the key nor its audit events behind', async () => {
        const first = makeKey({ name: 'first' });
        await keys().insert(first, []);

        const clash = makeKey({ id: first.id, name: 'clash' });
        await expect(keys().insert(clash, [keyEvent('key.created', clash, T0)])).rejects.toThrow();

        expect(await keys().findById(first.id)).toStrictEqual(first);
        expect(await keys().findByHash(clash.hash)).toBeUndefined();
        expect(await stores().audit.list({ limit: 100 })).toStrictEqual([]);
      });
    });

    describe('insertBootstrapKey', () => {
      it('inserts the first key with its events, then refuses every later one', async () => {
        const root = makeFullKey({ revokedAt: null, rotatedFromId: null, rotatedToId: null, createdBy: null, scopes: ['admin'] });
        const rootEvent = keyEvent('system.bootstrap', root, T0);
        expect(await keys().insertBootstrapKey(root, [rootEvent])).toBe(true);
        expect(await keys().findById(root.id)).toStrictEqual(root);
        expect(await eventsOf(root.id)).toStrictEqual([rootEvent]);

        const again = makeKey({ scopes: ['admin'] });
        const againEvent = keyEvent('system.bootstrap', again, T0 + 1);
        expect(await keys().insertBootstrapKey(again, [againEvent])).toBe(false);
        expect(await keys().findById(again.id)).toBeUndefined();
        expect(await keys().findByHash(again.hash)).toBeUndefined();
        expect(await allKeyIds()).toStrictEqual([root.id]);
        expect(await stores().audit.list({ limit: 100 })).toStrictEqual([rootEvent]);
      });

      it('stays refused even after the bootstrapped key is revoked', async () => {
        const root = makeKey({ scopes: ['admin'] });
        expect(await keys().insertBootstrapKey(root, [])).toBe(true);
        expect((await keys().revoke(root.id, T0 + 1, []))?.changed).toBe(true);

        const again = makeKey({ scopes: ['admin'] });
        expect(await keys().insertBootstrapKey(again, [])).toBe(false);
        expect(await keys().findById(again.id)).toBeUndefined();
      });

      it('of 10 concurrent calls exactly one inserts, leaving exactly one key and one event', async () => {
        const candidates = Array.from({ length: 10 }, (_, i) => makeKey({ name: `root ${i}`, scopes: ['admin'] }));
        const events = candidates.map((key, i) => keyEvent('system.bootstrap', key, T0 + i));

        await warmUp();
        const results = await Promise.all(candidates.map((key, i) => keys().insertBootstrapKey(key, [events[i]!])));

        expect(results.filter((r) => r === true)).toHaveLength(1);
        expect(results.filter((r) => r === false)).toHaveLength(9);
        const winner = results.indexOf(true);
        expect(await allKeyIds()).toStrictEqual([candidates[winner]!.id]);
        expect(await keys().findById(candidates[winner]!.id)).toStrictEqual(candidates[winner]);
        expect(await stores().audit.list({ limit: 100 })).toStrictEqual([events[winner]]);
      });
    });

    describe('list', () => {
      it('returns keys newest first, whatever the insertion order', async () => {
        const byAge = [5, 1, 4, 2, 3].map((n) => makeKey({ name: `k${n}`, createdAt: T0 + n * MINUTE, updatedAt: T0 + n * MINUTE }));
        for (const key of byAge) await keys().insert(key, []);

        const listed = await keys().list({ now: T0, limit: 100 });
        expect(listed.map((k) => k.name)).toStrictEqual(['k5', 'k4', 'k3', 'k2', 'k1']);
        // Listed records are whole records, just like findById.
        for (const record of listed) expect(record).toStrictEqual(byAge.find((k) => k.id === record.id));
        expectNumericTimestamps(listed[0]);
      });

      it('honours limit', async () => {
        for (let i = 0; i < 5; i++) await keys().insert(makeKey({ createdAt: T0 + i }), []);
        expect(await keys().list({ now: T0, limit: 2 })).toHaveLength(2);
        expect(await keys().list({ now: T0, limit: 5 })).toHaveLength(5);
        expect(await keys().list({ now: T0, limit: 50 })).toHaveLength(5);
      });

      it('pages with a cursor without gaps or duplicates, breaking createdAt ties by id (descending)', async () => {
        // Ids made of one case of letters and digits sort the same under every collation, so the expected order
        // is the same on every backend. Groups of equal createdAt are larger than the page sizes below, so page
        // boundaries fall inside ties.
        const spec: Array<[id: string, at: number]> = [
          ['key_tie_c', T0 + 2 * MINUTE],
          ['key_tie_a', T0 + MINUTE],
          ['key_tie_f', T0 + MINUTE],
          ['key_solo_z', T0 + 3 * MINUTE],
          ['key_tie_b', T0 + MINUTE],
          ['key_tie_e', T0 + 2 * MINUTE],
          ['key_tie_d', T0 + MINUTE],
          ['key_tie_g', T0 + 2 * MINUTE],
          ['key_tie_h', T0 + MINUTE],
          ['key_solo_y', T0],
          ['key_tie_i', T0 + 2 * MINUTE],
        ];
        for (const [id, at] of spec) await keys().insert(makeKey({ id, createdAt: at, updatedAt: at }), []);
        const expected = [
          'key_solo_z',
          'key_tie_i',
          'key_tie_g',
          'key_tie_e',
          'key_tie_c',
          'key_tie_h',
          'key_tie_f',
          'key_tie_d',
          'key_tie_b',
          'key_tie_a',
          'key_solo_y',
        ];
        expect(await allKeyIds()).toStrictEqual(expected);

        for (const limit of [1, 2, 3, 4, 5, 11, 12]) {
          const seen: string[] = [];
          let after: ApiKeyListQuery['after'];
          for (let pages = 0; ; pages++) {
            expect(pages, `limit ${limit}: too many pages`).toBeLessThanOrEqual(expected.length);
            const page = await keys().list({ now: T0, limit, ...(after ? { after } : {}) });
            expect(page.length).toBeLessThanOrEqual(limit);
            seen.push(...page.map((k) => k.id));
            if (page.length < limit) break;
            const last = page[page.length - 1]!;
            after = { at: last.createdAt, id: last.id };
          }
          expect(seen, `limit ${limit}`).toStrictEqual(expected);
        }
      });

      it('pages through ties of randomly generated ids, each key exactly once', async () => {
        const inserted: string[] = [];
        for (let i = 0; i < 9; i++) {
          const key = makeKey({ createdAt: i < 7 ? T0 : T0 - i });
          inserted.push(key.id);
          await keys().insert(key, []);
        }
        const full = await allKeyIds();
        const seen: string[] = [];
        let after: ApiKeyListQuery['after'];
        for (let pages = 0; pages < 20; pages++) {
          const page = await keys().list({ now: T0, limit: 2, ...(after ? { after } : {}) });
          seen.push(...page.map((k) => k.id));
          if (page.length < 2) break;
          const last = page[page.length - 1]!;
          after = { at: last.createdAt, id: last.id };
        }
        expect(seen).toStrictEqual(full);
        expect([...seen].sort()).toStrictEqual([...inserted].sort());
      });

      it('starts strictly after the cursor', async () => {
        const a = makeKey({ id: 'key_cursor_a', createdAt: T0 });
        const b = makeKey({ id: 'key_cursor_b', createdAt: T0 });
        const c = makeKey({ id: 'key_cursor_c', createdAt: T0 + 1 });
        for (const key of [a, b, c]) await keys().insert(key, []);

        expect(await allKeyIds({ after: { at: T0 + 1, id: c.id } })).toStrictEqual([b.id, a.id]);
        expect(await allKeyIds({ after: { at: T0, id: b.id } })).toStrictEqual([a.id]);
        expect(await allKeyIds({ after: { at: T0, id: a.id } })).toStrictEqual([]);
        // A cursor need not name an existing key.
        expect(await allKeyIds({ after: { at: T0 + 2, id: 'key_zzz' } })).toStrictEqual([c.id, b.id, a.id]);
        expect(await allKeyIds({ after: { at: T0, id: 'key_cursor_az' } })).toStrictEqual([a.id]);
      });

      describe('filters', () => {
        const now = T0 + DAY;
        // Ordered newest first by construction, so expected lists below are in list order.
        const activeNoExpiry = makeKey({ name: 'activeNoExpiry', tenantId: 't1', environment: 'live', createdAt: T0 + 9 });
        const activeUntilLater = makeKey({ name: 'activeUntilLater', tenantId: 't1', environment: 'test', expiresAt: now + 1, createdAt: T0 + 8 });
        const expiredAtNow = makeKey({ name: 'expiredAtNow', tenantId: 't2', environment: 'live', expiresAt: now, createdAt: T0 + 7 });
        const expiredBefore = makeKey({ name: 'expiredBefore', tenantId: 't2', environment: 'test', expiresAt: now - 1, createdAt: T0 + 6 });
        const revokedAndExpired = makeKey({
          name: 'revokedAndExpired',
          tenantId: null,
          environment: 'live',
          expiresAt: now - HOUR,
          revokedAt: T0 + HOUR,
          createdAt: T0 + 5,
        });
        const revokedLater = makeKey({ name: 'revokedLater', tenantId: 't1', environment: 'test', revokedAt: now + HOUR, createdAt: T0 + 4 });
        const all = [activeNoExpiry, activeUntilLater, expiredAtNow, expiredBefore, revokedAndExpired, revokedLater];

        beforeEach(async () => {
          // Inserted oldest first, so insertion order is the reverse of list order.
          for (const key of [...all].reverse()) await keys().insert(key, []);
        });

        const names = async (query: Partial<ApiKeyListQuery>) =>
          (await keys().list({ now, limit: 100, ...query })).map((k) => k.name);

        it('by status, relative to now: expiry at exactly now counts as expired, revocation beats expiry', async () => {
          expect(await names({})).toStrictEqual(all.map((k) => k.name));
          expect(await names({ status: 'active' })).toStrictEqual(['activeNoExpiry', 'activeUntilLater']);
          expect(await names({ status: 'expired' })).toStrictEqual(['expiredAtNow', 'expiredBefore']);
          // A revocation time is a fact, not a schedule: revokedAt set means revoked, at any `now`.
          expect(await names({ status: 'revoked' })).toStrictEqual(['revokedAndExpired', 'revokedLater']);
        });

        it('by status at a different now', async () => {
          expect(await names({ now: now - 1, status: 'active' })).toStrictEqual(['activeNoExpiry', 'activeUntilLater', 'expiredAtNow']);
          expect(await names({ now: now - 1, status: 'expired' })).toStrictEqual(['expiredBefore']);
          expect(await names({ now: now + 1, status: 'active' })).toStrictEqual(['activeNoExpiry']);
          expect(await names({ now: now + 1, status: 'expired' })).toStrictEqual(['activeUntilLater', 'expiredAtNow', 'expiredBefore']);
          expect(await names({ now: now + 1, status: 'revoked' })).toStrictEqual(['revokedAndExpired', 'revokedLater']);
        });

        it('by tenantId and environment', async () => {
          expect(await names({ tenantId: 't1' })).toStrictEqual(['activeNoExpiry', 'activeUntilLater', 'revokedLater']);
          expect(await names({ tenantId: 't2' })).toStrictEqual(['expiredAtNow', 'expiredBefore']);
          expect(await names({ tenantId: 'nobody' })).toStrictEqual([]);
          expect(await names({ environment: 'live' })).toStrictEqual(['activeNoExpiry', 'expiredAtNow', 'revokedAndExpired']);
          expect(await names({ environment: 'test' })).toStrictEqual(['activeUntilLater', 'expiredBefore', 'revokedLater']);
        });

        it('by name, a case-insensitive substring taken literally (LIKE wildcards in it match only themselves)', async () => {
          expect(await names({ nameContains: 'expired' })).toStrictEqual(['expiredAtNow', 'expiredBefore', 'revokedAndExpired']);
          expect(await names({ nameContains: 'ACTIVE' })).toStrictEqual(['activeNoExpiry', 'activeUntilLater']);
          expect(await names({ nameContains: 'nowhere' })).toStrictEqual([]);
          const literal = ['100% done', '100x done', 'a_b', 'axb', 'back\\slash'];
          for (const [i, name] of literal.entries()) await keys().insert(makeKey({ name, createdAt: T0 - 1 - i }), []);
          expect(await names({ nameContains: '100%' })).toStrictEqual(['100% done']);
          expect(await names({ nameContains: '%' })).toStrictEqual(['100% done']);
          expect(await names({ nameContains: 'a_b' })).toStrictEqual(['a_b']);
          expect(await names({ nameContains: '_' })).toStrictEqual(['a_b']);
          expect(await names({ nameContains: 'k\\s' })).toStrictEqual(['back\\slash']);
          expect(await names({ nameContains: 'DONE', tenantId: 't1' })).toStrictEqual([]);
        });

        it('by display prefix, starting with it, case-sensitively', async () => {
          const a = makeKey({ name: 'a', displayPrefix: 'sk_live_Ab12Cd', createdAt: T0 - 1 });
          const b = makeKey({ name: 'b', displayPrefix: 'sk_live_ab12Cd', createdAt: T0 - 2 });
          const c = makeKey({ name: 'c', displayPrefix: 'sk_test_Zz99Yy', createdAt: T0 - 3 });
          for (const key of [a, b, c]) await keys().insert(key, []);
          expect(await names({ prefix: 'sk_live_Ab' })).toStrictEqual(['a']);
          expect(await names({ prefix: 'sk_live_' })).toStrictEqual(['a', 'b']);
          expect(await names({ prefix: 'sk_live_Ab12Cd' })).toStrictEqual(['a']);
          expect(await names({ prefix: 'sk_live_Ab12Cdx' })).toStrictEqual([]);
          // Not a pattern: _ is an underscore, not "any character".
          expect(await names({ prefix: 'sk_live%' })).toStrictEqual([]);
          expect(await names({ prefix: 'sk_test_Z' })).toStrictEqual(['c']);
          expect(await names({ prefix: 'sk_test_', nameContains: 'until' })).toStrictEqual(['activeUntilLater']);
        });

        it('combined, and together with a cursor', async () => {
          expect(await names({ tenantId: 't1', environment: 'test' })).toStrictEqual(['activeUntilLater', 'revokedLater']);
          expect(await names({ tenantId: 't1', status: 'active' })).toStrictEqual(['activeNoExpiry', 'activeUntilLater']);
          expect(await names({ tenantId: 't1', environment: 'test', status: 'active' })).toStrictEqual(['activeUntilLater']);
          expect(await names({ tenantId: 't2', status: 'active' })).toStrictEqual([]);
          expect(await names({ environment: 'live', status: 'revoked' })).toStrictEqual(['revokedAndExpired']);

          const first = await keys().list({ now, limit: 1, tenantId: 't1' });
          expect(first.map((k) => k.name)).toStrictEqual(['activeNoExpiry']);
          const rest = await names({ tenantId: 't1', after: { at: first[0]!.createdAt, id: first[0]!.id } });
          expect(rest).toStrictEqual(['activeUntilLater', 'revokedLater']);
        });
      });
    });

    describe('updateActive', () => {
      const now = T0 + HOUR;

      it('applies only the given fields, sets updatedAt, and returns the record as stored', async () => {
        let expected = makeFullKey({ revokedAt: null, rotatedToId: null });
        await keys().insert(expected, []);

        const steps: ApiKeyPatch[] = [
          { name: 'renamed' },
          { scopes: ['only:this'] },
          { metadata: { replaced: true, list: [3, 2, 1] } },
          { rateLimit: { limit: 7, windowSeconds: 1 } },
          { rateLimit: null },
          { expiresAt: now + DAY },
          { expiresAt: null },
          { anomalyAction: 'notify' },
          { anomalyAction: 'revoke' },
          {},
          { name: 'both', scopes: [], metadata: {}, rateLimit: { limit: 1, windowSeconds: 3600 }, expiresAt: now + 2 * DAY },
        ];
        for (const [i, patch] of steps.entries()) {
          const at = now + i;
          expected = { ...expected, ...patch, updatedAt: at };
          const returned = await keys().updateActive(expected.id, patch, at, []);
          expect(returned, `step ${i}`).toStrictEqual(expected);
          expect(await keys().findById(expected.id), `step ${i}`).toStrictEqual(expected);
          expectNumericTimestamps(returned);
        }
      });

      it('treats a field given as undefined as not given', async () => {
        const key = makeFullKey({ revokedAt: null });
        await keys().insert(key, []);
        const returned = await keys().updateActive(key.id, { name: undefined, rateLimit: undefined, expiresAt: undefined }, now, []);
        expect(returned).toStrictEqual({ ...key, updatedAt: now });
      });

      it('leaves other keys alone', async () => {
        const target = makeKey();
        const bystander = makeFullKey({ revokedAt: null });
        await keys().insert(target, []);
        await keys().insert(bystander, []);
        await keys().updateActive(target.id, { name: 'changed', scopes: ['x'] }, now, []);
        expect(await keys().findById(bystander.id)).toStrictEqual(bystander);
      });

      it('writes its audit events when it applies the patch', async () => {
        const key = makeKey();
        await keys().insert(key, []);
        const event = keyEvent('key.updated', key, now, { changed: ['name'] });
        expect(await keys().updateActive(key.id, { name: 'n' }, now, [event])).toBeDefined();
        expect(await eventsOf(key.id)).toStrictEqual([event]);
      });

      it('updates a key that expires later than now', async () => {
        const key = makeKey({ expiresAt: now + 1 });
        await keys().insert(key, []);
        expect(await keys().updateActive(key.id, { name: 'still active' }, now, [])).toStrictEqual({
          ...key,
          name: 'still active',
          updatedAt: now,
        });
      });

      const inactive: Array<[label: string, overrides: Partial<ApiKeyRecord>]> = [
        ['revoked', { revokedAt: T0 + 1 }],
        ['revoked, with an expiry in the future', { revokedAt: T0 + 1, expiresAt: now + DAY }],
        ['expired before now', { expiresAt: now - 1 }],
        ['expired at exactly now', { expiresAt: now }],
      ];
      it.each(inactive)('returns undefined for a %s key, changes nothing and writes no event', async (_label, overrides) => {
        const key = makeFullKey({ rotatedToId: null, revokedAt: null, ...overrides });
        await keys().insert(key, []);
        const event = keyEvent('key.updated', key, now);
        expect(await keys().updateActive(key.id, { name: 'nope', expiresAt: null }, now, [event])).toBeUndefined();
        expect(await keys().findById(key.id)).toStrictEqual(key);
        expect(await stores().audit.list({ limit: 100 })).toStrictEqual([]);
      });

      it('returns undefined for an unknown id and writes no event', async () => {
        const ghost = makeKey();
        expect(await keys().updateActive(ghost.id, { name: 'nope' }, now, [keyEvent('key.updated', ghost, now)])).toBeUndefined();
        expect(await keys().findById(ghost.id)).toBeUndefined();
        expect(await stores().audit.list({ limit: 100 })).toStrictEqual([]);
      });
    });

    describe('rotate', () => {
      const now = T0 + HOUR;
      const grace = now + DAY;

      function successorOf(old: ApiKeyRecord, overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
        return makeKey({
          name: old.name,
          scopes: old.scopes,
          tenantId: old.tenantId,
          metadata: old.metadata,
          rateLimit: old.rateLimit,
          environment: old.environment,
          createdAt: now,
          updatedAt: now,
          rotatedFromId: old.id,
          ...overrides,
        });
      }
      const rotatedEvents = (old: ApiKeyRecord, successor: ApiKeyRecord) => [
        keyEvent('key.rotated', old, now, { successorId: successor.id }),
        keyEvent('key.created', successor, now, { rotatedFromId: old.id }),
      ];

      it('with a grace period: inserts the successor, points the old key to it and expires it at oldExpiresAt', async () => {
        const old = makeFullKey({ revokedAt: null, rotatedToId: null, expiresAt: null });
        await keys().insert(old, []);
        const successor = successorOf(old);
        const events = rotatedEvents(old, successor);

        expect(await keys().rotate({ oldId: old.id, successor, now, oldExpiresAt: grace, revokeOld: false, events })).toBe('rotated');

        expect(await keys().findById(successor.id)).toStrictEqual(successor);
        expect(await keys().findByHash(successor.hash)).toStrictEqual(successor);
        const after = await keys().findById(old.id);
        expect(after).toStrictEqual({ ...old, rotatedToId: successor.id, expiresAt: grace, revokedAt: null, updatedAt: now });
        expectNumericTimestamps(after);
        expect((await stores().audit.list({ limit: 100 })).map((e) => e.id).sort()).toStrictEqual(events.map((e) => e.id).sort());
        expect(await eventsOf(successor.id)).toStrictEqual([events[1]]);
      });

      it('with revokeOld: revokes the old key at now and leaves its expiry as it was', async () => {
        const old = makeFullKey({ revokedAt: null, rotatedToId: null, expiresAt: now + 30 * DAY });
        await keys().insert(old, []);
        const successor = successorOf(old);
        const events = rotatedEvents(old, successor);

        expect(await keys().rotate({ oldId: old.id, successor, now, oldExpiresAt: grace, revokeOld: true, events })).toBe('rotated');

        expect(await keys().findById(successor.id)).toStrictEqual(successor);
        expect(await keys().findById(old.id)).toStrictEqual({ ...old, rotatedToId: successor.id, revokedAt: now, updatedAt: now });
        expect(await stores().audit.list({ limit: 100 })).toHaveLength(2);
      });

      it('returns not_found for an unknown key and inserts nothing', async () => {
        const ghost = makeKey();
        const successor = successorOf(ghost);
        const outcome = await keys().rotate({
          oldId: ghost.id,
          successor,
          now,
          oldExpiresAt: grace,
          revokeOld: false,
          events: rotatedEvents(ghost, successor),
        });
        expect(outcome).toBe('not_found');
        expect(await keys().findById(successor.id)).toBeUndefined();
        expect(await allKeyIds()).toStrictEqual([]);
        expect(await stores().audit.list({ limit: 100 })).toStrictEqual([]);
      });

      const inactive: Array<[label: string, overrides: Partial<ApiKeyRecord>]> = [
        ['revoked', { revokedAt: T0 + 1 }],
        ['expired', { expiresAt: now - 1 }],
        ['expired at exactly now', { expiresAt: now }],
      ];
      it.each(inactive)('returns not_active for a %s key and changes nothing', async (_label, overrides) => {
        const old = makeFullKey({ revokedAt: null, rotatedToId: null, ...overrides });
        await keys().insert(old, []);
        const successor = successorOf(old);
        for (const revokeOld of [false, true]) {
          const outcome = await keys().rotate({
            oldId: old.id,
            successor,
            now,
            oldExpiresAt: grace,
            revokeOld,
            events: rotatedEvents(old, successor),
          });
          expect(outcome).toBe('not_active');
        }
        expect(await keys().findById(old.id)).toStrictEqual(old);
        expect(await keys().findById(successor.id)).toBeUndefined();
        expect(await stores().audit.list({ limit: 100 })).toStrictEqual([]);
      });

      it('returns already_rotated for a key still in its grace period, and inserts no second successor', async () => {
        const old = makeKey();
        await keys().insert(old, []);
        const first = successorOf(old);
        const firstEvents = rotatedEvents(old, first);
        expect(await keys().rotate({ oldId: old.id, successor: first, now, oldExpiresAt: grace, revokeOld: false, events: firstEvents })).toBe(
          'rotated',
        );
        const afterFirst = await keys().findById(old.id);

        const second = successorOf(old);
        const outcome = await keys().rotate({
          oldId: old.id,
          successor: second,
          now: now + 1,
          oldExpiresAt: now + 1 + DAY,
          revokeOld: true,
          events: rotatedEvents(old, second),
        });
        expect(outcome).toBe('already_rotated');
        expect(await keys().findById(second.id)).toBeUndefined();
        expect(await keys().findById(old.id)).toStrictEqual(afterFirst);
        expect(afterFirst!.rotatedToId).toBe(first.id);
        expect((await stores().audit.list({ limit: 100 })).map((e) => e.id).sort()).toStrictEqual(firstEvents.map((e) => e.id).sort());
      });

      it('rolls back the old key when the successor cannot be inserted', async () => {
        const bystander = makeKey();
        const old = makeKey();
        await keys().insert(bystander, []);
        await keys().insert(old, []);
        const successor = successorOf(old, { hash: bystander.hash });
        await expect(
          keys().rotate({ oldId: old.id, successor, now, oldExpiresAt: grace, revokeOld: true, events: rotatedEvents(old, successor) }),
        ).rejects.toThrow();
        expect(await keys().findById(old.id)).toStrictEqual(old);
        expect(await keys().findById(successor.id)).toBeUndefined();
        expect(await stores().audit.list({ limit: 100 })).toStrictEqual([]);
      });

      it.each([false, true])('of 10 concurrent rotations of one key (revokeOld %s) exactly one wins', async (revokeOld) => {
        const old = makeFullKey({ revokedAt: null, rotatedToId: null, expiresAt: null });
        await keys().insert(old, []);
        const successors = Array.from({ length: 10 }, () => successorOf(old));
        const events = successors.map((s) => rotatedEvents(old, s));

        await warmUp();
        const outcomes = await Promise.all(
          successors.map((successor, i) =>
            keys().rotate({ oldId: old.id, successor, now, oldExpiresAt: grace, revokeOld, events: events[i]! }),
          ),
        );

        expect(outcomes.filter((o) => o === 'rotated')).toHaveLength(1);
        expect(outcomes.filter((o) => o === 'already_rotated')).toHaveLength(9);
        const winner = outcomes.indexOf('rotated');
        const present: string[] = [];
        for (const s of successors) if (await keys().findById(s.id)) present.push(s.id);
        expect(present).toStrictEqual([successors[winner]!.id]);
        expect((await allKeyIds()).sort()).toStrictEqual([old.id, successors[winner]!.id].sort());
        expect(await keys().findById(old.id)).toStrictEqual({
          ...old,
          rotatedToId: successors[winner]!.id,
          updatedAt: now,
          ...(revokeOld ? { revokedAt: now } : { expiresAt: grace }),
        });
        expect((await stores().audit.list({ limit: 100 })).map((e) => e.id).sort()).toStrictEqual(
          events[winner]!.map((e) => e.id).sort(),
        );
      });
    });

    describe('revoke', () => {
      const now = T0 + HOUR;

      it('revokes once (changed true), then is idempotent (changed false) and writes events only the first time', async () => {
        const key = makeFullKey({ revokedAt: null });
        await keys().insert(key, []);
        const revokedEvent = keyEvent('key.revoked', key, now);

        const first = await keys().revoke(key.id, now, [revokedEvent]);
        const revoked = { ...key, revokedAt: now, updatedAt: now };
        expect(first).toStrictEqual({ key: revoked, changed: true });
        expectNumericTimestamps(first?.key);
        expect(await keys().findById(key.id)).toStrictEqual(revoked);

        const second = await keys().revoke(key.id, now + MINUTE, [keyEvent('key.revoked', key, now + MINUTE)]);
        expect(second).toStrictEqual({ key: revoked, changed: false });
        expectNumericTimestamps(second?.key);
        expect(await keys().findById(key.id)).toStrictEqual(revoked);
        expect(await stores().audit.list({ limit: 100 })).toStrictEqual([revokedEvent]);
      });

      it('revokes an expired key too', async () => {
        const key = makeKey({ expiresAt: T0 + 1 });
        await keys().insert(key, []);
        expect(await keys().revoke(key.id, now, [])).toStrictEqual({ key: { ...key, revokedAt: now, updatedAt: now }, changed: true });
      });

      it('returns undefined for an unknown id and writes no event', async () => {
        const ghost = makeKey();
        expect(await keys().revoke(ghost.id, now, [keyEvent('key.revoked', ghost, now)])).toBeUndefined();
        expect(await stores().audit.list({ limit: 100 })).toStrictEqual([]);
      });

      it('of 10 concurrent revocations exactly one reports changed and writes its event', async () => {
        const key = makeKey();
        await keys().insert(key, []);
        const events = Array.from({ length: 10 }, (_, i) => keyEvent('key.revoked', key, now + i));

        await warmUp();
        const results = await Promise.all(events.map((event, i) => keys().revoke(key.id, now + i, [event])));

        const changed = results.map((r) => r?.changed);
        expect(changed.filter((c) => c === true)).toHaveLength(1);
        expect(changed.filter((c) => c === false)).toHaveLength(9);
        const winner = changed.indexOf(true);
        const revoked = { ...key, revokedAt: now + winner, updatedAt: now + winner };
        for (const result of results) expect(result?.key).toStrictEqual(revoked);
        expect(await keys().findById(key.id)).toStrictEqual(revoked);
        expect(await stores().audit.list({ limit: 100 })).toStrictEqual([events[winner]]);
      });
    });

    describe('the last unrestricted admin key (keepUnrestrictedAdmin)', () => {
      const now = T0 + HOUR;
      const guard = { keepUnrestrictedAdmin: true };
      const admin = (overrides: Partial<ApiKeyRecord> = {}) => makeKey({ scopes: ['keys:read', 'admin'], ...overrides });

      it('refuses to revoke the only active admin key of no tenant, writing nothing; others do not count', async () => {
        const root = admin();
        // Not unrestricted admins: bound to a tenant, revoked, expired, or without admin.
        const others = [
          admin({ tenantId: 'acme' }),
          admin({ revokedAt: T0 }),
          admin({ expiresAt: now }),
          makeKey({ scopes: ['keys:write', 'users:write', 'x"admin"'] }),
        ];
        for (const key of [root, ...others]) await keys().insert(key, []);
        expect(await keys().revoke(root.id, now, [keyEvent('key.revoked', root, now)], guard)).toBe('last_admin');
        expect(await keys().findById(root.id)).toStrictEqual(root);
        expect(await stores().audit.list({ limit: 100 })).toStrictEqual([]);
        // Unguarded (Gatehouse revoking a compromised key): revoked all the same.
        expect(await keys().revoke(root.id, now, [])).toMatchObject({ changed: true });
      });

      it('revokes one of two, and any key that is not an unrestricted admin, as usual', async () => {
        const [a, b, plain, tenantAdmin] = [admin(), admin({ expiresAt: now + 1 }), makeKey(), admin({ tenantId: 'acme' })];
        for (const key of [a, b, plain, tenantAdmin]) await keys().insert(key, []);
        expect(await keys().revoke(plain.id, now, [], guard)).toMatchObject({ changed: true });
        expect(await keys().revoke(tenantAdmin.id, now, [], guard)).toMatchObject({ changed: true });
        expect(await keys().revoke(a.id, now, [], guard)).toMatchObject({ changed: true });
        expect(await keys().revoke(b.id, now, [], guard)).toBe('last_admin');
        // Already revoked: idempotent, not a removal.
        expect(await keys().revoke(a.id, now + 1, [], guard)).toMatchObject({ changed: false });
      });

      it('refuses an update that takes admin from the last one; allows any other change', async () => {
        const root = admin();
        await keys().insert(root, []);
        const event = keyEvent('key.updated', root, now);
        expect(await keys().updateActive(root.id, { scopes: ['keys:read'] }, now, [event], guard)).toBe('last_admin');
        expect(await keys().findById(root.id)).toStrictEqual(root);
        expect(await stores().audit.list({ limit: 100 })).toStrictEqual([]);
        expect(await keys().updateActive(root.id, { name: 'renamed', scopes: ['admin'] }, now, [], guard)).toMatchObject({ name: 'renamed', scopes: ['admin'] });
        const second = admin();
        await keys().insert(second, []);
        expect(await keys().updateActive(root.id, { scopes: ['keys:read'] }, now, [], guard)).toMatchObject({ scopes: ['keys:read'] });
        expect(await keys().updateActive(second.id, { scopes: [] }, now, [], guard)).toBe('last_admin');
      });

      it('of two concurrent removals of the last two, one is refused', async () => {
        await warmUp();
        for (let round = 0; round < 5; round++) {
          const [a, b] = [admin(), admin()];
          await keys().insert(a, []);
          await keys().insert(b, []);
          const results = await Promise.all([
            keys().revoke(a.id, now, [keyEvent('key.revoked', a, now)], guard),
            round % 2 ? keys().updateActive(b.id, { scopes: [] }, now, [], guard) : keys().revoke(b.id, now, [keyEvent('key.revoked', b, now)], guard),
          ]);
          expect(results.filter((r) => r === 'last_admin')).toHaveLength(1);
          // Clean up for the next round: the survivor goes too (unguarded).
          await keys().revoke(a.id, now, []);
          await keys().revoke(b.id, now, []);
        }
      });
    });

    describe('listChangedSince', () => {
      it('the keys updated, rotated or revoked after a time, most recently changed first, at most the limit', async () => {
        const old = makeKey({ updatedAt: T0 });
        const updated = makeKey();
        const revoked = makeKey();
        const rotated = makeKey();
        for (const key of [old, updated, revoked, rotated]) await keys().insert(key, []);
        expect(await keys().listChangedSince(T0, 10)).toStrictEqual([]);

        await keys().updateActive(updated.id, { name: 'renamed' }, T0 + 1 * MINUTE, []);
        await keys().revoke(revoked.id, T0 + 2 * MINUTE, []);
        const successor = makeKey({ createdAt: T0 + 3 * MINUTE, updatedAt: T0 + 3 * MINUTE });
        expect(await keys().rotate({ oldId: rotated.id, successor, now: T0 + 3 * MINUTE, oldExpiresAt: T0 + DAY, revokeOld: false, events: [] })).toBe('rotated');

        const changed = await keys().listChangedSince(T0, 10);
        // The successor was created, not changed: no cache holds it.
        expect(changed).toStrictEqual([
          { id: rotated.id, hash: rotated.hash, updatedAt: T0 + 3 * MINUTE },
          { id: revoked.id, hash: revoked.hash, updatedAt: T0 + 2 * MINUTE },
          { id: updated.id, hash: updated.hash, updatedAt: T0 + MINUTE },
        ]);
        expect(typeof changed[0]!.updatedAt).toBe('number');
        // Strictly after `since`; the newest first when limited.
        expect((await keys().listChangedSince(T0 + 2 * MINUTE, 10)).map((c) => c.id)).toStrictEqual([rotated.id]);
        expect((await keys().listChangedSince(T0, 2)).map((c) => c.id)).toStrictEqual([rotated.id, revoked.id]);
        // Revoked in the millisecond it was created: still a change.
        const instant = makeKey({ createdAt: T0 + 4 * MINUTE, updatedAt: T0 + 4 * MINUTE });
        await keys().insert(instant, []);
        expect(await keys().listChangedSince(T0 + 3 * MINUTE, 10)).toStrictEqual([]);
        await keys().revoke(instant.id, T0 + 4 * MINUTE, []);
        expect(await keys().listChangedSince(T0 + 3 * MINUTE, 10)).toStrictEqual([{ id: instant.id, hash: instant.hash, updatedAt: T0 + 4 * MINUTE }]);
      });
    });
  });
}
