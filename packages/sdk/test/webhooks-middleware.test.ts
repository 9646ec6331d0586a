import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import Stripe from 'stripe';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyWebhooks as expressWebhooks, keepRawBody } from '../src/webhooks/express.js';
import { verifyWebhooks as fastifyWebhooks, type WebhookReceiverOptions } from '../src/webhooks/fastify.js';
import { generateWebhookSecret, signWebhook, WEBHOOK_VERIFICATION_ERROR_CODES, type ReplayGuard } from '../src/webhooks/index.js';

// The raw-body helpers in real Fastify and Express apps over real HTTP: the body reaches verification byte for
// byte (odd whitespace included), refusals are vague 400s with the cause on the request, replays are
// acknowledged once, and a delivery whose handler failed is processed again when the sender retries.

const secret = generateWebhookSecret();
/** JSON as a sender may format it: re-serializing it would change the bytes and break the signature. */
const body = '{ "id": "evt_1",\n  "type": "key.created", "data": {"keyId": "key_1"} }';
const event = JSON.parse(body);

interface App {
  url: string;
  /** Events the handler received, and the refusal codes the app saw on its requests. */
  handled: unknown[];
  refusals: string[];
  /** Make the handler fail (answer 500) for the next delivery. */
  failNext(): void;
  close(): Promise<void>;
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function fastifyApp(options: WebhookReceiverOptions = { secret }): Promise<App> {
  const app: FastifyInstance = Fastify();
  const handled: unknown[] = [];
  const refusals: string[] = [];
  let fail = false;
  app.addHook('onResponse', async (request) => {
    if (request.webhookError) refusals.push(request.webhookError.code);
  });
  await app.register(async (webhooks) => {
    await webhooks.register(fastifyWebhooks, options);
    webhooks.post('/webhooks', async (request, reply) => {
      expect(Buffer.isBuffer(request.body)).toBe(true);
      if (fail) {
        fail = false;
        return reply.code(500).send({ error: 'server_error' });
      }
      handled.push(request.webhook);
      return { received: true };
    });
  });
  // Outside the webhook scope, JSON is parsed as usual and nothing is verified.
  app.post('/other', async (request) => ({ parsed: request.body }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const close = () => app.close();
  closers.push(close);
  return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, handled, refusals, failNext: () => (fail = true), close };
}

async function expressApp(options: Parameters<typeof expressWebhooks>[0] = { secret }, mount: 'none' | 'raw' | 'json-verify' | 'json' = 'none'): Promise<App> {
  const app = express();
  const handled: unknown[] = [];
  const refusals: string[] = [];
  let fail = false;
  app.use((req, res, next) => {
    res.on('finish', () => {
      if (req.webhookError) refusals.push(req.webhookError.code);
    });
    next();
  });
  if (mount === 'raw') app.use(express.raw({ type: '*/*' }));
  if (mount === 'json-verify') app.use(express.json({ verify: keepRawBody }));
  if (mount === 'json') app.use(express.json());
  app.post('/webhooks', expressWebhooks(options), (req, res) => {
    if (mount === 'json-verify') expect(req.body).toEqual(event);
    if (fail) {
      fail = false;
      res.status(500).json({ error: 'server_error' });
      return;
    }
    handled.push(req.webhook);
    res.json({ received: true });
  });
  app.use((error: Error, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).json({ error: 'server_error', message: error.message });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  closers.push(close);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, handled, refusals, failNext: () => (fail = true), close };
}

const post = async (url: string, headers: Record<string, string>, payload: string = body, contentType = 'application/json') => {
  const response = await fetch(`${url}/webhooks`, { method: 'POST', headers: { 'content-type': contentType, ...headers }, body: payload });
  return { status: response.status, body: await response.json() };
};
const standard = (id: string, payload: string = body) => signWebhook({ scheme: 'standard', secret, id, payload });
const REFUSED = { status: 400, body: { error: 'invalid_webhook', error_description: 'The webhook could not be verified.' } };
const DUPLICATE = { status: 200, body: { received: true, duplicate: true } };

const FRAMEWORKS = {
  fastify: () => fastifyApp(),
  'express (reads the body itself)': () => expressApp(),
  'express behind express.raw()': () => expressApp({ secret }, 'raw'),
  'express behind express.json({ verify: keepRawBody })': () => expressApp({ secret }, 'json-verify'),
};

describe.each(Object.entries(FRAMEWORKS))('%s', (_name, start) => {
  it('verifies the raw body and hands the event to the route', async () => {
    const app = await start();
    expect(await post(app.url, standard('msg_1'))).toEqual({ status: 200, body: { received: true } });
    const stripeHeader = new Stripe('sk_test_x').webhooks.generateTestHeaderString({ payload: body, secret });
    expect(await post(app.url, { 'gatehouse-signature': stripeHeader })).toEqual({ status: 200, body: { received: true } });
    expect(app.handled).toEqual([event, event]);
  });

  it('refuses a bad delivery with a vague 400 and keeps the cause', async () => {
    const app = await start();
    expect(await post(app.url, standard('msg_1'), `${body} `)).toEqual(REFUSED);
    expect(await post(app.url, {})).toEqual(REFUSED);
    const stale = signWebhook({ scheme: 'standard', secret, id: 'msg_2', payload: body, timestamp: Math.floor(Date.now() / 1000) - 3600 });
    expect(await post(app.url, stale)).toEqual(REFUSED);
    expect(app.handled).toEqual([]);
    expect(app.refusals).toEqual(['no_signature_matched', 'missing_header', 'timestamp_outside_tolerance']);
  });

  it('acknowledges a replay without handling it again, and processes a retry after the handler failed', async () => {
    const app = await start();
    const headers = standard('msg_once');
    expect(await post(app.url, headers)).toEqual({ status: 200, body: { received: true } });
    expect(await post(app.url, headers)).toEqual(DUPLICATE);

    app.failNext();
    expect((await post(app.url, standard('msg_retry'))).status).toBe(500);
    expect(await post(app.url, standard('msg_retry'))).toEqual({ status: 200, body: { received: true } });
    expect(app.handled).toEqual([event, event]);
    expect(app.refusals).toEqual(['replayed']);
  });
});

describe('fastify specifics', () => {
  it('keeps any content type raw in its scope only; JSON elsewhere is parsed as usual', async () => {
    const app = await fastifyApp();
    expect(await post(app.url, standard('msg_text'), body, 'text/plain')).toEqual({ status: 200, body: { received: true } });
    const other = await fetch(`${app.url}/other`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(await other.json()).toEqual({ parsed: event });
  });

  it('a replay guard that fails is a 500, not a refusal', async () => {
    const broken: ReplayGuard = { seen: async () => Promise.reject(new Error('redis down')) };
    const app = await fastifyApp({ secret, replayGuard: broken });
    expect((await post(app.url, standard('msg_1'))).status).toBe(500);
    expect(app.refusals).toEqual([]);
  });

  it('bad options fail the registration', async () => {
    for (const options of [{}, { secret: '' }, { secret, scheme: 'svix' }, { secret, replayGuard: {} }, { secret: 'whsec_not_base64' }]) {
      const app = Fastify();
      app.register(async (scope) => {
        await scope.register(fastifyWebhooks, options as never);
      });
      await expect(app.ready()).rejects.toThrow(/^gatehouse-sdk\/webhooks\/fastify: /);
      await app.close();
    }
  });
});

describe('express specifics', () => {
  it('a body parsed without its raw bytes is a 500 naming the fix', async () => {
    const app = await expressApp({ secret }, 'json');
    expect(await post(app.url, standard('msg_1'))).toMatchObject({ status: 500, body: { message: expect.stringContaining('keepRawBody') } });
  });

  it('reads at most limit bytes itself (413 beyond)', async () => {
    const app = await expressApp({ secret, limit: 16 });
    expect(await post(app.url, standard('msg_big'))).toEqual({
      status: 413,
      body: { error: 'payload_too_large', error_description: 'The request body is too large.' },
    });
  });

  it('without a replay guard, a replay is handled again (replayGuard: false)', async () => {
    const app = await expressApp({ secret, replayGuard: false });
    const headers = standard('msg_twice');
    await post(app.url, headers);
    await post(app.url, headers);
    expect(app.handled).toEqual([event, event]);
  });

  it('bad options throw a TypeError at once', () => {
    for (const options of [{}, { secret, toleranceSeconds: -1 }, { secret, limit: -1 }, { secret, parse: 'json' }, { secret: 'whsec_not_base64' }]) {
      expect(() => expressWebhooks(options as never)).toThrow(TypeError);
    }
  });
});

describe('packaging', () => {
  it('each webhooks subpath is exported with types, loads by its package name, and imports no framework at runtime', async () => {
    const { readFile } = await import('node:fs/promises');
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
    for (const [subpath, file] of [['./webhooks', 'index'], ['./webhooks/fastify', 'fastify'], ['./webhooks/express', 'express']] as const) {
      expect(pkg.exports[subpath]).toEqual({ types: `./dist/webhooks/${file}.d.ts`, default: `./dist/webhooks/${file}.js` });
      const loaded = await import(`gatehouse-sdk${subpath.slice(1)}`);
      expect(file === 'index' ? loaded.verifyWebhook : loaded.verifyWebhooks).toBeTypeOf('function');
    }
    const { readdir } = await import('node:fs/promises');
    const dist = new URL('../dist/webhooks/', import.meta.url);
    for (const file of (await readdir(dist)).filter((name) => name.endsWith('.js'))) {
      const code = await readFile(new URL(file, dist), 'utf8');
      const imports = [...code.matchAll(/^\s*(?:import|export)[^;]*?from\s+'([^']+)'/gm)].map((m) => m[1]!);
      expect(imports.every((specifier) => specifier.startsWith('./') || specifier.startsWith('node:')), `${file}: ${imports.join(', ')}`).toBe(true);
    }
  });
});

describe('docs', () => {
  it('docs/errors.md and docs/webhooks.md list every verification code, and nothing else', async () => {
    const { readFile } = await import('node:fs/promises');
    const codesOf = (doc: string, heading: string) => {
      const section = doc.slice(doc.indexOf(heading) + heading.length);
      const rows = section.slice(0, section.search(/\n#{2,3} /) >>> 0).split('\n');
      return rows.map((line) => /^\| `([a-z_]+)` \|/.exec(line)?.[1]).filter(Boolean).sort();
    };
    const expected = [...WEBHOOK_VERIFICATION_ERROR_CODES].sort();
    const errors = await readFile(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    const webhooks = await readFile(new URL('../../../docs/webhooks.md', import.meta.url), 'utf8');
    expect(codesOf(errors, '## Webhook verification codes (SDK)')).toEqual(expected);
    expect(codesOf(webhooks, '### Error codes')).toEqual(expected);
  });
});
