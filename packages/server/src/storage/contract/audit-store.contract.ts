import { beforeEach, describe, expect, it } from 'vitest';
import { createAuditEvent, type AuditEvent, type AuditEventType } from '../../core/audit/audit-event.js';
import type { AuditEventQuery } from '../stores.js';
import { useFreshStores, type OpenStores } from './fresh-stores.js';


const T0 = Date.UTC(2026, 0, 1);
const SECOND = 1_000;
/** More than two 500-row insert chunks. */
const COUNT = 1_200;
const DISTINCT_TIMES = 120;

const TYPES: AuditEventType[] = ['key.created', 'key.verification', 'key.revoked', 'admin.authentication', 'key.updated'];
const KEY_IDS = ['key_a', 'key_b', 'key_c', null] as const;
const TENANTS = ['tenant_1', 'tenant_2', null] as const;
const CLIENT_IDS = ['cli_a', 'cli_b'] as const;
const USER_IDS = ['usr_a', 'usr_b'] as const;

/** Small deterministic PRNG (mulberry32), so the insertion order is scrambled the same way every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  const random = prng(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * Event number `i`. Ids are zero-padded digits, which sort the same under every collation. Times are spread so
 * that 10 events share each instant and neither id order nor insertion order matches time order.
 */
function makeEvent(i: number): AuditEvent {
  const failure = i % 7 === 0;
  const event = createAuditEvent(T0 + ((i * 37) % DISTINCT_TIMES) * SECOND, {
    type: TYPES[i % TYPES.length]!,
    outcome: failure ? 'failure' : 'success',
    reason: failure ? 'REVOKED' : null,
    keyId: KEY_IDS[i % KEY_IDS.length]!,
    keyPrefix: i % 4 === 3 ? null : 'sk_live_Ab12Cd',
    actorKeyId: i % 2 === 0 ? (i % 4 === 0 ? 'key_admin' : 'key_other') : null,
    // The admin user who acted: some events of usr_a are made by it, others are about it (details.userId).
    actorUserId: i % 11 === 5 ? USER_IDS[i % 2]! : null,
    tenantId: TENANTS[i % TENANTS.length]!,
    ip: i % 3 === 0 ? '2001:db8::1' : '203.0.113.7',
    userAgent: i % 5 === 0 ? null : 'contract/1.0 (ünïcode ✓)',
    route: 'POST /v1/keys/verify',
    requestId: `req_${i}`,
    details:
      i % 6 === 0
        ? null
        : i % 6 === 1
          ? {}
          : {
              n: i,
              ok: !failure,
              nested: { list: [i, 'x', null] },
              ...(i % 5 === 2 ? { clientId: CLIENT_IDS[i % 2]! } : {}),
              ...(i % 5 === 3 || i % 5 === 4 ? { userId: USER_IDS[i % 2]! } : {}),
            },
  });
  return { ...event, id: `evt_${String(i).padStart(5, '0')}` };
}

const ALL: AuditEvent[] = Array.from({ length: COUNT }, (_, i) => makeEvent(i));

