import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify, { type FastifyRequest } from 'fastify';
import { Hono, type Context } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, listen } from './helpers/listen.js';
import { CREDENTIAL_QUERY_NAMES, HARMLESS_QUERY_NAMES } from './helpers/protocol-cases.js';
import { basicAuth, createOAuthTestApp, type OAuthTestApp } from '../../server/test/helpers/oauth.js';
import { createAuthenticator, type Auth, type Authenticator } from '../src/index.js';
import { requireAuth as expressAuth } from '../src/middleware/express.js';
import { requireAuth as fastifyAuth } from '../src/middleware/fastify.js';
import { requireAuth as honoAuth, type AuthEnv } from '../src/middleware/hono.js';
import { requireAuth as nodeAuth, type AuthenticatedRequest } from '../src/middleware/node-http.js';

const AUDIENCE = 'https://api.example';
const ROUTE_SCOPES = ['orders:read'];

let t: OAuthTestApp;
let authenticator: Authenticator;
let acmeKey: string;
let acmeKeyId: string;
let weakKey: string;
let jwt: string;
let jwtClientId: string;

interface Running {
  url: string;
  /** The denial codes kept on the request (`authDenial`), read by the app after each refusal. */
  denials: string[];
  close(): Promise<void>;
}


/**
 * How a test server is set up beyond the defaults: the framework's own trust of X-Forwarded-For (Fastify and
 * Express), and the `clientIp` option, given the request header to take the address from.
 */
interface Setup {
  trustProxy?: boolean;
  clientIpHeader?: string;
  /** Counts the calls of the `clientIp` option. */
  clientIpCalls?: { count: number };
}

/** The `clientIp` option of a setup, reading a header the framework's way. */
function clientIpOption<Req>(setup: Setup, header: (req: Req, name: string) => string | undefined) {
  const name = setup.clientIpHeader;
  if (name === undefined) return {};
  return {
    clientIp: (req: Req) => {
      if (setup.clientIpCalls) setup.clientIpCalls.count++;
      return header(req, name);
    },
  };
}

/** One server per framework, each with GET /tenants/:tenant/orders protected by requireAuth. */
const FRAMEWORKS: Record<string, (a: Authenticator, setup?: Setup) => Promise<Running>> = {
  async fastify(a, setup = {}) {
    const denials: string[] = [];
    const app = Fastify({ trustProxy: setup.trustProxy ?? false });
    app.addHook('onResponse', async (request) => {
      if (request.authDenial) denials.push(request.authDenial.code);
    });
    const clientIp = clientIpOption(setup, (request: FastifyRequest, name) => request.headers[name] as string | undefined);
    app.get('/tenants/:tenant/orders', { onRequest: fastifyAuth(a, { scopes: ROUTE_SCOPES, tenantParam: 'tenant', ...clientIp }) }, async (request) => ({
      auth: request.auth,
    }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { url: await listen(app.server), denials, close: () => app.close() };
  },
  async express(a, setup = {}) {
    const denials: string[] = [];
    const app = express();
    if (setup.trustProxy) app.set('trust proxy', 'loopback');
    app.use((req, res, next) => {
      res.on('finish', () => {
        if (req.authDenial) denials.push(req.authDenial.code);
        expect(res.locals.authDenial).toBe(req.authDenial);
      });
      next();
    });
    const clientIp = clientIpOption(setup, (req: express.Request, name) => req.get(name));
    app.get('/tenants/:tenant/orders', expressAuth(a, { scopes: ROUTE_SCOPES, tenantParam: 'tenant', ...clientIp }), (req, res) => {
      res.json({ auth: req.auth });
    });
    const server = createServer(app);
    return { url: await listen(server), denials, close: () => closeServer(server) };
  },
  async hono(a, setup = {}) {
    const denials: string[] = [];
    const app = new Hono<AuthEnv>();
    app.use(async (c, next) => {
      await next();
      const denial = c.get('authDenial');
      if (denial) denials.push(denial.code);
    });
    const clientIp = clientIpOption(setup, (c: Context, name) => c.req.header(name));
    app.get('/tenants/:tenant/orders', honoAuth(a, { scopes: ROUTE_SCOPES, tenantParam: 'tenant', ...clientIp }), (c) => c.json({ auth: c.get('auth') }));
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
    await new Promise<void>((resolve) => (server.listening ? resolve() : server.once('listening', () => resolve())));
    return { url: await listen(server), denials, close: () => closeServer(server) };
  },
  async node(a, setup = {}) {
    const denials: string[] = [];
    const route = /^\/tenants\/([^/?]+)\/orders(?:\?|$)/;
    const clientIp = clientIpOption(setup, (req: IncomingMessage, name) => req.headers[name] as string | undefined);
    const guard = nodeAuth(a, { scopes: ROUTE_SCOPES, tenant: (req) => decodeURIComponent(route.exec(req.url ?? '')?.[1] ?? ''), ...clientIp });
    const server = createServer((req, res) => {
      if (!route.test(req.url ?? '')) return void res.writeHead(404).end();
      guard(req, res).then((auth) => {
        if (!auth) return void denials.push((req as AuthenticatedRequest).authDenial!.code);
        expect((req as AuthenticatedRequest).auth).toBe(auth);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ auth }));
      });
    });
    return { url: await listen(server), denials, close: () => closeServer(server) };
  },
};

