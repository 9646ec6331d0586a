import Fastify, { type FastifyInstance } from 'fastify';
import { type Browser, type Page } from 'playwright-core';
import { launchChromium } from './helpers/chromium.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { renderConsentPage } from '../src/http/pages/consent-page.js';
import { CsrfProtection } from '../src/http/pages/csrf.js';
import { renderErrorPage } from '../src/http/pages/error-page.js';
import { escapeHtml, html, raw } from '../src/http/pages/html.js';
import { renderLoginPage } from '../src/http/pages/login-page.js';
import { formActionSource, pageHeaders } from '../src/http/pages/page-headers.js';

const MASTER_KEY = Buffer.alloc(32, 9);
const EVIL = `<script>window.__pwned=1</script>"'><img src=x onerror="window.__pwned=2"> & <b>bold</b>`;

describe('html templates', () => {
  it('escapes & < > " \' in every interpolation; raw() and nested html pass through; arrays and nullish', () => {
    expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
    const name = `"><script>x</script>`;
    expect(html`<p title="${name}">${name}</p>`.markup).toBe(
      '<p title="&quot;&gt;&lt;script&gt;x&lt;/script&gt;">&quot;&gt;&lt;script&gt;x&lt;/script&gt;</p>',
    );
    expect(html`<ul>${['<a>', html`<li>${'&'}</li>`]}</ul>`.markup).toBe('<ul>&lt;a&gt;<li>&amp;</li></ul>');
    expect(html`${raw('<br>')}${null}${undefined}${false}${0}`.markup).toBe('<br>0');
  });

  it('pages escape every field and carry exactly the form the flow needs', () => {
    const login = renderLoginPage({ action: '/oauth/authorize', hiddenFields: { state: EVIL }, csrfToken: 'tok"en', clientName: EVIL, email: EVIL, error: EVIL });
    const consent = renderConsentPage({
      action: '/oauth/authorize',
      hiddenFields: { [EVIL]: EVIL },
      csrfToken: 't',
      clientName: EVIL,
      scopes: [{ name: EVIL, description: EVIL }],
      userEmail: EVIL,
    });
    const error = renderErrorPage({ title: EVIL, message: EVIL, requestId: EVIL });
    for (const page of [login, consent, error]) {
      expect(page.startsWith('<!doctype html>')).toBe(true);
      expect(page).not.toContain('<script');
      expect(page).not.toContain('<img');
      expect(page).not.toContain('<b>');
      expect(page).not.toMatch(/ style="|<link|<script| src="| href="/);
      expect(page).toContain('&lt;script&gt;window.__pwned=1&lt;/script&gt;&quot;&#39;&gt;');
    }
    expect(login).toMatch(/<form method="post" action="\/oauth\/authorize"/);
    expect(login).toMatch(/<input id="email" name="email" type="email" autocomplete="username"/);
    expect(login).toMatch(/<input id="password" name="password" type="password" autocomplete="current-password"/);
    expect(login).toContain('<input type="hidden" name="csrf_token" value="tok&quot;en">');
    expect(login).toContain('<label for="email">');
    expect(login).toContain('<label for="password">');
    expect(consent).toContain('<button type="submit" name="decision" value="allow">');
    expect(consent).toContain('<button type="submit" name="decision" value="deny" class="secondary">');
    expect(() => renderLoginPage({ action: 'javascript:alert(1)', hiddenFields: {}, csrfToken: 't', clientName: 'x' })).toThrow(TypeError);
    expect(() => renderConsentPage({ action: '//evil.example', hiddenFields: {}, csrfToken: 't', clientName: 'x', scopes: [], userEmail: 'a@b' })).toThrow(TypeError);
  });

  it('page headers: strict CSP with the style hash, no framing, no caching, no referrer', () => {
    const headers = pageHeaders({ redirectUris: ['https://app.example.com/cb?x=1', 'http://127.0.0.1:53711/callback', 'com.example.app:/oauth'] });
    expect(headers['content-security-policy']).toMatch(
      /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]{43}='; form-action 'self' https:\/\/app\.example\.com http:\/\/127\.0\.0\.1:53711 com\.example\.app:; frame-ancestors 'none'; base-uri 'none'$/,
    );
    expect(headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'x-frame-options': 'DENY',
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
    });
    expect(pageHeaders()['content-security-policy']).toContain("form-action 'self';");
    expect(() => formActionSource('not a url')).toThrow();
  });
});

