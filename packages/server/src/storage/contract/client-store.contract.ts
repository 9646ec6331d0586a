import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createAuditEvent, type AuditEvent, type AuditEventType } from '../../core/audit/audit-event.js';
import { newId } from '../../core/random.js';
import type { AuthorizationCodeRecord, OAuthClientRecord, RotateClientSecretInput } from '../stores.js';
import { useFreshStores, type OpenStores } from './fresh-stores.js';

const T0 = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

const hex = () => randomBytes(32).toString('hex');

/** A minimal public client; every test states what it needs on top. */
function makeClient(overrides: Partial<OAuthClientRecord> = {}): OAuthClientRecord {
  return {
    id: newId('cli'),
    name: 'spa',
    redirectUris: ['https://app.example.com/cb'],
    allowedOrigins: [],
    postLogoutRedirectUris: [],
    grantTypes: ['authorization_code'],
    scopes: [],
    tokenEndpointAuthMethod: 'none',
    audiences: [],
    defaultAudience: null,
    tenantId: null,
    accessTokenTtlSeconds: null,
    idTokenSignedResponseAlg: 'RS256',
    tlsClientAuth: null,
    jwks: null,
    registration: 'admin',
    registrationAccessTokenHash: null,
    registeredAddress: null,
    registrationMetadata: null,
    lastUsedAt: null,
    secretHash: null,
    secretPrefix: null,
    previousSecretHash: null,
    previousSecretExpiresAt: null,
    version: 1,
    createdBy: null,
    createdAt: T0,
    updatedAt: T0,
    deletedAt: null,
    ...overrides,
  };
}

/** A confidential client with every optional field set. */
function makeFullClient(overrides: Partial<OAuthClientRecord> = {}): OAuthClientRecord {
  return makeClient({
    name: 'billing — Zürich ✓',
    redirectUris: ['https://app.example.com/cb', 'http://127.0.0.1/cb', 'com.example.app:/cb'],
    allowedOrigins: ['https://app.example.com', 'http://127.0.0.1:5173'],
    postLogoutRedirectUris: ['https://app.example.com/signed-out', 'com.example.app:/bye'],
    grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'],
    scopes: ['invoices:read', 'openid'],
    tokenEndpointAuthMethod: 'client_secret_basic',
    audiences: ['https://api.example.com', 'https://other.example.com'],
    defaultAudience: 'https://api.example.com',
    tenantId: 'tenant_acme',
    accessTokenTtlSeconds: 600,
    idTokenSignedResponseAlg: 'EdDSA',
    tlsClientAuth: { field: 'san_uri', value: 'spiffe://example.com/client/cli_x' },
    jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', x5c: ['MIIB'] }] },
    secretHash: hex(),
    secretPrefix: 'cs_Ab12Cd',
    previousSecretHash: hex(),
    previousSecretExpiresAt: T0 + DAY,
    version: 3,
    createdBy: newId('key'),
    createdAt: T0 + 1,
    updatedAt: T0 + 2,
    ...overrides,
  });
}

function clientEvent(type: AuditEventType, client: OAuthClientRecord, at: number): AuditEvent {
  return createAuditEvent(at, { type, outcome: 'success', tenantId: client.tenantId, actorKeyId: 'key_actor', details: { clientId: client.id } });
}

