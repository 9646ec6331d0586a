import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OAuthClientView } from '../src/core/oauth/oauth-deps.js';
import { authorizeThroughForms, basicAuth, createOAuthTestApp, FormBrowser, pkcePair, type OAuthTestApp } from './helpers/oauth.js';

/**
 * RFC 8707 done fully: resources registered in the admin API with their scopes; several resources in one
 * authorization; a token per resource on code exchange and on refresh; invalid_target for what the client may
 * not have; and what clients that registered themselves may ask for.
 */

const API_A = 'https://a.example.com/api';
const API_B = 'https://b.example.com/api';
const MCP = 'https://mcp.example.com/mcp';
const CLOSED = 'https://closed.example.com/mcp';
const CALLBACK = 'https://app.example/callback';

describe('OAuth with registered resources (RFC 8707)', () => {
  let t: OAuthTestApp;
  let jwks: ReturnType<typeof createRemoteJWKSet>;
  let user: { email: string; id: string };
  const password = 'correct horse battery staple';

  async function token(body: Record<string, string>, auth?: string) {
    const response = await fetch(`${t.issuer}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(auth ? { authorization: auth } : {}) },
      body: new URLSearchParams(body),
    });
    return { status: response.status, body: (await response.json()) as any };
  }

  /** The authorization redirect for a request with these resources and scope (several `resource` parameters). */
  async function authorize(clientId: string, resources: string[], scope: string) {
    const { verifier, challenge } = pkcePair();
    const query = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: CALLBACK, scope, code_challenge: challenge, code_challenge_method: 'S256' });
    for (const resource of resources) query.append('resource', resource);
    const callback = await authorizeThroughForms(new FormBrowser(t.issuer), `/oauth/authorize?${query}`, { email: user.email, password });
    return { callback, code: callback.searchParams.get('code'), verifier };
  }

  async function claims(accessToken: string, audience: string): Promise<JWTPayload> {
    return (await jwtVerify(accessToken, jwks, { issuer: t.issuer, audience, typ: 'at+jwt' })).payload;
  }

  const registerResource = async (body: Record<string, unknown>) => {
    const r = await t.api('POST', '/v1/resources', { body });
    if (r.status !== 201) throw new Error(`resource: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };

  /**
   * Makes a client look self-registered (registration 'dynamic') to the OAuth endpoints: the stand-in for Dynamic
   * Client Registration's stored registration field, which the SQL store does not keep yet (every row reads
   * back as 'admin'). Both lookups the endpoints use answer the same view.
   */
  function selfRegistered(clientId: string): void {
    const { clients, oauth } = t.services;
    const lookup = clients.lookup.bind(clients);
    clients.lookup = async (id) => {
      const client = await lookup(id);
      return client && id === clientId ? { ...client, registration: 'dynamic' } : client;
    };
    const findClient = oauth.findClient.bind(oauth);
    oauth.findClient = async (id): Promise<OAuthClientView | undefined> => {
      const client = await findClient(id);
      return client && id === clientId ? { ...client, registration: 'dynamic' } : client;
    };
  }

  beforeAll(async () => {
    t = await createOAuthTestApp();
    jwks = createRemoteJWKSet(new URL(`${t.issuer}/.well-known/jwks.json`));
    user = await t.createUser();
    await registerResource({ identifier: API_A, name: 'A', scopes: ['a:read', 'a:write'], accessTokenTtlSeconds: 120 });
    await registerResource({ identifier: API_B, name: 'B', scopes: ['b:read'] });
    await registerResource({ identifier: MCP, name: 'MCP', scopes: ['tools:call', 'tools:list'], dynamicClients: true });
    await registerResource({ identifier: CLOSED, name: 'Closed', scopes: ['closed:read'] });
  });
  afterAll(() => t.close());

  describe('an admin-registered client', () => {
    let client: { clientId: string; clientSecret: string };
    let auth: string;
    beforeAll(async () => {
      client = await t.createClient({ audiences: [API_A, API_B], scopes: ['openid', 'a:read', 'a:write', 'b:read'] });
      auth = basicAuth(client.clientId, client.clientSecret);
    });

    it('authorizes several resources at once and gets a token per resource, on code exchange and on every refresh', async () => {
      const { code, verifier } = await authorize(client.clientId, [API_A, API_B], 'openid a:read b:read');
      expect(code).toBeTruthy();
      const exchanged = await token({ grant_type: 'authorization_code', code: code!, redirect_uri: CALLBACK, code_verifier: verifier, resource: API_A }, auth);
      expect(exchanged.status).toBe(200);
      expect(exchanged.body.scope).toBe('openid a:read');
      const forA = await claims(exchanged.body.access_token, API_A);
      expect(forA).toMatchObject({ aud: API_A, scope: 'openid a:read' });
      // A's cap on its tokens' lifetime (the client's default is 900 s).
      expect(exchanged.body.expires_in).toBe(120);
      expect(forA.exp! - forA.iat!).toBe(120);
      expect(exchanged.body.id_token).toBeTruthy();

      const forB = await token({ grant_type: 'refresh_token', refresh_token: exchanged.body.refresh_token, resource: API_B }, auth);
      expect(forB.status).toBe(200);
      expect(forB.body).toMatchObject({ scope: 'openid b:read', expires_in: 900 });
      expect(await claims(forB.body.access_token, API_B)).toMatchObject({ aud: API_B, scope: 'openid b:read' });
      await expect(jwtVerify(forB.body.access_token, jwks, { audience: API_A })).rejects.toThrow(/aud/);

      // The refresh token kept every scope of the grant: back to A, then both.
      const againA = await token({ grant_type: 'refresh_token', refresh_token: forB.body.refresh_token, resource: API_A }, auth);
      expect(await claims(againA.body.access_token, API_A)).toMatchObject({ aud: API_A, scope: 'openid a:read' });
      const both = await token({ grant_type: 'refresh_token', refresh_token: againA.body.refresh_token }, auth);
      const payload = await claims(both.body.access_token, API_B);
      expect(payload.aud).toEqual([API_A, API_B]);
      expect(payload.scope).toBe('openid a:read b:read');
      // Two resources named at the token endpoint: the scopes of both, the shorter lifetime.
      const named = await token({ grant_type: 'refresh_token', refresh_token: both.body.refresh_token, resource: API_B, scope: 'a:read b:read' }, auth);
      expect(named.status).toBe(200);
      expect(await claims(named.body.access_token, API_B)).toMatchObject({ aud: API_B, scope: 'b:read' });
    });

    it('invalid_target: a resource the client is not registered for, at the authorization endpoint', async () => {
      for (const resource of [CLOSED, MCP, 'https://unknown.example.com']) {
        const { callback, code } = await authorize(client.clientId, [API_A, resource], 'a:read');
        expect(code).toBeNull();
        expect(callback.searchParams.get('error')).toBe('invalid_target');
      }
    });

    it('invalid_target: a resource outside the grant, on code exchange and on refresh', async () => {
      const { code, verifier } = await authorize(client.clientId, [API_A], 'a:read');
      const outside = await token({ grant_type: 'authorization_code', code: code!, redirect_uri: CALLBACK, code_verifier: verifier, resource: API_B }, auth);
      expect(outside.status).toBe(400);
      expect(outside.body.error).toBe('invalid_target');

      const second = await authorize(client.clientId, [API_A], 'a:read');
      const ok = await token({ grant_type: 'authorization_code', code: second.code!, redirect_uri: CALLBACK, code_verifier: second.verifier }, auth);
      expect(ok.status).toBe(200);
      const refreshed = await token({ grant_type: 'refresh_token', refresh_token: ok.body.refresh_token, resource: API_B }, auth);
      expect(refreshed.status).toBe(400);
      expect(refreshed.body.error).toBe('invalid_target');
    });

    it('an admin client keeps its own scope rule: a scope outside client.scopes is invalid_scope, even one of the resource', async () => {
      const narrow = await t.createClient({ audiences: [API_A], scopes: ['a:read'] });
      const { callback } = await authorize(narrow.clientId, [API_A], 'a:write');
      expect(callback.searchParams.get('error')).toBe('invalid_scope');
    });

    it("client_credentials: the resource's cap on the lifetime applies", async () => {
      const machine = await t.createClient({ grantTypes: ['client_credentials'], redirectUris: [], audiences: [API_A, API_B], scopes: ['a:read'] });
      const machineAuth = basicAuth(machine.clientId, machine.clientSecret);
      expect((await token({ grant_type: 'client_credentials', resource: API_A }, machineAuth)).body.expires_in).toBe(120);
      expect((await token({ grant_type: 'client_credentials', resource: API_B }, machineAuth)).body.expires_in).toBe(900);
    });
  });

  describe('GET /oauth/resource-metadata (RFC 9728 document of a registered resource)', () => {
    it('answers the registered resource: public, any origin, cacheable; and follows changes at once', async () => {
      const url = `${t.issuer}/oauth/resource-metadata?resource=${encodeURIComponent(MCP)}`;
      const response = await fetch(url, { headers: { origin: 'https://anywhere.example' } });
      expect(response.status).toBe(200);
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      expect(response.headers.get('cache-control')).toBe('public, max-age=300');
      expect(await response.json()).toStrictEqual({
        resource: MCP,
        authorization_servers: [t.issuer],
        scopes_supported: ['tools:call', 'tools:list'],
        resource_name: 'MCP',
        bearer_methods_supported: ['header'],
      });
      const preflight = await fetch(url, { method: 'OPTIONS', headers: { origin: 'https://anywhere.example', 'access-control-request-method': 'GET' } });
      expect(preflight.status).toBe(204);

      const made = await registerResource({ identifier: 'https://changing.example.com', name: 'changing', scopes: ['x:y'] });
      const of = (identifier: string) => fetch(`${t.issuer}/oauth/resource-metadata?resource=${encodeURIComponent(identifier)}`);
      expect(((await (await of(made.identifier)).json()) as any).scopes_supported).toEqual(['x:y']);
      await t.api('PATCH', `/v1/resources/${made.id}`, { body: { scopes: ['x:y', 'x:z'] } });
      expect(((await (await of(made.identifier)).json()) as any).scopes_supported).toEqual(['x:y', 'x:z']);
      await t.api('DELETE', `/v1/resources/${made.id}`);
      expect((await of(made.identifier)).status).toBe(404);
    });

    it('404 for an unregistered resource (exact match), 400 without one', async () => {
      for (const identifier of ['https://unknown.example.com', `${MCP}/`, MCP.toUpperCase()]) {
        const response = await fetch(`${t.issuer}/oauth/resource-metadata?resource=${encodeURIComponent(identifier)}`);
        expect(response.status, identifier).toBe(404);
        expect(((await response.json()) as any).error).toBe('not_found');
      }
      expect((await fetch(`${t.issuer}/oauth/resource-metadata`)).status).toBe(400);
      expect((await fetch(`${t.issuer}/oauth/resource-metadata?resource=${'a'.repeat(300)}`)).status).toBe(400);
    });
  });

  describe('a self-registered client (registration dynamic)', () => {
    let clientId: string;
    const exchange = (code: string, verifier: string, extra: Record<string, string> = {}) =>
      token({ grant_type: 'authorization_code', client_id: clientId, code, redirect_uri: CALLBACK, code_verifier: verifier, ...extra });

    beforeAll(async () => {
      // As DCR registers one: a public client, no audiences, no scopes of its own.
      const client = await t.createClient({ tokenEndpointAuthMethod: 'none', scopes: [], audiences: [] });
      clientId = client.clientId;
      selfRegistered(clientId);
    });

    it('may ask for a resource open to self-registered clients, with its scopes (and OpenID scopes)', async () => {
      const { code, verifier } = await authorize(clientId, [MCP], 'openid tools:call');
      expect(code).toBeTruthy();
      const exchanged = await exchange(code!, verifier, { resource: MCP });
      expect(exchanged.status).toBe(200);
      expect(await claims(exchanged.body.access_token, MCP)).toMatchObject({ aud: MCP, scope: 'openid tools:call', client_id: clientId });
      const refreshed = await token({ grant_type: 'refresh_token', client_id: clientId, refresh_token: exchanged.body.refresh_token });
      expect(refreshed.status).toBe(200);
      expect(await claims(refreshed.body.access_token, MCP)).toMatchObject({ aud: MCP });
    });

    it('invalid_target for a registered resource not open to self-registered clients, for an unregistered one, and with none', async () => {
      for (const resources of [[CLOSED], [API_A], ['https://unknown.example.com/mcp'], [MCP, CLOSED]]) {
        const { callback, code } = await authorize(clientId, resources, 'openid');
        expect(code, resources.join(' ')).toBeNull();
        expect(callback.searchParams.get('error')).toBe('invalid_target');
      }
    });

    it("invalid_scope for a scope that is not the requested resources'", async () => {
      for (const scope of ['tools:call closed:read', 'a:read', 'admin']) {
        const { callback } = await authorize(clientId, [MCP], scope);
        expect(callback.searchParams.get('error'), scope).toBe('invalid_scope');
      }
    });

    it("a client's declared scopes do not cap it (step-up), the resources' scopes do", async () => {
      // MCP clients register with the scope of their first challenge and ask for more on a step-up challenge.
      const declared = await t.createClient({ tokenEndpointAuthMethod: 'none', scopes: ['tools:list'], audiences: [] });
      selfRegistered(declared.clientId);
      expect((await authorize(declared.clientId, [MCP], 'tools:list')).code).toBeTruthy();
      expect((await authorize(declared.clientId, [MCP], 'tools:list tools:call')).code).toBeTruthy();
      expect((await authorize(declared.clientId, [MCP], 'tools:list closed:read')).callback.searchParams.get('error')).toBe('invalid_scope');
    });

    it('loses the resource at refresh once it is closed to self-registered clients or deleted', async () => {
      const resource = await registerResource({ identifier: 'https://later.example.com/mcp', name: 'later', scopes: ['later:use'], dynamicClients: true });
      const { code, verifier } = await authorize(clientId, [resource.identifier], 'later:use');
      const exchanged = await exchange(code!, verifier);
      expect(exchanged.status).toBe(200);
      expect(await claims(exchanged.body.access_token, resource.identifier)).toMatchObject({ scope: 'later:use' });
      expect((await t.api('PATCH', `/v1/resources/${resource.id}`, { body: { dynamicClients: false } })).status).toBe(200);
      const refused = await token({ grant_type: 'refresh_token', client_id: clientId, refresh_token: exchanged.body.refresh_token });
      expect(refused.status).toBe(400);
      expect(refused.body.error).toBe('invalid_target');
    });
  });
});
