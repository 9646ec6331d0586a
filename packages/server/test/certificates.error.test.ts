import { X509Certificate } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCsr, createRootCertificate, generateKeyPair, issueLeafCertificate, newSerialNumber } from '../src/core/ca/x509.js';
import { verifyPeerCertificate } from '../src/core/ca/verify-peer-certificate.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

describe('certificates: errors', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp({ env: { GATEHOUSE_CERTIFICATE_MAX_TTL_SECONDS: '7200' } });
  });
  afterEach(() => t.close());

  const issue = (body: unknown, key?: string | null) => t.api('POST', '/v1/certificates', { body, key });
  const count = async () => (await t.services.stores.certificates.listCertificates({ now: t.clock.now(), limit: 100 })).length;

  it('answers 409 until the CA is initialised; the bundle is empty', async () => {
    expect((await issue({ commonName: 'svc' })).body.error).toBe('conflict');
    expect((await t.app.inject({ method: 'GET', url: '/v1/ca/certificates' })).body).toBe('');
    expect((await t.api('POST', '/v1/ca/rotate')).status).toBe(409);
  });

  describe('with a CA', () => {
    beforeEach(() => t.services.ca.init());

    it('refuses bad requests with 400 and issues nothing', async () => {
      const cases: unknown[] = [
        {},
        { commonName: 'has space' },
        { commonName: '../etc' },
        { commonName: 'svc', clientId: 'cli_0000000000000000000000' },
        { clientId: 'cli_0000000000000000000000' },
        { commonName: 'svc', lifetimeSeconds: 7201 },
        { commonName: 'svc', lifetimeSeconds: 299 },
        { commonName: 'svc', extra: true },
        { csr: 'not a csr' },
        { csr: '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----' },
      ];
      for (const body of cases) {
        const response = await issue(body);
        expect(response.status, JSON.stringify(body)).toBe(400);
        expect(response.body.error).toBe('invalid_request');
      }
      expect(await count()).toBe(0);
    });

    it('refuses a CSR whose signature does not verify (no proof of possession)', async () => {
      const { csrPem } = await createCsr('orders');
      const der = Buffer.from(csrPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
      der[der.length - 5]! ^= 0xff;
      const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
      const response = await issue({ csr: tampered });
      expect(response.status).toBe(400);
      expect(await count()).toBe(0);
    });

    it('enforces scopes and tenants', async () => {
      const reader = (await t.createKey({ scopes: ['certificates:read'] })).key;
      expect((await issue({ commonName: 'svc' }, reader)).status).toBe(403);
      expect((await t.api('POST', '/v1/ca/rotate', { key: reader })).status).toBe(403);
      expect((await issue({ commonName: 'svc' }, null)).status).toBe(401);
      expect((await t.api('GET', '/v1/certificates', { key: null })).status).toBe(401);

      const other = await t.api('POST', '/v1/clients', {
        body: { name: 'other', grantTypes: ['client_credentials'], tokenEndpointAuthMethod: 'client_secret_basic', tenantId: 'globex' },
      });
      const tenantAdmin = (await t.createKey({ scopes: ['certificates:write', 'certificates:read'], tenantId: 'acme' })).key;
      expect((await issue({ clientId: other.body.clientId }, tenantAdmin)).status).toBe(400);
      // Nor as a "service" of that name: its subject would be CN=<the other tenant's client id>, which is what a
      // tls_client_auth client registers as its subject DN (compared caselessly).
      const before = await count();
      for (const name of [other.body.clientId, other.body.clientId.toUpperCase()]) {
        expect((await issue({ commonName: name }, tenantAdmin)).status).toBe(400);
        expect((await issue({ csr: (await createCsr(name)).csrPem }, tenantAdmin)).status).toBe(400);
      }
      expect(await count()).toBe(before);
      const mine = await issue({ commonName: 'acme-svc' }, tenantAdmin);
      expect(mine.body.tenantId).toBe('acme');
      const theirs = await issue({ commonName: 'global-svc' });
      expect((await t.api('POST', `/v1/certificates/${theirs.body.serialNumber}/revoke`, { key: tenantAdmin })).status).toBe(404);
      const listed = await t.api('GET', '/v1/certificates', { key: tenantAdmin });
      expect(listed.body.data.map((c: { serialNumber: string }) => c.serialNumber)).toEqual([mine.body.serialNumber]);
      // Only a global admin rotates the CA.
      expect((await t.api('POST', '/v1/ca/rotate', { key: tenantAdmin })).status).toBe(403);
    });

    it('revoking an unknown serial is 404; a malformed one 400; an unknown CRL 404', async () => {
      expect((await t.api('POST', '/v1/certificates/abcdef/revoke')).status).toBe(404);
      expect((await t.api('POST', '/v1/certificates/xyz/revoke')).status).toBe(400);
      expect((await t.app.inject({ method: 'GET', url: '/ca/crl/ca_unknown' })).statusCode).toBe(404);
    });

    it('a certificate of the CA that is not for client authentication (the TLS listener\'s own) is refused as a client one', async () => {
      const server = await t.services.ca.issueServerCertificate({ dnsNames: ['localhost'], ipAddresses: [], lifetimeSeconds: 3600 });
      expect(t.services.ca.verify(new X509Certificate(server.certificatePem))).toEqual({ ok: false, reason: 'wrong_key_usage' });
      const client = await issue({ commonName: 'svc' });
      expect(t.services.ca.verify(new X509Certificate(client.body.certificatePem))).toMatchObject({ ok: true, kind: 'issued' });
    });

    it('never issues past the CA certificate; once the CA has expired, it issues nothing', async () => {
      const caNotAfter = t.services.ca.authorities()[0]!.notAfter;
      t.clock.set(caNotAfter - 3_600_000);
      const last = await issue({ commonName: 'svc', lifetimeSeconds: 7200 });
      expect(last.status).toBe(201);
      const certificate = new X509Certificate(last.body.certificatePem);
      expect(Date.parse(certificate.validTo)).toBe(Math.floor(caNotAfter / 1000) * 1000);
      expect(t.services.ca.verify(certificate)).toMatchObject({ ok: true, kind: 'issued' });
      t.clock.set(caNotAfter + 1000);
      const before = await count();
      expect((await issue({ commonName: 'svc' })).status).toBe(500);
      expect(await count()).toBe(before);
    });

    it('renewal needs a certificate presented over mTLS', async () => {
      const response = await t.api('POST', '/v1/certificates/renew', { body: {}, key: null });
      expect(response.status).toBe(401);
      expect(response.body.error).toBe('certificate_refused');
    });
  });
});