describe('CSRF tokens', () => {
  const csrf = new CsrfProtection({ masterKey: MASTER_KEY, secure: true });

  it('issues a __Host- cookie (Secure, HttpOnly, SameSite=Lax, Path=/) and a token bound to it and to the purpose', () => {
    const first = csrf.issueCsrf(undefined, 'login');
    expect(first.setCookie).toBe(`__Host-gh_csrf=${first.cookieValue}; Path=/; HttpOnly; SameSite=Lax; Secure`);
    expect(csrf.checkCsrf(first.cookieValue, first.token, 'login')).toBe(true);
    expect(csrf.checkCsrf(first.cookieValue, first.token, 'consent')).toBe(false);
    const again = csrf.issueCsrf(first.cookieValue, 'login');
    expect(again).toEqual({ cookieValue: first.cookieValue, token: first.token });
    const other = csrf.issueCsrf(undefined, 'login');
    expect(other.cookieValue).not.toBe(first.cookieValue);
    expect(csrf.checkCsrf(other.cookieValue, first.token, 'login')).toBe(false);
    for (const [cookie, token] of [[undefined, first.token], [first.cookieValue, undefined], [first.cookieValue, ''], ['short', first.token], [first.cookieValue, `${first.token}x`]] as const) {
      expect(csrf.checkCsrf(cookie, token, 'login')).toBe(false);
    }
    // A malformed cookie is replaced, not trusted.
    expect(csrf.issueCsrf('bad cookie', 'login').setCookie).toBeDefined();
  });

  it('is stable across processes sharing the master key, and differs under another key; plain cookie over http', () => {
    const issued = csrf.issueCsrf(undefined, 'consent');
    expect(new CsrfProtection({ masterKey: Buffer.from(MASTER_KEY), secure: true }).checkCsrf(issued.cookieValue, issued.token, 'consent')).toBe(true);
    expect(new CsrfProtection({ masterKey: Buffer.alloc(32, 1), secure: true }).checkCsrf(issued.cookieValue, issued.token, 'consent')).toBe(false);
    const plain = new CsrfProtection({ masterKey: MASTER_KEY, secure: false });
    const cookie = plain.issueCsrf(undefined, 'login').setCookie!;
    expect(cookie).toMatch(/^gh_csrf=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/);
    expect(plain.readCookie(`a=b; gh_csrf=${issued.cookieValue}; c=d`)).toBe(issued.cookieValue);
    expect(csrf.readCookie(`gh_csrf=x; __Host-gh_csrf=${issued.cookieValue}`)).toBe(issued.cookieValue);
    expect(csrf.readCookie(undefined)).toBeUndefined();
  });
});

