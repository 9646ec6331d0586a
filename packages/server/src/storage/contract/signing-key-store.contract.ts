import { describe, expect, it } from 'vitest';
import { createAuditEvent } from '../../core/audit/audit-event.js';
import type { SigningKeyRecord } from '../stores.js';
import { useFreshStores, type OpenStores } from './fresh-stores.js';

const T0 = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;

function record(kid: string, overrides: Partial<SigningKeyRecord> = {}): SigningKeyRecord {
  return {
    kid,
    alg: 'EdDSA',
    publicJwk: { kty: 'OKP', crv: 'Ed25519', x: `x-${kid}`, kid, alg: 'EdDSA', use: 'sig' },
    sealedPrivateKey: `v1.sealed-${kid}`,
    createdAt: T0,
    activatesAt: T0,
    retiredAt: null,
    publishUntil: null,
    ...overrides,
  };
}

export function signingKeyStoreContract(name: string, open: OpenStores): void {
  describe(`SigningKeyStore contract (${name})`, () => {
    const stores = useFreshStores(open);
    const keys = () => stores().signingKeys;

    it('lists nothing at first, then exactly what was inserted', async () => {
      expect(await keys().list()).toEqual([]);
      const first = record('sig_first');
      expect(await keys().insertInitial([first], [])).toBe(true);
      expect(await keys().list()).toEqual([first]);
    });

    it('inserts the initial key once: a second initial insert (another kid) does nothing', async () => {
      expect(await keys().insertInitial([record('sig_a')], [])).toBe(true);
      expect(await keys().insertInitial([record('sig_b')], [])).toBe(false);
      expect((await keys().list()).map((k) => k.kid)).toEqual(['sig_a']);
    });

    it('of concurrent initial inserts exactly one wins', async () => {
      const candidates = Array.from({ length: 8 }, (_, i) => record(`sig_race_${i}`));
      await Promise.all(candidates.map(() => stores().meta.get('warm-up')));
      const results = await Promise.all(candidates.map((candidate) => keys().insertInitial([candidate], [])));
      expect(results.filter(Boolean)).toHaveLength(1);
      const listed = await keys().list();
      expect(listed).toHaveLength(1);
      expect(listed[0]!.kid).toBe(candidates[results.indexOf(true)]!.kid);
    });

    it('writes the audit events with the initial key, and none when it loses', async () => {
      const event = createAuditEvent(T0, { type: 'signing_key.created', outcome: 'success', details: { kid: 'sig_a' } });
      await keys().insertInitial([record('sig_a')], [event]);
      await keys().insertInitial([record('sig_b')], [createAuditEvent(T0, { type: 'signing_key.created', outcome: 'success' })]);
      const events = await stores().audit.list({ type: 'signing_key.created', limit: 10 });
      expect(events).toEqual([event]);
    });

    it('rotate inserts the new key and retires the signing ones at its activation', async () => {
      await keys().insertInitial([record('sig_a')], []);
      const b = record('sig_b', { createdAt: T0 + MINUTE, activatesAt: T0 + 2 * MINUTE, alg: 'ES256' });
      const event = createAuditEvent(T0 + MINUTE, { type: 'signing_key.rotated', outcome: 'success', details: { kid: 'sig_b' } });
      expect(await keys().rotate({ keys: [b], previousPublishUntil: T0 + 100 * MINUTE, events: [event] })).toEqual(['sig_a']);
      expect(await keys().list()).toEqual([
        record('sig_a', { retiredAt: T0 + 2 * MINUTE, publishUntil: T0 + 100 * MINUTE }),
        b,
      ]);
      expect(await stores().audit.list({ type: 'signing_key.rotated', limit: 10 })).toEqual([event]);
    });

    it('rotate moves an earlier retirement forward, never back', async () => {
      await keys().insertInitial([record('sig_a')], []);
      // b activates in an hour; c, made later, activates in a minute: a and b both retire when c activates.
      await keys().rotate({ keys: [record('sig_b', { createdAt: T0, activatesAt: T0 + 60 * MINUTE })], previousPublishUntil: T0 + 200 * MINUTE, events: [] });
      const retired = await keys().rotate({
        keys: [record('sig_c', { createdAt: T0 + MINUTE, activatesAt: T0 + 2 * MINUTE })],
        previousPublishUntil: T0 + 150 * MINUTE,
        events: [],
      });
      expect(retired).toEqual(['sig_a', 'sig_b']);
      // d activates after c: c retires, a and b keep their earlier retirement.
      expect(
        await keys().rotate({ keys: [record('sig_d', { createdAt: T0 + 3 * MINUTE, activatesAt: T0 + 10 * MINUTE })], previousPublishUntil: T0 + 300 * MINUTE, events: [] }),
      ).toEqual(['sig_c']);
      const byKid = Object.fromEntries((await keys().list()).map((k) => [k.kid, [k.retiredAt, k.publishUntil]]));
      expect(byKid).toEqual({
        sig_a: [T0 + 2 * MINUTE, T0 + 150 * MINUTE],
        sig_b: [T0 + 2 * MINUTE, T0 + 150 * MINUTE],
        sig_c: [T0 + 10 * MINUTE, T0 + 300 * MINUTE],
        sig_d: [null, null],
      });
    });

    it('concurrent rotations are serialized: the last one to commit wins, every other key ends up retired', async () => {
      await keys().insertInitial([record('sig_a')], []);
      await Promise.all(Array.from({ length: 4 }, () => stores().meta.get('warm-up')));
      await Promise.all(
        Array.from({ length: 4 }, (_, i) =>
          keys().rotate({
            keys: [record(`sig_r${i}`, { createdAt: T0 + i, activatesAt: T0 + MINUTE + i })],
            previousPublishUntil: T0 + 100 * MINUTE + i,
            events: [],
          }),
        ),
      );
      const listed = await keys().list();
      expect(listed).toHaveLength(5);
      const unretired = listed.filter((k) => k.retiredAt === null);
      expect(unretired).toHaveLength(1);
      // Never two signing at once: every other key retires no later than the winner activates.
      for (const key of listed) if (key !== unretired[0]) expect(key.retiredAt!).toBeLessThanOrEqual(unretired[0]!.activatesAt);
    });

    it('inserts and rotates several keys (one per algorithm) together', async () => {
      const a = record('sig_a');
      const aRsa = record('sig_a_rsa', { alg: 'RS256' });
      expect(await keys().insertInitial([a, aRsa], [])).toBe(true);
      expect(await keys().insertInitial([record('sig_x'), record('sig_x_rsa', { alg: 'RS256' })], [])).toBe(false);
      const b = record('sig_b', { createdAt: T0 + MINUTE, activatesAt: T0 + 2 * MINUTE });
      const bRsa = record('sig_b_rsa', { alg: 'RS256', createdAt: T0 + MINUTE, activatesAt: T0 + 2 * MINUTE });
      expect(await keys().rotate({ keys: [b, bRsa], previousPublishUntil: T0 + 100 * MINUTE, events: [] })).toEqual(['sig_a', 'sig_a_rsa']);
      const byKid = Object.fromEntries((await keys().list()).map((k) => [k.kid, [k.alg, k.retiredAt, k.publishUntil]]));
      expect(byKid).toEqual({
        sig_a: ['EdDSA', T0 + 2 * MINUTE, T0 + 100 * MINUTE],
        sig_a_rsa: ['RS256', T0 + 2 * MINUTE, T0 + 100 * MINUTE],
        sig_b: ['EdDSA', null, null],
        sig_b_rsa: ['RS256', null, null],
      });
      await expect(
        keys().rotate({ keys: [record('sig_c', { activatesAt: T0 + 5 * MINUTE }), record('sig_c_rsa', { alg: 'RS256', activatesAt: T0 + 6 * MINUTE })], previousPublishUntil: T0, events: [] }),
      ).rejects.toThrow(/activate together/);
    });

    it('insertIfAlgMissing adds a key only while no key of its algorithm is unretired; concurrent calls add one', async () => {
      await keys().insertInitial([record('sig_a')], []);
      expect(await keys().insertIfAlgMissing(record('sig_ed2'), [])).toBe(false);
      const event = createAuditEvent(T0, { type: 'signing_key.created', outcome: 'success', details: { kid: 'sig_rsa_0' } });
      await Promise.all(Array.from({ length: 4 }, () => stores().meta.get('warm-up')));
      const results = await Promise.all(
        Array.from({ length: 4 }, (_, i) => keys().insertIfAlgMissing(record(`sig_rsa_${i}`, { alg: 'RS256' }), i === 0 ? [event] : [])),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const rsa = (await keys().list()).filter((k) => k.alg === 'RS256');
      expect(rsa).toHaveLength(1);
      expect(rsa[0]!.kid).toBe(`sig_rsa_${results.indexOf(true)}`);
      // Once the RS256 key is retired (by a rotation that made no RS256 key), one may be added again.
      await keys().rotate({ keys: [record('sig_b', { activatesAt: T0 + MINUTE })], previousPublishUntil: T0 + 10 * MINUTE, events: [] });
      expect(await keys().insertIfAlgMissing(record('sig_rsa_new', { alg: 'RS256' }), [])).toBe(true);
    });

    it('stores the sealed private key and the public JWK exactly, and lists by activation', async () => {
      const jwk = { kty: 'RSA', n: 'ünï'.repeat(200), e: 'AQAB', kid: 'sig_z', alg: 'RS256', use: 'sig' };
      await keys().insertInitial([record('sig_z', { alg: 'RS256', publicJwk: jwk, sealedPrivateKey: `v1.${'A'.repeat(3000)}` })], []);
      await keys().rotate({ keys: [record('sig_y', { activatesAt: T0 + 5 * MINUTE })], previousPublishUntil: T0 + 9 * MINUTE, events: [] });
      const listed = await keys().list();
      expect(listed.map((k) => k.kid)).toEqual(['sig_z', 'sig_y']);
      expect(listed[0]).toMatchObject({ publicJwk: jwk, sealedPrivateKey: `v1.${'A'.repeat(3000)}`, alg: 'RS256' });
    });
  });
}
