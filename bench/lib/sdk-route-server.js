// The sdk-protected-route subjects: one Fastify GET /resource route answering {"ok":true}, in its own process,
// either unprotected (`open`, the baseline) or protected by gatehouse-sdk (`protected`). No logger, no
// schemas, nothing else.
//
//   node bench/lib/sdk-route-server.js open|protected   prints "sdk-route (<how>) listening on http://127.0.0.1:<port>"
//
// `protected` reads SDK_BENCH_CONFIG (JSON: issuer, audience, verifierKey) and protects the route with the
// SDK's Fastify middleware, `requireAuth` from gatehouse-sdk/fastify, as an onRequest hook.
import Fastify from 'fastify';
import { serveFastify } from './serve-fastify.js';

const mode = process.argv[2];
if (mode !== 'open' && mode !== 'protected') throw new Error('usage: sdk-route-server.js open|protected');

const app = Fastify({ logger: false });
let how = 'unprotected';
if (mode === 'protected') {
  const { createAuthenticator } = await import('gatehouse-sdk');
  const { requireAuth } = await import('gatehouse-sdk/fastify');
  const config = JSON.parse(process.env.SDK_BENCH_CONFIG);
  const authenticator = createAuthenticator({ issuer: config.issuer, audience: config.audience, verifierKey: config.verifierKey });
  app.addHook('onRequest', requireAuth(authenticator));
  app.addHook('onClose', async () => authenticator.close());
  how = "requireAuth from gatehouse-sdk/fastify";
}
app.get('/resource', async () => ({ ok: true }));

await serveFastify(app, `sdk-route (${how})`);
