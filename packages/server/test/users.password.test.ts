import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizeThroughForms, createOAuthTestApp, FormBrowser, formAction, hiddenFields, pkcePair, type OAuthTestApp } from './helpers/oauth.js';

const PASSWORD = 'correct horse battery staple';

/** A signed-in user changes their own password on /oauth/account/password (real HTTP, real forms). */
describe('self-service password change', () => {
  let t: OAuthTestApp;
  let client: any;
  beforeAll(async () => {
    t = await createOAuthTestApp();
    client = await t.createClient();
  });
  afterAll(() => t.close());

  const authorizeUrl = () =>
    `${t.issuer}/oauth/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: client.clientId,
      redirect_uri: 'https://app.example/callback',
      scope: 'openid',
      code_challenge: pkcePair().challenge,
      code_challenge_method: 'S256',
    })}`;

  async function signIn(email: string, password = PASSWORD) {
    const browser = new FormBrowser(t.issuer);
    await authorizeThroughForms(browser, authorizeUrl(), { email, password });
    return browser;
  }

  async function signedIn(browser: FormBrowser): Promise<boolean> {
    const response = await browser.get(authorizeUrl());
    await response.text();
    return response.status === 303;
  }

  it('checks the current password and the policy, changes it, keeps this session and ends the others', async () => {
    const user = await t.createUser();
    const here = await signIn(user.email);
    const elsewhere = await signIn(user.email);
    const pageResponse = await here.get('/oauth/account/password');
    expect(pageResponse.status).toBe(200);
    expect(pageResponse.headers.get('content-security-policy')).toMatch(/^default-src 'none';.*form-action 'self';/);
    let page = await pageResponse.text();
    expect(page).toContain(`Signed in as ${user.email}`);
    expect(page).toContain('name="current_password"');

    let response = await here.submit(formAction(page), { ...hiddenFields(page), current_password: 'not my password', new_password: 'a fresh passphrase' });
    expect(response.status).toBe(400);
    page = await response.text();
    expect(page).toContain('The current password is wrong.');
    response = await here.submit(formAction(page), { ...hiddenFields(page), current_password: PASSWORD, new_password: 'short' });
    expect(response.status).toBe(400);
    page = await response.text();
    expect(page).toContain('The new password must be at least 8 characters long.');
    expect(await signedIn(elsewhere)).toBe(true);

    response = await here.submit(formAction(page), { ...hiddenFields(page), current_password: PASSWORD, new_password: 'a fresh passphrase' });
    expect(response.status).toBe(200);
    page = await response.text();
    expect(page).toContain('Your password was changed.');
    expect(await signedIn(here)).toBe(true);
    expect(await signedIn(elsewhere)).toBe(false);
    expect((await t.services.users.authenticate(user.email, PASSWORD)).ok).toBe(false);
    expect((await t.services.users.authenticate(user.email, 'a fresh passphrase')).ok).toBe(true);

    await t.services.audit.flush();
    const events = (await t.services.stores.audit.list({ type: 'user.updated', limit: 100 })).filter((e) => e.details?.userId === user.id);
    expect(events.map((e) => [e.outcome, e.reason, e.details])).toEqual(
      expect.arrayContaining([
        ['success', null, { userId: user.id, fields: ['password'], by: 'user' }],
        ['failure', 'wrong_password', { userId: user.id, fields: ['password'], by: 'user' }],
      ]),
    );
    expect(JSON.stringify(events)).not.toContain('fresh passphrase');
  });

  it('refuses without a session (401 page) and without the CSRF token (403), changing nothing', async () => {
    const user = await t.createUser();
    const anonymous = new FormBrowser(t.issuer);
    expect((await anonymous.get('/oauth/account/password')).status).toBe(401);
    const browser = await signIn(user.email);
    const page = await (await browser.get('/oauth/account/password')).text();
    const forged = await browser.submit('/oauth/account/password', { ...hiddenFields(page), csrf_token: 'forged', current_password: PASSWORD, new_password: 'hijacked password' });
    expect(forged.status).toBe(403);
    // Another browser without the victim's session cannot use the victim's form token either.
    const other = new FormBrowser(t.issuer);
    const cross = await other.submit('/oauth/account/password', { ...hiddenFields(page), current_password: PASSWORD, new_password: 'hijacked password' });
    expect([401, 403]).toContain(cross.status);
    expect((await t.services.users.authenticate(user.email, PASSWORD)).ok).toBe(true);
  });
});
