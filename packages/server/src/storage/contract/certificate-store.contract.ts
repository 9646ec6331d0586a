import { describe, expect, it } from 'vitest';
import { createAuditEvent } from '../../core/audit/audit-event.js';
import type { CertificateAuthorityRecord, IssuedCertificateRecord } from '../stores.js';
import { useFreshStores, type OpenStores } from './fresh-stores.js';

const T0 = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

function authority(id: string, overrides: Partial<CertificateAuthorityRecord> = {}): CertificateAuthorityRecord {
  return {
    id,
    certificatePem: `-----BEGIN CERTIFICATE-----\n${id}\n-----END CERTIFICATE-----\n`,
    sealedPrivateKey: `v1.sealed-${id}`,
    createdAt: T0,
    notAfter: T0 + 3650 * 24 * HOUR,
    retiredAt: null,
    trustedUntil: null,
    ...overrides,
  };
}

let serial = 0x10;
function certificate(overrides: Partial<IssuedCertificateRecord> = {}): IssuedCertificateRecord {
  const serialNumber = (serial++).toString(16).padStart(32, '1');
  return {
    id: `crt_${serialNumber}`,
    serialNumber,
    authorityId: 'ca_a',
    commonName: 'billing',
    clientId: null,
    service: 'billing',
    sanUri: 'spiffe://example.com/service/billing',
    thumbprint: `thumb-${serialNumber}`,
    certificatePem: 'PEM',
    notBefore: T0,
    notAfter: T0 + 24 * HOUR,
    keyGenerated: false,
    tenantId: null,
    createdBy: 'key_admin',
    createdAt: T0,
    revokedAt: null,
    revokedReason: null,
    ...overrides,
  };
}

