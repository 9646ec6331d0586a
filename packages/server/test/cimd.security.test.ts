import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metadataDocument, startDocumentServer, type DocumentServer } from './helpers/document-server.js';
import { createOAuthTestApp, formAction, FormBrowser, hiddenFields, pkcePair, type OAuthTestApp } from './helpers/oauth.js';

/** SSRF, host policy, phishing and impersonation with Client ID Metadata Documents. */

let documents: DocumentServer;
beforeAll(async () => {
  documents = await startDocumentServer();
});
afterAll(async () => {
  await documents.close();
});

const REDIRECT = 'http://127.0.0.1:53682/callback';

function authorizeUrl(clientId: string, extra: Record<string, string> = {}): string {
  return `/oauth/authorize?${new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    scope: 'openid',
    state: 'st',
    code_challenge: pkcePair().challenge,
    code_challenge_method: 'S256',
    ...extra,
  })}`;
}

async function refusedProblems(t: OAuthTestApp, clientId: string): Promise<string[]> {
  await t.services.audit.flush();
  const events = await t.services.stores.audit.list({ limit: 1000 });
  return events
    .filter((event) => event.type === 'client.authentication' && event.reason === 'metadata_document_refused' && (event.details as any)?.clientId === clientId)
    .map((event) => (event.details as any).problem);
}