describe('mTLS client registration: errors', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp();
  });
  afterEach(() => t.close());

  const base = { name: 'svc', grantTypes: ['client_credentials'], scopes: ['read'] };

  it('refuses incomplete or ambiguous RFC 8705 registrations with 400', async () => {
    const cases: Array<Record<string, unknown>> = [
      { tokenEndpointAuthMethod: 'tls_client_auth' },
      { tokenEndpointAuthMethod: 'tls_client_auth', tlsClientAuthSanDns: 'a.example', tlsClientAuthSanUri: 'spiffe://x/y' },
      { tokenEndpointAuthMethod: 'tls_client_auth', tlsClientAuthSanIp: 'not-an-ip' },
      { tokenEndpointAuthMethod: 'tls_client_auth', tlsClientAuthSanUri: 'not a uri' },
      { tokenEndpointAuthMethod: 'self_signed_tls_client_auth' },
      { tokenEndpointAuthMethod: 'self_signed_tls_client_auth', jwks: { keys: [{ kty: 'EC', x5c: ['AAAA'] }] } },
      { tokenEndpointAuthMethod: 'self_signed_tls_client_auth', jwks: { keys: [{ kty: 'EC', d: 'private', x5c: ['AAAA'] }] } },
    ];
    for (const body of cases) {
      const response = await t.api('POST', '/v1/clients', { body: { ...base, ...body } });
      expect(response.status, JSON.stringify(body)).toBe(400);
    }
  });

  it('issues no secret to an mTLS client, and does not switch it to a secret or public method', async () => {
    const created = await t.api('POST', '/v1/clients', { body: { ...base, tokenEndpointAuthMethod: 'tls_client_auth', tlsClientAuthSanDns: 'svc.internal' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ tlsClientAuthSanDns: 'svc.internal', secretPrefix: null });
    expect(created.body).not.toHaveProperty('clientSecret');
    const id = created.body.clientId;
    expect((await t.api('PATCH', `/v1/clients/${id}`, { body: { tokenEndpointAuthMethod: 'client_secret_basic' } })).status).toBe(400);
    expect((await t.api('POST', `/v1/clients/${id}/secret/rotate`, { body: {} })).status).toBe(400);
  });
});

describe('verifyPeerCertificate: the issuer must be valid too', () => {
  it('refuses a certificate whose CA certificate has expired (or is not valid yet), though its own dates are fine', async () => {
    const now = Date.UTC(2030, 0, 1);
    const rootKeys = await generateKeyPair();
    const rootPem = await createRootCertificate({ keys: rootKeys, commonName: 'Short CA', serialNumber: newSerialNumber(), notBefore: now, notAfter: now + 86_400_000 });
    const leafKeys = await generateKeyPair();
    // Outlives its CA by a day (Gatehouse never issues such a certificate; another CA might).
    const leaf = await issueLeafCertificate({
      issuer: { certificatePem: rootPem, privateKey: rootKeys.privateKey },
      publicKey: leafKeys.publicKey,
      serialNumber: newSerialNumber(),
      commonName: 'svc',
      notBefore: now - 86_400_000,
      notAfter: now + 2 * 86_400_000,
      usage: 'client',
    });
    const trust = { authorities: [{ id: 'ca_short', certificate: new X509Certificate(rootPem) }], isRevoked: () => false };
    const certificate = new X509Certificate(leaf.pem);
    expect(verifyPeerCertificate(certificate, trust, now + 3_600_000)).toEqual({ ok: true, kind: 'issued', authorityId: 'ca_short' });
    expect(verifyPeerCertificate(certificate, trust, now + 86_400_000 + 1000)).toEqual({ ok: false, reason: 'expired' });
    expect(verifyPeerCertificate(certificate, trust, now - 3_600_000)).toEqual({ ok: false, reason: 'not_yet_valid' });
  });
});
