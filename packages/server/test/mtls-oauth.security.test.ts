import { createHash, X509Certificate } from 'node:crypto';
import { Agent, request } from 'node:https';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizeThroughForms, FormBrowser, pkcePair } from './helpers/oauth.js';
import { selfSignedCertificate, startMtlsServer, tlsRequest, type ClientCredentials, type MtlsServer } from './helpers/mtls.js';

const thumbprint = (pem: string) => createHash('sha256').update(new X509Certificate(pem).raw).digest('base64url');

describe('OAuth over mTLS: RFC 8705 client authentication and certificate-bound tokens', () => {
  let s: MtlsServer;
  let ca: string;
  beforeAll(async () => {
    s = await startMtlsServer();
    ca = await s.bundle();
  });
  afterAll(() => s.close());

  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  /** A token-endpoint (or other form) request over the TLS listener. */
  const overTls = async (path: string, fields: Record<string, string>, client?: ClientCredentials, headers: Record<string, string> = {}) => {
    const response = await tlsRequest(s.tlsUrl, {
      ca,
      client,
      method: 'POST',
      path,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: form(fields),
    });
    let body: any = response.body;
    try {
      body = JSON.parse(response.body);
    } catch {
      /* empty */
    }
    return { status: response.status, body };
  };
  const createClient = async (body: Record<string, unknown>) => {
    const response = await s.api('POST', '/v1/clients', {
      name: 'mtls client',
      grantTypes: ['client_credentials'],
      scopes: ['read'],
      audiences: ['https://api.example'],
      ...body,
    });
    if (response.status !== 201) throw new Error(JSON.stringify(response.body));
    return response.body;
  };

  it('advertises the RFC 8705 methods, bound tokens and the mTLS endpoint aliases', async () => {
    const metadata = (await fetch(`${s.url}/.well-known/oauth-authorization-server`).then((r) => r.json())) as any;
    expect(metadata.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['tls_client_auth', 'self_signed_tls_client_auth']));
    expect(metadata.tls_client_certificate_bound_access_tokens).toBe(true);
    expect(metadata.mtls_endpoint_aliases).toEqual({
      token_endpoint: `${s.tlsUrl}/oauth/token`,
      revocation_endpoint: `${s.tlsUrl}/oauth/revoke`,
      introspection_endpoint: `${s.tlsUrl}/oauth/introspect`,
      userinfo_endpoint: `${s.tlsUrl}/oauth/userinfo`,
    });
  });

  it('tls_client_auth: a CA certificate naming the registered SAN URI authenticates; others do not', async () => {
    const client = await createClient({ tokenEndpointAuthMethod: 'tls_client_auth', tlsClientAuthSubjectDn: 'CN=placeholder' });
    expect(client).not.toHaveProperty('clientSecret');
    const cert = await s.issue({ clientId: client.clientId });
    const registered = await s.api('PATCH', `/v1/clients/${client.clientId}`, { tlsClientAuthSanUri: cert.body.sanUri });
    expect(registered.body.tlsClientAuthSanUri).toBe(cert.body.sanUri);
    expect(registered.body).not.toHaveProperty('tlsClientAuthSubjectDn');

    const ok = await overTls('/oauth/token', { grant_type: 'client_credentials', client_id: client.clientId }, cert);
    expect(ok.status).toBe(200);
    expect(decodeJwt(ok.body.access_token).cnf).toEqual({ 'x5t#S256': thumbprint(cert.cert) });
    expect(cert.thumbprint).toBe(thumbprint(cert.cert));

    const other = await s.issue({ commonName: 'someone-else' });
    for (const presented of [undefined, other, await selfSignedCertificate()]) {
      const denied = await overTls('/oauth/token', { grant_type: 'client_credentials', client_id: client.clientId }, presented);
      expect(denied.status).toBe(401);
      expect(denied.body.error).toBe('invalid_client');
    }
    // Plain HTTP (no certificate at all) and a secret-style attempt fail alike.
    const plain = await fetch(`${s.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: 'guess' }),
    });
    expect(plain.status).toBe(401);

    // Subject DN matching (RFC 4514 text).
    await s.api('PATCH', `/v1/clients/${client.clientId}`, { tlsClientAuthSubjectDn: `cn=${client.clientId}` });
    expect((await overTls('/oauth/token', { grant_type: 'client_credentials', client_id: client.clientId }, cert)).status).toBe(200);
  });

  it("tls_client_auth: a tenant's certificate never authenticates another tenant's client, whatever that client registered", async () => {
    const acmeAdmin = await s.api('POST', '/v1/keys', { name: 'acme certificates', scopes: ['certificates:write'], tenantId: 'acme' });
    expect(acmeAdmin.status).toBe(201);
    const issued = await fetch(`${s.url}/v1/certificates`, {
      method: 'POST',
      headers: { authorization: `Bearer ${acmeAdmin.body.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ commonName: 'payments' }),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
    expect(issued.status).toBe(201);
    expect(issued.body.sanUri).toMatch(/^spiffe:\/\/[^/]+\/tenant\/acme\/service\/payments$/);
    expect(new X509Certificate(issued.body.certificatePem).subject).toBe('CN=payments\nO=acme');
    const acmeCert: ClientCredentials = { cert: issued.body.certificatePem, key: issued.body.privateKeyPem };

    // Another tenant's clients, registered to expect exactly what that certificate shows: refused.
    for (const registration of [
      { tlsClientAuthSubjectDn: 'CN=payments' },
      { tlsClientAuthSubjectDn: 'CN=payments,O=acme' },
      { tlsClientAuthSanUri: issued.body.sanUri },
    ]) {
      const globex = await createClient({ tokenEndpointAuthMethod: 'tls_client_auth', tenantId: 'globex', ...registration });
      const denied = await overTls('/oauth/token', { grant_type: 'client_credentials', client_id: globex.clientId }, acmeCert);
      expect(denied.status, JSON.stringify(registration)).toBe(401);
    }
    // The tenant's own client, registered the same way, is authenticated by it.
    const own = await createClient({ tokenEndpointAuthMethod: 'tls_client_auth', tenantId: 'acme', tlsClientAuthSanUri: issued.body.sanUri });
    expect((await overTls('/oauth/token', { grant_type: 'client_credentials', client_id: own.clientId }, acmeCert)).status).toBe(200);
  });

  it('self_signed_tls_client_auth: the certificate registered in the client JWKS authenticates; another does not', async () => {
    const self = await selfSignedCertificate('device-1');
    const jwk = { ...(new X509Certificate(self.cert).publicKey.export({ format: 'jwk' }) as object), x5c: [self.der.toString('base64')] };
    const client = await createClient({ tokenEndpointAuthMethod: 'self_signed_tls_client_auth', jwks: { keys: [jwk] } });
    const ok = await overTls('/oauth/token', { grant_type: 'client_credentials', client_id: client.clientId }, self);
    expect(ok.status).toBe(200);
    expect(decodeJwt(ok.body.access_token).cnf).toEqual({ 'x5t#S256': thumbprint(self.cert) });
    const denied = await overTls('/oauth/token', { grant_type: 'client_credentials', client_id: client.clientId }, await selfSignedCertificate('device-2'));
    expect(denied.status).toBe(401);
    const bad = await s.api('POST', '/v1/clients', { name: 'x', grantTypes: ['client_credentials'], tokenEndpointAuthMethod: 'self_signed_tls_client_auth', jwks: { keys: [{ kty: 'EC' }] } });
    expect(bad.status).toBe(400);
  });

  it('a bound token replayed without its certificate: userinfo refuses it, introspection shows cnf', async () => {
    const client = await createClient({ tokenEndpointAuthMethod: 'tls_client_auth', tlsClientAuthSubjectDn: 'CN=placeholder' });
    const cert = await s.issue({ clientId: client.clientId });
    await s.api('PATCH', `/v1/clients/${client.clientId}`, { tlsClientAuthSanUri: cert.body.sanUri });
    const token = (await overTls('/oauth/token', { grant_type: 'client_credentials', client_id: client.clientId }, cert)).body.access_token;
    const bearer = { authorization: `Bearer ${token}` };

    // Without the certificate (plain HTTP, TLS without one, TLS with another): 401. With it, the binding holds and
    // the next check answers (this token has no openid scope: 403).
    expect((await fetch(`${s.url}/oauth/userinfo`, { headers: bearer })).status).toBe(401);
    expect((await tlsRequest(s.tlsUrl, { ca, path: '/oauth/userinfo', headers: bearer })).status).toBe(401);
    expect((await tlsRequest(s.tlsUrl, { ca, client: await s.issue({ commonName: 'thief' }), path: '/oauth/userinfo', headers: bearer })).status).toBe(401);
    expect((await tlsRequest(s.tlsUrl, { ca, client: cert, path: '/oauth/userinfo', headers: bearer })).status).toBe(403);

    const introspected = await fetch(`${s.url}/oauth/introspect`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.rootKey}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ token }),
    }).then((r) => r.json() as Promise<any>);
    expect(introspected).toMatchObject({ active: true, cnf: { 'x5t#S256': cert.thumbprint } });
    // The client itself introspects over mTLS (tls_client_auth at the introspection endpoint).
    const own = await overTls('/oauth/introspect', { token, client_id: client.clientId }, cert);
    expect(own.body).toMatchObject({ active: true, cnf: { 'x5t#S256': cert.thumbprint } });
  });

  it("a public client's refresh token is bound to its certificate: another certificate or none is invalid_grant", async () => {
    const publicClient = await s.api('POST', '/v1/clients', {
      name: 'native app',
      redirectUris: ['https://app.example/callback'],
      grantTypes: ['authorization_code', 'refresh_token'],
      scopes: ['openid', 'read'],
      tokenEndpointAuthMethod: 'none',
    });
    const user = await s.api('POST', '/v1/users', { email: 'mtls-user@example.com', password: 'correct horse battery staple' });
    expect(user.status).toBe(201);
    const device = await selfSignedCertificate('phone');
    const { verifier, challenge } = pkcePair();
    const clientId = publicClient.body.clientId;
    const authorize = `/oauth/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: 'https://app.example/callback',
      scope: 'openid read',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    })}`;
    const callback = await authorizeThroughForms(new FormBrowser(s.url), authorize, { email: 'mtls-user@example.com', password: 'correct horse battery staple' });
    const tokens = await overTls(
      '/oauth/token',
      { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: 'https://app.example/callback', code_verifier: verifier, client_id: clientId },
      device,
    );
    expect(tokens.status).toBe(200);
    expect(decodeJwt(tokens.body.access_token).cnf).toEqual({ 'x5t#S256': thumbprint(device.cert) });
    // Userinfo with its certificate works; the bound refresh token introspects with cnf.
    const info = await tlsRequest(s.tlsUrl, { ca, client: device, path: '/oauth/userinfo', headers: { authorization: `Bearer ${tokens.body.access_token}` } });
    expect(JSON.parse(info.body).sub).toBe(user.body.id);

    const refresh = (presented?: ClientCredentials) =>
      overTls('/oauth/token', { grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token, client_id: clientId }, presented);
    for (const presented of [undefined, await selfSignedCertificate('other-phone')]) {
      const denied = await refresh(presented);
      expect(denied.status).toBe(400);
      expect(denied.body.error).toBe('invalid_grant');
    }
    const plain = await fetch(`${s.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token, client_id: clientId }),
    });
    expect(plain.status).toBe(400);
    // The failed attempts did not consume it: the holder of the certificate still refreshes.
    const renewed = await refresh(device);
    expect(renewed.status).toBe(200);
    expect(decodeJwt(renewed.body.access_token).cnf).toEqual({ 'x5t#S256': thumbprint(device.cert) });
  });

  it('a certificate revoked, or expired, while its keep-alive connection stays open stops authenticating on it', async () => {
    /** Token requests over one kept-alive TLS connection: the status, and whether the connection was reused. */
    const onOneConnection = (cert: ClientCredentials) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1, ca, cert: cert.cert, key: cert.key });
      const send = (clientId: string) =>
        new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
          const req = request(new URL('/oauth/token', s.tlsUrl), { method: 'POST', agent, headers: { 'content-type': 'application/x-www-form-urlencoded' } }, (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
          });
          req.on('error', reject);
          req.end(form({ grant_type: 'client_credentials', client_id: clientId }));
        });
      return { send, close: () => agent.destroy() };
    };
    const mtlsClient = async (lifetimeSeconds?: number) => {
      const client = await createClient({ tokenEndpointAuthMethod: 'tls_client_auth', tlsClientAuthSubjectDn: 'CN=placeholder' });
      const cert = await s.issue({ clientId: client.clientId, ...(lifetimeSeconds ? { lifetimeSeconds } : {}) });
      await s.api('PATCH', `/v1/clients/${client.clientId}`, { tlsClientAuthSanUri: cert.body.sanUri });
      return { clientId: client.clientId as string, cert };
    };

    const revoked = await mtlsClient();
    const first = onOneConnection(revoked.cert);
    try {
      expect(await first.send(revoked.clientId)).toEqual({ status: 200, reused: false });
      expect((await s.api('POST', `/v1/certificates/${revoked.cert.serialNumber}/revoke`, {})).status).toBe(200);
      expect(await first.send(revoked.clientId)).toEqual({ status: 401, reused: true });
    } finally {
      first.close();
    }

    const expiring = await mtlsClient(300);
    const second = onOneConnection(expiring.cert);
    try {
      expect(await second.send(expiring.clientId)).toEqual({ status: 200, reused: false });
      s.shiftClock(10 * 60_000);
      expect(await second.send(expiring.clientId)).toEqual({ status: 401, reused: true });
    } finally {
      s.shiftClock(0);
      second.close();
    }
  });
});
