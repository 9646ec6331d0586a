// A small Fastify API protected by Gatehouse. Run: node examples/fastify-api/server.js (see examples/README.md).
import Fastify from 'fastify';
import { createAuthenticator } from 'gatehouse-sdk';
import { requireAuth } from 'gatehouse-sdk/fastify';

function env(name, fallback) {
  const value = process.env[name] || fallback;
  if (value === undefined) {
    console.error(`${name} is required (see examples/README.md)`);
    process.exit(2);
  }
  return value;
}

const gatehouseUrl = env('GATEHOUSE_URL');
const authenticator = createAuthenticator({
  issuer: env('GATEHOUSE_ISSUER', gatehouseUrl),
  gatehouseUrl,
  audience: env('API_AUDIENCE', 'https://api.example'),
  // Needed for API keys (and the revocation stream); JWT access tokens are verified locally without it.
  verifierKey: process.env.GATEHOUSE_VERIFIER_KEY || undefined,
  revocationStream: Boolean(process.env.GATEHOUSE_VERIFIER_KEY) && process.env.GATEHOUSE_REVOCATION_STREAM !== 'off',
  onError: (error) => console.error(`gatehouse: ${error.message}`),
});

const app = Fastify();
// Log refusals with their cause: the client only sees a vague body.
app.addHook('onResponse', async (request, reply) => {
  if (request.authDenial) console.error(`refused ${request.method} ${request.url.split('?')[0]}: ${request.authDenial.code} (${reply.statusCode})`);
});

app.get('/health', async () => ({ ok: true }));

app.get('/orders', { onRequest: requireAuth(authenticator, { scopes: ['orders:read'] }) }, async (request) => ({
  caller: request.auth.subject,
  kind: request.auth.kind,
  orders: [{ id: 'ord_1', total: 42 }],
}));

app.get(
  '/tenants/:tenant/orders',
  { onRequest: requireAuth(authenticator, { scopes: ['orders:read'], tenantParam: 'tenant' }) },
  async (request) => ({ tenant: request.auth.tenantId, caller: request.auth.subject, orders: [] }),
);

const address = await app.listen({ port: Number(env('PORT', '3000')), host: env('HOST', '127.0.0.1') });
console.log(`example API listening on ${address}`);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    await app.close();
    authenticator.close();
  });
}
