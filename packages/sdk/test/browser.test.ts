import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type Page } from 'playwright-core';
import { launchChromium } from '../../server/test/helpers/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizeThroughForms, createOAuthTestApp, FormBrowser, pkcePair, type OAuthTestApp } from '../../server/test/helpers/oauth.js';

const PASSWORD = 'correct horse battery staple';

// The browser-facing parts of gatehouse-sdk/client (PKCE, authorization URL, callback parsing, refreshing a
// public client's token) loaded as plain ES modules in Chromium through an import map: no bundler, no Node
// built-ins, so a stray `node:` import or Node-only global in src/client fails this test. Needs `npm run build`.

const sdkDist = resolve(dirname(fileURLToPath(import.meta.url)), '../dist');
// jose 6 has no `browser` export condition: its default entry is the Web-API build (dist/webapi).
const joseDist = dirname(createRequire(import.meta.url).resolve('jose'));

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>sdk in the browser</title>
<script type="importmap">
{ "imports": { "jose": "/jose/index.js", "gatehouse-sdk/client": "/sdk/client/index.js" } }
</script>
<script type="module">
import { createPkcePair, buildAuthorizationUrl, parseAuthorizationResponse, AuthorizationResponseError, RefreshingTokenClient } from 'gatehouse-sdk/client';
try {
  const pkce = await createPkcePair();
  const url = await buildAuthorizationUrl({
    authorizationEndpoint: 'https://auth.example/oauth/authorize',
    clientId: 'cli_x',
    redirectUri: 'https://app.example/cb',
    scope: 'openid',
    state: 's',
    codeChallenge: pkce.challenge,
  });
  const callback = 'https://app.example/cb?code=code_123&state=s';
  const code = parseAuthorizationResponse(callback, { state: 's' });
  let wrongState;
  try {
    parseAuthorizationResponse(callback, { state: 'other' });
    wrongState = 'accepted';
  } catch (error) {
    wrongState = { isAuthorizationResponseError: error instanceof AuthorizationResponseError, code: error.code };
  }
  const saved = [];
  const refreshing = new RefreshingTokenClient({
    issuer: location.origin,
    tokenEndpoint: location.origin + '/token',
    clientId: 'cli_x',
    refreshToken: 'rt_1',
    storage: { load: async () => undefined, save: async (token) => { saved.push(token); } },
  });
  const accessToken = await refreshing.getToken();
  window.__result = { pkce, url: url.href, code, wrongState, accessToken, saved, nextRefreshToken: refreshing.refreshToken };
} catch (error) {
  window.__result = { error: String(error && error.stack || error) };
}
</script>`;

const serveFile = async (root: string, relative: string): Promise<Buffer | undefined> => {
  const file = resolve(root, relative);
  if (!file.startsWith(root + sep) || !file.endsWith('.js')) return undefined;
  return readFile(file).catch(() => undefined);
};

/** Serves /jose/* and /sdk/* (the built modules the import map names); false when the path is neither. */
async function serveModule(path: string, response: ServerResponse): Promise<boolean> {
  const [, prefix, ...rest] = path.split('/');
  const root = prefix === 'jose' ? joseDist : prefix === 'sdk' ? sdkDist : undefined;
  if (root === undefined) return false;
  const content = await serveFile(root, join(...rest));
  if (content === undefined) response.writeHead(404).end();
  else response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(content);
  return true;
}


describe('gatehouse-sdk/client in a browser (Chromium, native ES modules)', () => {
  let server: Server;
  let origin: string;
  let browser: Browser;
  const tokenRequests: Array<Record<string, string>> = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      void (async () => {
        const path = new URL(request.url ?? '/', 'http://x').pathname;
        if (path === '/') {
          response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
          return;
        }
        if (path === '/favicon.ico') {
          response.writeHead(204).end();
          return;
        }
        if (path === '/token' && request.method === 'POST') {
          let body = '';
          for await (const chunk of request) body += chunk;
          tokenRequests.push(Object.fromEntries(new URLSearchParams(body)));
          response
            .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
            .end(JSON.stringify({ access_token: 'at_browser', token_type: 'Bearer', expires_in: 300, refresh_token: 'rt_2' }));
          return;
        }
        if (!(await serveModule(path, response))) response.writeHead(404).end();
      })();
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((done) => server?.close(done));
  });

  it('runs createPkcePair, buildAuthorizationUrl, parseAuthorizationResponse and RefreshingTokenClient with no errors', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('requestfailed', (request) => problems.push(`requestfailed: ${request.url()} ${request.failure()?.errorText}`));
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
    });
    await page.goto(`${origin}/`);
    // A module that fails to load or link stops the script before it sets __result: stop waiting on the first problem.
    let result: any;
    await expect
      .poll(async () => (result = await page.evaluate(() => (window as any).__result)) !== undefined || problems.length > 0, { timeout: 15_000 })
      .toBe(true);
    await page.close();

    expect(problems).toEqual([]);
    expect(result.error).toBeUndefined();

    const { verifier, challenge, method } = result.pkce;
    expect(verifier).toMatch(/^[A-Za-z0-9._~-]{43,128}$/);
    expect(method).toBe('S256');
    expect(challenge).toBe(createHash('sha256').update(verifier).digest('base64url'));

    const url = new URL(result.url);
    expect(url.origin + url.pathname).toBe('https://auth.example/oauth/authorize');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: 'cli_x',
      redirect_uri: 'https://app.example/cb',
      scope: 'openid',
      state: 's',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });

    expect(result.code).toBe('code_123');
    expect(result.wrongState).toEqual({ isAuthorizationResponseError: true, code: 'state_mismatch' });

    expect(result.accessToken).toBe('at_browser');
    expect(result.saved).toEqual(['rt_2']);
    expect(result.nextRefreshToken).toBe('rt_2');
    expect(tokenRequests).toEqual([{ grant_type: 'refresh_token', refresh_token: 'rt_1', client_id: 'cli_x' }]);
  });
});

/**
 * A single-page app on its own origin (http://127.0.0.1:<port>, registered in the client's allowedOrigins) against
 * a real Gatehouse on another: discovery, then login and consent as top-level navigations on Gatehouse, then the
 * code exchange, userinfo, a refresh and a revocation, all with fetch from the app's origin (CORS). A page on an
 * origin the client did not register is refused by the browser: its fetch rejects with a TypeError.
 */
const appScript = (config: { issuer: string; clientId: string }) => `
const { createPkcePair, buildAuthorizationUrl, discoverMetadata, parseAuthorizationResponse, exchangeAuthorizationCode, RefreshingTokenClient, TokenRequestError } = await import('gatehouse-sdk/client');
const config = ${JSON.stringify(config)};
const redirectUri = location.origin + '/callback';
const report = (result) => { window.__result = result; };
try {
  const metadata = await discoverMetadata(config.issuer);
  if (location.pathname === '/start') {
    const pkce = await createPkcePair();
    sessionStorage.setItem('pkce', pkce.verifier);
    sessionStorage.setItem('state', 'st-' + pkce.challenge.slice(0, 8));
    const url = await buildAuthorizationUrl({
      authorizationEndpoint: metadata.authorization_endpoint, clientId: config.clientId, redirectUri,
      scope: 'openid profile email', state: sessionStorage.getItem('state'), codeChallenge: pkce.challenge,
    });
    location.assign(url.href);
  } else if (location.pathname === '/callback') {
    const code = parseAuthorizationResponse(location.href, { state: sessionStorage.getItem('state'), issuer: config.issuer });
    const tokens = await exchangeAuthorizationCode({ issuer: config.issuer, clientId: config.clientId, code, redirectUri, codeVerifier: sessionStorage.getItem('pkce') });
    const userinfo = await (await fetch(metadata.userinfo_endpoint, { headers: { authorization: 'Bearer ' + tokens.accessToken } })).json();
    const refreshing = new RefreshingTokenClient({ issuer: config.issuer, clientId: config.clientId, refreshToken: tokens.refreshToken });
    const refreshedAccessToken = await refreshing.getToken();
    const rotated = refreshing.refreshToken;
    const revoke = await fetch(metadata.revocation_endpoint, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: rotated, client_id: config.clientId }),
    });
    let afterRevocation;
    try {
      await new RefreshingTokenClient({ issuer: config.issuer, clientId: config.clientId, refreshToken: rotated }).getToken();
      afterRevocation = 'refreshed';
    } catch (error) {
      afterRevocation = error instanceof TokenRequestError ? error.code : String(error);
    }
    report({ origin: location.origin, userinfo, refreshed: refreshedAccessToken !== tokens.accessToken, rotated: rotated !== tokens.refreshToken, revokeStatus: revoke.status, afterRevocation });
  } else if (location.pathname === '/elsewhere') {
    // Another origin, not registered: the public metadata is readable; the token endpoint is not.
    const params = new URLSearchParams(location.search);
    const attempt = async (call) => { try { await call(); return 'no error'; } catch (error) { return { name: error.name, message: error.message, code: error.code, cause: error.cause && error.cause.name }; } };
    const rawFetch = await attempt(() => fetch(metadata.token_endpoint, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: params.get('code'), code_verifier: params.get('verifier'), redirect_uri: params.get('redirect_uri'), client_id: config.clientId }),
    }));
    const sdk = await attempt(() => exchangeAuthorizationCode({ tokenEndpoint: metadata.token_endpoint, clientId: config.clientId, code: params.get('code'), redirectUri: params.get('redirect_uri'), codeVerifier: params.get('verifier') }));
    const userinfo = await attempt(() => fetch(metadata.userinfo_endpoint, { headers: { authorization: 'Bearer ' + params.get('access_token') } }));
    report({ issuer: metadata.issuer, rawFetch, sdk, userinfo });
  }
} catch (error) {
  report({ error: String(error && error.stack || error) });
}
`;

describe('a browser app on its own origin signs in with Gatehouse and uses its tokens (CORS, Chromium)', () => {
  let t: OAuthTestApp;
  let browser: Browser;
  const servers: Server[] = [];
  let appOrigin = '';
  let elsewhereOrigin = '';
  let clientId = '';
  let user: { id: string; email: string };

  /** A static site: the page at /start, /callback, /elsewhere, and the modules it imports. */
  async function site(): Promise<string> {
    const server = createServer((request, response) => {
      void (async () => {
        const path = new URL(request.url ?? '/', 'http://x').pathname;
        if (await serveModule(path, response)) return;
        if (path === '/favicon.ico') return void response.writeHead(204).end();
        const page = `<!doctype html><meta charset="utf-8"><title>spa</title>
