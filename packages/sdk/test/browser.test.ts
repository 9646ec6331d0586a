import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser } from 'playwright-core';
import { launchChromium } from '../../server/test/helpers/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The browser-facing parts of @gatehouse/sdk/client (PKCE, authorization URL, callback parsing, refreshing a
// public client's token) loaded as plain ES modules in Chromium through an import map: no bundler, no Node
// built-ins, so a stray `node:` import or Node-only global in src/client fails this test. Needs `npm run build`.

const sdkDist = resolve(dirname(fileURLToPath(import.meta.url)), '../dist');
// jose 6 has no `browser` export condition: its default entry is the Web-API build (dist/webapi).
const joseDist = dirname(createRequire(import.meta.url).resolve('jose'));

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>sdk in the browser</title>
<script type="importmap">
{ "imports": { "jose": "/jose/index.js", "@gatehouse/sdk/client": "/sdk/client/index.js" } }
</script>
<script type="module">
import { createPkcePair, buildAuthorizationUrl, parseAuthorizationResponse, AuthorizationResponseError, RefreshingTokenClient } from '@gatehouse/sdk/client';
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

describe('@gatehouse/sdk/client in a browser (Chromium, native ES modules)', () => {
  let server: Server;
  let origin: string;
  let browser: Browser;
  const tokenRequests: Array<Record<string, string>> = [];

  const serveFile = async (root: string, relative: string): Promise<Buffer | undefined> => {
    const file = resolve(root, relative);
    if (!file.startsWith(root + sep) || !file.endsWith('.js')) return undefined;
    return readFile(file).catch(() => undefined);
  };

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
        const [, prefix, ...rest] = path.split('/');
        const root = prefix === 'jose' ? joseDist : prefix === 'sdk' ? sdkDist : undefined;
        const content = root ? await serveFile(root, join(...rest)) : undefined;
        if (content === undefined) {
          response.writeHead(404).end();
          return;
        }
        response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(content);
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
