import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/load-config.js';
import { metadataDocument, startDocumentServer, type DocumentServer } from './helpers/document-server.js';
import { createOAuthTestApp, pkcePair, type OAuthTestApp } from './helpers/oauth.js';

/** What goes wrong with a metadata-document client: always the client's problem, never a 5xx, never a redirect. */

let documents: DocumentServer;
beforeAll(async () => {
  documents = await startDocumentServer();
});
afterAll(async () => {
  await documents.close();
});

const REDIRECT = 'http://127.0.0.1:53682/callback';

function authorizeUrl(clientId: string, redirectUri = REDIRECT): string {
  return `/oauth/authorize?${new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    scope: 'openid',
    state: 'st',
    code_challenge: pkcePair().challenge,
    code_challenge_method: 'S256',
  })}`;
}

async function tokenAs(issuer: string, clientId: string, extra: Record<string, string> = {}) {
  const response = await fetch(`${issuer}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: 'x'.repeat(43), redirect_uri: REDIRECT, code_verifier: 'v'.repeat(43), client_id: clientId, ...extra }),
  });
  return { status: response.status, body: (await response.json()) as { error: string; error_description?: string } };
}

describe('Client ID Metadata Documents off (the default)', () => {
  let t: OAuthTestApp;
  beforeAll(async () => {
    t = await createOAuthTestApp({ env: { GATEHOUSE_CIMD_ALLOW_LOOPBACK: 'true' }, metadataDocumentExtraCa: documents.caPem });
  });
  afterAll(async () => {
    await t.close();
  });

  it('treats an https client_id as an unknown client, fetches nothing, advertises nothing', async () => {
    const clientId = `${documents.origin}/off/client.json`;
    documents.route('/off/client.json', { body: metadataDocument(clientId) });
    const response = await fetch(`${t.issuer}${authorizeUrl(clientId)}`, { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(await response.text()).toContain('Unknown client');
    expect((await tokenAs(t.issuer, clientId)).status).toBe(401);
    expect(documents.hits('/off/client.json')).toBe(0);
    const metadata = (await (await fetch(`${t.issuer}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(metadata).not.toHaveProperty('client_id_metadata_document_supported');
  });
});

