import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOAuthTestApp, type OAuthTestApp } from '../../server/test/helpers/oauth.js';
import { createAuthenticator, fetchProtectedResourceOptions, UnavailableError, type Authenticator } from '../src/index.js';
import { protectedResourceMetadata, requireAuth } from '../src/middleware/fastify.js';

const RESOURCE = 'https://mcp.example/mcp';

/** The API's scope list from one place: the resource registered in Gatehouse, read by the SDK at startup. */
describe('fetchProtectedResourceOptions against a real Gatehouse', () => {
  let t: OAuthTestApp;
  let authenticator: Authenticator | undefined;
  beforeAll(async () => {
    t = await createOAuthTestApp();
    const created = await t.api('POST', '/v1/resources', {
      body: { identifier: RESOURCE, name: 'Example MCP server', scopes: ['mcp:tools', 'mcp:read'], dynamicClients: true },
    });
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    await authenticator?.close();
    await t.close();
  });

  it('returns the registered scopes, name and issuer as the middleware options, served as RFC 9728 metadata', async () => {
    const options = await fetchProtectedResourceOptions({ issuer: t.issuer, resource: RESOURCE });
    expect(options).toStrictEqual({
      resource: RESOURCE,
      authorizationServers: [t.issuer],
      scopesSupported: ['mcp:tools', 'mcp:read'],
      resourceName: 'Example MCP server',
    });
    // A trailing slash on the issuer changes nothing.
    expect(await fetchProtectedResourceOptions({ issuer: `${t.issuer}/`, resource: RESOURCE })).toStrictEqual(options);

    const verifierKey = (await t.createKey({ name: 'verifier', scopes: ['keys:verify'] })).key;
    authenticator = createAuthenticator({ issuer: t.issuer, audience: RESOURCE, verifierKey, revocationStream: false });
    const app = Fastify();
    await app.register(protectedResourceMetadata(authenticator, options));
    app.get('/mcp', { onRequest: requireAuth(authenticator, { scopes: ['mcp:tools'], protectedResource: options }) }, async () => ({ ok: true }));
    try {
      const metadata = await app.inject({ method: 'GET', url: '/.well-known/oauth-protected-resource/mcp' });
      expect(metadata.statusCode).toBe(200);
      expect(metadata.json()).toMatchObject({
        resource: RESOURCE,
        authorization_servers: [t.issuer],
        scopes_supported: ['mcp:tools', 'mcp:read'],
        resource_name: 'Example MCP server',
      });
      const challenge = await app.inject({ method: 'GET', url: '/mcp' });
      expect(challenge.statusCode).toBe(401);
      expect(challenge.headers['www-authenticate']).toContain('resource_metadata="https://mcp.example/.well-known/oauth-protected-resource/mcp"');
    } finally {
      await app.close();
    }
  });

  it('follows the registration: a change of scopes is what the next call returns', async () => {
    const made = (await t.api('POST', '/v1/resources', { body: { identifier: 'https://changing.example/api', name: 'c', scopes: ['a:b'] } })).body;
    await t.api('PATCH', `/v1/resources/${made.id}`, { body: { scopes: ['a:b', 'c:d'] } });
    expect((await fetchProtectedResourceOptions({ issuer: t.issuer, resource: made.identifier })).scopesSupported).toEqual(['a:b', 'c:d']);
  });

  it('an unregistered resource is a TypeError naming it; an unreachable Gatehouse an UnavailableError; bad input a TypeError', async () => {
    await expect(fetchProtectedResourceOptions({ issuer: t.issuer, resource: 'https://unknown.example/api' })).rejects.toThrow(
      /no resource "https:\/\/unknown.example\/api" is registered/,
    );
    const closed = await fetchProtectedResourceOptions({ issuer: 'http://127.0.0.1:1', resource: RESOURCE }).catch((e: unknown) => e);
    expect(closed).toBeInstanceOf(UnavailableError);
    const failing: typeof fetch = async () => new Response('oops', { status: 503 });
    await expect(fetchProtectedResourceOptions({ issuer: t.issuer, resource: RESOURCE, fetch: failing })).rejects.toBeInstanceOf(UnavailableError);
    const other: typeof fetch = async () => Response.json({ resource: 'https://other.example', authorization_servers: [], scopes_supported: [] });
    await expect(fetchProtectedResourceOptions({ issuer: t.issuer, resource: RESOURCE, fetch: other })).rejects.toThrow(/not about/);
    await expect(fetchProtectedResourceOptions({ issuer: 'not a url', resource: RESOURCE })).rejects.toBeInstanceOf(TypeError);
    await expect(fetchProtectedResourceOptions({ issuer: t.issuer, resource: '' })).rejects.toBeInstanceOf(TypeError);
  });
});
