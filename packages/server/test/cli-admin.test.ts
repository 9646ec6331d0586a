import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { verifyWebhook } from 'gatehouse-sdk/webhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_FLAGS } from '../src/config/load-config.js';
import { generateApiKey } from '../src/core/api-keys/key-format.js';
import { tempDir } from './helpers/databases.js';
import { consoleSignIn } from './helpers/console.js';
import { api, freePort, killSpawned, runCli, spawnServer, waitFor, type SpawnedServer } from './helpers/spawn-server.js';

/**
 * The admin commands of the `gatehouse` CLI, each run as a real process against one real server; what they did is
 * checked through the API, not through their own output.
 */

const adminKey = generateApiKey('live').key;
const dir = tempDir('cli-admin');
let server: SpawnedServer;
/** Every CLI output of this file, to prove the admin key is never printed. */
const outputs: string[] = [];
/** Secrets the CLI printed (shown once), to prove none reached the server's log. */
const printedSecrets: string[] = [];

interface Hook {
  headers: IncomingHttpHeaders;
  body: string;
}
const hooks: Hook[] = [];
let receiver: Server;
let receiverUrl: string;

beforeAll(async () => {
  receiver = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      hooks.push({ headers: request.headers, body });
      response.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
  server = await spawnServer({
    env: {
      GATEHOUSE_DATA_DIR: dir.path,
      GATEHOUSE_BOOTSTRAP_ADMIN_KEY: adminKey,
      GATEHOUSE_WEBHOOKS_ALLOW_INSECURE: 'true',
      GATEHOUSE_TLS_PORT: '0',
      GATEHOUSE_DETECTION_ALERT_THRESHOLD: '1',
      GATEHOUSE_DETECTION_BLOCK_THRESHOLD: '2',
      GATEHOUSE_DETECTION_ALLOW_LIST: '127.0.0.1,::1',
    },
  });
});

afterAll(async () => {
  await killSpawned();
  await new Promise<void>((resolve) => receiver?.close(() => resolve()));
  dir.remove();
});

async function gatehouse(args: string[], options: { env?: Record<string, string>; input?: string } = {}) {
  const result = await runCli(args, {
    env: { GATEHOUSE_ADMIN_KEY: adminKey, GATEHOUSE_URL: server.url, ...options.env },
    ...(options.input !== undefined ? { input: options.input } : {}),
  });
  outputs.push(result.stdout, result.stderr);
  return result;
}

/** Runs a command expected to succeed and returns its stdout. */
async function ok(args: string[], options?: { env?: Record<string, string>; input?: string }): Promise<string> {
  const result = await gatehouse(args, options);
  expect(result.code, `gatehouse ${args.join(' ')}\n${result.stderr}`).toBe(0);
  return result.stdout;
}

async function okJson(args: string[], options?: { env?: Record<string, string>; input?: string }): Promise<any> {
  return JSON.parse(await ok([...args, '--json'], options));
}

/** The value of one `field  value` line of a record printed as text. */
function field(text: string, name: string): string {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  expect(line, `${name} in\n${text}`).toBeDefined();
  return line!.slice(name.length).trim();
}

const occurrences = (text: string, needle: string) => text.split(needle).length - 1;
const SHOWN_ONCE = /shown once; store it now/;

const get = async (path: string) => api(server.url, 'GET', path, { key: adminKey });

