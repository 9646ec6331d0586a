import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../src/core/api-keys/key-format.js';
import { tempDir } from './helpers/databases.js';
import { metadataDocument, startDocumentServer, type DocumentServer } from './helpers/document-server.js';
import { authorizeThroughForms, createOAuthTestApp, formAction, FormBrowser, hiddenFields, pkcePair, type OAuthTestApp } from './helpers/oauth.js';
import { api, killSpawned, spawnServer, type SpawnedServer } from './helpers/spawn-server.js';

const PASSWORD = 'correct horse battery staple';

async function token(issuer: string, body: Record<string, string>) {
  const response = await fetch(`${issuer}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(body),
  });
  return { status: response.status, body: (await response.json().catch(() => ({}))) as any };
}

function authorizeUrl(clientId: string, challenge: string, redirectUri = 'http://127.0.0.1:53682/callback', scope = 'openid profile'): string {
  return `/oauth/authorize?${new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    scope,
    state: 'st',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  })}`;
}

/** The whole flow, the consent page checked on the way: code, token, refresh, revocation. */
async function fullFlow(issuer: string, clientId: string, user: { email: string; password: string }) {
  const browser = new FormBrowser(issuer);
  const { verifier, challenge } = pkcePair();
  const redirectUri = 'http://127.0.0.1:53682/callback';
  let response = await browser.get(authorizeUrl(clientId, challenge));
  let page = await response.text();
  expect(response.status).toBe(200);
  expect(page).toContain('name="password"');
  response = await browser.submit(formAction(page), { ...hiddenFields(page), email: user.email, password: user.password });
  page = await response.text();
  // Always asked the first time: the consent page, naming the client and, prominently, the document's host.
  expect(response.status).toBe(200);
  expect(page).toContain('name="decision"');
  expect(page).toContain('<strong>Example MCP Client</strong> wants to access your account.');
  expect(page).toMatch(/<p class="publisher">This application's identity was published by <strong>localhost<\/strong>/);
  expect(page).toContain('class="warning"');
  expect(page).toContain('runs on your own computer');
  response = await browser.submit(formAction(page), { ...hiddenFields(page), decision: 'allow' });
  expect(response.status).toBe(303);
  const callback = new URL(response.headers.get('location')!);
  expect(`${callback.origin}${callback.pathname}`).toBe(redirectUri);
  const code = callback.searchParams.get('code')!;
  expect(code).toBeTruthy();

  const issued = await token(issuer, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier, client_id: clientId });
  expect(issued.status).toBe(200);
  expect(issued.body).toMatchObject({ token_type: 'Bearer', scope: 'openid profile' });
  expect(issued.body.refresh_token).toBeTruthy();
  const claims = JSON.parse(Buffer.from(issued.body.access_token.split('.')[1], 'base64url').toString());
  expect(claims.client_id).toBe(clientId);

  const refreshed = await token(issuer, { grant_type: 'refresh_token', refresh_token: issued.body.refresh_token, client_id: clientId });
  expect(refreshed.status).toBe(200);
  expect(refreshed.body.refresh_token).toBeTruthy();

  // The second authorization of the same scopes is not asked again (the consent was remembered).
  const again = await authorizeThroughForms(browser, authorizeUrl(clientId, pkcePair().challenge), user);
  expect(again.searchParams.get('code')).toBeTruthy();

  // Revocation: the client authenticates as a public client, by its client_id URL.
  const revoke = await fetch(`${issuer}/oauth/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: refreshed.body.refresh_token, client_id: clientId }),
  });
  expect(revoke.status).toBe(200);
  const after = await token(issuer, { grant_type: 'refresh_token', refresh_token: refreshed.body.refresh_token, client_id: clientId });
  expect(after.status).toBe(400);
  expect(after.body.error).toBe('invalid_grant');
}

let documents: DocumentServer;
beforeAll(async () => {
  documents = await startDocumentServer();
});
afterAll(async () => {
  await documents.close();
});