<script type="importmap">{ "imports": { "jose": "/jose/index.js", "gatehouse-sdk/client": "/sdk/client/index.js" } }</script>
<script type="module">${appScript({ issuer: t.issuer, clientId })}</script>`;
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
      })();
    });
    servers.push(server);
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  beforeAll(async () => {
    [t, browser] = await Promise.all([createOAuthTestApp(), launchChromium()]);
    appOrigin = await site();
    elsewhereOrigin = await site();
    user = await t.createUser();
    const client = await t.createClient({
      name: 'Single-page app',
      tokenEndpointAuthMethod: 'none',
      redirectUris: [`${appOrigin}/callback`],
      allowedOrigins: [appOrigin],
    });
    clientId = client.clientId;
  });

  afterAll(async () => {
    await browser?.close();
    for (const server of servers) await new Promise((done) => server.close(done));
    await t?.close();
  });

  const resultOf = async (page: Page) => {
    await page.waitForFunction(() => (window as any).__result !== undefined, undefined, { timeout: 20_000 });
    return page.evaluate(() => (window as any).__result);
  };

  it('authorization code + PKCE, userinfo, refresh and revocation, all from the app origin', async (context) => {
    const browserContext = await browser.newContext();
    context.onTestFinished(() => browserContext.close());
    const page = await browserContext.newPage();
    const crossOrigin: string[] = [];
    page.on('response', (response) => {
      const request = response.request();
      if (request.url().startsWith(t.issuer) && request.resourceType() === 'fetch') {
        crossOrigin.push(`${request.method()} ${new URL(request.url()).pathname} ${response.status()} ${response.headers()['access-control-allow-origin']}`);
      }
    });

    await page.goto(`${appOrigin}/start`);
    await page.waitForURL(`${t.issuer}/oauth/authorize?**`);
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await Promise.all([page.waitForURL(`${appOrigin}/callback?**`), page.getByRole('button', { name: 'Allow' }).click()]);

    const result = await resultOf(page);
    expect(result.error).toBeUndefined();
    expect(result).toStrictEqual({
      origin: appOrigin,
      userinfo: { sub: user.id, email: user.email, name: 'Ada Lovelace' },
      refreshed: true,
      rotated: true,
      revokeStatus: 200,
      afterRevocation: 'invalid_grant',
    });
    // Every call was a cross-origin fetch the server approved for the app's origin (metadata: for any origin).
    expect(new Set(crossOrigin)).toStrictEqual(new Set([
      'GET /.well-known/openid-configuration 200 *',
      `POST /oauth/token 200 ${appOrigin}`,
      `GET /oauth/userinfo 200 ${appOrigin}`,
      `POST /oauth/revoke 200 ${appOrigin}`,
      `POST /oauth/token 400 ${appOrigin}`, // the refresh after the revocation: invalid_grant, readable
    ]));
  });

  it('a page on an origin the client did not register cannot redeem a code or read userinfo: fetch rejects with a TypeError', async (context) => {
    // A code and an access token of the client, obtained outside the browser.
    const browserForms = new FormBrowser(t.issuer);
    const { verifier, challenge } = pkcePair();
    const redirectUri = `${appOrigin}/callback`;
    const query = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: redirectUri, scope: 'openid', state: 's', code_challenge: challenge, code_challenge_method: 'S256' });
    const code = (await authorizeThroughForms(browserForms, `/oauth/authorize?${query}`, { email: user.email, password: PASSWORD })).searchParams.get('code')!;
    const second = pkcePair();
    const other = (await authorizeThroughForms(browserForms, `/oauth/authorize?${new URLSearchParams({ ...Object.fromEntries(query), code_challenge: second.challenge })}`, { email: user.email, password: PASSWORD })).searchParams.get('code')!;
    const redeem = (c: string, v: string) =>
      fetch(`${t.issuer}/oauth/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'authorization_code', code: c, code_verifier: v, redirect_uri: redirectUri, client_id: clientId }) });
    const { access_token } = (await (await redeem(other, second.verifier)).json()) as { access_token: string };

    const browserContext = await browser.newContext();
    context.onTestFinished(() => browserContext.close());
    const page = await browserContext.newPage();
    await page.goto(`${elsewhereOrigin}/elsewhere?${new URLSearchParams({ code, verifier, redirect_uri: redirectUri, access_token })}`);
    const result = await resultOf(page);
    expect(result).toStrictEqual({
      issuer: t.issuer,
      rawFetch: { name: 'TypeError', message: 'Failed to fetch', code: undefined, cause: undefined },
      sdk: { name: 'TokenRequestError', message: expect.any(String), code: 'network_error', cause: 'TypeError' },
      userinfo: { name: 'TypeError', message: 'Failed to fetch', code: undefined, cause: undefined },
    });
    // Refused before anything happened: the code the page sent twice is still unspent.
    expect((await redeem(code, verifier)).status).toBe(200);
  });
});
