/**
 * The console's other pages in a real Chromium, signed in as an admin user: OAuth clients (create with the
 * secret shown once, edit, rotate, delete), webhook endpoints (a delivery in the log, a failed one retried, a
 * test event sent), users (create with roles, disable), the audit log filters (server-side, beyond one page), and
 * the security page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshot, settle, signIn, startConsoleBrowser, type ConsoleBrowser, type ConsolePage } from './helpers/console-browser.js';
import { sinkCredential } from './helpers/log-sink.js';
import { startReceiver, type WebhookReceiver } from './helpers/webhook-receiver.js';

describe('console: clients, webhooks, users, audit, security (Chromium)', () => {
  let c: ConsoleBrowser;
  let receiver: WebhookReceiver;
  let session: ConsolePage;
  beforeAll(async () => {
    receiver = await startReceiver();
    c = await startConsoleBrowser({ env: { GATEHOUSE_WEBHOOKS_ALLOW_INSECURE: 'true' } });
    const admin = await c.createAdmin();
    session = await c.open();
    await signIn(session.page, c.t.issuer, admin.email);
  });
  afterAll(async () => {
    await c?.close();
    await receiver?.close();
  });

  const go = async (label: string, heading: string) => {
    await session.page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: label, exact: true }).click();
    await session.page.getByRole('heading', { name: heading, exact: true }).waitFor();
  };

  it('creates an OAuth client with its secret shown once, edits it, rotates its secret and deletes it', async () => {
    const { page, problems } = session;
    await go('OAuth clients', 'OAuth clients');
    await page.getByText('No OAuth clients yet.').waitFor();
    await page.getByRole('button', { name: 'Create client' }).click();
    const form = page.getByRole('form', { name: 'Create an OAuth client' });
    await form.getByLabel('Name').fill('Orders web app');
    await form.getByLabel('Client authentication').selectOption('client_secret_post');
    await form.getByLabel('client_credentials').check();
    await form.getByLabel('Redirect URIs', { exact: true }).fill('https://orders.example.com/callback');
    await form.getByLabel('Allowed origins (CORS)').fill('https://orders.example.com');
    await form.getByLabel('Scopes it may request').fill('openid orders:read');
    await screenshot(page, 'client-create');
    await form.getByRole('button', { name: 'Create client' }).click();
    const secret = (await page.getByTestId('secret').textContent())!;
    sinkCredential(secret);
    const clientId = /cli_\w+/.exec((await page.getByRole('heading', { name: /Client secret of/ }).textContent())!)![0];
    // The secret works, once shown: a client_credentials grant with it succeeds.
    const grant = await fetch(`${c.t.issuer}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret, scope: 'orders:read' }),
    });
    expect(grant.status).toBe(200);
    await page.getByRole('button', { name: 'I have stored it' }).click();
    await page.getByRole('heading', { name: 'Orders web app' }).waitFor();
    expect(await page.content()).not.toContain(secret);
    const registered = (await c.t.api('GET', `/v1/clients/${clientId}`)).body;
    expect(registered).toMatchObject({
      tokenEndpointAuthMethod: 'client_secret_post',
      grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'],
      redirectUris: ['https://orders.example.com/callback'],
      allowedOrigins: ['https://orders.example.com'],
      scopes: ['openid', 'orders:read'],
    });
    await screenshot(page, 'client');

    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByRole('form', { name: 'Edit client' }).getByLabel('Name').fill('Orders portal');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Orders portal' }).waitFor();
    expect((await c.t.api('GET', `/v1/clients/${clientId}`)).body.name).toBe('Orders portal');

    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Rotate' }).click();
    await page.getByText('The new client secret').waitFor();
    const rotated = (await page.getByTestId('secret').textContent())!;
    sinkCredential(rotated);
    expect(rotated).not.toBe(secret);
    await page.getByRole('button', { name: 'I have stored it' }).click();

    await page.getByRole('button', { name: 'Delete client' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('heading', { name: 'OAuth clients' }).waitFor();
    await page.getByText('No OAuth clients yet.').waitFor();
    expect((await c.t.api('GET', `/v1/clients/${clientId}`)).status).toBe(404);
    await settle(page);
    expect(problems).toEqual([]);
  });

  it('adds a webhook endpoint (secret once), shows its deliveries, and retries a failed one', async () => {
    const { page, problems } = session;
    await go('Webhooks', 'Webhook endpoints');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.getByLabel('URL').fill(receiver.url);
    await page.getByLabel('Events').fill('key.*');
    await page.getByRole('button', { name: 'Add endpoint' }).last().click();
    const secret = (await page.getByTestId('secret').textContent())!;
    sinkCredential(secret);
    expect(secret).toMatch(/^whsec_/);
    await page.getByRole('button', { name: 'I have stored it' }).click();
    await page.getByRole('heading', { name: 'Delivery log' }).waitFor();
    await page.getByText('No deliveries yet.').waitFor();

    await c.t.createKey({ name: 'delivered' });
    await c.t.services.webhooks.drain();
    expect(receiver.received.map((hook) => hook.json.type)).toEqual(['key.created']);
    await page.getByRole('button', { name: 'Refresh' }).click();
    const delivered = page.getByRole('row', { name: /key\.created.*delivered/ });
    await delivered.waitFor();
    await screenshot(page, 'webhook');

    // The receiver fails: the delivery waits for its next scheduled attempt, or is retried now from the log.
    receiver.respond((_request, response) => response.writeHead(500).end('down'));
    await c.t.createKey({ name: 'failing' });
    await c.t.services.webhooks.drain();
    const endpointId = /whe_\w+/.exec(page.url())![0];
    const failing = (await c.t.api('GET', `/v1/webhook-endpoints/${endpointId}/deliveries`)).body.data[0];
    expect(failing).toMatchObject({ lastStatusCode: 500, attempts: 1 });
    expect(failing.status).not.toBe('delivered');
    receiver.respond((_request, response) => response.writeHead(200).end('ok'));
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByRole('cell', { name: '500' }).waitFor();
    await page.getByRole('button', { name: 'Retry' }).click();
    await c.t.services.webhooks.drain();
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByRole('button', { name: 'Retry' }).waitFor({ state: 'detached' });
    const retried = (await c.t.api('GET', `/v1/webhook-endpoints/${endpointId}/deliveries`)).body.data[0];
    expect(retried).toMatchObject({ id: failing.id, status: 'delivered', attempts: 2, lastStatusCode: 200 });
    expect(receiver.received.map((hook) => hook.json.type)).toEqual(['key.created', 'key.created', 'key.created']);

    // A test event, though the endpoint subscribes to key.* only: queued, then delivered at the receiver.
    await page.getByRole('button', { name: 'Send test event' }).click();
    await page.getByRole('status').filter({ hasText: /Test event queued \(delivery whd_\w+\)/ }).waitFor();
    await page.getByRole('row', { name: /webhook\.test.*pending/ }).waitFor();
    await c.t.services.webhooks.drain();
    expect(receiver.received.map((hook) => hook.json.type)).toEqual(['key.created', 'key.created', 'key.created', 'webhook.test']);
    expect(receiver.received[3]!.json.data).toMatchObject({ endpointId, test: true });
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByRole('row', { name: /webhook\.test.*delivered/ }).waitFor();
    await settle(page);
    expect(problems).toEqual([]);
  });

  it('creates a user with admin roles and disables it', async () => {
    const { page, problems } = session;
    await go('Users', 'Users');
    await page.getByRole('button', { name: 'Create user' }).click();
    const form = page.getByRole('form', { name: 'Create a user' });
    await form.getByLabel('Email').fill('auditor@example.com');
    await form.getByLabel('Initial password').fill('a long enough password');
    sinkCredential('a long enough password');
    await form.getByLabel('audit:read').check();
    await form.getByRole('button', { name: 'Create user' }).click();
    await page.getByRole('heading', { name: 'auditor@example.com' }).waitFor();
    const [user] = (await c.t.api('GET', '/v1/users')).body.data.filter((u: { email: string }) => u.email === 'auditor@example.com');
    expect(user.adminScopes).toEqual(['audit:read']);
    await page.getByRole('button', { name: 'Disable user' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Disable' }).click();
    await page.getByRole('button', { name: 'Enable user' }).waitFor();
    expect((await c.t.api('GET', `/v1/users/${user.id}`)).body.disabled).toBe(true);
    await go('Users', 'Users');
    await screenshot(page, 'users');
    await settle(page);
    expect(problems).toEqual([]);
  });

  it('filters the audit log by type and outcome, and shows an event in detail', async () => {
    const { page, problems } = session;
    await c.t.api('POST', '/v1/keys/verify', { body: { key: 'sk_live_notarealkeyatall00000000000000000' } });
    await go('Audit log', 'Audit log');
    await page.locator('tr[data-event-type]').first().waitFor();
    const filters = page.getByRole('search', { name: 'Filter the audit log' });
    await filters.getByLabel('Type').fill('client.*');
    await filters.getByRole('button', { name: 'Filter' }).click();
    await page.locator('tr[data-event-type="client.deleted"]').waitFor();
    const types = await page.locator('tr[data-event-type]').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-event-type')));
    expect(new Set(types)).toEqual(new Set(['client.created', 'client.updated', 'client.secret_rotated', 'client.deleted']));
    await filters.getByLabel('Type').fill('key.*');
    await filters.getByLabel('Outcome').selectOption('failure');
    await filters.getByRole('button', { name: 'Filter' }).click();
    await page.locator('tr[data-event-type="key.verification"]').first().waitFor();
    const outcomes = await page.locator('tr[data-event-type] .status').allTextContents();
    expect(outcomes.length).toBeGreaterThan(0);
    expect(new Set(outcomes)).toEqual(new Set(['failure']));
    await page.locator('tr[data-event-type] summary').first().click();
    await page.locator('tr[data-event-type] dl.event-detail').first().waitFor();
    await screenshot(page, 'audit');
    await settle(page);
    expect(problems).toEqual([]);
  });

  it('filters the audit log on the server: outcome, client and user beyond the first page, and a time range', async () => {
    const { page, problems } = session;
    const api = async (query: string) =>
      (await c.t.api('GET', `/v1/audit-events?${query}`)).body.data as Array<{ type: string; outcome: string; details: Record<string, unknown> | null }>;
    const [created] = await api('type=client.created&limit=1');
    const clientId = created!.details!['clientId'] as string;
    const [auditor] = (await c.t.api('GET', '/v1/users')).body.data.filter((u: { email: string }) => u.email === 'auditor@example.com');
    // More than a page (the console loads 100) of newer successes: a filter applied within the loaded page would
    // find no failure, no event of the client and none of the user.
    const key = await c.t.createKey({ name: 'busy key' });
    for (let i = 0; i < 105; i++) expect((await c.t.api('PATCH', `/v1/keys/${key.id}`, { body: { name: `busy key ${i}` } })).status).toBe(200);
    const newest = await api('limit=100');
    expect(newest).toHaveLength(100);
    expect(newest.filter((e) => e.outcome === 'failure' || e.details?.['clientId'] === clientId || e.details?.['userId'] === auditor.id)).toEqual([]);

    const filters = page.getByRole('search', { name: 'Filter the audit log' });
    const shownTypes = () => page.locator('tr[data-event-type]').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-event-type')));
    const apply = async (fields: { type?: string; outcome?: string; client?: string; user?: string; since?: string; until?: string }) => {
      await filters.getByLabel('Type').fill(fields.type ?? '');
      await filters.getByLabel('Outcome').selectOption(fields.outcome ?? '');
      await filters.getByLabel('Client id').fill(fields.client ?? '');
      await filters.getByLabel('User id').fill(fields.user ?? '');
      await filters.getByLabel('Since').fill(fields.since ?? '');
      await filters.getByLabel('Until').fill(fields.until ?? '');
      await filters.getByRole('button', { name: 'Filter' }).click();
    };

    await apply({ outcome: 'failure' });
    const failures = await api('outcome=failure&limit=100');
    expect(failures.length).toBeGreaterThan(0);
    await expect.poll(shownTypes, { timeout: 10_000 }).toEqual(failures.map((e) => e.type));
    expect(new Set(await page.locator('tr[data-event-type] .status').allTextContents())).toEqual(new Set(['failure']));

    await apply({ client: clientId });
    const ofClient = await api(`clientId=${clientId}&limit=100`);
    expect(ofClient.map((e) => e.type)).toEqual(expect.arrayContaining(['client.created', 'client.updated', 'client.secret_rotated', 'client.deleted']));
    await expect.poll(shownTypes, { timeout: 10_000 }).toEqual(ofClient.map((e) => e.type));

    await apply({ user: auditor.id });
    const ofUser = await api(`userId=${auditor.id}&limit=100`);
    expect(ofUser.map((e) => e.type)).toContain('user.created');
    await expect.poll(shownTypes, { timeout: 10_000 }).toEqual(ofUser.map((e) => e.type));

    // A time range that holds nothing: the server applies `until` too.
    await apply({ client: clientId, until: '2001-01-01T00:00' });
    await page.getByText('No event matches these filters.').waitFor();
    expect(await page.locator('tr[data-event-type]').count()).toBe(0);
    await settle(page);
    expect(problems).toEqual([]);
  });

  it('shows the security page: blocks, alerts, signing keys; issues a client certificate (private key shown once) and revokes it', async () => {
    const { page, problems } = session;
    await go('Security', 'Security');
    await page.getByRole('heading', { name: 'Signing keys' }).waitFor();
    await page.getByText('No address is blocked.').waitFor();
    await page.locator('section[aria-labelledby="signing-keys"] li').first().waitFor();
    await screenshot(page, 'security');
    // A client certificate for a service, with a key pair Gatehouse generates: its private key shown once, the
    // certificate listed, then revoked from the list (and so in the CRL's revocations).
    await c.t.services.ca.init();
    const certificates = page.locator('section[aria-labelledby="certificates"]');
    await certificates.getByRole('button', { name: 'Issue certificate' }).click();
    const form = page.getByRole('form', { name: 'Issue a client certificate' });
    await form.getByLabel('A service').check();
    await form.getByLabel('Service name').fill('billing-worker');
    await form.getByLabel('Lifetime in hours').fill('2');
    await form.getByRole('button', { name: 'Issue certificate' }).click();
    const privateKey = (await certificates.getByTestId('secret').textContent())!;
    sinkCredential(privateKey);
    expect(privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(await certificates.getByTestId('certificate-pem').textContent()).toMatch(/^-----BEGIN CERTIFICATE-----/);
    await certificates.getByRole('button', { name: 'I have stored it' }).click();
    expect(await page.content()).not.toContain(privateKey.trim().split('\n')[1]!);
    const [listed] = (await c.t.api('GET', '/v1/certificates')).body.data;
    expect(listed).toMatchObject({ service: 'billing-worker', status: 'active' });
    expect(Date.parse(listed.notAfter) - Date.parse(listed.notBefore)).toBeLessThanOrEqual(2 * 3600_000 + 60_000);
    await certificates.getByRole('button', { name: `Revoke certificate ${listed.serialNumber}` }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
    await certificates.getByText('revoked').waitFor();
    expect((await c.t.api('GET', '/v1/certificates')).body.data[0]).toMatchObject({ serialNumber: listed.serialNumber, status: 'revoked' });
    await go('Overview', 'Overview');
    await page.getByRole('heading', { name: 'Recent admin actions' }).waitFor();
    await page.locator('tr[data-event-type]').first().waitFor();
    await settle(page);
    expect(problems).toEqual([]);
  });
});