async function get(url: string, token?: string): Promise<{ status: number; headers: Headers; body: any }> {
  const response = await fetch(url, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

/** The vague error shape: only `error` and `error_description`, never the denial code or details. */
function expectVague(body: any, error: string) {
  expect(Object.keys(body).sort()).toEqual(['error', 'error_description']);
  expect(body.error).toBe(error);
  expect(typeof body.error_description).toBe('string');
}

beforeAll(async () => {
  // Every success audited (the sampled success log, all of it): the tests read the address of each verification's event.
  t = await createOAuthTestApp({ env: { GATEHOUSE_AUDIT_SUCCESS_SAMPLE: '1' } });
  const verifierKey = (await t.createKey({ name: 'verifier', scopes: ['keys:verify'] })).key;
  authenticator = createAuthenticator({ issuer: t.issuer, audience: AUDIENCE, verifierKey, revocationStream: false });
  const acme = await t.createKey({ name: 'acme orders', scopes: ['orders:read'], tenantId: 'acme' });
  acmeKey = acme.key;
  acmeKeyId = acme.id;
  weakKey = (await t.createKey({ name: 'acme billing', scopes: ['billing:read'], tenantId: 'acme' })).key;
  const client = await t.createClient({ grantTypes: ['client_credentials'], redirectUris: [], scopes: ['orders:read'], audiences: [AUDIENCE], tenantId: 'acme' });
  jwtClientId = client.clientId;
  const response = await fetch(`${t.issuer}/oauth/token`, {
    method: 'POST',
    headers: { authorization: basicAuth(client.clientId, client.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'orders:read', resource: AUDIENCE }).toString(),
  });
  const json = (await response.json()) as { access_token: string };
  expect(response.status, JSON.stringify(json)).toBe(200);
  jwt = json.access_token;
});

afterAll(async () => {
  authenticator?.close();
  await t?.close();
});

describe.each(Object.keys(FRAMEWORKS))('%s requireAuth', (framework) => {
  let server: Running;
  let orders: (tenant?: string) => string;

  beforeAll(async () => {
    server = await FRAMEWORKS[framework]!(authenticator);
    orders = (tenant = 'acme') => `${server.url}/tenants/${tenant}/orders`;
  });
  afterAll(() => server?.close());

  it('200 with a typed auth for a valid API key', async () => {
    const { status, body, headers } = await get(orders(), acmeKey);
    expect(status).toBe(200);
    expect(body.auth as Auth).toEqual({ kind: 'api_key', subject: acmeKeyId, keyId: acmeKeyId, tenantId: 'acme', scopes: ['orders:read'] });
    expect(headers.get('x-ratelimit-limit')).toBeNull();
  });

  it('200 with a typed auth for a client_credentials JWT', async () => {
    const { status, body } = await get(orders(), jwt);
    expect(status).toBe(200);
    expect(body.auth).toMatchObject({ kind: 'jwt', subject: jwtClientId, clientId: jwtClientId, tenantId: 'acme', scopes: ['orders:read'] });
    expect(body.auth.claims).toMatchObject({ aud: AUDIENCE, client_id: jwtClientId });
  });

  it('401 with WWW-Authenticate for missing and invalid credentials', async () => {
    const missing = await get(orders());
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe(`Bearer realm="${AUDIENCE}"`);
    expect(missing.headers.get('content-type')).toMatch(/^application\/json/);
    expectVague(missing.body, 'invalid_token');

    const bogus = await get(orders(), 'not-a-credential');
    expect(bogus.status).toBe(401);
    expect(bogus.headers.get('www-authenticate')).toBe(`Bearer realm="${AUDIENCE}", error="invalid_token"`);
    expectVague(bogus.body, 'invalid_token');

    const unknown = await get(orders(), acmeKey.slice(0, 20) + (acmeKey[20] === 'A' ? 'B' : 'A') + acmeKey.slice(21));
    expect(unknown.status).toBe(401);
    expectVague(unknown.body, 'invalid_token');
    expect(server.denials.slice(-3)).toEqual(['missing_credentials', 'invalid_token', 'invalid_token']);
  });

  it('403 insufficient_scope with the route scopes', async () => {
    const { status, headers, body } = await get(orders(), weakKey);
    expect(status).toBe(403);
    expect(headers.get('www-authenticate')).toBe(`Bearer realm="${AUDIENCE}", error="insufficient_scope", scope="orders:read"`);
    expectVague(body, 'insufficient_scope');
    expect(server.denials.at(-1)).toBe('insufficient_scope');
  });

  it('403 for a valid credential of another tenant (tenantParam)', async () => {
    for (const token of [acmeKey, jwt]) {
      const { status, headers, body } = await get(orders('globex'), token);
      expect(status).toBe(403);
      expect(headers.get('www-authenticate')).toBe(`Bearer realm="${AUDIENCE}", error="insufficient_scope"`);
      expectVague(body, 'insufficient_scope');
      expect(server.denials.at(-1)).toBe('wrong_tenant');
    }
  });

  it('X-RateLimit-* on successes of a rate-limited key; 429 with Retry-After when exhausted', async () => {
    const { key } = await t.createKey({ name: `metered ${framework}`, scopes: ['orders:read'], tenantId: 'acme', rateLimit: { limit: 2, windowSeconds: 3600 } });
    for (const remaining of ['1', '0']) {
      const ok = await get(orders(), key);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('x-ratelimit-limit')).toBe('2');
      expect(ok.headers.get('x-ratelimit-remaining')).toBe(remaining);
      expect(Number(ok.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000 - 5);
    }
    const limited = await get(orders(), key);
    expect(limited.status).toBe(429);
    // 2 per hour: the next request is allowed in 30 minutes, not when the whole limit is back (an hour).
    expect(limited.headers.get('retry-after')).toBe('1800');
    expect(limited.headers.get('x-ratelimit-limit')).toBe('2');
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(limited.headers.get('x-ratelimit-reset')).toMatch(/^\d+$/);
    expectVague(limited.body, 'rate_limited');
    expect(server.denials.at(-1)).toBe('rate_limited');
  });

  it('400 for credentials in the query string, before anything else', async () => {
    // The shared table (the server refuses the same names): any case, bracket (array/object) forms, - for _.
    for (const [name] of CREDENTIAL_QUERY_NAMES) {
      const response = await fetch(`${orders()}?page=2&${encodeURIComponent(name)}=${encodeURIComponent(acmeKey)}`, { headers: { authorization: `Bearer ${acmeKey}` } });
      expect(response.status, name).toBe(400);
      const body = await response.json();
      expectVague(body, 'credentials_in_query');
      expect(JSON.stringify(body)).not.toContain(acmeKey);
      expect(server.denials.at(-1)).toBe('credentials_in_query');
    }
    expect((await get(`${orders()}?page=2&keyword=x`, acmeKey)).status).toBe(200);
    for (const name of HARMLESS_QUERY_NAMES) expect((await get(`${orders()}?${encodeURIComponent(name)}=x`, acmeKey)).status, name).toBe(200);
  });
});

/** A GET from a given local address (any 127.0.0.0/8 address is this host's), without keep-alive. */
function getFrom(url: string, token: string, localAddress: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { localAddress, agent: false, headers: { authorization: `Bearer ${token}`, ...headers } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, body: text ? JSON.parse(text) : undefined }));
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

describe('the client address goes along when Gatehouse verifies an API key', () => {
  // No cache: every request reaches Gatehouse, whose audit event of the verification names the address it got.
  // The SDK talks to Gatehouse from 127.0.0.1; the test's clients connect from other loopback addresses.
  let uncached: Authenticator;
  let key: { id: string; key: string };

  beforeAll(async () => {
    const verifierKey = (await t.createKey({ name: 'verifier (uncached)', scopes: ['keys:verify'] })).key;
    uncached = createAuthenticator({ issuer: t.issuer, audience: AUDIENCE, verifierKey, revocationStream: false, cacheTtlSeconds: 0 });
    key = await t.createKey({ name: 'orders (client address)', scopes: ['orders:read'], tenantId: 'acme' });
  });
  afterAll(() => uncached?.close());

  /** The address of the newest verification of the key. */
  const lastVerificationIp = async (): Promise<string | null> => {
    const events = await t.api('GET', `/v1/audit-events?type=key.verification&keyId=${key.id}&limit=1`);
    expect(events.status).toBe(200);
    return events.body.data[0].ip;
  };

  const frameworks = Object.keys(FRAMEWORKS);

  it.each(frameworks)('%s: the connection\'s address by default (an untrusted X-Forwarded-For is ignored)', async (framework) => {
    const server = await FRAMEWORKS[framework]!(uncached);
    try {
      const from = `127.0.0.${10 + frameworks.indexOf(framework)}`;
      const response = await getFrom(`${server.url}/tenants/acme/orders`, key.key, from, { 'x-forwarded-for': '203.0.113.99' });
      expect(response.status).toBe(200);
      expect(await lastVerificationIp()).toBe(from);
    } finally {
      await server.close();
    }
  });

  it.each(['fastify', 'express'])('%s: X-Forwarded-For when the framework trusts the proxy (request.ip / req.ip)', async (framework) => {
    const server = await FRAMEWORKS[framework]!(uncached, { trustProxy: true });
    try {
      const client = `203.0.113.${40 + frameworks.indexOf(framework)}`;
      const response = await getFrom(`${server.url}/tenants/acme/orders`, key.key, '127.0.0.20', { 'x-forwarded-for': client });
      expect(response.status).toBe(200);
      expect(await lastVerificationIp()).toBe(client);
    } finally {
      await server.close();
    }
  });

  it.each(frameworks)('%s: the clientIp option chooses the address; a value that is not one is not sent', async (framework) => {
    const server = await FRAMEWORKS[framework]!(uncached, { clientIpHeader: 'x-client-address' });
    try {
      const url = `${server.url}/tenants/acme/orders`;
      const client = `2001:db8:${frameworks.indexOf(framework) + 1}::7`;
      expect((await getFrom(url, key.key, '127.0.0.30', { 'x-client-address': client })).status).toBe(200);
      expect(await lastVerificationIp()).toBe(client);
      // Not an address (or none at all): the key is still verified, on behalf of no one (the SDK's own address).
      for (const headers of [{ 'x-client-address': 'somewhere' }, {}] as Record<string, string>[]) {
        expect((await getFrom(url, key.key, '127.0.0.30', headers)).status).toBe(200);
        expect(await lastVerificationIp()).toBe('127.0.0.1');
      }
    } finally {
      await server.close();
    }
  });

  it.each(frameworks)('%s: the address is not even read for a cached key', async (framework) => {
    const cached = createAuthenticator({ issuer: t.issuer, audience: AUDIENCE, verifierKey: (await t.createKey({ name: 'v', scopes: ['keys:verify'] })).key, revocationStream: false });
    const calls = { count: 0 };
    const server = await FRAMEWORKS[framework]!(cached, { clientIpHeader: 'x-client-address', clientIpCalls: calls });
    try {
      for (let i = 0; i < 3; i++) {
        expect((await getFrom(`${server.url}/tenants/acme/orders`, key.key, '127.0.0.40', { 'x-client-address': '203.0.113.50' })).status).toBe(200);
      }
      expect(calls.count).toBe(1);
    } finally {
      await server.close();
      cached.close();
    }
  });
});

describe('requireAuth options', () => {
  it('throws a TypeError at setup on misuse, for every framework', () => {
    for (const [name, factory] of Object.entries({ fastify: fastifyAuth, express: expressAuth, hono: honoAuth })) {
      for (const bad of [
        [undefined, {}],
        [{}, {}],
        [authenticator, { scope: ['a'] }],
        [authenticator, { scopes: 'orders:read' }],
        [authenticator, { scopes: ['two words'] }],
        [authenticator, { scopes: ['quo"te'] }],
        [authenticator, { tenantParam: '' }],
        [authenticator, { tenant: () => 'acme' }],
        [authenticator, { clientIp: '203.0.113.7' }],
        [authenticator, { clientIp: true }],
        [authenticator, null],
      ] as const) {
        expect(() => (factory as any)(...bad), `${name} ${JSON.stringify(bad[1])}`).toThrow(TypeError);
      }
      expect(typeof factory(authenticator, { scopes: ['a:b'], tenantParam: 'tenant', clientIp: () => undefined })).toBe('function');
      expect(factory(authenticator).name).toBe('gatehouseRequireAuth');
    }
    expect(() => nodeAuth(authenticator, { tenantParam: 'tenant' } as never)).toThrow(TypeError);
    expect(() => nodeAuth(authenticator, { tenant: 'acme' } as never)).toThrow(TypeError);
    expect(() => nodeAuth(authenticator, { clientIp: '203.0.113.7' } as never)).toThrow(TypeError);
    expect(nodeAuth(authenticator, { tenant: () => 'acme', clientIp: (req) => req.socket.remoteAddress }).name).toBe('gatehouseRequireAuth');
  });

  it('a route whose tenant source yields nothing fails closed (rejects: the app answers 500), never authenticates', async () => {
    const guard = nodeAuth(authenticator, { tenant: () => undefined });
    const server = createServer((req, res) => {
      guard(req, res).then(
        () => res.writeHead(200).end('reached'),
        () => res.writeHead(500).end(),
      );
    });
    const url = await listen(server);
    try {
      expect((await get(`${url}/x`, acmeKey)).status).toBe(500);
    } finally {
      await closeServer(server);
    }
  });
});

describe('packaging', () => {
  it('the built middleware imports no framework at runtime, and each subpath is exported with types', async () => {
    const { readFile } = await import('node:fs/promises');
    const dist = new URL('../dist/middleware/', import.meta.url);
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
    for (const [subpath, file] of [['./fastify', 'fastify'], ['./express', 'express'], ['./hono', 'hono'], ['./node', 'node-http']] as const) {
      expect(pkg.exports[subpath]).toEqual({ types: `./dist/middleware/${file}.d.ts`, default: `./dist/middleware/${file}.js` });
      const code = await readFile(new URL(`${file}.js`, dist), 'utf8');
      const imports = [...code.matchAll(/^\s*(?:import|export)[^;]*?from\s+'([^']+)'/gm)].map((m) => m[1]);
      expect(imports.every((specifier) => specifier!.startsWith('./')), `${file}: ${imports.join(', ')}`).toBe(true);
    }
    expect(Object.keys(pkg.dependencies)).toEqual(['jose']);
  });
});