export function certificateStoreContract(name: string, open: OpenStores): void {
  describe(`CertificateStore contract (${name})`, () => {
    const stores = useFreshStores(open);
    const certs = () => stores().certificates;

    it('inserts the initial authority once; of concurrent inserts exactly one wins, with its events', async () => {
      expect(await certs().listAuthorities()).toEqual([]);
      const candidates = Array.from({ length: 6 }, (_, i) => authority(`ca_race_${i}`));
      await stores().meta.get('warm-up');
      const events = candidates.map((c) => createAuditEvent(T0, { type: 'ca.created', outcome: 'success', details: { authorityId: c.id } }));
      const results = await Promise.all(candidates.map((c, i) => certs().insertInitialAuthority(c, [events[i]!])));
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect(await certs().listAuthorities()).toEqual([candidates[winner]]);
      expect(await stores().audit.list({ type: 'ca.created', limit: 10 })).toEqual([events[winner]]);
      expect(await certs().insertInitialAuthority(authority('ca_late'), [])).toBe(false);
    });

    it('rotation retires every current authority, trusted until the given time, and keeps the new one current', async () => {
      await certs().insertInitialAuthority(authority('ca_a'), []);
      const b = authority('ca_b', { createdAt: T0 + HOUR });
      expect(await certs().rotateAuthority(b, T0 + 30 * HOUR, [])).toEqual(['ca_a']);
      const c = authority('ca_c', { createdAt: T0 + 2 * HOUR });
      expect(await certs().rotateAuthority(c, T0 + 40 * HOUR, [])).toEqual(['ca_b']);
      const listed = await certs().listAuthorities();
      expect(listed.map((a) => [a.id, a.retiredAt, a.trustedUntil])).toEqual([
        ['ca_a', T0 + HOUR, T0 + 30 * HOUR],
        ['ca_b', T0 + 2 * HOUR, T0 + 40 * HOUR],
        ['ca_c', null, null],
      ]);
    });

    it('concurrent rotations leave exactly one current authority', async () => {
      await certs().insertInitialAuthority(authority('ca_a'), []);
      await Promise.all(
        Array.from({ length: 5 }, (_, i) => certs().rotateAuthority(authority(`ca_r${i}`, { createdAt: T0 + HOUR }), T0 + 9 * HOUR, [])),
      );
      const listed = await certs().listAuthorities();
      expect(listed).toHaveLength(6);
      expect(listed.filter((a) => a.retiredAt === null)).toHaveLength(1);
    });

    it('stores issued certificates and finds them by serial number', async () => {
      const cert = certificate({ keyGenerated: true, tenantId: 'acme', clientId: 'cli_x', service: null });
      const event = createAuditEvent(T0, { type: 'certificate.issued', outcome: 'success' });
      await certs().insertCertificate(cert, [event]);
      expect(await certs().findCertificate(cert.serialNumber)).toEqual(cert);
      expect(await certs().findCertificate('00')).toBeUndefined();
      expect(await stores().audit.list({ type: 'certificate.issued', limit: 10 })).toEqual([event]);
    });

    it('refuses a second certificate with the same serial number, writing nothing', async () => {
      const cert = certificate();
      await certs().insertCertificate(cert, []);
      const event = createAuditEvent(T0, { type: 'certificate.issued', outcome: 'success' });
      await expect(certs().insertCertificate({ ...cert, id: 'crt_other' }, [event])).rejects.toThrow();
      expect(await stores().audit.list({ type: 'certificate.issued', limit: 10 })).toEqual([]);
    });

    it('lists newest first, by page, filtered by tenant, client and status', async () => {
      const made: IssuedCertificateRecord[] = [];
      for (let i = 0; i < 5; i++) {
        const cert = certificate({
          createdAt: T0 + i,
          notAfter: i === 1 ? T0 + 10 : T0 + 24 * HOUR,
          tenantId: i % 2 === 0 ? 'acme' : null,
          clientId: i === 4 ? 'cli_four' : null,
        });
        made.push(cert);
        await certs().insertCertificate(cert, []);
      }
      await certs().revokeCertificate(made[2]!.serialNumber, T0 + 20, 'compromised', []);
      const now = T0 + HOUR;
      const ids = (list: IssuedCertificateRecord[]) => list.map((c) => c.id);
      expect(ids(await certs().listCertificates({ now, limit: 10 }))).toEqual(ids([...made].reverse()));
      const first = await certs().listCertificates({ now, limit: 2 });
      const next = await certs().listCertificates({ now, limit: 2, after: { at: first[1]!.createdAt, id: first[1]!.id } });
      expect(ids(next)).toEqual([made[2]!.id, made[1]!.id]);
      expect(ids(await certs().listCertificates({ now, limit: 10, tenantId: 'acme' }))).toEqual([made[4]!.id, made[2]!.id, made[0]!.id]);
      expect(ids(await certs().listCertificates({ now, limit: 10, clientId: 'cli_four' }))).toEqual([made[4]!.id]);
      expect(ids(await certs().listCertificates({ now, limit: 10, status: 'revoked' }))).toEqual([made[2]!.id]);
      expect(ids(await certs().listCertificates({ now, limit: 10, status: 'expired' }))).toEqual([made[1]!.id]);
      expect(ids(await certs().listCertificates({ now, limit: 10, status: 'active' }))).toEqual([made[4]!.id, made[3]!.id, made[0]!.id]);
    });

    it('revokes once: the second call changes nothing and writes no event; unknown serials are undefined', async () => {
      const cert = certificate();
      await certs().insertCertificate(cert, []);
      const event = createAuditEvent(T0, { type: 'certificate.revoked', outcome: 'success' });
      const first = await certs().revokeCertificate(cert.serialNumber, T0 + 5, 'key lost', [event]);
      expect(first).toEqual({ certificate: { ...cert, revokedAt: T0 + 5, revokedReason: 'key lost' }, changed: true });
      const again = await certs().revokeCertificate(cert.serialNumber, T0 + 9, null, [createAuditEvent(T0, { type: 'certificate.revoked', outcome: 'success' })]);
      expect(again).toEqual({ certificate: first!.certificate, changed: false });
      expect(await stores().audit.list({ type: 'certificate.revoked', limit: 10 })).toEqual([event]);
      expect(await certs().revokeCertificate('00ff', T0, null, [])).toBeUndefined();
    });

    it('of concurrent revocations exactly one changes the certificate', async () => {
      const cert = certificate();
      await certs().insertCertificate(cert, []);
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => certs().revokeCertificate(cert.serialNumber, T0 + i, null, [])));
      expect(results.filter((r) => r?.changed)).toHaveLength(1);
    });

    it('lists the revoked certificates that have not expired yet', async () => {
      const live = certificate({ notAfter: T0 + 10 * HOUR });
      const expired = certificate({ notAfter: T0 + HOUR, authorityId: 'ca_b' });
      const kept = certificate();
      for (const c of [live, expired, kept]) await certs().insertCertificate(c, []);
      await certs().revokeCertificate(live.serialNumber, T0 + 1, null, []);
      await certs().revokeCertificate(expired.serialNumber, T0 + 2, null, []);
      expect(await certs().listRevoked(T0 + 2 * HOUR)).toEqual([{ serialNumber: live.serialNumber, authorityId: 'ca_a', revokedAt: T0 + 1 }]);
      expect((await certs().listRevoked(T0)).map((r) => r.serialNumber)).toEqual([live.serialNumber, expired.serialNumber]);
    });
  });
}