describe('gatehouse keys', () => {
  let keyId: string;
  let plaintext: string;

  it('create maps every option to the API body; the plaintext is printed once, marked on stderr', async () => {
    const result = await gatehouse([
      'keys', 'create', '--name', 'billing', '--scope', 'invoices:read', '--scope', 'invoices:write', '--tenant', 'acme',
      '--expires-at', '2030-01-01T00:00:00Z', '--rate-limit', '100/60', '--metadata', 'team=billing', '--metadata', 'tier=2',
      '--environment', 'test', '--anomaly-action', 'revoke',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(SHOWN_ONCE);
    const keys = result.stdout.match(/sk_test_[0-9A-Za-z]{20,}/g);
    expect(keys).toHaveLength(1);
    plaintext = keys![0]!;
    printedSecrets.push(plaintext);
    keyId = field(result.stdout, 'id');
    const stored = await get(`/v1/keys/${keyId}`);
    expect(stored.body).toMatchObject({
      name: 'billing',
      scopes: ['invoices:read', 'invoices:write'],
      tenantId: 'acme',
      environment: 'test',
      expiresAt: '2030-01-01T00:00:00.000Z',
      rateLimit: { limit: 100, windowSeconds: 60 },
      metadata: { team: 'billing', tier: 2 },
      anomalyAction: 'revoke',
    });
    const verified = await api(server.url, 'POST', '/v1/keys/verify', { key: adminKey, body: { key: plaintext } });
    expect(verified.body).toMatchObject({ valid: true, keyId });
  });

  it('create --json prints the API answer, the key in it once', async () => {
    const result = await gatehouse(['keys', 'create', '--name', 'json-one', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const body = JSON.parse(result.stdout);
    expect(body).toMatchObject({ object: 'api_key', name: 'json-one', environment: 'live' });
    expect(occurrences(result.stdout, body.key)).toBe(1);
    expect(result.stderr).toMatch(SHOWN_ONCE);
    printedSecrets.push(body.key);
    expect((await get(`/v1/keys/${body.id}`)).body.name).toBe('json-one');
  });

  it('list filters by tenant, environment and status; the table is aligned; --json is the API page', async () => {
    const page = await okJson(['keys', 'list', '--tenant', 'acme', '--environment', 'test', '--status', 'active']);
    expect(page.data.map((k: any) => k.id)).toEqual([keyId]);
    expect(page.nextCursor).toBeNull();
    expect((await okJson(['keys', 'list', '--status', 'revoked'])).data).toEqual([]);

    const table = await ok(['keys', 'list', '--tenant', 'acme']);
    const [header, row, ...rest] = table.trimEnd().split('\n');
    expect(rest).toEqual([]);
    expect(header).toMatch(/^ID +NAME +PREFIX +ENV +STATUS +SCOPES +TENANT +CREATED +EXPIRES +LAST USED$/);
    expect(row!.indexOf('billing')).toBe(header!.indexOf('NAME'));
    expect(row!.indexOf('invoices:read,invoices:write')).toBe(header!.indexOf('SCOPES'));
    expect(row!.indexOf('2030-01-01T00:00:00.000Z')).toBe(header!.indexOf('EXPIRES'));
    expect(table).not.toMatch(/\u001b\[/);

    // Pages: --limit and --cursor, and --all follows them.
    const first = await okJson(['keys', 'list', '--limit', '1']);
    expect(first.data).toHaveLength(1);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await okJson(['keys', 'list', '--limit', '1', '--cursor', first.nextCursor]);
    expect(second.data[0].id).not.toBe(first.data[0].id);
    const all = await okJson(['keys', 'list', '--limit', '1', '--all']);
    expect(all.data.length).toBe((await get('/v1/keys?limit=100')).body.data.length);
  });

  it('get prints the key; update changes what was given', async () => {
    const shown = await ok(['keys', 'get', keyId]);
    expect(field(shown, 'name')).toBe('billing');
    expect(field(shown, 'expiresAt')).toBe('2030-01-01T00:00:00.000Z');
    expect(await okJson(['keys', 'get', keyId])).toEqual((await get(`/v1/keys/${keyId}`)).body);

    await ok(['keys', 'update', keyId, '--name', 'billing-2', '--scope', 'invoices:read', '--rate-limit', 'none', '--expires-at', 'never', '--metadata', 'team=ops']);
    expect((await get(`/v1/keys/${keyId}`)).body).toMatchObject({
      name: 'billing-2',
      scopes: ['invoices:read'],
      rateLimit: null,
      expiresAt: null,
      metadata: { team: 'ops' },
    });
    await ok(['keys', 'update', keyId, '--clear-scopes']);
    expect((await get(`/v1/keys/${keyId}`)).body.scopes).toEqual([]);
  });

  it('rotate prints the new key once; revoke revokes it (the API then verifies it as REVOKED); verify reads the key from stdin', async () => {
    const rotated = await gatehouse(['keys', 'rotate', keyId, '--grace-period', '0']);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stderr).toMatch(SHOWN_ONCE);
    const newKey = rotated.stdout.match(/sk_test_[0-9A-Za-z]{20,}/g);
    expect(newKey).toHaveLength(1);
    printedSecrets.push(newKey![0]!);
    const newId = field(rotated.stdout, 'id');
    expect((await get(`/v1/keys/${keyId}`)).body.rotatedToId).toBe(newId);

    const revoked = await okJson(['keys', 'revoke', newId]);
    expect(revoked).toMatchObject({ id: newId, status: 'revoked' });
    const verified = await api(server.url, 'POST', '/v1/keys/verify', { key: adminKey, body: { key: newKey![0]! } });
    expect(verified.body).toMatchObject({ valid: false, code: 'REVOKED' });

    const refused = await gatehouse(['keys', 'verify', '--json'], { input: `${newKey![0]!}\n` });
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({ valid: false, code: 'REVOKED' });

    const fresh = await okJson(['keys', 'create', '--name', 'to-verify', '--scope', 'a']);
    printedSecrets.push(fresh.key);
    const valid = await ok(['keys', 'verify', '--scope', 'a'], { input: fresh.key });
    expect(field(valid, 'valid')).toBe('true');
    expect(field(valid, 'keyId')).toBe(fresh.id);
    expect(occurrences(valid, fresh.key)).toBe(0);
  });
});

describe('gatehouse clients', () => {
  const tokenWith = (clientId: string, secret: string) =>
    fetch(`${server.url}/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });

  it('create, list, get, update, rotate-secret and delete; each secret printed once and working', async () => {
    const created = await gatehouse([
      'clients', 'create', '--name', 'reports', '--grant-type', 'client_credentials', '--auth-method', 'client_secret_basic',
      '--scope', 'reports:read', '--scope', 'reports:write', '--audience', 'https://api.example.com', '--access-token-ttl', '600',
    ]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toMatch(SHOWN_ONCE);
    const clientId = field(created.stdout, 'clientId');
    const secret = created.stdout.trimEnd().split('\n').at(-1)!.trim();
    printedSecrets.push(secret);
    expect(occurrences(created.stdout, secret)).toBe(1);
    expect((await get(`/v1/clients/${clientId}`)).body).toMatchObject({
      name: 'reports',
      grantTypes: ['client_credentials'],
      tokenEndpointAuthMethod: 'client_secret_basic',
      scopes: ['reports:read', 'reports:write'],
      audiences: ['https://api.example.com'],
      accessTokenTtlSeconds: 600,
    });
    expect((await tokenWith(clientId, secret)).status).toBe(200);

    expect((await okJson(['clients', 'list'])).data.map((c: any) => c.clientId)).toContain(clientId);
    expect(await ok(['clients', 'list'])).toMatch(new RegExp(`^${clientId} +reports +client_secret_basic`, 'm'));
    expect(field(await ok(['clients', 'get', clientId]), 'name')).toBe('reports');

    await ok(['clients', 'update', clientId, '--name', 'reports-2', '--scope', 'reports:read', '--access-token-ttl', 'default']);
    expect((await get(`/v1/clients/${clientId}`)).body).toMatchObject({ name: 'reports-2', scopes: ['reports:read'], accessTokenTtlSeconds: null });

    const rotated = await gatehouse(['clients', 'rotate-secret', clientId, '--grace-period', '0', '--json']);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stderr).toMatch(SHOWN_ONCE);
    const newSecret = JSON.parse(rotated.stdout).clientSecret as string;
    printedSecrets.push(newSecret);
    expect(occurrences(rotated.stdout, newSecret)).toBe(1);
    expect((await tokenWith(clientId, newSecret)).status).toBe(200);
    expect((await tokenWith(clientId, secret)).status).toBe(401);

    expect(await ok(['clients', 'delete', clientId])).toBe(`Deleted ${clientId}\n`);
    expect((await get(`/v1/clients/${clientId}`)).status).toBe(404);
  });
});

describe('gatehouse registration-tokens', () => {
  it('create (the token printed once), list, revoke; clients list --registration filters', async () => {
    const created = await gatehouse(['registration-tokens', 'create', '--name', 'partner onboarding', '--max-uses', '3', '--expires-in', '3600', '--tenant', 'acme']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toMatch(SHOWN_ONCE);
    const id = field(created.stdout, 'id');
    const token = created.stdout.trimEnd().split('\n').at(-1)!.trim();
    expect(token).toMatch(/^iat_[0-9A-Za-z]{43}$/);
    printedSecrets.push(token);
    expect(occurrences(created.stdout, token)).toBe(1);
    expect(await ok(['registration-tokens', 'list'])).toMatch(new RegExp(`^${id} +partner onboarding +${token.slice(0, 10)} +active +0/3 +acme`, 'm'));
    expect((await okJson(['registration-tokens', 'revoke', id])).status).toBe('revoked');
    expect((await okJson(['registration-tokens', 'list', '--tenant', 'acme'])).data.map((t: any) => [t.id, t.status])).toStrictEqual([[id, 'revoked']]);
    expect((await okJson(['clients', 'list', '--registration', 'dynamic'])).data).toStrictEqual([]);
    expect((await okJson(['clients', 'list', '--registration', 'admin'])).data.every((c: any) => c.registration === 'admin')).toBe(true);
  });
});

describe('gatehouse resources', () => {
  it('create, list, get, update and delete', async () => {
    const created = await okJson([
      'resources', 'create', '--identifier', 'https://mcp.example.com/mcp', '--name', 'MCP tools',
      '--scope', 'tools:call', '--scope', 'tools:list', '--dynamic-clients', 'true', '--access-token-ttl', '600',
    ]);
    expect(created).toMatchObject({ identifier: 'https://mcp.example.com/mcp', scopes: ['tools:call', 'tools:list'], dynamicClients: true, accessTokenTtlSeconds: 600 });
    const id = created.id as string;
    expect((await okJson(['resources', 'list'])).data.map((r: any) => r.id)).toContain(id);
    expect(await ok(['resources', 'list'])).toMatch(new RegExp(`^${id} +https://mcp.example.com/mcp +MCP tools`, 'm'));
    expect(field(await ok(['resources', 'get', id]), 'identifier')).toBe('https://mcp.example.com/mcp');
    await ok(['resources', 'update', id, '--scope', 'tools:call', '--dynamic-clients', 'false', '--access-token-ttl', 'default']);
    expect((await get(`/v1/resources/${id}`)).body).toMatchObject({ scopes: ['tools:call'], dynamicClients: false, accessTokenTtlSeconds: null });
    const refused = await gatehouse(['resources', 'update', id, '--dynamic-clients', 'maybe']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/--dynamic-clients must be one of true, false/);
    expect(await ok(['resources', 'delete', id])).toBe(`Deleted ${id}\n`);
    expect((await get(`/v1/resources/${id}`)).status).toBe(404);
  });
});

describe('gatehouse users', () => {
  it('create (password from stdin), list, get and delete', async () => {
    const password = 'correct horse battery staple';
    const created = await okJson(['users', 'create', '--email', 'Ada@Example.com', '--name', 'Ada', '--tenant', 'acme', '--password-stdin'], {
      input: `${password}\n`,
    });
    expect(created).toMatchObject({ object: 'user', email: 'ada@example.com', name: 'Ada', tenantId: 'acme' });
    expect((await get(`/v1/users/${created.id}`)).body.email).toBe('ada@example.com');
    printedSecrets.push(password);

    const viaEnv = await okJson(['users', 'create', '--email', 'grace@example.com'], { env: { GATEHOUSE_USER_PASSWORD: password } });
    expect((await get(`/v1/users/${viaEnv.id}`)).status).toBe(200);
    const noPassword = await gatehouse(['users', 'create', '--email', 'x@example.com']);
    expect(noPassword.code).toBe(2);

    expect((await okJson(['users', 'list', '--tenant', 'acme'])).data.map((u: any) => u.id)).toEqual([created.id]);
    expect(await ok(['users', 'list'])).toMatch(new RegExp(`^${created.id} +ada@example.com +Ada +acme`, 'm'));
    expect(field(await ok(['users', 'get', created.id]), 'email')).toBe('ada@example.com');
    await ok(['users', 'delete', created.id, '--json']);
    expect((await get(`/v1/users/${created.id}`)).status).toBe(404);
  });
});

describe('gatehouse users: administrators of the console', () => {
  it('create --admin makes an admin user who signs in to the console; roles replaces its roles', async () => {
    const password = 'correct horse battery staple';
    printedSecrets.push(password);
    const admin = await okJson(['users', 'create', '--admin', '--email', 'root-admin@example.com', '--password-stdin'], { input: `${password}\n` });
    expect(admin).toMatchObject({ email: 'root-admin@example.com', tenantId: null, adminScopes: ['admin'] });
    const session = await consoleSignIn(server.url, server.url, { email: 'root-admin@example.com', password });
    const me = await api(server.url, 'GET', '/v1/me', { key: session.accessToken });
    expect(me.body).toMatchObject({ kind: 'user', id: admin.id, scopes: ['admin'] });

    const reader = await okJson(['users', 'create', '--role', 'keys:read', '--role', 'audit:read', '--email', 'reader@example.com', '--tenant', 'acme'], {
      env: { GATEHOUSE_USER_PASSWORD: password },
    });
    expect(reader.adminScopes).toEqual(['audit:read', 'keys:read']);
    expect((await okJson(['users', 'roles', reader.id, '--role', 'keys:read'])).adminScopes).toEqual(['keys:read']);
    expect((await okJson(['users', 'roles', reader.id, '--none'])).adminScopes).toEqual([]);
    expect((await gatehouse(['users', 'roles', reader.id])).code).toBe(2);
    const unknown = await gatehouse(['users', 'create', '--role', 'orders:read', '--email', 'nope@example.com'], { env: { GATEHOUSE_USER_PASSWORD: password } });
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('invalid_request');

    const events = (await get('/v1/audit-events?type=user.created&limit=50')).body.data;
    expect(events.find((e: any) => e.details.userId === admin.id)).toMatchObject({ details: { adminScopes: ['admin'] } });
  });
});

describe('gatehouse webhooks', () => {
  it('create (the printed secret signs the deliveries), list, get, update, deliveries list and retry, test, rotate-secret, delete', async () => {
    const created = await gatehouse(['webhooks', 'create', '--url', receiverUrl, '--event', 'key.*', '--description', 'ops hook']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toMatch(SHOWN_ONCE);
    const endpointId = field(created.stdout, 'id');
    const secret = created.stdout.match(/whsec_[0-9A-Za-z+/=]+/g);
    expect(secret).toHaveLength(1);
    printedSecrets.push(secret![0]!);
    expect((await get(`/v1/webhook-endpoints/${endpointId}`)).body).toMatchObject({ url: receiverUrl, events: ['key.*'], description: 'ops hook', scheme: 'standard' });

    // An event, delivered and signed with the printed secret.
    await api(server.url, 'POST', '/v1/keys', { key: adminKey, body: { name: 'hooked' } });
    const hook = await waitFor('a delivery', async () => hooks[0]);
    const event = verifyWebhook<any>({ payload: hook.body, headers: hook.headers as Record<string, string>, secret: secret![0]!, scheme: 'standard' });
    expect(event.type).toBe('key.created');

    expect((await okJson(['webhooks', 'list'])).data.map((w: any) => w.id)).toEqual([endpointId]);
    expect(field(await ok(['webhooks', 'get', endpointId]), 'status')).toBe('enabled');

    const deliveries = await waitFor('the delivery to be recorded as delivered', async () => {
      const page = await okJson(['webhooks', 'deliveries', 'list', endpointId, '--status', 'delivered']);
      return page.data.length ? page.data : undefined;
    });
    const table = await ok(['webhooks', 'deliveries', 'list', endpointId]);
    expect(table).toMatch(new RegExp(`^${deliveries[0].id} +key.created +${deliveries[0].eventId} +delivered`, 'm'));
    const retried = await okJson(['webhooks', 'deliveries', 'retry', endpointId, deliveries[0].id]);
    expect(retried.id).toBe(deliveries[0].id);
    await waitFor('the retried delivery', async () => (hooks.length >= 2 ? true : undefined));
    expect(hooks[1]!.headers['webhook-id']).toBe(hooks[0]!.headers['webhook-id']);

    // The endpoint takes key.* only; the test event reaches it all the same.
    const test = await okJson(['webhooks', 'test', endpointId]);
    expect(test).toMatchObject({ endpointId, eventType: 'webhook.test', status: 'pending' });
    await waitFor('the test event', async () => (hooks.length >= 3 ? true : undefined));
    expect(JSON.parse(hooks[2]!.body)).toMatchObject({ id: test.eventId, type: 'webhook.test', data: { endpointId, test: true } });

    await ok(['webhooks', 'update', endpointId, '--disable', '--event', 'alert.*', '--description', '']);
    expect((await get(`/v1/webhook-endpoints/${endpointId}`)).body).toMatchObject({ status: 'disabled', events: ['alert.*'], description: null });
    await ok(['webhooks', 'update', endpointId, '--enable']);
    expect((await get(`/v1/webhook-endpoints/${endpointId}`)).body.status).toBe('enabled');

    const rotated = await gatehouse(['webhooks', 'rotate-secret', endpointId, '--json']);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stderr).toMatch(SHOWN_ONCE);
    const newSecret = JSON.parse(rotated.stdout).secret as string;
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(secret![0]);
    expect(occurrences(rotated.stdout, newSecret)).toBe(1);
    printedSecrets.push(newSecret);

    expect(await ok(['webhooks', 'delete', endpointId])).toBe(`Deleted ${endpointId}\n`);
    expect((await get(`/v1/webhook-endpoints/${endpointId}`)).status).toBe(404);
  });
});

describe('gatehouse certificates', () => {
  it('issue (the generated private key printed once), list, revoke', async () => {
    const issued = await gatehouse(['certificates', 'issue', '--common-name', 'billing-worker', '--lifetime', '3600']);
    expect(issued.code, issued.stderr).toBe(0);
    expect(issued.stderr).toMatch(/private key below is shown once; store it now/);
    expect(occurrences(issued.stdout, '-----BEGIN PRIVATE KEY-----')).toBe(1);
    const privateKey = issued.stdout.slice(issued.stdout.indexOf('-----BEGIN PRIVATE KEY-----')).trim();
    printedSecrets.push(privateKey.split('\n')[1]!);
    const serial = field(issued.stdout, 'serialNumber');
    expect(field(issued.stdout, 'commonName')).toBe('billing-worker');

    const listed = await okJson(['certificates', 'list', '--status', 'active']);
    expect(listed.data.map((c: any) => c.serialNumber)).toContain(serial);
    expect(await ok(['certificates', 'list'])).toMatch(new RegExp(`^${serial} +billing-worker +active`, 'm'));

    await ok(['certificates', 'revoke', serial, '--reason', 'decommissioned']);
    const revoked = await get('/v1/certificates?status=revoked');
    expect(revoked.body.data).toEqual([expect.objectContaining({ serialNumber: serial, revokedReason: 'decommissioned' })]);
  });
});

describe('gatehouse blocks, signing-keys, audit', () => {
  it('blocks list shows a blocked address; blocks delete lifts it', async () => {
    for (let i = 0; i < 3; i++) {
      await api(server.url, 'POST', '/v1/keys/verify', { key: adminKey, body: { key: generateApiKey('live').key, clientIp: '203.0.113.7' } });
    }
    const blocks = await waitFor('the block', async () => {
      const page = await okJson(['blocks', 'list']);
      return page.data.length ? page.data : undefined;
    });
    expect(blocks).toEqual([expect.objectContaining({ ip: '203.0.113.7', reason: 'brute_force' })]);
    expect(await ok(['blocks', 'list'])).toMatch(/^203\.0\.113\.7 +brute_force/m);
    expect(await okJson(['blocks', 'delete', '203.0.113.7'])).toMatchObject({ ip: '203.0.113.7' });
    expect((await get('/v1/blocks')).body.data).toEqual([]);
  });

  it('signing-keys list and rotate', async () => {
    const before = (await get('/v1/signing-keys')).body.data;
    const table = await ok(['signing-keys', 'list']);
    for (const key of before) expect(table).toContain(key.kid);
    const rotated = await okJson(['signing-keys', 'rotate', '--alg', 'ES256', '--activate-after', '0']);
    expect(rotated).toMatchObject({ object: 'signing_key', alg: 'ES256' });
    expect((await get('/v1/signing-keys')).body.data.map((k: any) => k.kid)).toContain(rotated.kid);
  });

  it('audit list filters by type, key and time', async () => {
    const created = await okJson(['keys', 'create', '--name', 'audited']);
    printedSecrets.push(created.key);
    await ok(['keys', 'revoke', created.id]);
    const events = await okJson(['audit', 'list', '--type', 'key.revoked', '--key-id', created.id, '--since', '2020-01-01T00:00:00Z']);
    expect(events.data).toEqual([expect.objectContaining({ type: 'key.revoked', keyId: created.id })]);
    expect((await okJson(['audit', 'list', '--type', 'key.revoked', '--since', '2100-01-01T00:00:00Z'])).data).toEqual([]);
    const table = await ok(['audit', 'list', '--key-id', created.id]);
    expect(table).toMatch(/^TIME +TYPE +OUTCOME/);
    expect(table).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z +key\.revoked +success/m);
    // The other filters reach the API: outcome, the acting key, a time range.
    const created2 = (await get('/v1/audit-events?type=key.created&limit=1')).body.data[0];
    const byActor = await okJson(['audit', 'list', '--actor-key-id', created2.actorKeyId, '--outcome', 'success', '--until', '2100-01-01T00:00:00Z']);
    expect(byActor.data.length).toBeGreaterThan(0);
    for (const event of byActor.data) expect(event).toMatchObject({ actorKeyId: created2.actorKeyId, outcome: 'success' });
    expect((await okJson(['audit', 'list', '--key-id', created.id, '--until', '2020-01-01T00:00:00Z'])).data).toEqual([]);
    expect((await okJson(['audit', 'list', '--key-id', created.id, '--outcome', 'failure'])).data).toEqual([]);
  });
});

describe('gatehouse: errors, usage, help', () => {
  const oneLine = (text: string) => expect(text.split('\n').filter(Boolean)).toHaveLength(1);

  it('a server error is one line with the description, the code and the status; exit 1', async () => {
    const missing = await gatehouse(['keys', 'get', 'key_doesnotexist']);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toMatch(/^gatehouse: .+ \(not_found, HTTP 404\)\n$/);

    const badKey = await gatehouse(['keys', 'list'], { env: { GATEHOUSE_ADMIN_KEY: generateApiKey('live').key } });
    expect(badKey.code).toBe(1);
    expect(badKey.stderr).toMatch(/^gatehouse: .+ \([a-z_]+, HTTP 401\)\n$/);

    const invalid = await gatehouse(['keys', 'create', '--name', 'x', '--scope', 'no spaces']);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/^gatehouse: .+ \(invalid_request, HTTP 400\)\n$/);
  });

  it('an unreachable server is one line naming the URL and the cause; exit 1', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const refused = await gatehouse(['keys', 'list', '--server', url]);
    expect(refused.code).toBe(1);
    oneLine(refused.stderr);
    expect(refused.stderr).toContain(url);
    expect(refused.stderr).toMatch(/ECONNREFUSED/);
  });

  it('an unknown command or option is one line with a hint; exit 2', async () => {
    const typo = await gatehouse(['kyes']);
    expect(typo.code).toBe(2);
    expect(typo.stdout).toBe('');
    expect(typo.stderr).toBe('gatehouse: unknown command "kyes". Did you mean "keys"? See gatehouse --help\n');

    const sub = await gatehouse(['keys', 'lsit']);
    expect(sub.code).toBe(2);
    expect(sub.stderr).toBe('gatehouse: unknown command "keys lsit". Did you mean "keys list"? See gatehouse keys --help\n');

    const option = await gatehouse(['keys', 'create', '--nmae', 'x']);
    expect(option.code).toBe(2);
    expect(option.stderr).toBe('gatehouse: unknown option "--nmae". Did you mean "--name"? See gatehouse keys create --help\n');

    const serverFlag = await gatehouse(['start', '--prot', '1']);
    expect(serverFlag.code).toBe(2);
    expect(serverFlag.stderr).toBe('gatehouse: unknown option "--prot". Did you mean "--port"? See gatehouse start --help\n');

    const missingArg = await gatehouse(['keys', 'get']);
    expect(missingArg.code).toBe(2);
    oneLine(missingArg.stderr);
  });

  it('refuses the admin key as a flag, pointing to GATEHOUSE_ADMIN_KEY', async () => {
    for (const flag of ['--admin-key', '--key', `--admin-key=${adminKey}`]) {
      const result = await runCli(['keys', 'list', flag, ...(flag.includes('=') ? [] : [adminKey])], { env: { GATEHOUSE_URL: server.url } });
      expect(result.code).toBe(2);
      oneLine(result.stderr);
      expect(result.stderr).toMatch(/GATEHOUSE_ADMIN_KEY/);
      expect(result.stderr + result.stdout).not.toContain(adminKey);
    }
    const none = await runCli(['keys', 'list'], { env: { GATEHOUSE_URL: server.url } });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^gatehouse: set GATEHOUSE_ADMIN_KEY/);
  });

  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(await ok(['--version'])).toBe(`${version}\n`);
  });

  it('start --help names every flag load-config accepts, with its variable', async () => {
    const help = await ok(['start', '--help']);
    expect(Object.keys(CONFIG_FLAGS).length).toBeGreaterThan(40);
    for (const [flag, { env }] of Object.entries(CONFIG_FLAGS)) {
      expect(help).toMatch(new RegExp(`^  --${flag} `, 'm'));
      expect(help).toContain(env);
    }
  });

  it('<group> --help lists every command; <command> --help every option', async () => {
    const keysHelp = await ok(['keys', '--help']);
    for (const command of ['generate', 'create', 'list', 'get ID', 'update ID', 'rotate ID', 'revoke ID', 'verify']) {
      expect(keysHelp).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
    const createHelp = await ok(['keys', 'create', '--help']);
    for (const option of ['--name', '--scope', '--tenant', '--expires-at', '--rate-limit', '--metadata', '--environment', '--anomaly-action', '--server', '--json', '--help']) {
      expect(createHelp).toMatch(new RegExp(`^  ${option} `, 'm'));
    }
    expect(await ok(['webhooks', 'deliveries', 'list', '--help'])).toMatch(/^  --status STATUS /m);
  });

  it('never printed the admin key; no secret the CLI printed reached the server log', () => {
    expect(outputs.length).toBeGreaterThan(50);
    for (const output of outputs) expect(output).not.toContain(adminKey);
    const serverLog = server.stdout() + server.stderr();
    expect(printedSecrets.length).toBeGreaterThan(8);
    for (const secret of printedSecrets) expect(serverLog).not.toContain(secret);
  });
});
