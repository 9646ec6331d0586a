import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { X509Certificate } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCsr } from '../src/core/ca/x509.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { dialects } from './helpers/databases.js';

const HOUR = 3_600_000;

/** The PEM blocks of a bundle, as node:crypto certificates. */
function bundle(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []).map((block) => new X509Certificate(block));
}

describe.each(dialects)('certificates (%s)', (dialect) => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp({ dialect, env: { GATEHOUSE_ISSUER: 'https://auth.example.com' } });
    expect(await t.services.ca.init()).toBe(true);
  });
  afterEach(() => t.close());

  it('publishes the root: ECDSA P-256, a CA, self-signed, at a public URL', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/v1/ca/certificates' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/pem-certificate-chain');
    const [root, ...rest] = bundle(response.body);
    expect(rest).toEqual([]);
    expect(root!.ca).toBe(true);
    expect(root!.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(root!.verify(root!.publicKey)).toBe(true);
    // A second init is a no-op.
    expect(await t.services.ca.init()).toBe(false);
  });

  it('issues with a generated key: returned once, 24 h by default, naming the service in CN and a SPIFFE URI', async () => {
    const response = await t.api('POST', '/v1/certificates', { body: { commonName: 'billing-api' } });
    expect(response.status).toBe(201);
    expect(response.headers['cache-control']).toBe('no-store');
    const body = response.body;
    expect(body).toMatchObject({
      object: 'certificate',
      status: 'active',
      commonName: 'billing-api',
      service: 'billing-api',
      clientId: null,
      sanUri: 'spiffe://auth.example.com/service/billing-api',
      keyGenerated: true,
      notAfter: new Date(t.clock.now() + 24 * HOUR).toISOString(),
    });
    expect(body.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const cert = new X509Certificate(body.certificatePem);
    const [root] = bundle(body.caCertificatePem);
    expect(cert.verify(root!.publicKey)).toBe(true);
    expect(cert.checkPrivateKey((await import('node:crypto')).createPrivateKey(body.privateKeyPem))).toBe(true);
    expect(cert.subject).toBe('CN=billing-api');
    expect(cert.subjectAltName).toBe('URI:spiffe://auth.example.com/service/billing-api');
    expect(cert.serialNumber.toLowerCase()).toBe(body.serialNumber);
    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toContain('1.3.6.1.5.5.7.3.2'); // clientAuth
    // Stored and listed, without the private key.
    const listed = await t.api('GET', '/v1/certificates');
    expect(listed.body.data).toHaveLength(1);
    expect(listed.body.data[0]).not.toHaveProperty('privateKeyPem');
  });

  it('issues from a CSR (the key stays with the caller) and takes the service name from its CN', async () => {
    const { csrPem } = await createCsr('orders');
    const response = await t.api('POST', '/v1/certificates', { body: { csr: csrPem, lifetimeSeconds: 3600 } });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ service: 'orders', keyGenerated: false, privateKeyPem: null });
    expect(Date.parse(response.body.notAfter) - t.clock.now()).toBe(HOUR);
  });

  it('binds a certificate to an OAuth client, in its tenant', async () => {
    const client = await t.api('POST', '/v1/clients', {
      body: { name: 'svc', grantTypes: ['client_credentials'], tokenEndpointAuthMethod: 'client_secret_basic', tenantId: 'acme' },
    });
    const clientId = client.body.clientId;
    const response = await t.api('POST', '/v1/certificates', { body: { clientId } });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      clientId,
      commonName: clientId,
      tenantId: 'acme',
      sanUri: `spiffe://auth.example.com/tenant/acme/client/${clientId}`,
    });
    expect(new X509Certificate(response.body.certificatePem).subject).toBe(`CN=${clientId}\nO=acme`);
  });

  it('lists newest first, by page and by status', async () => {
    const serials: string[] = [];
    for (let i = 0; i < 3; i++) {
      t.clock.advance(1000);
      serials.push((await t.api('POST', '/v1/certificates', { body: { commonName: `svc-${i}` } })).body.serialNumber);
    }
    const first = await t.api('GET', '/v1/certificates?limit=2');
    expect(first.body.data.map((c: { serialNumber: string }) => c.serialNumber)).toEqual([serials[2], serials[1]]);
    const second = await t.api('GET', `/v1/certificates?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.data.map((c: { serialNumber: string }) => c.serialNumber)).toEqual([serials[0]]);
    expect(second.body.nextCursor).toBeNull();
    await t.api('POST', `/v1/certificates/${serials[1]}/revoke`, { body: {} });
    const revoked = await t.api('GET', '/v1/certificates?status=revoked');
    expect(revoked.body.data.map((c: { serialNumber: string }) => c.serialNumber)).toEqual([serials[1]]);
  });

  it('revokes (idempotently, audited) and publishes the serial in the CRL, signed by the root', async () => {
    const issued = (await t.api('POST', '/v1/certificates', { body: { commonName: 'payments' } })).body;
    const revoked = await t.api('POST', `/v1/certificates/${issued.serialNumber.toUpperCase()}/revoke`, { body: { reason: 'key compromise' } });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ status: 'revoked', revokedReason: 'key compromise', revokedAt: new Date(t.clock.now()).toISOString() });
    expect((await t.api('POST', `/v1/certificates/${issued.serialNumber}/revoke`)).status).toBe(200);

    const cert = new X509Certificate(issued.certificatePem);
    const distribution = new x509.X509Certificate(issued.certificatePem).getExtension(x509.CRLDistributionPointsExtension);
    const crlUrl = new URL(distribution!.distributionPoints[0]!.distributionPoint!.fullName![0]!.uniformResourceIdentifier!);
    expect(crlUrl.origin).toBe('https://auth.example.com');
    expect(crlUrl.pathname).toBe(`/ca/crl/${issued.authorityId}`);
    const der = await t.app.inject({ method: 'GET', url: crlUrl.pathname });
    expect(der.statusCode).toBe(200);
    expect(der.headers['content-type']).toBe('application/pkix-crl');
    const crl = new x509.X509Crl(der.rawPayload);
    expect(await crl.verify({ publicKey: await new x509.X509Certificate(issued.caCertificatePem).publicKey.export() })).toBe(true);
    expect(crl.entries.map((e) => e.serialNumber.toLowerCase())).toEqual([cert.serialNumber.toLowerCase()]);
    const pem = await t.app.inject({ method: 'GET', url: '/ca/crl' });
    expect(pem.body).toMatch(/^-----BEGIN X509 CRL-----/);

    await t.services.audit.flush();
    const events = await t.services.stores.audit.list({ limit: 10 });
    const revocations = events.filter((e) => e.type === 'certificate.revoked');
    expect(revocations).toHaveLength(1);
    expect(revocations[0]!.details).toMatchObject({ serialNumber: issued.serialNumber, reason: 'key compromise' });
    expect(events.some((e) => e.type === 'certificate.issued' && e.details?.serialNumber === issued.serialNumber)).toBe(true);
  });

  it('rotation: the new root issues, both are published and trusted until the old one\'s certificates expire', async () => {
    const before = (await t.api('POST', '/v1/certificates', { body: { commonName: 'old' } })).body;
    const rotated = await t.api('POST', '/v1/ca/rotate');
    expect(rotated.status).toBe(200);
    const [current, previous] = rotated.body.data;
    expect(current.status).toBe('active');
    expect(previous).toMatchObject({ id: before.authorityId, status: 'retired' });
    expect(Date.parse(previous.trustedUntil)).toBeGreaterThan(t.clock.now() + 7 * 24 * HOUR);
    const published = bundle((await t.app.inject({ method: 'GET', url: '/v1/ca/certificates' })).body);
    expect(published).toHaveLength(2);

    const after = (await t.api('POST', '/v1/certificates', { body: { commonName: 'new' } })).body;
    expect(after.authorityId).toBe(current.id);
    expect(t.services.ca.verify(new X509Certificate(before.certificatePem))).toEqual({ ok: true, kind: 'issued', authorityId: previous.id });
    expect(t.services.ca.verify(new X509Certificate(after.certificatePem))).toEqual({ ok: true, kind: 'issued', authorityId: current.id });
  });
});