export function clientStoreContract(name: string, open: OpenStores): void {
  describe(`ClientStore contract (${name})`, () => {
    const stores = useFreshStores(open);
    const clients = () => stores().clients;
    const allEvents = () => stores().audit.list({ limit: 1_000 });
    const warmUp = async () => {
      await Promise.all(Array.from({ length: 10 }, () => clients().findById('cli_warm_up')));
    };

    describe('insert and findById', () => {
      it('round-trips every field of a fully populated client exactly, with numeric timestamps', async () => {
        const client = makeFullClient({ deletedAt: T0 + 3 });
        await clients().insert(client, []);
        const found = await clients().findById(client.id);
        expect(found).toStrictEqual(client);
        for (const field of ['createdAt', 'updatedAt', 'previousSecretExpiresAt', 'deletedAt', 'version', 'accessTokenTtlSeconds'] as const) {
          expect(typeof found![field], field).toBe('number');
        }
      });

      it('round-trips a minimal public client (nulls and empty arrays)', async () => {
        const client = makeClient({ redirectUris: [] });
        await clients().insert(client, []);
        expect(await clients().findById(client.id)).toStrictEqual(client);
      });

      it('answers undefined for an unknown id', async () => {
        expect(await clients().findById(newId('cli'))).toBeUndefined();
      });

      it('writes the audit events with the client, and neither when the insert fails', async () => {
        const client = makeClient();
        const event = clientEvent('client.created', client, T0);
        await clients().insert(client, [event]);
        expect(await allEvents()).toStrictEqual([event]);
        await expect(clients().insert(client, [clientEvent('client.created', client, T0)])).rejects.toThrow();
        expect(await allEvents()).toStrictEqual([event]);
      });
    });

    describe('list', () => {
      it('newest first, ties by id, without deleted clients, filtered by tenant, paged by cursor', async () => {
        const a = makeClient({ createdAt: T0 + 1, tenantId: 'acme' });
        const b = makeClient({ createdAt: T0 + 2 });
        const c = makeClient({ createdAt: T0 + 2, tenantId: 'acme' });
        const deleted = makeClient({ createdAt: T0 + 3, deletedAt: T0 + 4 });
        for (const client of [a, b, c, deleted]) await clients().insert(client, []);
        const tied = [b, c].sort((x, y) => (x.id < y.id ? 1 : -1));

        const all = await clients().list({ limit: 100 });
        expect(all.map((x) => x.id)).toStrictEqual([...tied.map((x) => x.id), a.id]);
        expect((await clients().list({ limit: 100, tenantId: 'acme' })).map((x) => x.id)).toStrictEqual([c.id, a.id]);

        const first = await clients().list({ limit: 1 });
        expect(first.map((x) => x.id)).toStrictEqual([tied[0]!.id]);
        const rest = await clients().list({ limit: 10, after: { at: first[0]!.createdAt, id: first[0]!.id } });
        expect(rest.map((x) => x.id)).toStrictEqual([tied[1]!.id, a.id]);
      });
    });

    describe('update', () => {
      const now = T0 + MINUTE;

      it('applies the patch, bumps the version, sets updatedAt and writes the events atomically', async () => {
        const client = makeFullClient();
        await clients().insert(client, []);
        const event = clientEvent('client.updated', client, now);
        const outcome = await clients().update(
          client.id,
          client.version,
          { name: 'renamed', scopes: ['a'], defaultAudience: null, accessTokenTtlSeconds: null, idTokenSignedResponseAlg: 'ES256', grantTypes: ['client_credentials'], allowedOrigins: ['https://spa.example.com'] },
          now,
          [event],
        );
        const expected = {
          ...client,
          name: 'renamed',
          allowedOrigins: ['https://spa.example.com'],
          scopes: ['a'],
          defaultAudience: null,
          accessTokenTtlSeconds: null,
          idTokenSignedResponseAlg: 'ES256' as const,
          grantTypes: ['client_credentials' as const],
          version: client.version + 1,
          updatedAt: now,
        };
        expect(outcome).toStrictEqual({ ok: true, client: expected });
        expect(await clients().findById(client.id)).toStrictEqual(expected);
        expect(await allEvents()).toStrictEqual([event]);
      });

      it('not_found for an unknown or deleted client; conflict for a stale version; nothing written', async () => {
        const deleted = makeClient({ deletedAt: T0 });
        const live = makeClient({ version: 2 });
        await clients().insert(deleted, []);
        await clients().insert(live, []);
        const ev = () => [clientEvent('client.updated', live, now)];
        expect(await clients().update(newId('cli'), 1, { name: 'x' }, now, ev())).toStrictEqual({ ok: false, reason: 'not_found' });
        expect(await clients().update(deleted.id, 1, { name: 'x' }, now, ev())).toStrictEqual({ ok: false, reason: 'not_found' });
        expect(await clients().update(live.id, 1, { name: 'x' }, now, ev())).toStrictEqual({ ok: false, reason: 'conflict' });
        expect(await clients().findById(live.id)).toStrictEqual(live);
        expect(await allEvents()).toStrictEqual([]);
      });

      it('of 10 concurrent updates from one version exactly one applies', async () => {
        const client = makeClient();
        await clients().insert(client, []);
        await warmUp();
        const outcomes = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            clients().update(client.id, client.version, { name: `n${i}` }, now, [clientEvent('client.updated', client, now)]),
          ),
        );
        const winners = outcomes.flatMap((o, i) => (o.ok ? [i] : []));
        expect(winners).toHaveLength(1);
        expect(outcomes.filter((o) => !o.ok && o.reason === 'conflict')).toHaveLength(9);
        expect((await clients().findById(client.id))!).toMatchObject({ name: `n${winners[0]}`, version: 2 });
        expect(await allEvents()).toHaveLength(1);
      });
    });

    describe('rotateSecret', () => {
      const now = T0 + MINUTE;
      const rotation = (client: OAuthClientRecord, overrides: Partial<RotateClientSecretInput> = {}): RotateClientSecretInput => ({
        id: client.id,
        expectedSecretHash: client.secretHash!,
        secretHash: hex(),
        secretPrefix: 'cs_New123',
        previousSecretExpiresAt: now + DAY,
        now,
        events: [clientEvent('client.secret_rotated', client, now)],
        ...overrides,
      });

      it('makes the current secret the previous one until the given time, and writes the events', async () => {
        const client = makeFullClient();
        await clients().insert(client, []);
        const input = rotation(client);
        const expected = {
          ...client,
          secretHash: input.secretHash,
          secretPrefix: 'cs_New123',
          previousSecretHash: client.secretHash,
          previousSecretExpiresAt: now + DAY,
          version: client.version + 1,
          updatedAt: now,
        };
        expect(await clients().rotateSecret(input)).toStrictEqual({ ok: true, client: expected });
        expect(await clients().findById(client.id)).toStrictEqual(expected);
        expect(await allEvents()).toStrictEqual(input.events);
      });

      it('without a grace period drops the replaced secret at once', async () => {
        const client = makeFullClient();
        await clients().insert(client, []);
        const outcome = await clients().rotateSecret(rotation(client, { previousSecretExpiresAt: null }));
        expect(outcome.ok && outcome.client).toMatchObject({ previousSecretHash: null, previousSecretExpiresAt: null });
      });

      it('conflict when the secret is no longer the one expected; not_found when deleted or unknown', async () => {
        const client = makeFullClient();
        const deleted = makeFullClient({ deletedAt: T0 });
        await clients().insert(client, []);
        await clients().insert(deleted, []);
        expect(await clients().rotateSecret(rotation(client, { expectedSecretHash: hex() }))).toStrictEqual({ ok: false, reason: 'conflict' });
        expect(await clients().rotateSecret(rotation(deleted))).toStrictEqual({ ok: false, reason: 'not_found' });
        expect(await clients().rotateSecret(rotation(makeFullClient()))).toStrictEqual({ ok: false, reason: 'not_found' });
        expect(await clients().findById(client.id)).toStrictEqual(client);
        expect(await allEvents()).toStrictEqual([]);
      });

      it('of 10 concurrent rotations exactly one wins; its secret is current and the original is the previous one', async () => {
        const client = makeFullClient();
        await clients().insert(client, []);
        const inputs = Array.from({ length: 10 }, () => rotation(client));
        await warmUp();
        const outcomes = await Promise.all(inputs.map((input) => clients().rotateSecret(input)));
        const winners = outcomes.flatMap((o, i) => (o.ok ? [i] : []));
        expect(winners).toHaveLength(1);
        expect(outcomes.filter((o) => !o.ok && o.reason === 'conflict')).toHaveLength(9);
        const stored = await clients().findById(client.id);
        expect(stored).toMatchObject({
          secretHash: inputs[winners[0]!]!.secretHash,
          previousSecretHash: client.secretHash,
          version: client.version + 1,
        });
        expect((await allEvents()).map((e) => e.id)).toStrictEqual(inputs[winners[0]!]!.events.map((e) => e.id));
      });
    });

    describe('softDelete', () => {
      const now = T0 + MINUTE;

      it('deletes once (changed true, events written), then answers changed false without events', async () => {
        const client = makeFullClient();
        await clients().insert(client, []);
        const event = clientEvent('client.deleted', client, now);
        const deleted = { ...client, deletedAt: now, updatedAt: now, version: client.version + 1 };
        expect(await clients().softDelete(client.id, now, [event])).toStrictEqual({ client: deleted, changed: true });
        expect(await clients().softDelete(client.id, now + MINUTE, [clientEvent('client.deleted', client, now)])).toStrictEqual({
          client: deleted,
          changed: false,
        });
        expect(await clients().findById(client.id)).toStrictEqual(deleted);
        expect(await allEvents()).toStrictEqual([event]);
        expect(await clients().list({ limit: 10 })).toStrictEqual([]);
      });

      it('answers undefined for an unknown client', async () => {
        expect(await clients().softDelete(newId('cli'), now, [])).toBeUndefined();
      });

      it('of 10 concurrent deletions exactly one reports changed', async () => {
        const client = makeClient();
        await clients().insert(client, []);
        await warmUp();
        const results = await Promise.all(
          Array.from({ length: 10 }, () => clients().softDelete(client.id, now, [clientEvent('client.deleted', client, now)])),
        );
        expect(results.filter((r) => r?.changed)).toHaveLength(1);
        expect(await allEvents()).toHaveLength(1);
      });
    });

    describe('dynamic registration', () => {
      const dynamic = (overrides: Partial<OAuthClientRecord> = {}) =>
        makeClient({
          registration: 'dynamic',
          registrationAccessTokenHash: hex(),
          registeredAddress: '203.0.113.7',
          registrationMetadata: { clientUri: 'https://app.example.com', contacts: ['ops@example.com'], softwareId: 'app' },
          ...overrides,
        });

      it('round-trips registration, the token hash, the address, the metadata and lastUsedAt', async () => {
        const client = dynamic({ lastUsedAt: T0 + 5 });
        await clients().insert(client, []);
        expect(await clients().findById(client.id)).toStrictEqual(client);
        const admin = makeClient();
        await clients().insert(admin, []);
        expect((await clients().findById(admin.id))?.registration).toBe('admin');
      });

      it('updates the registration metadata like any other field', async () => {
        const client = dynamic();
        await clients().insert(client, []);
        const outcome = await clients().update(client.id, 1, { registrationMetadata: { logoUri: 'https://app.example.com/logo.png' } }, T0 + 1, []);
        expect(outcome.ok && outcome.client.registrationMetadata).toStrictEqual({ logoUri: 'https://app.example.com/logo.png' });
        expect((await clients().findById(client.id))?.registrationAccessTokenHash).toBe(client.registrationAccessTokenHash);
      });

      it('lists by registration, and counts the live dynamic clients of an address', async () => {
        const a = dynamic({ createdAt: T0 + 1 });
        const b = dynamic({ createdAt: T0 + 2, registeredAddress: '2001:db8::1' });
        const gone = dynamic({ createdAt: T0 + 3, deletedAt: T0 + 4 });
        const admin = makeClient({ createdAt: T0 + 5 });
        for (const client of [a, b, gone, admin]) await clients().insert(client, []);
        expect((await clients().list({ limit: 10, registration: 'dynamic' })).map((c) => c.id)).toStrictEqual([b.id, a.id]);
        expect((await clients().list({ limit: 10, registration: 'admin' })).map((c) => c.id)).toStrictEqual([admin.id]);
        expect(await clients().countDynamicByAddress('203.0.113.7')).toBe(1);
        expect(await clients().countDynamicByAddress('2001:db8::1')).toBe(1);
        expect(await clients().countDynamicByAddress('198.51.100.1')).toBe(0);
      });

      it('deletes the dynamic clients idle since the cutoff, once each, with their events', async () => {
        const cutoff = T0 + 10 * DAY;
        const idle = dynamic({ createdAt: T0 });
        const young = dynamic({ createdAt: cutoff + 1 });
        const usedLately = dynamic({ createdAt: T0, lastUsedAt: cutoff + MINUTE });
        const usedLongAgo = dynamic({ createdAt: T0, lastUsedAt: T0 + DAY });
        const withGrant = dynamic({ createdAt: T0 });
        const admin = makeClient({ createdAt: T0 });
        for (const client of [idle, young, usedLately, usedLongAgo, withGrant, admin]) await clients().insert(client, []);
        // withGrant obtained a grant after the cutoff.
        const code: AuthorizationCodeRecord = {
          hash: 'd'.repeat(64),
          clientId: withGrant.id,
          userId: 'usr_1',
          tenantId: null,
          redirectUri: 'https://app.example.com/cb',
          codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
          scopes: ['openid'],
          audience: [],
          nonce: null,
          authTime: cutoff + MINUTE,
          createdAt: cutoff + MINUTE,
          expiresAt: cutoff + 2 * MINUTE,
          redeemedAt: null,
          grantId: null,
        };
        await stores().grants.insertCode(code);
        const now = cutoff + 2 * MINUTE;
        await stores().grants.redeemCode({
          codeHash: code.hash,
          now: cutoff + MINUTE,
          grant: { id: 'grt_dyn', clientId: withGrant.id, userId: 'usr_1', tenantId: null, scopes: ['openid'], audience: [], authTime: cutoff, createdAt: cutoff + MINUTE, expiresAt: now + DAY, revokedAt: null, revokedReason: null, certificateThumbprint: null },
          refreshToken: null,
          accessToken: { jti: 'jti_dyn', grantId: 'grt_dyn', expiresAt: now + DAY },
          events: [],
        });
        const eventFor = (client: OAuthClientRecord) => clientEvent('client.expired', client, now);
        const [first, second] = await Promise.all([
          clients().deleteIdleDynamic(cutoff, now, 100, eventFor),
          clients().deleteIdleDynamic(cutoff, now, 100, eventFor),
        ]);
        const deleted = [...first!, ...second!].map((c) => c.id).sort();
        expect(deleted).toStrictEqual([idle.id, usedLongAgo.id].sort());
        expect((await clients().findById(idle.id))?.deletedAt).toBe(now);
        for (const kept of [young, usedLately, withGrant, admin]) expect((await clients().findById(kept.id))?.deletedAt).toBeNull();
        const events = await allEvents();
        expect(events.map((e) => [e.type, e.details?.clientId]).sort()).toStrictEqual(
          [['client.expired', idle.id], ['client.expired', usedLongAgo.id]].sort(),
        );
        expect(await clients().deleteIdleDynamic(cutoff, now, 100, eventFor)).toStrictEqual([]);
      });
    });

    describe('listChangedSince', () => {
      it('the clients changed (deleted ones too) after a time, most recently changed first, at most the limit', async () => {
        const untouched = makeClient({ updatedAt: T0 });
        const deleted = makeClient({ updatedAt: T0 });
        for (const client of [untouched, deleted]) await clients().insert(client, []);
        expect(await clients().listChangedSince(T0, 10)).toStrictEqual([]);
        await clients().softDelete(deleted.id, T0 + 60_000, []);
        const changed = await clients().listChangedSince(T0, 10);
        expect(changed).toStrictEqual([{ id: deleted.id, hash: deleted.id, updatedAt: T0 + 60_000 }]);
        expect(typeof changed[0]!.updatedAt).toBe('number');
        expect(await clients().listChangedSince(T0 + 60_000, 10)).toStrictEqual([]);
      });
    });
  });
}