describe('Client ID Metadata Documents, in process', () => {
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

  it('advertises client_id_metadata_document_supported in both metadata documents', async () => {
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const body = (await (await fetch(`${t.issuer}${path}`)).json()) as Record<string, unknown>;
      expect(body.client_id_metadata_document_supported).toBe(true);
    }
  });

  it('runs authorization code + PKCE, refresh and revocation with a metadata-document client', async () => {
    const clientId = `${documents.origin}/happy/client.json`;
    documents.route('/happy/client.json', { body: metadataDocument(clientId), headers: { 'cache-control': 'max-age=3600' } });
    const user = await t.createUser();
    await fullFlow(t.issuer, clientId, { email: user.email, password: PASSWORD });
    // One fetch served the authorization requests, the token requests and the revocation (max-age=3600).
    expect(documents.hits('/happy/client.json')).toBe(1);
  });

  it('honours the cache lifetime with the frozen clock: no refetch within max-age, a refetch after it', async () => {
    const clientId = `${documents.origin}/cache/client.json`;
    documents.route('/cache/client.json', { body: metadataDocument(clientId), headers: { 'cache-control': 'max-age=600' } });
    const browser = new FormBrowser(t.issuer);
    const first = await browser.get(authorizeUrl(clientId, pkcePair().challenge));
    expect(first.status).toBe(200);
    t.clock.advance(590_000);
    expect((await browser.get(authorizeUrl(clientId, pkcePair().challenge))).status).toBe(200);
    expect(documents.hits('/cache/client.json')).toBe(1);
    t.clock.advance(20_000);
    documents.route('/cache/client.json', { body: metadataDocument(clientId, { client_name: 'Renamed Client' }), headers: { 'cache-control': 'max-age=600' } });
    const page = await (await browser.get(authorizeUrl(clientId, pkcePair().challenge))).text();
    expect(documents.hits('/cache/client.json')).toBe(2);
    expect(page).toContain('Renamed Client');
  });

  it('end-session: a post_logout_redirect_uri from the document', async () => {
    const clientId = `${documents.origin}/logout/client.json`;
    documents.route('/logout/client.json', { body: metadataDocument(clientId, { post_logout_redirect_uris: ['https://app.example/bye'] }) });
    const query = new URLSearchParams({ client_id: clientId, post_logout_redirect_uri: 'https://app.example/bye', state: 's1' });
    const response = await fetch(`${t.issuer}/oauth/logout?${query}`, { redirect: 'manual' });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('https://app.example/bye?state=s1');
    const unlisted = new URLSearchParams({ client_id: clientId, post_logout_redirect_uri: 'https://evil.example/bye' });
    expect((await fetch(`${t.issuer}/oauth/logout?${unlisted}`, { redirect: 'manual' })).status).toBe(400);
  });

  it('fetches once for concurrent authorization requests of one client_id', async () => {
    const clientId = `${documents.origin}/concurrent/client.json`;
    documents.route('/concurrent/client.json', { body: metadataDocument(clientId), delayMs: 150 });
    const responses = await Promise.all(Array.from({ length: 8 }, () => fetch(`${t.issuer}${authorizeUrl(clientId, pkcePair().challenge)}`, { redirect: 'manual' })));
    expect(responses.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(documents.hits('/concurrent/client.json')).toBe(1);
  });
});

describe('Client ID Metadata Documents, spawned server with NODE_EXTRA_CA_CERTS', () => {
  let server: SpawnedServer;
  const rootKey = generateApiKey('live').key;
  const dir = tempDir('cimd-spawn');
  beforeAll(async () => {
    server = await spawnServer({
      env: {
        GATEHOUSE_DATA_DIR: dir.path,
        GATEHOUSE_BOOTSTRAP_ADMIN_KEY: rootKey,
        GATEHOUSE_LOG_LEVEL: 'warn',
        GATEHOUSE_PASSWORD_HASH_COST: '14',
        GATEHOUSE_CLIENT_ID_METADATA_DOCUMENTS: 'on',
        GATEHOUSE_CIMD_ALLOW_LOOPBACK: 'true',
        NODE_EXTRA_CA_CERTS: documents.caFile,
      },
    });
  });
  afterAll(async () => {
    await server?.stop();
    await killSpawned();
    dir.remove();
  });

  it('trusts the document server through NODE_EXTRA_CA_CERTS and runs the whole flow', async () => {
    const clientId = `${documents.origin}/spawned/client.json`;
    documents.route('/spawned/client.json', { body: metadataDocument(clientId) });
    const email = `cimd-${Date.now()}@example.com`;
    const created = await api(server.url, 'POST', '/v1/users', { key: rootKey, body: { email, password: PASSWORD, name: 'Ada' } });
    expect(created.status).toBe(201);
    await fullFlow(server.url, clientId, { email, password: PASSWORD });
  });
});