describe('Client ID Metadata Documents: refused documents and failed fetches', () => {
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

  /** Serves `route` at a fresh path; the authorization request must show an error page (400, no redirect). */
  async function expectRefused(name: string, route: (clientId: string) => Parameters<DocumentServer['route']>[1], problem: string, redirectUri = REDIRECT) {
    const path = `/error/${name}.json`;
    const clientId = `${documents.origin}${path}`;
    documents.route(path, route(clientId));
    const response = await fetch(`${t.issuer}${authorizeUrl(clientId, redirectUri)}`, { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    const page = await response.text();
    // Vague for the person in the browser; the detail is in the audit log.
    expect(page).toContain('this application could not be identified from its client_id');
    expect(page).not.toContain(problem);
    const token = await tokenAs(t.issuer, clientId);
    expect(token.status).toBe(401);
    expect(token.body.error).toBe('invalid_client');
    await t.services.audit.flush();
    const events = await t.services.stores.audit.list({ limit: 1000 });
    const refused = events.filter((event: any) => event.type === 'client.authentication' && event.reason === 'metadata_document_refused' && event.details?.clientId === clientId);
    // Audited once: the token request above was answered from the negative cache.
    expect(refused.map((event: any) => event.details.problem)).toEqual([problem]);
    return clientId;
  }

  it('client_id of the document differs from the URL', async () => {
    await expectRefused('mismatch', () => ({ body: metadataDocument('https://other.example/client.json') }), 'client_id_mismatch');
  });

  it('document with a client_secret', async () => {
    await expectRefused('secret', (id) => ({ body: metadataDocument(id, { client_secret: 'shh' }) }), 'client_secret_not_allowed');
  });

  it('document asking for client_secret_basic', async () => {
    await expectRefused('basic', (id) => ({ body: metadataDocument(id, { token_endpoint_auth_method: 'client_secret_basic' }) }), 'shared_secret_auth_method_not_allowed');
  });

  it('document asking for private_key_jwt with its keys behind a jwks_uri (not fetched)', async () => {
    await expectRefused('pkjwt', (id) => ({ body: metadataDocument(id, { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: `${documents.origin}/jwks.json` }) }), 'jwks_uri_not_supported');
  });

  it('oversize document', async () => {
    await expectRefused('big', (id) => ({ body: metadataDocument(id, { padding: 'x'.repeat(6 * 1024) }) }), 'document_too_large');
  });

  it('slow server (the time limit)', async () => {
    await expectRefused('slow', (id) => ({ body: metadataDocument(id), delayMs: 8_000 }), 'timeout');
  }, 20_000);

  it('a redirect is not followed', async () => {
    const target = `${documents.origin}/error/target.json`;
    documents.route('/error/target.json', { body: metadataDocument(target) });
    await expectRefused('redirect', () => ({ status: 301, headers: { location: target }, body: '' }), 'redirect_not_followed');
    expect(documents.hits('/error/target.json')).toBe(0);
  });

  it('non-JSON: wrong content type, and a JSON content type over something else', async () => {
    await expectRefused('html', () => ({ body: '<html></html>', headers: { 'content-type': 'text/html' } }), 'content_type_not_json');
    await expectRefused('garbage', () => ({ body: '{"client_id": ' }), 'document_not_json');
  });

  it('404', async () => {
    await expectRefused('missing', () => ({ status: 404, body: {} }), 'http_status_404');
  });

  it('redirect_uri not listed in the document: an error page, never a redirect', async () => {
    const clientId = `${documents.origin}/error/unlisted.json`;
    documents.route('/error/unlisted.json', { body: metadataDocument(clientId) });
    const response = await fetch(`${t.issuer}${authorizeUrl(clientId, 'https://evil.example/callback')}`, { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(await response.text()).toContain('The redirect_uri is not registered for this client.');
  });

  it('malformed client_id URLs are refused without a fetch', async () => {
    for (const clientId of [`${documents.origin}/error/frag.json#x`, `${documents.origin}/error/../frag.json`, `https://user@localhost:${documents.port}/error/frag.json`]) {
      const response = await fetch(`${t.issuer}${authorizeUrl(clientId)}`, { redirect: 'manual' });
      expect(response.status).toBe(400);
    }
    expect(documents.hits('/error/frag.json')).toBe(0);
  });

  it('client_credentials is not a grant of a metadata-document client', async () => {
    const clientId = `${documents.origin}/error/cc.json`;
    documents.route('/error/cc.json', { body: metadataDocument(clientId) });
    const response = await fetch(`${t.issuer}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('unauthorized_client');
  });
});

describe('Client ID Metadata Documents configuration', () => {
  const base = { GATEHOUSE_DATA_DIR: '/tmp/unused' };
  it('defaults to off, with no host lists and no loopback', () => {
    expect(loadConfig(base).clientIdMetadataDocuments).toEqual({ enabled: false, allowedHosts: [], deniedHosts: [], allowLoopback: false });
  });
  it('reads the switch, the lists and the loopback flag', () => {
    const config = loadConfig({
      ...base,
      GATEHOUSE_CLIENT_ID_METADATA_DOCUMENTS: 'on',
      GATEHOUSE_CIMD_ALLOWED_HOSTS: 'apps.example, *.mcp.example',
      GATEHOUSE_CIMD_DENIED_HOSTS: 'evil.example',
      GATEHOUSE_CIMD_ALLOW_LOOPBACK: 'true',
    });
    expect(config.clientIdMetadataDocuments).toEqual({ enabled: true, allowedHosts: ['apps.example', '*.mcp.example'], deniedHosts: ['evil.example'], allowLoopback: true });
  });
  it.each([
    [{ GATEHOUSE_CLIENT_ID_METADATA_DOCUMENTS: 'yes' }, 'GATEHOUSE_CLIENT_ID_METADATA_DOCUMENTS must be on or off'],
    [{ GATEHOUSE_CIMD_ALLOWED_HOSTS: 'https://apps.example' }, 'GATEHOUSE_CIMD_ALLOWED_HOSTS'],
    [{ GATEHOUSE_CIMD_DENIED_HOSTS: 'Evil.example' }, 'GATEHOUSE_CIMD_DENIED_HOSTS'],
    [{ GATEHOUSE_CIMD_ALLOW_LOOPBACK: 'maybe' }, 'GATEHOUSE_CIMD_ALLOW_LOOPBACK must be true or false'],
  ])('refuses %o', (env, message) => {
    expect(() => loadConfig({ ...base, ...env })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, ...env })).toThrow(message);
  });
});
