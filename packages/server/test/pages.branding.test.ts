import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/load-config.js';
import { createOAuthTestApp, FormBrowser, formAction, hiddenFields, pkcePair, type OAuthTestApp } from './helpers/oauth.js';

const styleHash = (page: string) => `'sha256-${createHash('sha256').update(/<style>([\s\S]*?)<\/style>/.exec(page)![1]!, 'utf8').digest('base64')}'`;

describe('page branding and scope descriptions from configuration', () => {
  let t: OAuthTestApp;
  let client: any;
  const dir = mkdtempSync(join(tmpdir(), 'gh-scopes-'));
  const scopesFile = join(dir, 'scopes.json');
  writeFileSync(scopesFile, JSON.stringify({ 'orders:read': 'See your <orders>', profile: 'Know your name & face' }));

  beforeAll(async () => {
    t = await createOAuthTestApp({
      env: {
        GATEHOUSE_BRAND_NAME: 'Acme <Login>',
        GATEHOUSE_BRAND_LOGO_URL: 'https://cdn.acme.example/logo.svg',
        GATEHOUSE_BRAND_COLOR: '#AA3300',
        GATEHOUSE_SCOPE_DESCRIPTIONS: scopesFile,
      },
    });
    client = await t.createClient({ scopes: ['openid', 'profile', 'orders:read', 'other'] });
  });
  afterAll(() => t.close());

  function authorizeUrl(): string {
    return `${t.issuer}/oauth/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: client.clientId,
      redirect_uri: 'https://app.example/callback',
      scope: 'openid profile orders:read other',
      code_challenge: pkcePair().challenge,
      code_challenge_method: 'S256',
    })}`;
  }

  it('the login page shows the brand name (escaped) and logo; the CSP allows exactly that stylesheet and the logo origin, no script', async () => {
    const response = await fetch(authorizeUrl());
    const page = await response.text();
    expect(page).toContain('<header class="brand"><img src="https://cdn.acme.example/logo.svg" alt=""><span>Acme &lt;Login&gt;</span></header>');
    expect(page).toContain(':root{--accent:#aa3300}');
    expect(page).not.toContain('<script');
    expect(page).not.toMatch(/\sstyle="/);
    const csp = response.headers.get('content-security-policy')!;
    expect(csp).toContain(`style-src ${styleHash(page)}`);
    expect(csp).toContain('img-src https://cdn.acme.example;');
    expect(csp).toMatch(/^default-src 'none';/);
    expect(csp).not.toMatch(/unsafe-inline|script-src/);
  });

  it('the consent page shows the configured scope descriptions (escaped), the built-in ones otherwise', async () => {
    const user = await t.createUser();
    const browser = new FormBrowser(t.issuer);
    const login = await (await browser.get(authorizeUrl())).text();
    const consent = await browser.submit(formAction(login), { ...hiddenFields(login), email: user.email, password: 'correct horse battery staple' });
    const page = await consent.text();
    expect(page).toContain('See your &lt;orders&gt; <code>orders:read</code>');
    expect(page).toContain('Know your name &amp; face <code>profile</code>');
    expect(page).toContain('Sign you in with your account <code>openid</code>');
    expect(page).toContain('Use &quot;other&quot; on your behalf <code>other</code>');
    expect(page).toContain('<span>Acme &lt;Login&gt;</span>');
    expect(consent.headers.get('content-security-policy')).toContain(`style-src ${styleHash(page)}`);
  });

  it('without branding: "Gatehouse", no img-src, the stylesheet unchanged', async () => {
    const plain = await createOAuthTestApp();
    try {
      const c = await plain.createClient();
      const response = await fetch(`${plain.issuer}/oauth/authorize?client_id=${c.clientId}&response_type=code&redirect_uri=https://app.example/callback&code_challenge=${pkcePair().challenge}&code_challenge_method=S256`);
      const page = await response.text();
      expect(page).toContain('<header class="brand"><span>Gatehouse</span></header>');
      expect(response.headers.get('content-security-policy')).not.toContain('img-src');
      expect(response.headers.get('content-security-policy')).toContain(`style-src ${styleHash(page)}`);
    } finally {
      await plain.close();
    }
  });

  it('refuses bad values at startup, naming the variable', () => {
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ GATEHOUSE_BRAND_COLOR: 'red' }, /GATEHOUSE_BRAND_COLOR/],
      [{ GATEHOUSE_BRAND_COLOR: '#12345' }, /GATEHOUSE_BRAND_COLOR/],
      [{ GATEHOUSE_BRAND_COLOR: '#123456;}body{display:none' }, /GATEHOUSE_BRAND_COLOR/],
      [{ GATEHOUSE_BRAND_LOGO_URL: 'http://cdn.example/logo.png' }, /GATEHOUSE_BRAND_LOGO_URL/],
      [{ GATEHOUSE_BRAND_LOGO_URL: 'javascript:alert(1)' }, /GATEHOUSE_BRAND_LOGO_URL/],
      [{ GATEHOUSE_BRAND_LOGO_URL: 'data:image/png;base64,AAAA' }, /GATEHOUSE_BRAND_LOGO_URL/],
      [{ GATEHOUSE_BRAND_LOGO_URL: '//evil.example/x.png' }, /GATEHOUSE_BRAND_LOGO_URL/],
      [{ GATEHOUSE_SCOPE_DESCRIPTIONS: '{"a":' }, /GATEHOUSE_SCOPE_DESCRIPTIONS/],
      [{ GATEHOUSE_SCOPE_DESCRIPTIONS: '{"a": 5}' }, /GATEHOUSE_SCOPE_DESCRIPTIONS/],
      [{ GATEHOUSE_SCOPE_DESCRIPTIONS: join(dir, 'missing.json') }, /GATEHOUSE_SCOPE_DESCRIPTIONS: cannot read/],
    ];
    for (const [env, problem] of bad) {
      let error: unknown;
      try {
        loadConfig({ GATEHOUSE_DATA_DIR: dir, ...env });
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(env)).toBeInstanceOf(ConfigError);
      expect(String((error as Error).message), JSON.stringify(env)).toMatch(problem);
    }
    const ok = loadConfig({ GATEHOUSE_DATA_DIR: dir, GATEHOUSE_BRAND_LOGO_URL: '/static/logo.png', GATEHOUSE_SCOPE_DESCRIPTIONS: '{"x":"Do x"}' });
    expect(ok.branding).toStrictEqual({ name: 'Gatehouse', logoUrl: '/static/logo.png', color: null });
    expect({ ...ok.scopeDescriptions }).toStrictEqual({ x: 'Do x' });
  });
});
