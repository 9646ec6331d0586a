import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOAuthTestApp, type OAuthTestApp } from '../../server/test/helpers/oauth.js';
import { killSpawned, spawnProcess, waitFor, waitForExit, type SpawnedProcess } from '../../server/test/helpers/spawn-server.js';

/**
 * The runnable examples (examples/*), each spawned as `node examples/...` with the env documented in
 * examples/README.md, against a real Gatehouse. They import the built gatehouse-sdk (npm test builds first).
 */
const AUDIENCE = 'https://api.example';

let t: OAuthTestApp;
let verifierKey: string;
let client: { clientId: string; clientSecret: string };
let apiKey: string;

const node = (script: string, env: Record<string, string>): SpawnedProcess => spawnProcess([script], { command: process.execPath, env });

async function startApi(script: string): Promise<SpawnedProcess & { url: string }> {
  const p = node(script, {
    GATEHOUSE_URL: t.issuer,
    GATEHOUSE_VERIFIER_KEY: verifierKey,
    API_AUDIENCE: AUDIENCE,
    PORT: '0',
  });
  const match = await p.waitForStdout(/example API listening on (http:\/\/\S+)/, 'the "listening on" line');
  return { ...p, url: match[1]! };
}

beforeAll(async () => {
  t = await createOAuthTestApp();
  verifierKey = (await t.createKey({ name: 'example verifier', scopes: ['keys:verify'] })).key;
  apiKey = (await t.createKey({ name: 'example caller', scopes: ['orders:read'], tenantId: 'acme' })).key;
  client = await t.createClient({ grantTypes: ['client_credentials'], redirectUris: [], scopes: ['orders:read'], audiences: [AUDIENCE] });
});

afterAll(async () => {
  await killSpawned();
  await t?.close();
});

describe.each(['examples/fastify-api/server.js', 'examples/express-api/server.js'])('%s', (script) => {
  let api: SpawnedProcess & { url: string };
  beforeAll(async () => {
    api = await startApi(script);
  });
  afterAll(async () => {
    api.process.kill('SIGTERM');
    expect((await waitForExit(api, 'example API stop')).code).toBe(0);
  });

  it('the client-credentials caller gets 200 through the SDK', async () => {
    const caller = node('examples/client-credentials-caller/call.js', {
      GATEHOUSE_ISSUER: t.issuer,
      GATEHOUSE_CLIENT_ID: client.clientId,
      GATEHOUSE_CLIENT_SECRET: client.clientSecret,
      API_URL: api.url,
      API_AUDIENCE: AUDIENCE,
    });
    const status = await waitForExit(caller, 'the caller');
    expect(status.code, caller.stdout() + caller.stderr()).toBe(0);
    expect(caller.stdout()).toMatch(/^200 /);
    expect(JSON.parse(caller.stdout().slice(4))).toMatchObject({ caller: client.clientId, kind: 'jwt' });
  });

  it('no credentials: 401 with WWW-Authenticate; public routes stay public; API keys and tenants work', async () => {
    expect((await fetch(`${api.url}/health`)).status).toBe(200);
    const anonymous = await fetch(`${api.url}/orders`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe(`Bearer realm="${AUDIENCE}"`);
    expect(await anonymous.json()).toEqual({ error: 'invalid_token', error_description: 'Authentication required.' });

    const withKey = await fetch(`${api.url}/tenants/acme/orders`, { headers: { authorization: `Bearer ${apiKey}` } });
    expect(withKey.status).toBe(200);
    expect(await withKey.json()).toMatchObject({ tenant: 'acme' });
    expect((await fetch(`${api.url}/tenants/globex/orders`, { headers: { authorization: `Bearer ${apiKey}` } })).status).toBe(403);
    // The example logs each refusal with its cause (kept by the middleware), after the response.
    await waitFor('the refusal log line', async () => (/refused GET \/tenants\/globex\/orders: wrong_tenant \(403\)/.test(api.stderr()) ? true : undefined));
  });
});

describe('examples/webhook-receiver/server.js', () => {
  it('handles a signed delivery once, refuses a forged one and logs the cause', async () => {
    const { generateWebhookSecret, signWebhook } = await import('../src/webhooks/index.js');
    const [oldSecret, secret] = [generateWebhookSecret(), generateWebhookSecret()];
    const receiver = node('examples/webhook-receiver/server.js', { GATEHOUSE_WEBHOOK_SECRET: `${secret}, ${oldSecret}`, PORT: '0' });
    const url = (await receiver.waitForStdout(/example webhook receiver listening on (http:\/\/\S+)/, 'the "listening on" line'))[1]!;
    const body = JSON.stringify({ id: 'evt_example', type: 'key.created', createdAt: new Date().toISOString(), data: {} });
    const send = (headers: Record<string, string>) =>
      fetch(`${url}/webhooks/gatehouse`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

    const signed = signWebhook({ scheme: 'standard', secrets: [oldSecret], id: 'msg_example', payload: body });
    expect(await (await send(signed)).json()).toEqual({ received: true });
    expect(await (await send(signed)).json()).toEqual({ received: true, duplicate: true });
    expect((await send(signWebhook({ scheme: 'stripe', secret: generateWebhookSecret(), payload: body }))).status).toBe(400);
    await waitFor('the refusal log line', async () => (/refused webhook: no_signature_matched \(400\)/.test(receiver.stderr()) ? true : undefined));
    expect(receiver.stdout().match(/received key\.created evt_example/g)).toHaveLength(1);

    receiver.process.kill('SIGTERM');
    expect((await waitForExit(receiver, 'example webhook receiver stop')).code).toBe(0);
  });
});