describe('without GATEHOUSE_CIMD_ALLOW_LOOPBACK: the SSRF guard', () => {
  let t: OAuthTestApp;
  beforeAll(async () => {
    t = await createOAuthTestApp({ env: { GATEHOUSE_CLIENT_ID_METADATA_DOCUMENTS: 'on' }, metadataDocumentExtraCa: documents.caPem });
  });
  afterAll(async () => {
    await t.close();
  });

  it.each([
    ['localhost (a name resolving to 127.0.0.1)', () => `${documents.origin}/ssrf/client.json`],
    ['a .localhost name', () => `https://app.localhost:${documents.port}/ssrf/client.json`],
    ['the IPv4 loopback literal', () => `${documents.ipOrigin}/ssrf/client.json`],
    ['the IPv6 loopback literal', () => `https://[::1]:${documents.port}/ssrf/client.json`],
    ['the cloud metadata address', () => 'https://169.254.169.254/latest/client.json'],
    ['a private address', () => 'https://10.0.0.1/client.json'],
  ])('refuses %s, fetching nothing', async (_name, id) => {
    const clientId = id();
    documents.route('/ssrf/client.json', { body: metadataDocument(clientId) });
    const before = documents.hits('/ssrf/client.json');
    const response = await fetch(`${t.issuer}${authorizeUrl(clientId)}`, { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(documents.hits('/ssrf/client.json')).toBe(before);
  });
});

describe('host lists', () => {
  let allowed: OAuthTestApp;
  let denied: OAuthTestApp;
  beforeAll(async () => {
    const env = { GATEHOUSE_CLIENT_ID_METADATA_DOCUMENTS: 'on', GATEHOUSE_CIMD_ALLOW_LOOPBACK: 'true' };
    allowed = await createOAuthTestApp({ env: { ...env, GATEHOUSE_CIMD_ALLOWED_HOSTS: 'localhost,*.apps.example' }, metadataDocumentExtraCa: documents.caPem });
    denied = await createOAuthTestApp({ env: { ...env, GATEHOUSE_CIMD_DENIED_HOSTS: 'localhost' }, metadataDocumentExtraCa: documents.caPem });
  });
  afterAll(async () => {
    await allowed.close();
    await denied.close();
  });

  it('an allowed host is fetched, any other is refused without a fetch', async () => {
    const good = `${documents.origin}/hosts/good.json`;
    documents.route('/hosts/good.json', { body: metadataDocument(good) });
    expect((await fetch(`${allowed.issuer}${authorizeUrl(good)}`, { redirect: 'manual' })).status).toBe(200);
    const other = `${documents.ipOrigin}/hosts/other.json`;
    documents.route('/hosts/other.json', { body: metadataDocument(other) });
    expect((await fetch(`${allowed.issuer}${authorizeUrl(other)}`, { redirect: 'manual' })).status).toBe(400);
    expect(documents.hits('/hosts/other.json')).toBe(0);
  });

  it('a denied host is refused without a fetch', async () => {
    const clientId = `${documents.origin}/hosts/denied.json`;
    documents.route('/hosts/denied.json', { body: metadataDocument(clientId) });
    const response = await fetch(`${denied.issuer}${authorizeUrl(clientId)}`, { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(documents.hits('/hosts/denied.json')).toBe(0);
    const token = await fetch(`${denied.issuer}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'x', client_id: clientId }),
    });
    expect(token.status).toBe(401);
  });
});

describe('phishing and impersonation', () => {
  let t: OAuthTestApp;
  beforeAll(async () => {
    t = await createOAuthTestApp({
      env: { GATEHOUSE_CLIENT_ID_METADATA_DOCUMENTS: 'on', GATEHOUSE_CIMD_ALLOW_LOOPBACK: 'true' },
      metadataDocumentExtraCa: documents.caPem,
    });
  });
  afterAll(async () => {
    await t.close();
  });

  async function consentPage(clientId: string, extra: Record<string, string> = {}): Promise<string> {
    const user = await t.createUser();
    const browser = new FormBrowser(t.issuer);
    const login = await browser.get(authorizeUrl(clientId, extra));
    const page = await login.text();
    expect(login.status).toBe(200);
    const consent = await browser.submit(formAction(page), { ...hiddenFields(page), email: user.email, password: 'correct horse battery staple' });
    expect(consent.status).toBe(200);
    return consent.text();
  }

  it('shows the publishing host whatever name the document claims, escaped', async () => {
    const clientId = `${documents.origin}/phish/client.json`;
    documents.route('/phish/client.json', { body: metadataDocument(clientId, { client_name: 'Google <script>alert(1)</script>' }) });
    const page = await consentPage(clientId);
    expect(page).toContain('Google &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).not.toContain('<script>alert(1)');
    expect(page).toMatch(/published by <strong>localhost<\/strong>/);
  });

  it('a client with an https redirect gets the host line but no loopback warning', async () => {
    const clientId = `${documents.origin}/phish/web.json`;
    documents.route('/phish/web.json', { body: metadataDocument(clientId, { redirect_uris: ['https://app.example/cb'] }) });
    const page = await consentPage(clientId, { redirect_uri: 'https://app.example/cb' });
    expect(page).toMatch(/published by <strong>localhost<\/strong>/);
    expect(page).not.toContain('class="warning"');
  });

  it('never approves silently the first time: prompt=none is answered consent_required', async () => {
    const clientId = `${documents.origin}/phish/silent.json`;
    documents.route('/phish/silent.json', { body: metadataDocument(clientId) });
    const user = await t.createUser();
    const browser = new FormBrowser(t.issuer);
    // Sign in through another request first, then ask for a silent authorization.
    const login = await browser.get(authorizeUrl(clientId));
    const page = await login.text();
    const consent = await browser.submit(formAction(page), { ...hiddenFields(page), email: user.email, password: 'correct horse battery staple' });
    expect(await consent.text()).toContain('name="decision"');
    const silent = await browser.get(authorizeUrl(clientId, { prompt: 'none' }));
    expect(silent.status).toBe(303);
    expect(new URL(silent.headers.get('location')!).searchParams.get('error')).toBe('consent_required');
  });

  it('a document served at one URL cannot speak for another client_id', async () => {
    const victim = `${documents.origin}/phish/victim.json`;
    const attacker = `${documents.origin}/phish/attacker.json`;
    documents.route('/phish/attacker.json', { body: metadataDocument(victim, { redirect_uris: ['https://evil.example/cb'] }) });
    const response = await fetch(`${t.issuer}${authorizeUrl(attacker, { redirect_uri: 'https://evil.example/cb' })}`, { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(await refusedProblems(t, attacker)).toEqual(['client_id_mismatch']);
  });

  it('a metadata-document client cannot authenticate with a secret', async () => {
    const clientId = `${documents.origin}/phish/secret.json`;
    documents.route('/phish/secret.json', { body: metadataDocument(clientId) });
    const response = await fetch(`${t.issuer}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'x', client_id: clientId, client_secret: 'anything' }),
    });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_client');
  });

  it('takes no tenant or audience from the document', async () => {
    const clientId = `${documents.origin}/phish/claims.json`;
    documents.route('/phish/claims.json', { body: metadataDocument(clientId, { tenant_id: 'ten_x', audiences: ['https://api.example'] }) });
    const client = await t.services.oauth.findClient(clientId);
    expect(client).toMatchObject({ registration: 'metadata_document', tenantId: null, audiences: [], tokenEndpointAuthMethod: 'none' });
    const response = await fetch(`${t.issuer}${authorizeUrl(clientId, { resource: 'https://api.example' })}`, { redirect: 'manual' });
    expect(response.status).toBe(303);
    expect(new URL(response.headers.get('location')!).searchParams.get('error')).toBe('invalid_target');
  });
});
