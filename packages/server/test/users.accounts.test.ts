import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from './helpers/databases.js';
import { authorizeThroughForms, basicAuth, createOAuthTestApp, FormBrowser, pkcePair, type OAuthTestApp } from './helpers/oauth.js';

const PASSWORD = 'correct horse battery staple';

async function token(t: OAuthTestApp, body: Record<string, string>, auth: string) {
  const response = await fetch(`${t.issuer}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth },
    body: new URLSearchParams(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

/**
 * Users as people expect accounts to work: disabled users cannot sign in and lose their sessions and grants,
 * a password reset ends sessions, and an administrator lists and ends a user's sessions. Real HTTP, real forms.
 */
describe.each(dialects)('user accounts through the login flow (%s)', (dialect) => {
  let t: OAuthTestApp;
  let client: any;
  beforeAll(async () => {
    t = await createOAuthTestApp({ dialect });
    client = await t.createClient();
  });
  afterAll(() => t.close());

  const auth = () => basicAuth(client.clientId, client.clientSecret);

  function authorizeUrl(): { url: string; verifier: string } {
    const { verifier, challenge } = pkcePair();
    const url = `${t.issuer}/oauth/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: client.clientId,
      redirect_uri: 'https://app.example/callback',
      scope: 'openid read',
      state: 's',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    })}`;
    return { url, verifier };
  }

  /** Signs in through the forms; returns the browser (with its session cookie) and the tokens. */
  async function signIn(email: string, password = PASSWORD, browser = new FormBrowser(t.issuer)) {
    const { url, verifier } = authorizeUrl();
    const callback = await authorizeThroughForms(browser, url, { email, password });
    const code = callback.searchParams.get('code');
    if (!code) throw new Error(`no code: ${callback}`);
    const tokens = await token(t, { grant_type: 'authorization_code', code, redirect_uri: 'https://app.example/callback', code_verifier: verifier }, auth());
    expect(tokens.status).toBe(200);
    return { browser, tokens: tokens.body };
  }

  /** Whether the browser's session still signs it in: the authorize request goes straight back with a code. */
  async function stillSignedIn(browser: FormBrowser): Promise<boolean> {
    const response = await browser.get(authorizeUrl().url);
    const body = await response.text();
    if (response.status === 303) return new URL(response.headers.get('location')!).searchParams.has('code');
    expect(body).toContain('name="password"');
    return false;
  }

  async function loginPageAnswer(email: string, password: string): Promise<number> {
    const browser = new FormBrowser(t.issuer);
    try {
      await authorizeThroughForms(browser, authorizeUrl().url, { email, password });
      return 303;
    } catch (error) {
      return Number(/got (\d+)/.exec(String(error))?.[1]);
    }
  }

  it('disabling ends the sessions and grants and refuses login; enabling again lets the user sign in anew', async () => {
    const user = await t.createUser();
    const { browser, tokens } = await signIn(user.email);
    expect(await stillSignedIn(browser)).toBe(true);

    const disabled = await t.api('PATCH', `/v1/users/${user.id}`, { body: { disabled: true } });
    expect(disabled.status).toBe(200);
    expect(disabled.body).toMatchObject({ id: user.id, disabled: true });
    expect((await t.api('GET', `/v1/users/${user.id}`)).body.disabled).toBe(true);
    // Still listed.
    expect((await t.api('GET', '/v1/users?limit=100')).body.data.map((u: any) => u.id)).toContain(user.id);

    expect(await stillSignedIn(browser)).toBe(false);
    const refreshed = await token(t, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, auth());
    expect(refreshed.status).toBe(400);
    expect(refreshed.body.error).toBe('invalid_grant');
    const introspected = await t.api('POST', '/oauth/introspect', { body: `token=${tokens.access_token}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(introspected.body.active).toBe(false);
    // The right password does not sign a disabled user in; the answer is the one a wrong password gets.
    expect(await loginPageAnswer(user.email, PASSWORD)).toBe(400);
    await t.services.audit.flush();
    const failures = (await t.services.stores.audit.list({ type: 'oauth.login', limit: 100 })).filter((e) => e.outcome === 'failure');
    expect(failures.map((e) => e.reason)).toContain('user_disabled');

    const events = await t.api('GET', '/v1/audit-events?type=user.updated');
    expect(events.body.data[0]).toMatchObject({ outcome: 'success', details: { userId: user.id, fields: ['disabled'], disabled: true } });

    const enabled = await t.api('PATCH', `/v1/users/${user.id}`, { body: { disabled: false } });
    expect(enabled.body.disabled).toBe(false);
    // The old tokens stay ended; a new sign-in works.
    expect((await token(t, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, auth())).status).toBe(400);
    const again = await signIn(user.email);
    expect(again.tokens.refresh_token).toMatch(/^gatehouse_rt_/);
  });

  it("an administrator's password change ends the user's sessions (not its grants); the new password signs in, the old does not", async () => {
    const user = await t.createUser();
    const { browser, tokens } = await signIn(user.email);
    const changed = await t.api('PATCH', `/v1/users/${user.id}`, { body: { password: 'a brand new passphrase' } });
    expect(changed.status).toBe(200);
    expect(await stillSignedIn(browser)).toBe(false);
    expect((await token(t, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, auth())).status).toBe(200);
    expect(await loginPageAnswer(user.email, PASSWORD)).toBe(400);
    await signIn(user.email, 'a brand new passphrase');
    const events = await t.api('GET', '/v1/audit-events?type=user.updated');
    expect(events.body.data[0].details).toStrictEqual({ userId: user.id, fields: ['password'] });
    expect(JSON.stringify(events.body)).not.toContain('a brand new passphrase');
  });

  it('lists live sessions by public id (never the cookie or its hash), ends one, then all', async () => {
    const user = await t.createUser();
    const first = await signIn(user.email);
    t.clock.advance(1000);
    const second = await signIn(user.email);
    const listed = await t.api('GET', `/v1/users/${user.id}/sessions`);
    expect(listed.status).toBe(200);
    expect(listed.body.data).toHaveLength(2);
    const now = new Date(t.clock.now()).toISOString();
    expect(listed.body.data[0]).toStrictEqual({
      id: expect.stringMatching(/^ses_[0-9A-Za-z]{22}$/),
      object: 'session',
      userId: user.id,
      authTime: now,
      createdAt: now,
      expiresAt: expect.any(String),
    });
    const cookies = [...first.browser.cookies.values(), ...second.browser.cookies.values()];
    const text = JSON.stringify(listed.body);
    for (const cookie of cookies) {
      expect(text).not.toContain(cookie);
      expect(text).not.toContain(createHash('sha256').update(cookie).digest('hex').slice(0, 16));
    }

    // End the newest (the second browser's): the first stays signed in.
    const newest = listed.body.data[0].id;
    expect((await t.api('DELETE', `/v1/users/${user.id}/sessions/${newest}`)).status).toBe(204);
    expect(await stillSignedIn(second.browser)).toBe(false);
    expect(await stillSignedIn(first.browser)).toBe(true);
    expect((await t.api('DELETE', `/v1/users/${user.id}/sessions/${newest}`)).status).toBe(404);
    const ended = await t.api('GET', '/v1/audit-events?type=user.sessions_ended');
    expect(ended.body.data[0].details).toStrictEqual({ userId: user.id, sessionId: newest });

    expect((await t.api('DELETE', `/v1/users/${user.id}/sessions`)).status).toBe(204);
    expect(await stillSignedIn(first.browser)).toBe(false);
    expect((await t.api('GET', `/v1/users/${user.id}/sessions`)).body.data).toStrictEqual([]);
    // Grants are not touched by ending sessions.
    expect((await token(t, { grant_type: 'refresh_token', refresh_token: first.tokens.refresh_token }, auth())).status).toBe(200);
  });

  it("another user's session id is not found through this user", async () => {
    const ada = await t.createUser();
    const bob = await t.createUser();
    const bobs = await signIn(bob.email);
    const [session] = (await t.api('GET', `/v1/users/${bob.id}/sessions`)).body.data;
    expect((await t.api('DELETE', `/v1/users/${ada.id}/sessions/${session.id}`)).status).toBe(404);
    expect(await stillSignedIn(bobs.browser)).toBe(true);
  });
});
