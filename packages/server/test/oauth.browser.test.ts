/**
 * "Login with Gatehouse" end to end in headless Chromium: a tiny relying party (node:http, on loopback, RFC 8252)
 * uses openid-client to build the authorization URL and to redeem the callback; the test plays the person in
 * the browser on Gatehouse's real login and consent pages.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { launchChromium } from './helpers/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOAuthTestApp, type OAuthTestApp } from './helpers/oauth.js';

const PASSWORD = 'correct horse battery staple';

/** What the relying party's /callback saw and concluded. */
interface CallbackRecord {
  params: Record<string, string>;
  sub?: string;
  error?: string;
}

/**
 * The relying party: GET /login starts an authorization (openid-client builds the URL; PKCE, state and nonce
 * are kept server-side by state), GET /callback redeems it, GET /frame?src= frames a URL, GET /hello is an
 * ordinary frameable page.
 */
class RelyingParty {
  readonly callbacks: CallbackRecord[] = [];
  readonly #pending = new Map<string, { codeVerifier: string; nonce: string }>();
  #server!: Server;
  origin = '';
  config!: client.Configuration;

  get redirectUri(): string {
    return `${this.origin}/callback`;
  }

  async listen(): Promise<void> {
    this.#server = createServer((request, response) => {
      this.#handle(request, response).catch((error: unknown) => {
        response.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
      });
    });
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  /** The authorization URL for a new login, as openid-client's README builds it. */
  async authorizationUrl(extra: Record<string, string> = {}): Promise<URL> {
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    this.#pending.set(state, { codeVerifier, nonce });
    return client.buildAuthorizationUrl(this.config, {
      redirect_uri: this.redirectUri,
      scope: 'openid profile email',
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...extra,
    });
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url!, this.origin);
    const text = (status: number, body: string) => response.writeHead(status, { 'content-type': 'text/html; charset=utf-8' }).end(body);
    switch (url.pathname) {
      case '/login': {
        const location = await this.authorizationUrl(Object.fromEntries(url.searchParams));
        response.writeHead(302, { location: location.href }).end();
        return;
      }
      case '/callback': {
        const record: CallbackRecord = { params: Object.fromEntries(url.searchParams) };
        this.callbacks.push(record);
        const state = url.searchParams.get('state') ?? '';
        const pending = this.#pending.get(state);
        if (!pending) {
          record.error = 'unknown state';
          text(400, '<!doctype html><title>Error</title><p id="error">unknown state</p>');
          return;
        }
        this.#pending.delete(state);
        try {
          // openid-client checks iss (RFC 9207) and state, then redeems the code and validates the ID token.
          const tokens = await client.authorizationCodeGrant(this.config, url, {
            pkceCodeVerifier: pending.codeVerifier,
            expectedState: state,
            expectedNonce: pending.nonce,
            idTokenExpected: true,
          });
          record.sub = tokens.claims()!.sub;
          text(200, `<!doctype html><title>Signed in</title><p id="signed-in">${record.sub}</p>`);
        } catch (error) {
          if (!(error instanceof client.AuthorizationResponseError)) throw error;
          record.error = error.error;
          text(200, `<!doctype html><title>Error</title><p id="error">${error.error}</p>`);
        }
        return;
      }
      case '/frame':
        text(200, `<!doctype html><title>framer</title><iframe id="f" src="${url.searchParams.get('src')!.replace(/"/g, '&quot;')}" onload="window.__loaded=true"></iframe>`);
        return;
      case '/hello':
        text(200, '<!doctype html><p>hello from the relying party</p>');
        return;
      default:
        text(404, 'not found');
    }
  }
}

