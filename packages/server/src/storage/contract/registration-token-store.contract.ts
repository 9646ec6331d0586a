import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createAuditEvent, type AuditEvent } from '../../core/audit/audit-event.js';
import { newId } from '../../core/random.js';
import type { RegistrationTokenRecord } from '../stores.js';
import { useFreshStores, type OpenStores } from './fresh-stores.js';

const T0 = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;

const hex = () => randomBytes(32).toString('hex');

function makeToken(overrides: Partial<RegistrationTokenRecord> = {}): RegistrationTokenRecord {
  return {
    id: newId('rgt'),
    hash: hex(),
    displayPrefix: 'iat_Ab12Cd',
    name: 'partner onboarding',
    tenantId: null,
    expiresAt: null,
    maxUses: null,
    uses: 0,
    revokedAt: null,
    createdBy: null,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

const tokenEvent = (type: 'registration_token.created' | 'registration_token.revoked', token: RegistrationTokenRecord, at: number): AuditEvent =>
  createAuditEvent(at, { type, outcome: 'success', tenantId: token.tenantId, details: { registrationTokenId: token.id } });

export function registrationTokenStoreContract(name: string, open: OpenStores): void {
  describe(`RegistrationTokenStore contract (${name})`, () => {
    const stores = useFreshStores(open);
    const tokens = () => stores().registrationTokens;

    it('round-trips every field, with numeric timestamps, and writes the events with the token', async () => {
      const token = makeToken({ tenantId: 'acme', expiresAt: T0 + MINUTE, maxUses: 3, uses: 1, revokedAt: T0 + 2, createdBy: 'key_x', updatedAt: T0 + 1 });
      const event = tokenEvent('registration_token.created', token, T0);
      await tokens().insert(token, [event]);
      const found = await tokens().findById(token.id);
      expect(found).toStrictEqual(token);
      expect(typeof found!.expiresAt).toBe('number');
      expect(await stores().audit.list({ limit: 10 })).toStrictEqual([event]);
      expect(await tokens().findById(newId('rgt'))).toBeUndefined();
      await expect(tokens().insert(token, [tokenEvent('registration_token.created', token, T0)])).rejects.toThrow();
      expect(await stores().audit.list({ limit: 10 })).toHaveLength(1);
    });

    it('lists newest first, filtered by tenant, paged by cursor', async () => {
      const a = makeToken({ createdAt: T0 + 1, tenantId: 'acme' });
      const b = makeToken({ createdAt: T0 + 2 });
      const c = makeToken({ createdAt: T0 + 3, tenantId: 'acme', revokedAt: T0 + 4 });
      for (const token of [a, b, c]) await tokens().insert(token, []);
      expect((await tokens().list({ limit: 10 })).map((t) => t.id)).toStrictEqual([c.id, b.id, a.id]);
      expect((await tokens().list({ limit: 10, tenantId: 'acme' })).map((t) => t.id)).toStrictEqual([c.id, a.id]);
      expect((await tokens().list({ limit: 10, after: { at: c.createdAt, id: c.id } })).map((t) => t.id)).toStrictEqual([b.id, a.id]);
    });

    it('consumes a use of a usable token only: not expired, not revoked, not used up', async () => {
      const open = makeToken();
      const expiring = makeToken({ expiresAt: T0 + MINUTE });
      const revoked = makeToken({ revokedAt: T0 });
      const once = makeToken({ maxUses: 1 });
      for (const token of [open, expiring, revoked, once]) await tokens().insert(token, []);
      expect(await tokens().consume(open.hash, T0 + 1)).toStrictEqual({ ...open, uses: 1, updatedAt: T0 + 1 });
      expect((await tokens().consume(open.hash, T0 + 2))?.uses).toBe(2);
      expect((await tokens().consume(expiring.hash, T0 + MINUTE - 1))?.uses).toBe(1);
      expect(await tokens().consume(expiring.hash, T0 + MINUTE)).toBeUndefined();
      expect(await tokens().consume(revoked.hash, T0 + 1)).toBeUndefined();
      expect((await tokens().consume(once.hash, T0 + 1))?.uses).toBe(1);
      expect(await tokens().consume(once.hash, T0 + 2)).toBeUndefined();
      expect((await tokens().findById(once.id))?.uses).toBe(1);
      expect(await tokens().consume(hex(), T0)).toBeUndefined();
    });

    it('of 10 registrations racing for the last 2 uses exactly 2 get one', async () => {
      const token = makeToken({ maxUses: 3, uses: 1 });
      await tokens().insert(token, []);
      await Promise.all(Array.from({ length: 5 }, () => tokens().findById('rgt_warm_up')));
      const results = await Promise.all(Array.from({ length: 10 }, () => tokens().consume(token.hash, T0 + 1)));
      expect(results.filter((r) => r !== undefined)).toHaveLength(2);
      expect((await tokens().findById(token.id))?.uses).toBe(3);
    });

    it('revokes once (changed true, events written), then changed false; undefined for an unknown id', async () => {
      const token = makeToken();
      await tokens().insert(token, []);
      const event = tokenEvent('registration_token.revoked', token, T0 + 5);
      const revoked = { ...token, revokedAt: T0 + 5, updatedAt: T0 + 5 };
      expect(await tokens().revoke(token.id, T0 + 5, [event])).toStrictEqual({ token: revoked, changed: true });
      expect(await tokens().revoke(token.id, T0 + 6, [tokenEvent('registration_token.revoked', token, T0 + 6)])).toStrictEqual({ token: revoked, changed: false });
      expect(await stores().audit.list({ limit: 10 })).toStrictEqual([event]);
      expect(await tokens().revoke(newId('rgt'), T0, [])).toBeUndefined();
      expect(await tokens().consume(token.hash, T0 + 7)).toBeUndefined();
    });
  });
}
