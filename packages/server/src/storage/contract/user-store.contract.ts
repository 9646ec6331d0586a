import { describe, expect, it } from 'vitest';
import { createAuditEvent, type AuditEvent, type AuditEventType } from '../../core/audit/audit-event.js';
import { newId } from '../../core/random.js';
import type { UserRecord } from '../stores.js';
import { useFreshStores, type OpenStores } from './fresh-stores.js';

const T0 = Date.UTC(2026, 0, 1);
let emailCounter = 0;

/** A minimal user; every test states what it needs on top. */
function makeUser(overrides: Partial<UserRecord> = {}): UserRecord {
  return {
    id: newId('usr'),
    email: `user${++emailCounter}@example.com`,
    passwordHash: '$scrypt$ln=14,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g',
    name: null,
    tenantId: null,
    createdAt: T0,
    updatedAt: T0,
    deletedAt: null,
    disabledAt: null,
    adminScopes: [],
    ...overrides,
  };
}

function userEvent(type: AuditEventType, user: UserRecord, at: number): AuditEvent {
  return createAuditEvent(at, { type, outcome: 'success', tenantId: user.tenantId, actorKeyId: 'key_actor', details: { userId: user.id } });
}

export function userStoreContract(name: string, open: OpenStores): void {
  describe(`UserStore contract (${name})`, () => {
    const stores = useFreshStores(open);
    const users = () => stores().users;
    const eventsOfType = async (type: AuditEventType) => stores().audit.list({ type, limit: 1_000 });
    const listIds = async (query: { tenantId?: string; limit?: number } = {}) =>
      (await users().list({ limit: 1_000, ...query })).map((u) => u.id);

    it('round-trips every field exactly, with numeric timestamps beyond 32 bits', async () => {
      const full = makeUser({
        name: 'Zoë Ünïcode — ✓',
        tenantId: 'tenant_acme',
        createdAt: Number.MAX_SAFE_INTEGER - 1,
        updatedAt: Number.MAX_SAFE_INTEGER,
        deletedAt: null,
        disabledAt: null,
        adminScopes: ['audit:read', 'keys:read'],
      });
      const minimal = makeUser();
      expect(await users().insert(full, [])).toBe('created');
      expect(await users().insert(minimal, [])).toBe('created');
      expect(await users().findById(full.id)).toStrictEqual(full);
      expect(await users().findByEmail(full.email)).toStrictEqual(full);
      expect(await users().findById(minimal.id)).toStrictEqual(minimal);
      const found = (await users().findById(full.id))!;
      expect(typeof found.createdAt).toBe('number');
      expect(typeof found.updatedAt).toBe('number');
    });

    it('returns undefined for an unknown id or email; lookups are exact', async () => {
      const user = makeUser();
      await users().insert(user, []);
      expect(await users().findById(newId('usr'))).toBeUndefined();
      expect(await users().findByEmail('nobody@example.com')).toBeUndefined();
      expect(await users().findByEmail(user.email.toUpperCase())).toBeUndefined();
      expect(await users().findById(user.email)).toBeUndefined();
      expect(await users().findByEmail(user.id)).toBeUndefined();
    });

    it('writes the audit events with the user; a duplicate email writes nothing and changes nothing', async () => {
      const user = makeUser({ name: 'first' });
      expect(await users().insert(user, [userEvent('user.created', user, T0)])).toBe('created');
      const duplicate = makeUser({ email: user.email, name: 'second' });
      expect(await users().insert(duplicate, [userEvent('user.created', duplicate, T0 + 1)])).toBe('email_taken');
      expect(await users().findByEmail(user.email)).toStrictEqual(user);
      expect(await users().findById(duplicate.id)).toBeUndefined();
      const events = await eventsOfType('user.created');
      expect(events.map((e) => e.details)).toStrictEqual([{ userId: user.id }]);
    });

    it('concurrent creates of one email: exactly one wins, and only its event is written', async () => {
      await Promise.all(Array.from({ length: 10 }, () => users().findById('usr_warm_up')));
      const contenders = Array.from({ length: 10 }, (_, i) => makeUser({ email: 'race@example.com', name: `contender ${i}` }));
      const outcomes = await Promise.all(contenders.map((u) => users().insert(u, [userEvent('user.created', u, T0)])));
      expect(outcomes.filter((o) => o === 'created')).toHaveLength(1);
      expect(outcomes.filter((o) => o === 'email_taken')).toHaveLength(9);
      const winner = contenders[outcomes.indexOf('created')]!;
      expect(await users().findByEmail('race@example.com')).toStrictEqual(winner);
      expect(await listIds()).toStrictEqual([winner.id]);
      expect((await eventsOfType('user.created')).map((e) => e.details)).toStrictEqual([{ userId: winner.id }]);
    });

    it('lists newest first (id breaks ties), by tenant, in pages that neither skip nor repeat', async () => {
      const made: UserRecord[] = [];
      for (let i = 0; i < 7; i++) {
        const user = makeUser({ createdAt: T0 + Math.floor(i / 2), tenantId: i % 3 === 0 ? 'acme' : null });
        made.push(user);
        await users().insert(user, []);
      }
      const expected = [...made]
        .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
        .map((u) => u.id);
      expect(await listIds()).toStrictEqual(expected);
      expect(await listIds({ tenantId: 'acme' })).toStrictEqual(expected.filter((id) => made.find((u) => u.id === id)!.tenantId === 'acme'));
      expect(await listIds({ tenantId: 'globex' })).toStrictEqual([]);

      const paged: string[] = [];
      let after: { at: number; id: string } | undefined;
      for (;;) {
        const page = await users().list({ limit: 3, ...(after ? { after } : {}) });
        paged.push(...page.map((u) => u.id));
        if (page.length < 3) break;
        const last = page[page.length - 1]!;
        after = { at: last.createdAt, id: last.id };
      }
      expect(paged).toStrictEqual(expected);
    });

    it('updatePasswordHash replaces the hash of a live user only', async () => {
      const user = makeUser();
      await users().insert(user, []);
      expect(await users().updatePasswordHash(user.id, '$scrypt$new', T0 + 5)).toBe(true);
      expect(await users().findById(user.id)).toStrictEqual({ ...user, passwordHash: '$scrypt$new', updatedAt: T0 + 5 });
      expect(await users().updatePasswordHash(newId('usr'), '$scrypt$x', T0)).toBe(false);
      await users().markDeleted(user.id, T0 + 6, []);
      expect(await users().updatePasswordHash(user.id, '$scrypt$late', T0 + 7)).toBe(false);
      expect((await users().findById(user.id))!.passwordHash).toBe('$scrypt$new');
    });

    it('markDeleted marks once with its events, hides the user from lists, and answers retries as they are', async () => {
      const user = makeUser();
      const other = makeUser();
      await users().insert(user, []);
      await users().insert(other, []);
      const first = await users().markDeleted(user.id, T0 + 10, [userEvent('user.deleted', user, T0 + 10)]);
      expect(first).toStrictEqual({ user: { ...user, deletedAt: T0 + 10, updatedAt: T0 + 10 }, changed: true });
      const again = await users().markDeleted(user.id, T0 + 20, [userEvent('user.deleted', user, T0 + 20)]);
      expect(again).toStrictEqual({ user: { ...user, deletedAt: T0 + 10, updatedAt: T0 + 10 }, changed: false });
      expect(await users().markDeleted(newId('usr'), T0, [])).toBeUndefined();
      expect((await eventsOfType('user.deleted')).map((e) => e.occurredAt)).toStrictEqual([T0 + 10]);
      expect(await listIds()).toStrictEqual([other.id]);
      // Still found by id and email, so a deletion can be completed and a login refused.
      expect((await users().findById(user.id))!.deletedAt).toBe(T0 + 10);
      expect((await users().findByEmail(user.email))!.deletedAt).toBe(T0 + 10);
    });

    it('concurrent markDeleted calls: exactly one marks the user', async () => {
      const user = makeUser();
      await users().insert(user, []);
      await Promise.all(Array.from({ length: 10 }, () => users().findById('usr_warm_up')));
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => users().markDeleted(user.id, T0 + i, [userEvent('user.deleted', user, T0 + i)])),
      );
      expect(results.filter((r) => r?.changed)).toHaveLength(1);
      expect(await eventsOfType('user.deleted')).toHaveLength(1);
    });

    it('purge removes only a user marked deleted, idempotently; the email is free again afterwards', async () => {
      const live = makeUser();
      const doomed = makeUser();
      await users().insert(live, []);
      await users().insert(doomed, []);
      await users().purge(live.id);
      expect(await users().findById(live.id)).toStrictEqual(live);

      await users().markDeleted(doomed.id, T0 + 1, []);
      expect(await users().insert(makeUser({ email: doomed.email }), [])).toBe('email_taken');
      await users().purge(doomed.id);
      await users().purge(doomed.id);
      expect(await users().findById(doomed.id)).toBeUndefined();
      expect(await users().findByEmail(doomed.email)).toBeUndefined();
      const reborn = makeUser({ email: doomed.email });
      expect(await users().insert(reborn, [])).toBe('created');
      expect(await users().findByEmail(doomed.email)).toStrictEqual(reborn);
    });

    it('update applies the patch and its event in one write; an email held by another user writes nothing', async () => {
      const ada = makeUser({ name: 'Ada' });
      const grace = makeUser();
      await users().insert(ada, []);
      await users().insert(grace, []);
      const updated = await users().update(ada.id, { name: null, disabledAt: T0 + 5, passwordHash: 'new-hash', email: 'ada@new.example' }, T0 + 5, [
        userEvent('user.updated', ada, T0 + 5),
      ]);
      expect(updated).toStrictEqual({
        user: { ...ada, name: null, disabledAt: T0 + 5, passwordHash: 'new-hash', email: 'ada@new.example', updatedAt: T0 + 5 },
      });
      expect(await users().findById(ada.id)).toStrictEqual((updated as { user: UserRecord }).user);
      expect(await eventsOfType('user.updated')).toHaveLength(1);

      expect(await users().update(ada.id, { email: grace.email, name: 'lost' }, T0 + 6, [userEvent('user.updated', ada, T0 + 6)])).toBe('email_taken');
      expect((await users().findById(ada.id))!.name).toBeNull();
      expect(await eventsOfType('user.updated')).toHaveLength(1);
      // Its own email is not taken; re-enabling clears disabledAt.
      expect(await users().update(ada.id, { email: 'ada@new.example', disabledAt: null }, T0 + 7, [])).toMatchObject({ user: { disabledAt: null } });
      expect(await users().update('usr_missing', { name: 'x' }, T0 + 8, [])).toBeUndefined();
    });

    it('update replaces admin roles; firstRunDone follows admin users not being deleted', async () => {
      const user = makeUser();
      await users().insert(user, []);
      expect(await users().firstRunDone()).toBe(false);
      const updated = await users().update(user.id, { adminScopes: ['keys:read'] }, T0 + 1, []);
      expect(updated).toStrictEqual({ user: { ...user, adminScopes: ['keys:read'], updatedAt: T0 + 1 } });
      expect(await users().firstRunDone()).toBe(true);
      await users().update(user.id, { adminScopes: [] }, T0 + 2, []);
      expect(await users().firstRunDone()).toBe(false);
      const admin = makeUser({ adminScopes: ['admin'] });
      await users().insert(admin, []);
      expect(await users().firstRunDone()).toBe(true);
      await users().markDeleted(admin.id, T0 + 3, []);
      expect(await users().firstRunDone()).toBe(false);
    });

    it('insertFirstAdmin creates one administrator, once ever, and nothing while another exists', async () => {
      const first = makeUser({ adminScopes: ['admin'] });
      const event = userEvent('user.created', first, T0);
      // An email taken writes nothing, and leaves the first run open.
      const holder = makeUser();
      await users().insert(holder, []);
      expect(await users().insertFirstAdmin({ ...first, email: holder.email }, [event])).toBe('email_taken');
      expect(await eventsOfType('user.created')).toEqual([]);
      expect(await users().firstRunDone()).toBe(false);

      expect(await users().insertFirstAdmin(first, [event])).toBe('created');
      expect(await users().findById(first.id)).toStrictEqual(first);
      expect((await eventsOfType('user.created')).map((e) => e.id)).toEqual([event.id]);
      const second = makeUser({ adminScopes: ['admin'] });
      expect(await users().insertFirstAdmin(second, [userEvent('user.created', second, T0)])).toBe('setup_done');
      expect(await users().findById(second.id)).toBeUndefined();
      // Once ever: deleting the administrator does not reopen it.
      await users().markDeleted(first.id, T0 + 1, []);
      await users().purge(first.id);
      expect(await users().firstRunDone()).toBe(true);
      expect(await users().insertFirstAdmin(second, [])).toBe('setup_done');
    });

    it('insertFirstAdmin while an administrator exists (made otherwise) writes nothing', async () => {
      await users().insert(makeUser({ adminScopes: ['users:write'] }), []);
      const first = makeUser({ adminScopes: ['admin'] });
      expect(await users().insertFirstAdmin(first, [])).toBe('setup_done');
      expect(await users().findById(first.id)).toBeUndefined();
    });

    it('concurrent insertFirstAdmin calls: exactly one administrator', async () => {
      const candidates = Array.from({ length: 5 }, () => makeUser({ adminScopes: ['admin'] }));
      const outcomes = await Promise.all(candidates.map((user) => users().insertFirstAdmin(user, [])));
      expect(outcomes.filter((o) => o === 'created')).toHaveLength(1);
      expect(outcomes.filter((o) => o === 'setup_done')).toHaveLength(4);
    });

    it('concurrent updates to one email: exactly one user gets it', async () => {
      const many = Array.from({ length: 6 }, () => makeUser());
      for (const user of many) await users().insert(user, []);
      const outcomes = await Promise.all(many.map((user) => users().update(user.id, { email: 'contested@example.com' }, T0 + 1, [])));
      expect(outcomes.filter((o) => o === 'email_taken')).toHaveLength(5);
      expect(outcomes.filter((o) => typeof o === 'object')).toHaveLength(1);
    });
  });
}
