import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './helpers/chromium.js';
import { consoleSignIn } from './helpers/console.js';
import { dialects } from './helpers/databases.js';
import { createOAuthTestApp, FormBrowser, formAction, hiddenFields, type OAuthTestApp } from './helpers/oauth.js';

const PASSWORD = 'correct horse battery staple';

/** The first-run page in a real browser: the root admin key creates the first administrator, once. */
describe('the first-run page /console/setup (Chromium)', () => {
  let t: OAuthTestApp;
  let browser: Browser;
  beforeAll(async () => {
    [t, browser] = await Promise.all([createOAuthTestApp(), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('creates the first administrator with the root key; then says setup is done', async (context) => {
    const browserContext = await browser.newContext();
    context.onTestFinished(() => browserContext.close());
    const page = await browserContext.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(error.message));

    const first = await page.goto(`${t.issuer}/console/setup`);
    expect(first!.status()).toBe(200);
    const csp = first!.headers()['content-security-policy']!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("form-action 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(await page.locator('script').count()).toBe(0);
    expect(await page.title()).toBe('Set up Gatehouse');

    // A key that is not the root key: refused, the form again, the key not rendered back, the email kept.
    const tenantAdmin = await t.createKey({ scopes: ['admin'], tenantId: 'acme' });
    await page.getByLabel('Root admin key').fill(tenantAdmin.key);
    await page.getByLabel("Administrator's email").fill('first@example.com');
    await page.getByLabel('Password').fill(PASSWORD);
    const [refused] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Create administrator' }).click()]);
    expect(refused!.status()).toBe(401);
    expect(await page.getByRole('alert').textContent()).toContain('not a root admin key');
    expect(await page.getByLabel('Root admin key').inputValue()).toBe('');
    expect(await page.getByLabel('Password').inputValue()).toBe('');
    expect(await page.getByLabel("Administrator's email").inputValue()).toBe('first@example.com');
    expect(await page.content()).not.toContain(tenantAdmin.key);

    await page.getByLabel('Root admin key').fill(t.rootKey);
    await page.getByLabel('Name (optional)').fill('First Admin');
    await page.getByLabel('Password').fill(PASSWORD);
    const [created] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Create administrator' }).click()]);
    expect(created!.status()).toBe(201);
    expect(await page.getByRole('heading').textContent()).toBe('Administrator created');
    expect(await page.getByRole('link', { name: 'Go to the console' }).getAttribute('href')).toBe('/console/');
    expect(await page.content()).not.toContain(t.rootKey);

    const again = await page.goto(`${t.issuer}/console/setup`);
    expect(again!.status()).toBe(200);
    expect(await page.getByRole('heading').textContent()).toBe('Setup is done');
    expect(await page.locator('form').count()).toBe(0);
    // Nothing but the refused attempt's 401 (no CSP violation, no script error).
    expect(problems).toEqual(['error: Failed to load resource: the server responded with a status of 401 (Unauthorized)']);

    // The administrator: admin, every tenant; audited as made by the root key on the first run.
    const users = (await t.api('GET', '/v1/users?limit=100')).body.data;
    const admin = users.find((u: any) => u.email === 'first@example.com');
    expect(admin).toMatchObject({ name: 'First Admin', tenantId: null, adminScopes: ['admin'] });
    const rootId = (await t.api('GET', '/v1/keys?limit=100')).body.data.find((k: any) => k.name === 'root').id;
    const events = (await t.api('GET', '/v1/audit-events?type=user.created&limit=100')).body.data;
    expect(events.find((e: any) => e.details.userId === admin.id)).toMatchObject({ actorKeyId: rootId, details: { adminScopes: ['admin'], firstRun: true } });
    const failures = (await t.api('GET', '/v1/audit-events?type=admin.authentication&limit=100')).body.data;
    expect(failures.find((e: any) => e.outcome === 'failure' && e.reason === 'NOT_ROOT_KEY')).toMatchObject({ keyId: tenantAdmin.id, route: 'POST /console/setup' });
    // And signs in to the console.
    const session = await consoleSignIn(t.issuer, t.issuer, { email: 'first@example.com', password: PASSWORD });
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${session.accessToken}` } });
    expect(me.json()).toMatchObject({ kind: 'user', id: admin.id, scopes: ['admin'] });
  });
});

describe.each(dialects)('the first-run form (%s)', (dialect) => {
  let t: OAuthTestApp;
  beforeAll(async () => {
    t = await createOAuthTestApp({ dialect });
  });
  afterAll(() => t.close());

  async function openForm(): Promise<{ browser: FormBrowser; action: string; fields: Record<string, string> }> {
    const browser = new FormBrowser(t.issuer);
    const response = await browser.get('/console/setup');
    const page = await response.text();
    return { browser, action: formAction(page), fields: hiddenFields(page) };
  }

  it('refuses a submission without its CSRF token, and a bad password with the reason', async () => {
    const { browser, action, fields } = await openForm();
    const forged = await new FormBrowser(t.issuer).submit(action, { admin_key: t.rootKey, email: 'x@example.com', password: PASSWORD });
    expect(forged.status).toBe(403);
    const wrongToken = await browser.submit(action, { csrf_token: 'x'.repeat(43), admin_key: t.rootKey, email: 'x@example.com', password: PASSWORD });
    expect(wrongToken.status).toBe(403);
    const short = await browser.submit(action, { ...fields, admin_key: t.rootKey, email: 'x@example.com', password: 'short' });
    expect(short.status).toBe(400);
    const page = await short.text();
    expect(page).toContain('role="alert"');
    expect(page).not.toContain(t.rootKey);
    expect((await t.api('GET', '/v1/users')).body.data).toEqual([]);
  });

  it('makes one administrator, once, even when submissions race', async () => {
    const forms = await Promise.all([openForm(), openForm(), openForm()]);
    const answers = await Promise.all(
      forms.map(({ browser, action, fields }, i) => browser.submit(action, { ...fields, admin_key: t.rootKey, email: `racer${i}@example.com`, password: PASSWORD })),
    );
    expect(answers.map((r) => r.status).sort()).toEqual([200, 200, 201]);
    const admins = (await t.api('GET', '/v1/users')).body.data.filter((u: any) => u.adminScopes.length > 0);
    expect(admins).toHaveLength(1);
    // Deleting that administrator does not open the first run again.
    expect((await t.api('DELETE', `/v1/users/${admins[0].id}`)).status).toBe(204);
    const late = await new FormBrowser(t.issuer).get('/console/setup');
    expect(await late.text()).toContain('Setup is done');
  });
});
