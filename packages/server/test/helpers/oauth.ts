import type { AddressInfo } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { sinkCredential } from './log-sink.js';
import { createTestApp, type TestApp, type TestAppOptions } from './test-app.js';

/** A test app listening on a loopback port, its issuer set to that address (real HTTP for client libraries). */
export interface OAuthTestApp extends TestApp {
  issuer: string;
  /** Creates an OAuth client through the admin API; returns the response body (with clientSecret, once). */
  createClient(body?: Record<string, unknown>): Promise<any>;
  /** Creates a user through the admin API. */
  createUser(body?: Record<string, unknown>): Promise<any>;
}

export async function createOAuthTestApp(options: TestAppOptions = {}): Promise<OAuthTestApp> {
  const t = await createTestApp({ ...options, env: { GATEHOUSE_PASSWORD_HASH_COST: '14', ...options.env } });
  // Client libraries check exp and iat against the real time: freeze the clock at the real now instead.
  t.clock.set(Math.max(Date.now(), t.clock.now()));
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = t.app.server.address() as AddressInfo;
  t.config.issuer = `http://127.0.0.1:${port}`;
  return {
    ...t,
    issuer: t.config.issuer,
    async createClient(body = {}) {
      const response = await t.api('POST', '/v1/clients', {
        body: {
          name: 'Test App',
          redirectUris: ['https://app.example/callback'],
          grantTypes: ['authorization_code', 'refresh_token'],
          scopes: ['openid', 'profile', 'email', 'read', 'write'],
          tokenEndpointAuthMethod: 'client_secret_basic',
          ...body,
        },
      });
      if (response.status !== 201) throw new Error(`createClient: ${response.status} ${JSON.stringify(response.body)}`);
      return response.body;
    },
    async createUser(body = {}) {
      const user = { email: `user-${randomBytes(4).toString('hex')}@example.com`, password: 'correct horse battery staple', name: 'Ada Lovelace', ...body };
      if (typeof user.password === 'string') sinkCredential(user.password);
      const response = await t.api('POST', '/v1/users', { body: user });
      if (response.status !== 201) throw new Error(`createUser: ${response.status} ${JSON.stringify(response.body)}`);
      return response.body;
    },
  };
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export function basicAuth(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '&#x27;': "'" };

/** The hidden inputs of the first form in a page, decoded. */
export function hiddenFields(page: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const match of page.matchAll(/<input[^>]*type="hidden"[^>]*>/g)) {
    const name = /name="([^"]*)"/.exec(match[0])?.[1];
    const value = /value="([^"]*)"/.exec(match[0])?.[1] ?? '';
    if (name) fields[name] = value.replace(/&(amp|lt|gt|quot|#39|#x27);/g, (entity) => ENTITIES[entity]!);
  }
  return fields;
}

/**
 * A minimal browser over real HTTP: keeps cookies, never follows redirects (tests read each Location), and
 * submits forms as a browser would (application/x-www-form-urlencoded).
 */
export class FormBrowser {
  readonly cookies = new Map<string, string>();

  constructor(readonly origin: string) {}

  async get(url: string): Promise<Response> {
    return this.#send(url, { method: 'GET' });
  }

  async submit(path: string, fields: Record<string, string>): Promise<Response> {
    return this.#send(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  }

  async #send(url: string, init: RequestInit): Promise<Response> {
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(new URL(url, this.origin), {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), ...(cookie ? { cookie } : {}) },
    });
    for (const header of response.headers.getSetCookie()) {
      const [pair] = header.split(';');
      const eq = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
    }
    return response;
  }
}

/** Where the first form of a page posts to, as a browser reads it. */
export function formAction(page: string): string {
  const action = /<form[^>]*\saction="([^"]*)"/.exec(page)?.[1];
  if (action === undefined) throw new Error(`no form action in the page: ${page.slice(0, 300)}`);
  return action.replace(/&amp;/g, '&');
}

/** Walks the login (and, if shown, consent) forms; returns the final redirect's URL. */
export async function authorizeThroughForms(
  browser: FormBrowser,
  authorizeUrl: string,
  user: { email: string; password: string },
  decision: 'allow' | 'deny' = 'allow',
): Promise<URL> {
  let response = await browser.get(authorizeUrl);
  let page = await response.text();
  if (response.status === 200 && page.includes('name="password"')) {
    response = await browser.submit(formAction(page), { ...hiddenFields(page), email: user.email, password: user.password });
    page = await response.text();
  }
  if (response.status === 200 && page.includes('name="decision"')) {
    response = await browser.submit(formAction(page), { ...hiddenFields(page), decision });
    await response.text();
  }
  if (response.status !== 303) throw new Error(`expected a redirect, got ${response.status}: ${page.slice(0, 300)}`);
  const redirect = new URL(response.headers.get('location')!);
  const code = redirect.searchParams.get('code');
  if (code) sinkCredential(code);
  return redirect;
}
