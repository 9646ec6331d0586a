import { X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCertificate, startMtlsServer, tlsRequest, type ClientCredentials, type MtlsServer } from '../../server/test/helpers/mtls.js';
import { createAuthenticator, type Authenticator } from '../src/index.js';
import { createCertificateRenewer, type RenewedCertificate } from '../src/mtls/create-certificate-renewer.js';
import { requireAuth } from '../src/middleware/node-http.js';

const AUDIENCE = 'https://api.example';

let s: MtlsServer;
let ca: string;
beforeAll(async () => {
  s = await startMtlsServer();
  ca = await s.bundle();
});
afterAll(() => s?.close());

/** A certificate-bound client-credentials token, obtained with tls_client_auth over the TLS listener. */
async function boundToken(): Promise<{ token: string; cert: ClientCredentials }> {
  const client = await s.api('POST', '/v1/clients', {
    name: 'bound', grantTypes: ['client_credentials'], scopes: ['read'], audiences: [AUDIENCE],
    tokenEndpointAuthMethod: 'tls_client_auth', tlsClientAuthSubjectDn: 'CN=placeholder',
  });
  const cert = await s.issue({ clientId: client.body.clientId });
  await s.api('PATCH', `/v1/clients/${client.body.clientId}`, { tlsClientAuthSanUri: cert.body.sanUri });
  const response = await tlsRequest(s.tlsUrl, {
    ca, client: cert, method: 'POST', path: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: client.body.clientId }).toString(),
  });
  return { token: JSON.parse(response.body).access_token, cert };
}

describe('certificate-bound tokens in the SDK (RFC 8705 section 3)', () => {
  let authenticator: Authenticator;
  let bound: { token: string; cert: ClientCredentials };
  beforeAll(async () => {
    authenticator = createAuthenticator({ issuer: s.url, audience: AUDIENCE, revocationStream: false });
    bound = await boundToken();
  });
  afterAll(() => authenticator.close());

  it('rejects a bound token presented without its certificate, or with another; accepts it with its own', async () => {
    const header = `Bearer ${bound.token}`;
    const without = await authenticator.authenticate(header);
    expect(without).toMatchObject({ ok: false, code: 'certificate_mismatch', status: 401, error: { error: 'invalid_token' } });
    const other = await selfSignedCertificate();
    expect(await authenticator.authenticate(header, { peerCertificate: new X509Certificate(other.cert) })).toMatchObject({ code: 'certificate_mismatch' });
    const own = new X509Certificate(bound.cert.cert);
    const ok = await authenticator.authenticate(header, { peerCertificate: own });
    expect(ok.ok).toBe(true);
    expect((await authenticator.authenticate(header, { peerCertificate: own.raw })).ok).toBe(true);
    expect((await authenticator.authenticate(header, { peerCertificate: () => ({ raw: own.raw }) })).ok).toBe(true);
  });

  it('the node:http middleware passes the TLS socket\'s peer certificate', async () => {
    const guard = requireAuth(authenticator);
    const serverCert = await s.server.services.ca.issueServerCertificate({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], lifetimeSeconds: 3600 });
    const api: Server = createServer(
      { cert: serverCert.certificatePem, key: serverCert.privateKeyPem, requestCert: true, rejectUnauthorized: false },
      (req, res) => {
        void guard(req, res).then((auth) => auth && res.writeHead(200).end(auth.subject));
      },
    );
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    const url = `https://127.0.0.1:${(api.address() as AddressInfo).port}`;
    try {
      const headers = { authorization: `Bearer ${bound.token}` };
      expect((await tlsRequest(url, { ca, client: bound.cert, path: '/', headers })).status).toBe(200);
      expect((await tlsRequest(url, { ca, path: '/', headers })).status).toBe(401);
      expect((await tlsRequest(url, { ca, client: await s.issue({ commonName: 'thief' }), path: '/', headers })).status).toBe(401);
    } finally {
      api.closeAllConnections();
      await new Promise<void>((resolve) => api.close(() => resolve()));
    }
  });
});

describe('createCertificateRenewer', () => {
  it('renews after 2/3 of the lifetime, not before, and hands over a certificate that works', async () => {
    const first = await s.issue({ commonName: 'worker', lifetimeSeconds: 3600 });
    const x509 = new X509Certificate(first.cert);
    const notBefore = Date.parse(x509.validFrom);
    const lifetime = Date.parse(x509.validTo) - notBefore;
    let clock = notBefore + 60_000;
    const delays: number[] = [];
    const renewed: RenewedCertificate[] = [];
    const renewer = createCertificateRenewer({
      url: s.tlsUrl,
      ca,
      certificate: first.cert,
      privateKey: first.key,
      now: () => clock,
      setTimer: (_callback, ms) => delays.push(ms),
      clearTimer: () => {},
      onRenewed: (c) => void renewed.push(c),
    });
    expect(renewer.renewAt).toBe(notBefore + (lifetime * 2) / 3);
    expect(delays[0]).toBe(renewer.renewAt - clock);

    clock = renewer.renewAt - 1;
    expect(await renewer.renewIfDue()).toBe(false);
    expect(renewed).toEqual([]);

    clock = renewer.renewAt;
    expect(await renewer.renewIfDue()).toBe(true);
    expect(renewed).toHaveLength(1);
    const next = new X509Certificate(renewed[0]!.certificate);
    expect(next.serialNumber).not.toBe(x509.serialNumber);
    expect(next.subject).toBe('CN=worker');
    expect(renewer.current().certificate).toBe(renewed[0]!.certificate);
    const nextStart = Date.parse(next.validFrom);
    expect(renewer.renewAt).toBe(nextStart + ((Date.parse(next.validTo) - nextStart) * 2) / 3);
    expect(await tlsRequest(s.tlsUrl, { ca, client: { cert: renewed[0]!.certificate, key: renewed[0]!.privateKey } }).then((r) => r.status)).toBe(200);
    renewer.stop();
  });

  it('reports a failed renewal (a revoked certificate) and retries while the certificate is valid', async () => {
    const cert = await s.issue({ commonName: 'doomed', lifetimeSeconds: 3600 });
    await s.api('POST', `/v1/certificates/${cert.serialNumber}/revoke`, {});
    const timers: Array<{ callback: () => void; ms: number }> = [];
    const errors: Error[] = [];
    const renewer = createCertificateRenewer({
      url: s.tlsUrl,
      ca,
      certificate: cert.cert,
      privateKey: cert.key,
      now: () => Date.now() + 3_000_000,
      retryMs: 5000,
      setTimer: (callback, ms) => timers.push({ callback, ms }),
      clearTimer: () => {},
      onRenewed: () => {},
      onError: (error) => errors.push(error),
    });
    await expect(renewer.renewIfDue()).rejects.toThrow();
    // The timer path reports and schedules a retry.
    timers.at(-1)!.callback();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(timers.at(-1)!.ms).toBe(5000);
    renewer.stop();
  });

  it('validates its options', () => {
    expect(() => createCertificateRenewer({ url: 'http://x', certificate: '', privateKey: '', onRenewed: () => {} })).toThrow(TypeError);
  });
});
