import { createServer, type Server } from 'node:http';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, listen } from './helpers/listen.js';
import { basicAuth, createOAuthTestApp, type OAuthTestApp } from '../../server/test/helpers/oauth.js';
import { createAuthenticator, protectedResourceMetadataUrl, type Authenticator, type ProtectedResourceOptions } from '../src/index.js';
import { protectedResourceMetadata as expressMetadata, requireAuth as expressAuth } from '../src/middleware/express.js';
import { protectedResourceMetadata as fastifyMetadata, requireAuth as fastifyAuth } from '../src/middleware/fastify.js';
import { protectedResourceMetadata as honoMetadata, requireAuth as honoAuth, type AuthEnv } from '../src/middleware/hono.js';
import { protectedResourceMetadata as nodeMetadata, requireAuth as nodeAuth } from '../src/middleware/node-http.js';

/** The MCP server's resource identifier: what clients ask Gatehouse for, and the `aud` its tokens must hold. */
const RESOURCE = 'https://mcp.example/mcp';
const METADATA_URL = 'https://mcp.example/.well-known/oauth-protected-resource/mcp';
/** Another API of the same deployment, which the authenticator accepts too (and lists first: the realm). */
const OTHER_API = 'https://api.example';
const PROTECTED_RESOURCE: ProtectedResourceOptions = {
  resource: RESOURCE,
  scopesSupported: ['mcp:tools', 'mcp:read'],
  resourceName: 'Example MCP server',
  resourceDocumentation: 'https://mcp.example/docs',
};
const ROUTE_SCOPES = ['mcp:tools'];

let t: OAuthTestApp;
let authenticator: Authenticator;
/** Tokens of one client: for the MCP resource with and without the route's scope, and for the other API. */
let mcpToken: string;
let readOnlyToken: string;
let otherApiToken: string;
let toolsKey: string;
let readKey: string;

interface Running {
  url: string;
  close(): Promise<void>;
}


/** One server per framework: the metadata, and GET /mcp protected by requireAuth with the protected resource. */
const FRAMEWORKS: Record<string, (a: Authenticator) => Promise<Running>> = {
  async fastify(a) {
    const app = Fastify();
    await app.register(fastifyMetadata(a, PROTECTED_RESOURCE));
    app.get('/mcp', { onRequest: fastifyAuth(a, { scopes: ROUTE_SCOPES, protectedResource: PROTECTED_RESOURCE }) }, async (request) => ({ auth: request.auth }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { url: await listen(app.server), close: () => app.close() };
  },
  async express(a) {
    const app = express();
    app.use(expressMetadata(a, PROTECTED_RESOURCE));
    app.get('/mcp', expressAuth(a, { scopes: ROUTE_SCOPES, protectedResource: PROTECTED_RESOURCE }), (req, res) => {
      res.json({ auth: req.auth });
    });
    const server = createServer(app);
    return { url: await listen(server), close: () => closeServer(server) };
  },
  async hono(a) {
    const app = new Hono<AuthEnv>();
    app.use(honoMetadata(a, PROTECTED_RESOURCE));
    app.get('/mcp', honoAuth(a, { scopes: ROUTE_SCOPES, protectedResource: PROTECTED_RESOURCE }), (c) => c.json({ auth: c.get('auth') }));
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
    await new Promise<void>((resolve) => (server.listening ? resolve() : server.once('listening', () => resolve())));
    return { url: await listen(server), close: () => closeServer(server) };
  },
  async node(a) {
    const serveMetadata = nodeMetadata(a, PROTECTED_RESOURCE);
    const guard = nodeAuth(a, { scopes: ROUTE_SCOPES, protectedResource: PROTECTED_RESOURCE });
    const server = createServer((req, res) => {
      if (serveMetadata(req, res)) return;
      if (req.url !== '/mcp') return void res.writeHead(404).end();
      guard(req, res).then((auth) => {
        if (auth) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ auth }));
      });
    });
    return { url: await listen(server), close: () => closeServer(server) };
  },
};

