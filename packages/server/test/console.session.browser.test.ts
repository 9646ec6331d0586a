/**
 * Signing in to the console and out of it in a real Chromium: through Gatehouse's own login page, tokens held
 * in memory only, who is signed in shown, a tenant admin confined to its tenant, and sign-out ending the
 * session (its refresh token refused afterwards).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshot, settle, signIn, signInAgain, startConsoleBrowser, type ConsoleBrowser } from './helpers/console-browser.js';

describe('console: sign-in, tenants, sign-out (Chromium)', () => {
  let c: ConsoleBrowser;
  beforeAll(async () => {
    c = await startConsoleBrowser();
  });
  afterAll(async () => {
    await c?.close();
  });

  it('signs in through the login page, keeps its tokens in memory only, and shows who is signed in', async () => {
    const admin = await c.createAdmin();
    const { page, problems } = await c.open();
    await page.goto(`${c.t.issuer}/console/`);
    await page.getByRole('heading', { name: 'Gatehouse console' }).waitFor();
    await screenshot(page, 'sign-in');
    const tokenResponses: string[] = [];
    page.on('response', (response) => {
      if (response.url().endsWith('/oauth/token')) tokenResponses.push(response.url());
    });
    await signIn(page, c.t.issuer, admin.email);
    await page.getByTestId('whoami').filter({ hasText: admin.email }).waitFor();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    expect(tokenResponses).toHaveLength(1);
    // Nothing survives in storage: not the tokens, not even the PKCE verifier of the finished sign-in.
    expect(await page.evaluate('[localStorage.length, sessionStorage.length, document.cookie]')).toEqual([0, 0, '']);
    // The code left the address bar.
    expect(page.url()).toBe(`${c.t.issuer}/console/`);
    await screenshot(page, 'overview');
    // Keyboard: the skip link is the first stop, and moves to the page.
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Skip to content');
    // A reload forgets the tokens: the console asks to sign in again.
    await page.reload();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await settle(page);
    expect(problems).toEqual([]);
  });

  it('refreshes the access token before it expires, once for every call waiting, and uses the rotated refresh token', async () => {
    const admin = await c.createAdmin();
    const { page, problems } = await c.open();
    await page.clock.install();
    const grants: Array<{ grant: string | null; refreshToken: string | null }> = [];
    page.on('request', (request) => {
      if (!request.url().endsWith('/oauth/token')) return;
      const body = new URLSearchParams(request.postData() ?? '');
      grants.push({ grant: body.get('grant_type'), refreshToken: body.get('refresh_token') });
    });
    const issued: string[] = [];
    page.on('response', async (response) => {
      if (response.url().endsWith('/oauth/token') && response.ok()) issued.push((await response.json()).refresh_token);
    });
    await signIn(page, c.t.issuer, admin.email, '/console/keys');
    await page.getByRole('table').waitFor();
    expect(grants.map((g) => g.grant)).toEqual(['authorization_code']);
    // Five minutes on, in the browser and on the server: the access token has expired.
    c.t.clock.advance(5 * 60_000);
    await page.clock.fastForward('05:00');
    // The overview makes four calls at once: one refresh serves them all.
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Overview' }).click();
    await page.getByRole('heading', { name: 'Recent admin actions' }).waitFor();
    await page.locator('tr[data-event-type]').first().waitFor();
    expect(grants.map((g) => g.grant)).toEqual(['authorization_code', 'refresh_token']);
    // The listener reads each token answer's body asynchronously.
    await expect.poll(() => issued.length, { timeout: 10_000 }).toBe(2);
    expect(grants[1]!.refreshToken).toBe(issued[0]);
    expect(issued[1]).toBeTruthy();
    expect(issued[1]).not.toBe(issued[0]);
    await settle(page);
    expect(problems).toEqual([]);
  });

  it('reads on a phone: the navigation folds behind a Menu button that says whether it is open', async () => {
    const admin = await c.createAdmin();
    const { page, problems } = await c.open();
    await page.setViewportSize({ width: 390, height: 800 });
    await signIn(page, c.t.issuer, admin.email, '/console/keys');
    const menu = page.getByRole('button', { name: 'Menu' });
    const keysLink = page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Keys' });
    expect(await menu.getAttribute('aria-expanded')).toBe('false');
    expect(await keysLink.isVisible()).toBe(false);
    await menu.click();
    expect(await menu.getAttribute('aria-expanded')).toBe('true');
    await keysLink.waitFor();
    // The page does not scroll sideways: wide tables scroll inside their own box.
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await screenshot(page, 'phone');
    await settle(page);
    expect(problems).toEqual([]);
  });

  it('shows a tenant admin only its tenant', async () => {
    const acme = await c.t.createKey({ name: 'acme key', tenantId: 'acme' });
    const globex = await c.t.createKey({ name: 'globex key', tenantId: 'globex' });
    const admin = await c.createAdmin({ tenantId: 'acme' });
    const { page, problems, expect: allow } = await c.open();
    allow(new RegExp(`GET \\S+/v1/keys/${globex.id} 404$`));
    allow(new RegExp(`GET \\S+/v1/audit-events\\?keyId=${globex.id}\\S* 404$`));
    await signIn(page, c.t.issuer, admin.email, '/console/keys');
    await page.getByTestId('whoami').filter({ hasText: 'tenant acme' }).waitFor();
    await page.getByRole('link', { name: 'acme key' }).waitFor();
    expect(await page.getByRole('link', { name: 'globex key' }).count()).toBe(0);
    // Not by its address either.
    await signInAgain(page, c.t.issuer, `/console/keys/${globex.id}`);
    const alert = page.getByRole('alert').first();
    await alert.waitFor();
    expect(await alert.textContent()).toContain('not_found');
    expect(await page.getByText('globex key').count()).toBe(0);
    expect(acme.tenantId).toBe('acme');
    await settle(page);
    expect(problems).toEqual([]);
  });

  it('signs out: the login session ends, and the refresh token no longer works', async () => {
    const admin = await c.createAdmin();
    const { page, problems } = await c.open();
    let refreshToken = '';
    page.on('response', async (response) => {
      if (response.url().endsWith('/oauth/token') && response.ok()) refreshToken = (await response.json()).refresh_token ?? refreshToken;
    });
    await signIn(page, c.t.issuer, admin.email);
    // The listener reads the token answer's body asynchronously: the page can be signed in before it has.
    await expect.poll(() => refreshToken, { timeout: 10_000 }).toMatch(/\S{20,}/);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${c.t.issuer}/console/`);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    // The refresh token was revoked.
    const refreshed = await fetch(`${c.t.issuer}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'cli_console' }),
    });
    expect(refreshed.status).toBe(400);
    expect(await refreshed.json()).toMatchObject({ error: 'invalid_grant' });
    // The login session ended: signing in again asks for the password.
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Password').waitFor();
    await settle(page);
    expect(problems).toEqual([]);
  });
});
