import { execFile, spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { foreignCertificate, selfSignedCertificate, startMtlsServer, tlsRequest, type ClientCredentials, type MtlsServer } from './helpers/mtls.js';
import { tempDir } from './helpers/databases.js';

const run = promisify(execFile);
const DAY = 86_400_000;

describe('mTLS listener (real TLS)', () => {
  let s: MtlsServer;
  let ca: string;
  let valid: ClientCredentials & { serialNumber: string };
  const files = tempDir('mtls-files');
  const write = (name: string, content: string) => {
    const path = join(files.path, name);
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  };

  beforeAll(async () => {
    s = await startMtlsServer();
    ca = await s.bundle();
    valid = await s.issue({ commonName: 'orders' });
  });
  afterAll(async () => {
    await s.close();
    files.remove();
  });

  /** Whether the server answered at all over a connection presenting `client`. */
  const answered = (client?: ClientCredentials) =>
    tlsRequest(s.tlsUrl, { ca, client }).then(
      (response) => response.status,
      (error: NodeJS.ErrnoException) => `refused:${error.code ?? error.message}`,
    );

  const refusals = async () => {
    await s.server.services.audit.flush();
    return (await s.server.services.stores.audit.list({ type: 'mtls.certificate_refused', limit: 50 })).map((e) => e.reason);
  };

  it('serves the same app over TLS, with and without a client certificate', async () => {
    expect(await answered()).toBe(200);
    expect(await answered(valid)).toBe(200);
    const metadata = await tlsRequest(s.tlsUrl, { ca, path: '/.well-known/oauth-authorization-server' });
    expect(JSON.parse(metadata.body).issuer).toBe(s.url);
  });

  it('refuses expired, not-yet-valid, unknown-CA and revoked certificates, and audits why', async () => {
    // Issued straight from the CA with its clock moved (the API's rate limiter would not like time going back).
    const issueAt = async (shift: number, name: string) => {
      s.shiftClock(shift);
      try {
        const issued = await s.server.services.ca.issue({ binding: { kind: 'service', service: name }, tenantId: null, lifetimeSeconds: 3600, actor: { keyId: null } });
        return { cert: issued.certificatePem, key: issued.privateKeyPem! };
      } finally {
        s.shiftClock(0);
      }
    };
    const expired = await issueAt(-3 * DAY, 'old');
    const early = await issueAt(2 * DAY, 'early');
    const revoked = await s.issue({ commonName: 'revoked' });
    expect(await answered(revoked)).toBe(200);
    expect((await s.api('POST', `/v1/certificates/${revoked.serialNumber}/revoke`, {})).status).toBe(200);

    expect(await answered(expired)).toMatch(/^refused:/);
    expect(await answered(early)).toMatch(/^refused:/);
    expect(await answered(await foreignCertificate())).toMatch(/^refused:/);
    expect(await answered(revoked)).toMatch(/^refused:/);
    expect(await answered(valid)).toBe(200);
    expect((await refusals()).sort()).toEqual(['expired', 'not_yet_valid', 'revoked', 'unknown_ca']);
  });

  it('accepts a self-signed certificate at the connection (it proves key possession only) but not as a CA-issued one', async () => {
    const self = await selfSignedCertificate();
    expect(await answered(self)).toBe(200);
    const renew = await tlsRequest(s.tlsUrl, { ca, client: self, method: 'POST', path: '/v1/certificates/renew', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(renew.status).toBe(401);
    const expiredSelf = await selfSignedCertificate('stale', { notBefore: Date.now() - 2 * DAY, notAfter: Date.now() - DAY });
    expect(await answered(expiredSelf)).toMatch(/^refused:/);
  });

  it('ignores certificate headers from a client that is not a trusted proxy', async () => {
    const spoofed = encodeURIComponent(valid.cert);
    for (const headers of [{ 'x-ssl-client-cert': spoofed }, { 'client-cert': `:${Buffer.from(valid.cert.replace(/-----[^-]+-----|\s/g, ''), 'base64').toString('base64')}:` }] as Array<Record<string, string>>) {
      const response = await tlsRequest(s.tlsUrl, { ca, method: 'POST', path: '/v1/certificates/renew', headers: { ...headers, 'content-type': 'application/json' }, body: '{}' });
      expect(response.status).toBe(401);
    }
  });

  it('a certificate renews itself over mTLS; the new one works and the private key is never stored', async () => {
    const response = await tlsRequest(s.tlsUrl, {
      ca,
      client: valid,
      method: 'POST',
      path: '/v1/certificates/renew',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).toBe(201);
    const renewed = JSON.parse(response.body);
    expect(renewed).toMatchObject({ service: 'orders', keyGenerated: true });
    expect(renewed.serialNumber).not.toBe(valid.serialNumber);
    expect(await answered({ cert: renewed.certificatePem, key: renewed.privateKeyPem })).toBe(200);

    // Neither the CA's key nor any issued key is in the database file in the clear.
    await s.server.services.audit.flush();
    const db = readdirSync(s.dataDir)
      .filter((name) => /\.(db|sqlite)(-wal)?$/.test(name) || name.includes('gatehouse'))
      .map((name) => readFileSync(join(s.dataDir, name)).toString('latin1'))
      .join('');
    expect(db.length).toBeGreaterThan(0);
    expect(db).not.toContain('PRIVATE KEY');
    for (const pem of [valid.key, renewed.privateKeyPem as string]) {
      const body = pem.replace(/-----[^-]+-----|\s/g, '');
      expect(db).not.toContain(body.slice(0, 40));
      expect(db).not.toContain(Buffer.from(body, 'base64').toString('latin1').slice(-32));
    }
  });

  it("a deleted client's certificate does not renew itself", async () => {
    const client = await s.api('POST', '/v1/clients', { name: 'gone', grantTypes: ['client_credentials'], tokenEndpointAuthMethod: 'client_secret_basic' });
    const cert = await s.issue({ clientId: client.body.clientId });
    const renew = () =>
      tlsRequest(s.tlsUrl, { ca, client: cert, method: 'POST', path: '/v1/certificates/renew', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect((await renew()).status).toBe(201);
    expect((await s.api('DELETE', `/v1/clients/${client.body.clientId}`)).status).toBe(204);
    const refused = await renew();
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body).error).toBe('certificate_refused');
  });

  it('curl --cert: answered with a valid certificate, refused with a revoked one', async () => {
    const caFile = write('ca.pem', ca);
    const curl = (client?: ClientCredentials) => {
      const args = ['-sS', '--cacert', caFile, '-o', '/dev/null', '-w', '%{http_code}', `${s.tlsUrl}/healthz`];
      if (client) args.push('--cert', write(`c-${Math.random()}.pem`, client.cert), '--key', write(`k-${Math.random()}.pem`, client.key));
      return run('curl', args).then(
        ({ stdout }) => stdout,
        () => 'failed',
      );
    };
    expect(await curl(valid)).toBe('200');
    expect(await curl()).toBe('200');
    const revoked = await s.issue({ commonName: 'curl-revoked' });
    await s.api('POST', `/v1/certificates/${revoked.serialNumber}/revoke`, {});
    expect(await curl(revoked)).toBe('failed');
  });

  it('openssl s_client: the handshake verifies against the published CA; a foreign certificate is refused', async () => {
    const caFile = write('ca-openssl.pem', ca);
    const sClient = (client: ClientCredentials) =>
      new Promise<string>((resolve) => {
        const { port } = new URL(s.tlsUrl);
        const child = spawn('openssl', [
          's_client', '-connect', `127.0.0.1:${port}`, '-CAfile', caFile, '-verify_return_error', '-quiet',
          '-cert', write(`sc-${Math.random()}.pem`, client.cert), '-key', write(`sk-${Math.random()}.pem`, client.key),
        ]);
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
        child.on('close', () => resolve(out));
        child.stdin.end('GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
      });
    expect(await sClient(valid)).toContain('HTTP/1.1 200 OK');
    expect(await sClient(await foreignCertificate())).not.toContain('HTTP/1.1 200');
  });

  it('CA rotation: no handshake fails, before, during or after, and the server certificate moves to the new root', async () => {
    const oldBundle = ca;
    const failures: string[] = [];
    let done = false;
    const loop = (async () => {
      let n = 0;
      while (!done || n < 5) {
        const status = await tlsRequest(s.tlsUrl, { ca: oldBundle, client: valid }).then((r) => String(r.status), (e: Error) => e.message);
        if (status !== '200') failures.push(status);
        n++;
      }
      return n;
    })();
    const rotated = await s.api('POST', '/v1/ca/rotate', {});
    expect(rotated.status).toBe(200);
    const fresh = await s.issue({ commonName: 'after-rotation' });
    expect(fresh.body.authorityId).toBe(rotated.body.data[0].id);
    expect(await tlsRequest(s.tlsUrl, { ca: oldBundle, client: fresh }).then((r) => r.status, (e: Error) => `fresh: ${e.message}`)).toBe(200);
    done = true;
    expect(await loop).toBeGreaterThanOrEqual(5);
    expect(failures).toEqual([]);

    // Clients refresh their trust bundle (both roots); then the server certificate is re-issued by the new root.
    const both = await s.bundle();
    expect(both.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    await s.server.tls!.renewServerCertificate();
    for (const client of [valid, fresh, undefined]) {
      expect(await tlsRequest(s.tlsUrl, { ca: both, client }).then((r) => r.status, (e: Error) => `after renewal: ${e.message}`)).toBe(200);
    }
    ca = both;
  });
});

describe('client certificates from a trusted proxy', () => {
  const renewVia = (s: MtlsServer, headers: Record<string, string>) =>
    fetch(`${s.url}/v1/certificates/renew`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' }).then((r) => r.status);
  const der = (pem: string) => Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');

  it('reads Client-Cert (RFC 9440) when so configured, verified like a presented one; never X-SSL-Client-Cert then', async () => {
    const s = await startMtlsServer({ GATEHOUSE_TRUST_PROXY: '127.0.0.1', GATEHOUSE_CLIENT_CERT_HEADER: 'client-cert' });
    try {
      const cert = await s.issue({ commonName: 'behind-proxy' });
      expect(await renewVia(s, { 'client-cert': `:${der(cert.cert).toString('base64')}:` })).toBe(201);
      // The proxy sets Client-Cert; an X-SSL-Client-Cert is the client's own, passed through: not a certificate.
      expect(await renewVia(s, { 'x-ssl-client-cert': encodeURIComponent(cert.cert) })).toBe(401);
      await s.api('POST', `/v1/certificates/${cert.serialNumber}/revoke`, {});
      expect(await renewVia(s, { 'client-cert': `:${der(cert.cert).toString('base64')}:` })).toBe(401);
      expect(await renewVia(s, { 'client-cert': ':bm90IGEgY2VydA==:' })).toBe(401);
    } finally {
      await s.close();
    }
  });

  it('reads X-SSL-Client-Cert (URL-encoded PEM) when so configured; never Client-Cert then', async () => {
    const s = await startMtlsServer({ GATEHOUSE_TRUST_PROXY: '127.0.0.1', GATEHOUSE_CLIENT_CERT_HEADER: 'x-ssl-client-cert' });
    try {
      const cert = await s.issue({ commonName: 'behind-nginx' });
      // nginx overwrites X-SSL-Client-Cert (and drops it when the client presented no certificate) but passes a
      // client's Client-Cert through untouched: reading it would let anyone holding a (public) certificate be its owner.
      expect(await renewVia(s, { 'client-cert': `:${der(cert.cert).toString('base64')}:` })).toBe(401);
      expect(await renewVia(s, { 'x-ssl-client-cert': encodeURIComponent(cert.cert) })).toBe(201);
    } finally {
      await s.close();
    }
  });

  it('GATEHOUSE_TRUST_PROXY alone (trusted for X-Forwarded-For) reads no certificate header', async () => {
    const s = await startMtlsServer({ GATEHOUSE_TRUST_PROXY: '127.0.0.1' });
    try {
      const cert = await s.issue({ commonName: 'not-forwarded' });
      expect(await renewVia(s, { 'client-cert': `:${der(cert.cert).toString('base64')}:` })).toBe(401);
      expect(await renewVia(s, { 'x-ssl-client-cert': encodeURIComponent(cert.cert) })).toBe(401);
    } finally {
      await s.close();
    }
  });
});