async function token(clientId: string, secret: string, scope: string, resource: string): Promise<string> {
  const response = await fetch(`${t.issuer}/oauth/token`, {
    method: 'POST',
    headers: { authorization: basicAuth(clientId, secret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope, resource }).toString(),
  });
  const json = (await response.json()) as { access_token: string };
  expect(response.status, JSON.stringify(json)).toBe(200);
  return json.access_token;
}

/**
 * Calls `url` as an OAuth client library does (oauth4webapi's protectedResourceRequest), and returns the
 * WWW-Authenticate challenges it parsed from the refusal, with the response. `token` undefined: no Authorization
 * header at all.
 */
async function challenged(url: string, token: string | undefined) {
  const fetchWithout: typeof fetch = (input, init) => {
    const headers = new Headers(init?.headers);
    if (token === undefined) headers.delete('authorization');
    return fetch(input, { ...init, headers });
  };
  try {
    const response = await oauth.protectedResourceRequest(token ?? 'unused', 'GET', new URL(url), new Headers(), null, {
      [oauth.allowInsecureRequests]: true,
      [oauth.customFetch]: fetchWithout,
    });
    throw new Error(`not challenged: ${response.status} ${await response.text()}`);
  } catch (error) {
    if (!(error instanceof oauth.WWWAuthenticateChallengeError)) throw error;
    const body = (await error.response.json()) as { error: string; error_description: string };
    return { status: error.response.status, challenges: error.cause, header: error.response.headers.get('www-authenticate'), body };
  }
}

beforeAll(async () => {
  t = await createOAuthTestApp();
  const verifierKey = (await t.createKey({ name: 'verifier', scopes: ['keys:verify'] })).key;
  authenticator = createAuthenticator({ issuer: t.issuer, audience: [OTHER_API, RESOURCE], verifierKey, revocationStream: false });
  const client = await t.createClient({ grantTypes: ['client_credentials'], redirectUris: [], scopes: ['mcp:tools', 'mcp:read'], audiences: [RESOURCE, OTHER_API] });
  mcpToken = await token(client.clientId, client.clientSecret, 'mcp:tools', RESOURCE);
  readOnlyToken = await token(client.clientId, client.clientSecret, 'mcp:read', RESOURCE);
  otherApiToken = await token(client.clientId, client.clientSecret, 'mcp:tools', OTHER_API);
  toolsKey = (await t.createKey({ name: 'mcp tools', scopes: ['mcp:tools'] })).key;
  readKey = (await t.createKey({ name: 'mcp read', scopes: ['mcp:read'] })).key;
});

afterAll(async () => {
  await authenticator?.close();
  await t?.close();
});