/** The order list() must produce: newest first, ties on occurredAt by id descending. */
function newestFirst(events: readonly AuditEvent[]): AuditEvent[] {
  return [...events].sort((a, b) => b.occurredAt - a.occurredAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

export function auditStoreContract(name: string, open: OpenStores): void {
  describe(`AuditStore contract (${name})`, () => {
    const stores = useFreshStores(open);
    const audit = () => stores().audit;

    /** Follows the cursor page by page until a short page; returns everything in order. */
    async function collect(query: Omit<AuditEventQuery, 'limit' | 'after'>, limit: number): Promise<AuditEvent[]> {
      const out: AuditEvent[] = [];
      let after: AuditEventQuery['after'];
      for (let pages = 0; ; pages++) {
        if (pages > COUNT + 1) throw new Error('pagination does not end');
        const page = await audit().list({ ...query, limit, ...(after ? { after } : {}) });
        expect(page.length).toBeLessThanOrEqual(limit);
        out.push(...page);
        if (page.length < limit) return out;
        const last = page[page.length - 1]!;
        after = { at: last.occurredAt, id: last.id };
      }
    }

    it('the fixture really has ties, scrambled ids, and more than two chunks', () => {
      // Guards the fixture itself, so the tests below test what they claim to.
      const sorted = newestFirst(ALL);
      expect(new Set(ALL.map((e) => e.occurredAt)).size).toBe(DISTINCT_TIMES);
      expect(sorted.map((e) => e.id)).not.toStrictEqual([...ALL.map((e) => e.id)].sort().reverse());
      expect(shuffled(ALL, 1).map((e) => e.id)).not.toStrictEqual(ALL.map((e) => e.id));
      expect(ALL.length).toBeGreaterThan(1_000);
    });

    describe('with 1,200 events written in one insertMany', () => {
      beforeEach(async () => {
        await audit().insertMany(shuffled(ALL, 1));
      });

      it('lists every event, exactly as written, newest first with ties broken by id', async () => {
        const listed = await audit().list({ limit: 10_000 });
        expect(listed).toHaveLength(COUNT);
        expect(listed).toStrictEqual(newestFirst(ALL));
        for (const event of listed.slice(0, 20)) expect(typeof event.occurredAt).toBe('number');
      });

      it('honours limit', async () => {
        expect(await audit().list({ limit: 1 })).toStrictEqual(newestFirst(ALL).slice(0, 1));
        expect(await audit().list({ limit: 25 })).toStrictEqual(newestFirst(ALL).slice(0, 25));
      });

      it.each([7, 10, 500, 1_200])('pages with a cursor (limit %i) without gaps or duplicates', async (limit) => {
        const all = await collect({}, limit);
        expect(all.map((e) => e.id)).toStrictEqual(newestFirst(ALL).map((e) => e.id));
      });

      it('starts strictly after the cursor', async () => {
        const sorted = newestFirst(ALL);
        const pivot = sorted[15]!;
        expect(await audit().list({ limit: 5, after: { at: pivot.occurredAt, id: pivot.id } })).toStrictEqual(sorted.slice(16, 21));
      });

      const filters: Array<[label: string, query: Omit<AuditEventQuery, 'limit' | 'after'>, keep: (e: AuditEvent) => boolean]> = [
        ['type', { type: 'key.revoked' }, (e) => e.type === 'key.revoked'],
        ['typePrefix', { typePrefix: 'key.' }, (e) => e.type.startsWith('key.')],
        ['typePrefix + keyId', { typePrefix: 'key.', keyId: 'key_b' }, (e) => e.type.startsWith('key.') && e.keyId === 'key_b'],
        ['keyId', { keyId: 'key_b' }, (e) => e.keyId === 'key_b'],
        ['tenantId', { tenantId: 'tenant_2' }, (e) => e.tenantId === 'tenant_2'],
        // `since` is inclusive: T0 + 60 s is the time of some events, and they are kept.
        ['since', { since: T0 + 60 * SECOND }, (e) => e.occurredAt >= T0 + 60 * SECOND],
        [
          'type + keyId + tenantId + since',
          { type: 'key.verification', keyId: 'key_b', tenantId: 'tenant_1', since: T0 + 30 * SECOND },
          (e) => e.type === 'key.verification' && e.keyId === 'key_b' && e.tenantId === 'tenant_1' && e.occurredAt >= T0 + 30 * SECOND,
        ],
        ['keyId + since', { keyId: 'key_a', since: T0 + 100 * SECOND }, (e) => e.keyId === 'key_a' && e.occurredAt >= T0 + 100 * SECOND],
        ['outcome failure', { outcome: 'failure' }, (e) => e.outcome === 'failure'],
        ['outcome success', { outcome: 'success' }, (e) => e.outcome === 'success'],
        ['clientId (details.clientId)', { clientId: 'cli_b' }, (e) => e.details?.['clientId'] === 'cli_b'],
        [
          'userId (details.userId or actorUserId)',
          { userId: 'usr_a' },
          (e) => e.details?.['userId'] === 'usr_a' || e.actorUserId === 'usr_a',
        ],
        ['actorKeyId', { actorKeyId: 'key_admin' }, (e) => e.actorKeyId === 'key_admin'],
        // `until` is exclusive: the events at T0 + 60 s are left out, so since/until ranges tile without overlap.
        ['until', { until: T0 + 60 * SECOND }, (e) => e.occurredAt < T0 + 60 * SECOND],
        [
          'since + until',
          { since: T0 + 30 * SECOND, until: T0 + 90 * SECOND },
          (e) => e.occurredAt >= T0 + 30 * SECOND && e.occurredAt < T0 + 90 * SECOND,
        ],
        [
          'outcome + clientId + tenantId + since + until',
          { outcome: 'success', clientId: 'cli_a', tenantId: 'tenant_2', since: T0 + 10 * SECOND, until: T0 + 110 * SECOND },
          (e) =>
            e.outcome === 'success' &&
            e.details?.['clientId'] === 'cli_a' &&
            e.tenantId === 'tenant_2' &&
            e.occurredAt >= T0 + 10 * SECOND &&
            e.occurredAt < T0 + 110 * SECOND,
        ],
        [
          'userId + outcome + actorKeyId',
          { userId: 'usr_a', outcome: 'failure', actorKeyId: 'key_other' },
          (e) => (e.details?.['userId'] === 'usr_a' || e.actorUserId === 'usr_a') && e.outcome === 'failure' && e.actorKeyId === 'key_other',
        ],
      ];
      it.each(filters)('filters by %s, across pages', async (_label, query, keep) => {
        const expected = newestFirst(ALL.filter(keep));
        // Guard the fixture: the filter keeps some events and drops others.
        expect(expected.length).toBeGreaterThan(0);
        expect(expected.length).toBeLessThan(COUNT);

        expect(await audit().list({ ...query, limit: 10_000 })).toStrictEqual(expected);
        expect(await collect(query, 9)).toStrictEqual(expected);
      });

      it('matches nothing when a filter matches nothing', async () => {
        expect(await audit().list({ type: 'system.bootstrap', limit: 100 })).toStrictEqual([]);
        expect(await audit().list({ typePrefix: 'system.', limit: 100 })).toStrictEqual([]);
        // A prefix, not a pattern: _ and % match only themselves.
        expect(await audit().list({ typePrefix: 'ke_.', limit: 100 })).toStrictEqual([]);
        expect(await audit().list({ typePrefix: '%', limit: 100 })).toStrictEqual([]);
        expect(await audit().list({ keyId: 'key_unknown', limit: 100 })).toStrictEqual([]);
        expect(await audit().list({ since: T0 + DISTINCT_TIMES * SECOND, limit: 100 })).toStrictEqual([]);
        expect(await audit().list({ until: T0, limit: 100 })).toStrictEqual([]);
        expect(await audit().list({ clientId: 'cli_unknown', limit: 100 })).toStrictEqual([]);
        expect(await audit().list({ userId: 'usr_unknown', limit: 100 })).toStrictEqual([]);
        expect(await audit().list({ actorKeyId: 'key_unknown', limit: 100 })).toStrictEqual([]);
      });

      it('re-inserting events already written is harmless: no error, no duplicate, originals kept', async () => {
        const fresh1 = { ...makeEvent(COUNT), id: 'evt_fresh_1' };
        const fresh2 = { ...makeEvent(COUNT + 1), id: 'evt_fresh_2' };
        // Old and new mixed, spanning more than one chunk, in the order a retried batch might come.
        await audit().insertMany([...ALL.slice(450, 550), fresh1, ...ALL.slice(0, 600), fresh2]);
        await audit().insertMany(ALL);
        await audit().insertMany([ALL[0]!]);

        const listed = await audit().list({ limit: 10_000 });
        expect(listed).toHaveLength(COUNT + 2);
        expect(listed).toStrictEqual(newestFirst([...ALL, fresh1, fresh2]));
      });

      it('purgeOlderThan deletes the events before the cutoff, oldest first, at most limit at a time', async () => {
        const cutoff = T0 + 40 * SECOND;
        const older = newestFirst(ALL.filter((e) => e.occurredAt < cutoff)).reverse();
        // Guard the fixture: some events are older than the cutoff, some not, and some exactly at it (kept).
        expect(older.length).toBeGreaterThan(250);
        expect(ALL.some((e) => e.occurredAt === cutoff)).toBe(true);

        expect(await audit().purgeOlderThan(cutoff, 250)).toBe(250);
        // The oldest 250 went (ties on time may go in any order, so compare what remains by time only).
        const remainingOlder = (await audit().list({ limit: 10_000 })).filter((e) => e.occurredAt < cutoff);
        expect(remainingOlder).toHaveLength(older.length - 250);
        expect(Math.min(...remainingOlder.map((e) => e.occurredAt))).toBeGreaterThanOrEqual(older[249]!.occurredAt);

        let rounds = 0;
        while ((await audit().purgeOlderThan(cutoff, 250)) === 250) rounds++;
        expect(rounds).toBeLessThan(10);
        expect(await audit().purgeOlderThan(cutoff, 250)).toBe(0);
        expect(await audit().list({ limit: 10_000 })).toStrictEqual(newestFirst(ALL.filter((e) => e.occurredAt >= cutoff)));
      });
    });

    it('accepts an empty batch', async () => {
      await audit().insertMany([]);
      expect(await audit().list({ limit: 100 })).toStrictEqual([]);
    });

    it('round-trips a sparse event (every optional field null) and one with empty details', async () => {
      const sparse = createAuditEvent(T0, { type: 'request.credentials_in_query', outcome: 'failure' });
      const empty = createAuditEvent(T0 - 1, { type: 'key.verification', outcome: 'success', details: {} });
      await audit().insertMany([sparse, empty]);
      expect(await audit().list({ limit: 10 })).toStrictEqual([sparse, empty]);
    });

    it('insertNow writes events at once and lists them like any other', async () => {
      const a = createAuditEvent(T0, { type: 'key.revoked', outcome: 'success', keyId: 'key_a', details: { why: 'test' } });
      const b = createAuditEvent(T0 + 1, { type: 'key.created', outcome: 'success', keyId: 'key_b' });
      await audit().insertNow([a, b]);
      await audit().insertNow([]);
      expect(await audit().list({ limit: 10 })).toStrictEqual([b, a]);
    });

    it('filters by client and user on events written by insertNow too, and only on string ids of a sane length', async () => {
      const about = createAuditEvent(T0, { type: 'oauth.token', outcome: 'success', details: { clientId: 'cli_x', userId: 'usr_x' } });
      const acted = createAuditEvent(T0 + 1, { type: 'user.updated', outcome: 'success', actorUserId: 'usr_x', details: { userId: 'usr_y' } });
      // A failed client authentication records whatever id was claimed: not a string, or too long to index.
      const odd = createAuditEvent(T0 + 2, { type: 'client.authentication', outcome: 'failure', details: { clientId: 42, userId: ['usr_x'] } });
      const long = createAuditEvent(T0 + 3, { type: 'client.authentication', outcome: 'failure', details: { clientId: `cli_${'x'.repeat(300)}` } });
      await audit().insertNow([about, acted, odd, long]);
      expect(await audit().list({ clientId: 'cli_x', limit: 10 })).toStrictEqual([about]);
      expect(await audit().list({ userId: 'usr_x', limit: 10 })).toStrictEqual([acted, about]);
      expect(await audit().list({ userId: 'usr_y', limit: 10 })).toStrictEqual([acted]);
      expect(await audit().list({ clientId: `cli_${'x'.repeat(300)}`, limit: 10 })).toStrictEqual([]);
      // The details come back exactly as written.
      expect(await audit().list({ type: 'client.authentication', limit: 10 })).toStrictEqual([long, odd]);
    });

    it('keeps a batch written in several insertMany calls in one ordering', async () => {
      const parts = [ALL.slice(0, 400), ALL.slice(400, 401), ALL.slice(401)];
      for (const part of parts) await audit().insertMany(shuffled(part, 2));
      expect((await collect({}, 250)).map((e) => e.id)).toStrictEqual(newestFirst(ALL).map((e) => e.id));
    });
  });
}
