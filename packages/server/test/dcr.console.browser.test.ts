/**
 * The console marks clients that registered themselves (Dynamic Client Registration, RFC 7591): in the clients
 * list and on the client's page, in a real Chromium signed in as an admin user.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshot, settle, signIn, startConsoleBrowser, type ConsoleBrowser, type ConsolePage } from './helpers/console-browser.js';
import { register } from './helpers/registration.js';

describe('console: self-registered clients (Chromium)', () => {
  let c: ConsoleBrowser;
  let session: ConsolePage;
  beforeAll(async () => {
    c = await startConsoleBrowser({ env: { GATEHOUSE_CLIENT_REGISTRATION: 'open' } });
    const admin = await c.createAdmin();
    session = await c.open();
    await signIn(session.page, c.t.issuer, admin.email);
  });
  afterAll(async () => {
    await c?.close();
  });

  it('shows "Self-registered" beside a dynamic client, not beside an admin-created one, and the address it registered from', async () => {
    const { page, problems } = session;
    const registered = await register(c.t, { client_name: 'Editor plugin', redirect_uris: ['http://127.0.0.1:9999/cb'], token_endpoint_auth_method: 'none' });
    expect(registered.status).toBe(201);
    await c.t.createClient({ name: 'Admin-made app' });
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'OAuth clients', exact: true }).click();
    await page.getByRole('heading', { name: 'OAuth clients', exact: true }).waitFor();
    const row = page.getByRole('row', { name: /Editor plugin/ });
    await row.getByText('Self-registered').waitFor();
    expect(await page.getByRole('row', { name: /Admin-made app/ }).getByText('Self-registered').count()).toBe(0);
    await row.getByRole('link', { name: 'Editor plugin' }).click();
    const heading = page.getByRole('heading', { name: /Editor plugin/ });
    await heading.waitFor();
    expect(await heading.getByText('Self-registered').count()).toBe(1);
    await page.getByText('Registered from').waitFor();
    await screenshot(page, 'client-self-registered');
    await settle(page);
    expect(problems).toEqual([]);
  });
});