describe.each(Object.keys(FRAMEWORKS))('%s: protected resource metadata (RFC 9728)', (framework) => {
  let server: Running;

  beforeAll(async () => {
    server = await FRAMEWORKS[framework]!(authenticator);
  });
  afterAll(() => server?.close());

  it('serves the document at the path-suffixed well-known URL and at the bare one, with cache and CORS headers', async () => {
    for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(response.headers.get('cache-control')).toBe('public, max-age=300');
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      expect(await response.json()).toEqual({
        resource: RESOURCE,
        authorization_servers: [t.issuer],
        scopes_supported: ['mcp:tools', 'mcp:read'],
        bearer_methods_supported: ['header'],
        resource_name: 'Example MCP server',
        resource_documentation: 'https://mcp.example/docs',
      });
    }
    const head = await fetch(`${server.url}/.well-known/oauth-protected-resource/mcp`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('a client library discovers it from the resource identifier and accepts it (resource matches)', async () => {
    // oauth4webapi builds the well-known URL from the resource identifier; only the origin is rewritten to this server.
    const toServer: typeof fetch = (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      expect(url.href).toBe(METADATA_URL);
      return fetch(`${server.url}${url.pathname}`, init);
    };
    const response = await oauth.resourceDiscoveryRequest(new URL(RESOURCE), { [oauth.customFetch]: toServer });
    const metadata = await oauth.processResourceDiscoveryResponse(new URL(RESOURCE), response);
    expect(metadata.authorization_servers).toEqual([t.issuer]);
    expect(metadata.bearer_methods_supported).toEqual(['header']);
  });

  it('answers only GET and HEAD on its own paths: other paths and methods go to the app', async () => {
    expect((await fetch(`${server.url}/.well-known/oauth-protected-resource/other`)).status).toBe(404);
    expect((await fetch(`${server.url}/.well-known/oauth-protected-resource/mcp/x`)).status).toBe(404);
    const post = await fetch(`${server.url}/.well-known/oauth-protected-resource/mcp`, { method: 'POST' });
    expect(post.status).not.toBe(200);
  });

  it('200 for an access token whose aud is the resource and which holds the route scope', async () => {
    const response = await fetch(`${server.url}/mcp`, { headers: { authorization: `Bearer ${mcpToken}` } });
    expect(response.status).toBe(200);
    const { auth } = (await response.json()) as { auth: { kind: string; scopes: string[]; claims: { aud: unknown } } };
    expect(auth).toMatchObject({ kind: 'jwt', scopes: ['mcp:tools'] });
    expect(auth.claims.aud).toBe(RESOURCE);
  });

  it('401 without credentials: the challenge names the metadata URL and the route scopes', async () => {
    const { status, challenges, body } = await challenged(`${server.url}/mcp`, undefined);
    expect(status).toBe(401);
    expect(challenges).toEqual([
      { scheme: 'bearer', parameters: { realm: OTHER_API, scope: 'mcp:tools', resource_metadata: METADATA_URL } },
    ]);
    expect(body.error).toBe('invalid_token');
  });

  it('401 invalid_token for a token issued for another audience (one the authenticator accepts elsewhere)', async () => {
    const { status, challenges, body } = await challenged(`${server.url}/mcp`, otherApiToken);
    expect(status).toBe(401);
    expect(challenges).toEqual([
      { scheme: 'bearer', parameters: { realm: OTHER_API, error: 'invalid_token', scope: 'mcp:tools', resource_metadata: METADATA_URL } },
    ]);
    expect(body).toEqual({ error: 'invalid_token', error_description: expect.any(String) });
  });

  it('401 invalid_token for a malformed token, with the same challenge', async () => {
    const { status, challenges } = await challenged(`${server.url}/mcp`, 'not-a-token');
    expect(status).toBe(401);
    expect(challenges[0]!.parameters).toEqual({ realm: OTHER_API, error: 'invalid_token', scope: 'mcp:tools', resource_metadata: METADATA_URL });
  });

  it('403 insufficient_scope (step-up) for a token of the resource without the route scope', async () => {
    const { status, challenges, header, body } = await challenged(`${server.url}/mcp`, readOnlyToken);
    expect(status).toBe(403);
    expect(challenges).toEqual([
      { scheme: 'bearer', parameters: { realm: OTHER_API, error: 'insufficient_scope', scope: 'mcp:tools', resource_metadata: METADATA_URL } },
    ]);
    expect(header).toBe(`Bearer realm="${OTHER_API}", error="insufficient_scope", scope="mcp:tools", resource_metadata="${METADATA_URL}"`);
    expect(body.error).toBe('insufficient_scope');
  });

  it('API keys have no audience: one with the scope passes, one without gets the step-up 403', async () => {
    expect((await fetch(`${server.url}/mcp`, { headers: { authorization: `Bearer ${toolsKey}` } })).status).toBe(200);
    const { status, challenges } = await challenged(`${server.url}/mcp`, readKey);
    expect(status).toBe(403);
    expect(challenges[0]!.parameters).toEqual({ realm: OTHER_API, error: 'insufficient_scope', scope: 'mcp:tools', resource_metadata: METADATA_URL });
  });
});

describe('the resource as the expected audience', () => {
  it('the authenticator accepts the other API token by its own audience list, and refuses it for the resource', async () => {
    const header = `Bearer ${otherApiToken}`;
    expect((await authenticator.authenticate(header)).ok).toBe(true);
    const refused = await authenticator.authenticate(header, { audience: RESOURCE });
    expect(refused).toMatchObject({ ok: false, code: 'invalid_token', status: 401 });
    expect((await authenticator.authenticate(`Bearer ${mcpToken}`, { audience: RESOURCE })).ok).toBe(true);
    expect((await authenticator.authenticate(`Bearer ${mcpToken}`, { audience: OTHER_API })).ok).toBe(false);
  });

  it('routes without a protected resource keep their challenges as before', async () => {
    const guard = nodeAuth(authenticator, { scopes: ROUTE_SCOPES });
    const server = createServer((req, res) => void guard(req, res).then((auth) => auth && res.writeHead(200).end()));
    const url = await listen(server);
    try {
      const response = await fetch(url);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe(`Bearer realm="${OTHER_API}"`);
      expect((await fetch(url, { headers: { authorization: `Bearer ${otherApiToken}` } })).status).toBe(200);
    } finally {
      await closeServer(server);
    }
  });
});

describe('protectedResourceMetadataUrl (RFC 9728 section 3.1)', () => {
  it('inserts the well-known suffix between the host and the path', () => {
    expect(protectedResourceMetadataUrl('https://mcp.example/mcp')).toBe(METADATA_URL);
    expect(protectedResourceMetadataUrl('https://api.example.com')).toBe('https://api.example.com/.well-known/oauth-protected-resource');
    expect(protectedResourceMetadataUrl('https://api.example.com/')).toBe('https://api.example.com/.well-known/oauth-protected-resource');
    expect(protectedResourceMetadataUrl('https://api.example.com:8443/v1/mcp/')).toBe('https://api.example.com:8443/.well-known/oauth-protected-resource/v1/mcp/');
  });
});

describe('setup validation', () => {
  const METADATA = { fastify: fastifyMetadata, express: expressMetadata, hono: honoMetadata, node: nodeMetadata };
  const REQUIRE_AUTH = { fastify: fastifyAuth, express: expressAuth, hono: honoAuth, node: nodeAuth };

  const BAD: unknown[] = [
    undefined,
    null,
    'https://mcp.example/mcp',
    {},
    { resource: 42 },
    { resource: 'mcp' },
    { resource: '/mcp' },
    { resource: 'http://mcp.example/mcp' },
    { resource: 'ftp://mcp.example/mcp' },
    { resource: 'https://mcp.example/mcp#tools' },
    { resource: 'https://mcp.example/mcp?tenant=acme' },
    { resource: 'https://mcp.example/mcp?' },
    { resource: 'https://MCP.example/mcp' },
    { resource: 'https://mcp.example:443/mcp' },
    { resource: 'https://user:pass@mcp.example/mcp' },
    { resource: 'https://mcp.example/a//b' },
    { resource: 'https://mcp.example/m:cp' },
    { resource: 'https://mcp.example/%6Dcp' },
    { resource: 'https://mcp.example/a/../mcp' },
    { resource: RESOURCE, extra: true },
    { resource: RESOURCE, authorizationServers: [] },
    { resource: RESOURCE, authorizationServers: 'https://auth.example' },
    { resource: RESOURCE, authorizationServers: ['https://auth.example/?x=1'] },
    { resource: RESOURCE, authorizationServers: ['not a url'] },
    { resource: RESOURCE, scopesSupported: ['two words'] },
    { resource: RESOURCE, scopesSupported: 'mcp:tools' },
    { resource: RESOURCE, resourceName: '' },
    { resource: RESOURCE, resourceName: 'a\nb' },
    { resource: RESOURCE, resourceDocumentation: 'javascript:alert(1)' },
    { resource: RESOURCE, tlsClientCertificateBoundAccessTokens: 'yes' },
  ];

  it('misuse throws a TypeError when the handler or the middleware is created, for every framework', () => {
    for (const [name, factory] of Object.entries(METADATA)) {
      for (const bad of BAD) {
        expect(() => (factory as any)(authenticator, bad), `${name} ${JSON.stringify(bad)}`).toThrow(TypeError);
        if (bad === undefined) continue; // an absent protectedResource is no protected resource
        expect(() => (REQUIRE_AUTH[name as keyof typeof REQUIRE_AUTH] as any)(authenticator, { protectedResource: bad }), `${name} requireAuth ${JSON.stringify(bad)}`).toThrow(TypeError);
      }
      expect(() => (factory as any)(undefined, PROTECTED_RESOURCE)).toThrow(TypeError);
      // The route's scopes must be among the scopes the metadata advertises.
      expect(() => (REQUIRE_AUTH[name as keyof typeof REQUIRE_AUTH] as any)(authenticator, { scopes: ['admin'], protectedResource: PROTECTED_RESOURCE })).toThrow(
        /scopesSupported lacks "admin"/,
      );
      expect(() => factory(authenticator, { resource: 'https://MCP.example/mcp' })).toThrow(/canonical form.*"https:\/\/mcp\.example\/mcp"/);
      expect(() => factory(authenticator, { resource: 'HTTPS://mcp.example:443/mcp/' })).toThrow(/did you mean "https:\/\/mcp\.example\/mcp\/"/);
      expect(() => factory(authenticator, { resource: 'https://Mcp.Example' })).toThrow(/did you mean "https:\/\/mcp\.example"/);
    }
  });

  it('accepts loopback http, a resource without a path, and explicit authorization servers', () => {
    for (const resource of ['http://localhost:3000/mcp', 'http://127.0.0.1:8080/mcp', 'http://[::1]:8080/', 'https://api.example.com', 'https://api.example.com/v1/mcp/']) {
      for (const factory of Object.values(METADATA)) expect(typeof factory(authenticator, { resource })).toBe('function');
    }
    // A hand-written authenticator has no issuer: the authorization servers must then be named.
    const bare = { authenticate: authenticator.authenticate } as Authenticator;
    expect(() => nodeMetadata(bare, { resource: RESOURCE })).toThrow(/needs authorizationServers/);
    expect(typeof nodeMetadata(bare, { resource: RESOURCE, authorizationServers: ['https://auth.example'] })).toBe('function');
  });

  it('Fastify: a second protected resource on one origin fails registration (shared bare path), without crashing', async () => {
    const app = Fastify();
    app.register(fastifyMetadata(authenticator, { resource: 'https://mcp.example/a' }));
    app.register(fastifyMetadata(authenticator, { resource: 'https://mcp.example/b' }));
    await expect(app.ready()).rejects.toMatchObject({ code: 'FST_ERR_DUPLICATED_ROUTE' });
    await app.close();
  });

  it('a resource without a path is served at the bare well-known path only', async () => {
    const serveMetadata = nodeMetadata(authenticator, { resource: 'https://api.example.com', authorizationServers: ['https://auth.example', 'https://auth2.example'] });
    const server = createServer((req, res) => {
      if (!serveMetadata(req, res)) res.writeHead(404).end();
    });
    const url = await listen(server);
    try {
      const response = await fetch(`${url}/.well-known/oauth-protected-resource?x=1`);
      expect(await response.json()).toEqual({
        resource: 'https://api.example.com',
        authorization_servers: ['https://auth.example', 'https://auth2.example'],
        bearer_methods_supported: ['header'],
      });
      expect((await fetch(`${url}/.well-known/oauth-protected-resource/`)).status).toBe(404);
    } finally {
      await closeServer(server);
    }
  });
});