describe('"Login with Gatehouse" in a real browser (Chromium)', () => {
  let t: OAuthTestApp;
  let browser: Browser;
  const rp = new RelyingParty();
  let user: { id: string; email: string };

  beforeAll(async () => {
    [t, browser] = await Promise.all([
      createOAuthTestApp(),
      launchChromium(),
      rp.listen(),
    ]);
    user = await t.createUser();
    const registered = await t.createClient({ name: 'Relying Party', redirectUris: [rp.redirectUri], scopes: ['openid', 'profile', 'email'] });
    rp.config = await client.discovery(new URL(t.issuer), registered.clientId, registered.clientSecret, client.ClientSecretBasic(), {
      execute: [client.allowInsecureRequests],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await rp.close();
    await t?.close();
  });

  /** A fresh browser context (no cookies), closed when the test ends. */
  async function freshPage(context: { onTestFinished(fn: () => Promise<void>): void }): Promise<{ browserContext: BrowserContext; page: Page }> {
    const browserContext = await browser.newContext();
    context.onTestFinished(() => browserContext.close());
    return { browserContext, page: await browserContext.newPage() };
  }

  async function signIn(page: Page, email = user.email): Promise<void> {
    expect(await page.title()).toBe('Sign in to Relying Party');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  it('logs in through the pages and consent; a second login is immediate; prompt=login asks for the password again', async (context) => {
    const { page } = await freshPage(context);
    rp.callbacks.length = 0;

    await page.goto(`${rp.origin}/login`);
    expect(page.url().startsWith(`${t.issuer}/oauth/authorize?`)).toBe(true);
    await signIn(page);
    await page.getByRole('button', { name: 'Allow' }).waitFor();
    await expect(page.getByText(`Signed in as ${user.email}`).count()).resolves.toBe(1);
    await Promise.all([page.waitForURL(`${rp.redirectUri}?**`), page.getByRole('button', { name: 'Allow' }).click()]);
    expect(await page.textContent('#signed-in')).toBe(user.id);
    expect(rp.callbacks).toHaveLength(1);
    expect(rp.callbacks[0]).toMatchObject({ sub: user.id, params: { code: expect.any(String), state: expect.any(String), iss: t.issuer } });

    // Same browser: the session and the remembered consent send it straight back, without any page.
    const seen: string[] = [];
    page.on('response', (response) => {
      if (response.url().startsWith(t.issuer) && response.request().resourceType() === 'document') seen.push(`${response.status()} ${new URL(response.url()).pathname}`);
    });
    await page.goto(`${rp.origin}/login`);
    expect(page.url().startsWith(`${rp.redirectUri}?`)).toBe(true);
    expect(await page.textContent('#signed-in')).toBe(user.id);
    expect(seen).toStrictEqual(['303 /oauth/authorize']);
    expect(rp.callbacks).toHaveLength(2);

    // prompt=login: the login form again; the consent is still remembered, so the login goes straight back.
    await page.goto(`${rp.origin}/login?prompt=login`);
    expect(page.url().startsWith(`${t.issuer}/oauth/authorize?`)).toBe(true);
    await Promise.all([page.waitForURL(`${rp.redirectUri}?**`), signIn(page)]);
    expect(await page.textContent('#signed-in')).toBe(user.id);
    expect(rp.callbacks).toHaveLength(3);
    expect(rp.callbacks.every((callback) => callback.sub === user.id && callback.params.iss === t.issuer)).toBe(true);
  });

  it('prompt=none in a fresh browser comes back with error=login_required', async (context) => {
    const { page } = await freshPage(context);
    rp.callbacks.length = 0;
    await page.goto(`${rp.origin}/login?prompt=none`);
    expect(page.url().startsWith(`${rp.redirectUri}?`)).toBe(true);
    expect(await page.textContent('#error')).toBe('login_required');
    expect(rp.callbacks).toStrictEqual([
      { params: { error: 'login_required', error_description: expect.any(String), state: expect.any(String), iss: t.issuer }, error: 'login_required' },
    ]);
  });

  it('deny on the consent page comes back with error=access_denied', async (context) => {
    const { page } = await freshPage(context);
    const other = await t.createUser();
    rp.callbacks.length = 0;
    await page.goto(`${rp.origin}/login`);
    await signIn(page, other.email);
    await Promise.all([page.waitForURL(`${rp.redirectUri}?**`), page.getByRole('button', { name: 'Deny' }).click()]);
    expect(await page.textContent('#error')).toBe('access_denied');
    expect(rp.callbacks).toStrictEqual([
      { params: { error: 'access_denied', error_description: expect.any(String), state: expect.any(String), iss: t.issuer }, error: 'access_denied' },
    ]);
  });

  it('the login and consent pages cannot be framed by the relying party (the frame stays blank)', async (context) => {
    const { page } = await freshPage(context);
    /** Frames src in a page of the relying party's origin; returns what the frame shows and how its load ended. */
    const framed = async (src: string) => {
      const served = page.waitForResponse((response) => response.url() === src, { timeout: 10_000 });
      const failed: string[] = [];
      const onFailed = (request: { url(): string; failure(): { errorText: string } | null }) => {
        if (request.url() === src) failed.push(request.failure()?.errorText ?? '');
      };
      page.on('requestfailed', onFailed);
      await page.goto(`${rp.origin}/frame?src=${encodeURIComponent(src)}`);
      await page.waitForFunction(() => (window as any).__loaded === true);
      const response = await served;
      page.off('requestfailed', onFailed);
      const frame = page.frames().find((f) => f !== page.mainFrame())!;
      return {
        status: response.status(),
        headers: response.headers(),
        failed,
        url: frame.url(),
        text: await frame.evaluate(() => document.body?.innerText ?? '').catch(() => ''),
      };
    };
    // Control: an ordinary page does show in the frame.
    const control = await framed(`${rp.origin}/hello`);
    expect(control).toMatchObject({ status: 200, failed: [], text: 'hello from the relying party' });

    // The login page (fresh browser) and the consent page (signed-in browser, prompt=consent): the server does
    // answer them, with headers that forbid framing, and Chromium refuses to show them.
    const expectBlocked = async (url: string, visible: RegExp) => {
      const result = await framed(url);
      expect(result.status).toBe(200);
      expect(result.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(result.headers['x-frame-options']).toBe('DENY');
      expect(result.failed).toStrictEqual(['net::ERR_BLOCKED_BY_RESPONSE']);
      expect(result.text).not.toMatch(visible);
      expect(result.url).not.toBe(url);
    };
    await expectBlocked((await rp.authorizationUrl()).href, /Sign in|Email|Password/);
    await page.goto(`${rp.origin}/login`);
    await signIn(page, (await t.createUser()).email);
    await page.getByRole('button', { name: 'Allow' }).waitFor();
    await expectBlocked((await rp.authorizationUrl({ prompt: 'consent' })).href, /Allow|Deny/);
  });
});
