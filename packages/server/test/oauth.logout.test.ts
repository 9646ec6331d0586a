import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from './helpers/databases.js';
import { authorizeThroughForms, createOAuthTestApp, FormBrowser, formAction, hiddenFields, type OAuthTestApp } from './helpers/oauth.js';

const PASSWORD = 'correct horse battery staple';

/** OpenID Connect RP-Initiated Logout 1.0, driven by openid-client (buildEndSessionUrl) and a cookie-keeping browser. */
describe.each(dialects)('RP-initiated logout (%s)', (dialect) => {
  let t: OAuthTestApp;
  let registered: any;
  let config: client.Configuration;
  const options = { execute: [client.allowInsecureRequests] };

  beforeAll(async () => {
    t = await createOAuthTestApp({ dialect });
    registered = await t.createClient({ postLogoutRedirectUris: ['https://app.example/signed-out', 'http://127.0.0.1:8123/bye'] });
    config = await client.discovery(new URL(t.issuer), registered.clientId, registered.clientSecret, client.ClientSecretBasic(), options);
  });
  afterAll(() => t.close());

  /** Signs a new user in through openid-client and the forms; returns the browser and the ID token. */
  async function signIn() {
    const user = await t.createUser();
    const browser = new FormBrowser(t.issuer);
    const codeVerifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: 'https://app.example/callback',
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state: 'st',
    });
    const callback = await authorizeThroughForms(browser, url.href, { email: user.email, password: PASSWORD });
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: codeVerifier, expectedState: 'st' });
    return { user, browser, idToken: tokens.id_token!, refreshToken: tokens.refresh_token! };
  }

  async function signedIn(browser: FormBrowser): Promise<boolean> {
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: 'https://app.example/callback',
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const response = await browser.get(url.href);
    await response.text();
    return response.status === 303;
  }

  it('discovery names the end_session_endpoint', () => {
    expect(config.serverMetadata().end_session_endpoint).toBe(`${t.issuer}/oauth/logout`);
  });

  it('with id_token_hint: ends the session at once, clears the cookie, and redirects to the registered URI with state', async () => {
    const { browser, idToken, refreshToken, user } = await signIn();
    expect(await signedIn(browser)).toBe(true);
    const url = client.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: 'https://app.example/signed-out', state: 'bye state' });
    const response = await browser.get(url.href);
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('https://app.example/signed-out?state=bye+state');
    expect(response.headers.getSetCookie().some((c) => /gh_session[^=]*=;.*Max-Age=0/.test(c))).toBe(true);
    // The cookie cleared and, had it been kept, the session is ended on the server too.
    expect(await signedIn(browser)).toBe(false);
    // Logging out of Gatehouse does not revoke the application's grant.
    const refreshed = await client.refreshTokenGrant(config, refreshToken);
    expect(refreshed.access_token).toBeTruthy();
    await t.services.audit.flush();
    const events = await t.services.stores.audit.list({ type: 'oauth.logout', limit: 100 });
    expect(events.map((e) => e.details)).toContainEqual({ userId: user.id, clientId: registered.clientId });
  });

  it('a stolen cookie is useless after logout: the session is ended server-side', async () => {
    const { browser, idToken } = await signIn();
    const saved = new Map(browser.cookies);
    await browser.get(client.buildEndSessionUrl(config, { id_token_hint: idToken }).href);
    const replay = new FormBrowser(t.issuer);
    for (const [name, value] of saved) replay.cookies.set(name, value);
    expect(await signedIn(replay)).toBe(false);
  });

  it('without a hint: asks to confirm (CSRF-protected form), then signs out and shows the signed-out page', async () => {
    const { browser } = await signIn();
    const url = `${t.issuer}/oauth/logout?client_id=${registered.clientId}&post_logout_redirect_uri=${encodeURIComponent('http://127.0.0.1:8123/bye')}&state=s1`;
    const ask = await browser.get(url);
    expect(ask.status).toBe(200);
    expect(ask.headers.get('content-security-policy')).toContain("form-action 'self' http://127.0.0.1:8123");
    const page = await ask.text();
    expect(page).toContain('Sign out?');
    expect(page).toContain('Test App');
    expect(await signedIn(browser)).toBe(true);
    // A forged POST (no CSRF token) is asked again, not obeyed.
    const forged = await browser.submit('/oauth/logout', { ...hiddenFields(page), csrf_token: 'forged', confirm: 'yes' });
    expect(forged.status).toBe(200);
    await forged.text();
    expect(await signedIn(browser)).toBe(true);
    const done = await browser.submit(formAction(page), { ...hiddenFields(page), confirm: 'yes' });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('http://127.0.0.1:8123/bye?state=s1');
    expect(await signedIn(browser)).toBe(false);

    // No redirect URI: the signed-out page.
    const again = await signIn();
    const confirm = await again.browser.get(`${t.issuer}/oauth/logout`);
    const confirmPage = await confirm.text();
    const out = await again.browser.submit(formAction(confirmPage), { ...hiddenFields(confirmPage), confirm: 'yes' });
    expect(out.status).toBe(200);
    expect(await out.text()).toContain('Signed out');
    expect(await signedIn(again.browser)).toBe(false);
  });

  it('refuses (400 page, never a redirect) an unregistered, loopback-port-varied or clientless post_logout_redirect_uri, a forged hint, a mismatched client_id', async () => {
    const { browser, idToken } = await signIn();
    const other = await t.createClient({ name: 'Other', postLogoutRedirectUris: ['https://other.example/out'] });
    const bad = [
      client.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: 'https://evil.example/out' }).href,
      client.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: 'http://127.0.0.1:9999/bye' }).href,
      client.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: 'https://app.example/callback' }).href,
      `${t.issuer}/oauth/logout?post_logout_redirect_uri=${encodeURIComponent('https://app.example/signed-out')}`,
      `${t.issuer}/oauth/logout?id_token_hint=${idToken.slice(0, -4)}AAAA`,
      `${t.issuer}/oauth/logout?id_token_hint=${idToken}&client_id=${other.clientId}&post_logout_redirect_uri=${encodeURIComponent('https://other.example/out')}`,
      `${t.issuer}/oauth/logout?client_id=cli_unknown&post_logout_redirect_uri=${encodeURIComponent('https://app.example/signed-out')}`,
    ];
    for (const url of bad) {
      const response = await browser.get(url);
      expect(response.status, url).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      await response.text();
    }
    expect(await signedIn(browser)).toBe(true);
  });

  it('a hint for another user than the signed-in one asks to confirm instead of signing out', async () => {
    const first = await signIn();
    const second = await signIn();
    const response = await second.browser.get(client.buildEndSessionUrl(config, { id_token_hint: first.idToken }).href);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('Sign out?');
    expect(await signedIn(second.browser)).toBe(true);
  });

  it('postLogoutRedirectUris are validated like redirect URIs and patched', async () => {
    const refused = await t.api('POST', '/v1/clients', {
      body: { name: 'x', grantTypes: ['authorization_code'], tokenEndpointAuthMethod: 'none', redirectUris: ['https://a.example/cb'], postLogoutRedirectUris: ['http://a.example/out'] },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error_description).toMatch(/postLogoutRedirectUris/);
    expect((await t.api('GET', `/v1/clients/${registered.clientId}`)).body.postLogoutRedirectUris).toStrictEqual(['https://app.example/signed-out', 'http://127.0.0.1:8123/bye']);
    const patched = await t.api('PATCH', `/v1/clients/${registered.clientId}`, { body: { postLogoutRedirectUris: ['https://app.example/signed-out'] } });
    expect(patched.body.postLogoutRedirectUris).toStrictEqual(['https://app.example/signed-out']);
  });

  it('consent page: "Not you? Switch account" ends the session and shows the login page for the same request; the other user signs in', async () => {
    const first = await signIn();
    const second = await t.createUser();
    const codeVerifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: 'https://app.example/callback',
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state: 'switch',
      prompt: 'consent',
    });
    const consent = await first.browser.get(url.href);
    const consentPage = await consent.text();
    expect(consentPage).toContain(`Not ${first.user.email}? <button type="submit" name="decision" value="switch_account" class="link">Switch account</button>`);
    const saved = new Map(first.browser.cookies);

    const switched = await first.browser.submit(formAction(consentPage), { ...hiddenFields(consentPage), decision: 'switch_account' });
    expect(switched.status).toBe(200);
    expect(switched.headers.getSetCookie().some((c) => /gh_session[^=]*=;.*Max-Age=0/.test(c))).toBe(true);
    const loginPage = await switched.text();
    expect(loginPage).toContain('name="password"');
    // The old session is ended on the server: a kept copy of the cookie signs no one in.
    const replay = new FormBrowser(t.issuer);
    for (const [name, value] of saved) replay.cookies.set(name, value);
    expect(await signedIn(replay)).toBe(false);

    // The login form carries the same authorization request: the second user signs in and the code is theirs.
    let response = await first.browser.submit(formAction(loginPage), { ...hiddenFields(loginPage), email: second.email, password: PASSWORD });
    let page = await response.text();
    if (response.status === 200 && page.includes('name="decision"')) {
      response = await first.browser.submit(formAction(page), { ...hiddenFields(page), decision: 'allow' });
      page = await response.text();
    }
    expect(response.status).toBe(303);
    const callback = new URL(response.headers.get('location')!);
    expect(callback.searchParams.get('state')).toBe('switch');
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: codeVerifier, expectedState: 'switch' });
    expect(tokens.claims()!.sub).toBe(second.id);
  });

  it('switch_account without the consent CSRF token is refused and the session kept', async () => {
    const { browser } = await signIn();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: 'https://app.example/callback',
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      prompt: 'consent',
    });
    const page = await (await browser.get(url.href)).text();
    const forged = await browser.submit('/oauth/authorize/consent', { ...hiddenFields(page), csrf_token: 'forged', decision: 'switch_account' });
    expect(forged.status).toBe(403);
    await forged.text();
    expect(await signedIn(browser)).toBe(true);
  });
});