/** Two origins: `gatehouse` serves the pages; `client` is the OAuth client's redirect target and a framing site. */
describe('pages in a real browser (Chromium)', () => {
  let browser: Browser;
  let gatehouse: FastifyInstance;
  let client: FastifyInstance;
  let gatehouseUrl: string;
  let clientUrl: string;
  let page: Page;
  const csrf = new CsrfProtection({ masterKey: MASTER_KEY, secure: false });
  const posts: Array<{ path: string; body: Record<string, string>; csrfOk: boolean }> = [];
  const callbacks: string[] = [];
  const HIDDEN = { client_id: 'cli_demo', state: `st"'<>&ate`, code_challenge: 'abc-_123' };

  const send = (reply: any, markup: string, headers: Record<string, string>, setCookie?: string) => {
    if (setCookie) reply.header('set-cookie', setCookie);
    return reply.headers(headers).send(markup);
  };

  beforeAll(async () => {
    browser = await launchChromium();
    client = Fastify();
    client.get('/cb', async (request) => {
      callbacks.push(request.url);
      return 'client callback';
    });
    client.get('/frame', async (request, reply) => {
      const src = (request.query as { src: string }).src;
      return reply.type('text/html').send(`<!doctype html><title>framer</title><iframe id="f" src="${src}" onload="window.__loaded=true"></iframe>`);
    });
    clientUrl = await client.listen({ port: 0, host: '127.0.0.1' });

    gatehouse = Fastify();
    gatehouse.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });
    const headers = () => pageHeaders({ redirectUris: [`${clientUrl}/cb`] });
    gatehouse.get('/login', async (request, reply) => {
      const issued = csrf.issueCsrf(csrf.readCookie(request.headers.cookie), 'login');
      return send(reply, renderLoginPage({ action: '/login', hiddenFields: HIDDEN, csrfToken: issued.token, clientName: 'Demo App' }), headers(), issued.setCookie);
    });
    gatehouse.post('/login', async (request, reply) => {
      const body = request.body as Record<string, string>;
      const csrfOk = csrf.checkCsrf(csrf.readCookie(request.headers.cookie), body.csrf_token, 'login');
      posts.push({ path: '/login', body, csrfOk });
      return reply.code(303).header('location', '/consent').send();
    });
    gatehouse.get('/consent', async (request, reply) => {
      const issued = csrf.issueCsrf(csrf.readCookie(request.headers.cookie), 'consent');
      const markup = renderConsentPage({
        action: '/consent',
        hiddenFields: HIDDEN,
        csrfToken: issued.token,
        clientName: 'Demo App',
        scopes: [{ name: 'orders:read', description: 'Read your orders' }],
        userEmail: 'ada@example.com',
      });
      const query = request.query as { strict?: string };
      return send(reply, markup, query.strict ? pageHeaders() : headers(), issued.setCookie);
    });
    gatehouse.post('/consent', async (request, reply) => {
      const body = request.body as Record<string, string>;
      const csrfOk = csrf.checkCsrf(csrf.readCookie(request.headers.cookie), body.csrf_token, 'consent');
      posts.push({ path: '/consent', body, csrfOk });
      return reply.code(303).header('location', `${clientUrl}/cb?decision=${body.decision}`).send();
    });
    gatehouse.get('/evil', async (request, reply) => {
      const markup = renderLoginPage({ action: '/login', hiddenFields: { state: EVIL }, csrfToken: 't', clientName: EVIL, email: EVIL, error: EVIL });
      // ?bare: without the CSP, so that the escaping alone is what stops the script.
      const bare = (request.query as { bare?: string }).bare;
      return send(reply, markup, bare ? { 'content-type': 'text/html; charset=utf-8' } : headers());
    });
    gatehouse.get('/error', async (_request, reply) =>
      send(reply, renderErrorPage({ title: 'Unknown client', message: EVIL, requestId: 'req_123' }), headers()),
    );
    gatehouse.get('/frameable', async (_request, reply) => reply.type('text/html').send('<!doctype html><p id="hello">frameable</p>'));
    gatehouseUrl = await gatehouse.listen({ port: 0, host: '127.0.0.1' });
  });

  afterAll(async () => {
    await browser?.close();
    await gatehouse?.close();
    await client?.close();
  });

  beforeEach(async (context) => {
    const browserContext = await browser.newContext();
    page = await browserContext.newPage();
    posts.length = 0;
    callbacks.length = 0;
    context.onTestFinished(() => browserContext.close());
  });

  it('login form posts email, password, csrf_token and the hidden fields; consent "allow" ends at the client with 303s', async () => {
    const loaded = await page.goto(`${gatehouseUrl}/login`);
    expect(loaded!.status()).toBe(200);
    expect(await page.title()).toBe('Sign in to Demo App');
    await page.getByLabel('Email').fill('ada@example.com');
    await page.getByLabel('Password').fill('analytical engine');
    await Promise.all([page.waitForURL(`${gatehouseUrl}/consent`), page.getByRole('button', { name: 'Sign in' }).click()]);
    expect(posts[0]).toEqual({
      path: '/login',
      body: { ...HIDDEN, csrf_token: expect.any(String), email: 'ada@example.com', password: 'analytical engine' },
      csrfOk: true,
    });

    await expect(page.getByText('Signed in as ada@example.com').count()).resolves.toBe(1);
    await Promise.all([page.waitForURL(`${clientUrl}/cb?decision=allow`), page.getByRole('button', { name: 'Allow' }).click()]);
    expect(posts[1]).toEqual({ path: '/consent', body: { ...HIDDEN, csrf_token: expect.any(String), decision: 'allow' }, csrfOk: true });
    expect(posts[1]!.body.csrf_token).not.toBe(posts[0]!.body.csrf_token);
    expect(callbacks).toEqual(['/cb?decision=allow']);
    expect(await page.textContent('body')).toBe('client callback');
  });

  it('consent "deny" submits decision=deny', async () => {
    await page.goto(`${gatehouseUrl}/consent`);
    await Promise.all([page.waitForURL(`${clientUrl}/cb?decision=deny`), page.getByRole('button', { name: 'Deny' }).click()]);
    expect(posts).toEqual([{ path: '/consent', body: { ...HIDDEN, csrf_token: expect.any(String), decision: 'deny' }, csrfOk: true }]);
  });

  it("form-action 'self' alone blocks the 303 to the client in Chromium: the redirect target must be allowed", async () => {
    const violations: string[] = [];
    page.on('console', (message) => {
      if (message.text().includes('form-action')) violations.push(message.text());
    });
    await page.goto(`${gatehouseUrl}/consent?strict=1`);
    const submitted = page.waitForRequest((request) => request.method() === 'POST');
    await page.getByRole('button', { name: 'Allow' }).click();
    await submitted;
    await expect.poll(() => violations.length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(callbacks).toEqual([]);
  });

  it('a script- and quote-laden client name renders as text: no script runs, no attribute breaks out', async () => {
    for (const url of [`${gatehouseUrl}/evil`, `${gatehouseUrl}/evil?bare=1`]) {
      const dialogs: string[] = [];
      page.on('dialog', (dialog) => {
        dialogs.push(dialog.message());
        void dialog.dismiss();
      });
      await page.goto(url);
      expect(await page.evaluate(() => (window as any).__pwned)).toBeUndefined();
      expect(await page.locator('img, script, b').count()).toBe(0);
      expect(await page.textContent('h1 + p strong')).toBe(EVIL);
      expect(await page.textContent('#login-error')).toBe(EVIL);
      expect(await page.inputValue('#email')).toBe(EVIL);
      expect(await page.getAttribute('input[name="state"]', 'value')).toBe(EVIL);
      expect(await page.locator('form input').count()).toBe(4); // state, csrf_token, email, password
      expect(dialogs).toEqual([]);
    }
  });

  it('the error page shows the message as text, with the request id', async () => {
    await page.goto(`${gatehouseUrl}/error`);
    expect(await page.textContent('h1')).toBe('Unknown client');
    expect(await page.textContent('[role="alert"]')).toBe(EVIL);
    expect(await page.textContent('code')).toBe('req_123');
    expect(await page.evaluate(() => (window as any).__pwned)).toBeUndefined();
  });

  it('the pages cannot be framed by another origin (the frame stays blank); an ordinary page can, as a control', async () => {
    const framedText = async (src: string) => {
      await page.goto(`${clientUrl}/frame?src=${encodeURIComponent(src)}`);
      await page.waitForFunction(() => (window as any).__loaded === true);
      const frame = page.frames().find((f) => f !== page.mainFrame())!;
      return { url: frame.url(), text: await frame.evaluate(() => document.body?.innerText ?? '').catch(() => '') };
    };
    const control = await framedText(`${gatehouseUrl}/frameable`);
    expect(control.text).toBe('frameable');
    for (const path of ['/login', '/consent', '/error']) {
      const framed = await framedText(`${gatehouseUrl}${path}`);
      expect(framed.text).not.toMatch(/Sign in|Allow|Unknown client/);
      expect(framed.url).not.toBe(`${gatehouseUrl}${path}`);
    }
  });
});
