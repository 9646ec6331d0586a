// A Fastify app receiving Gatehouse's signed webhooks. Run: node examples/webhook-receiver/server.js (see examples/README.md).
import Fastify from 'fastify';
import { verifyWebhooks } from 'gatehouse-sdk/webhooks/fastify';

function env(name, fallback) {
  const value = process.env[name] || fallback;
  if (value === undefined) {
    console.error(`${name} is required (see examples/README.md)`);
    process.exit(2);
  }
  return value;
}

// During a secret rotation, give both secrets, comma-separated: a delivery signed with either is accepted.
const secrets = env('GATEHOUSE_WEBHOOK_SECRET').split(',').map((secret) => secret.trim());

const app = Fastify();
// Log refusals with their cause: the sender only sees a vague body.
app.addHook('onResponse', async (request, reply) => {
  if (request.webhookError) console.error(`refused webhook: ${request.webhookError.code} (${reply.statusCode})`);
});

app.get('/health', async () => ({ ok: true }));

// Only the routes of this scope get raw bodies and verification.
app.register(async (webhooks) => {
  await webhooks.register(verifyWebhooks, { secrets, scheme: process.env.WEBHOOK_SCHEME || undefined });
  webhooks.post('/webhooks/gatehouse', async (request) => {
    const event = request.webhook;
    console.log(`received ${event.type} ${event.id}`);
    return { received: true };
  });
});

const address = await app.listen({ port: Number(env('PORT', '3000')), host: env('HOST', '127.0.0.1') });
console.log(`example webhook receiver listening on ${address}`);

for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => app.close());
