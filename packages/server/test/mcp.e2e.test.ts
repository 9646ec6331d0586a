/**
 * Issue 18, deliverable 5: the official MCP SDK (`@modelcontextprotocol/sdk`, unmodified: its `Client`,
 * `StreamableHTTPClientTransport` and OAuth support) connects to the example MCP server (examples/mcp-server,
 * protected by gatehouse-sdk/express) through a real `gatehouse start` process. Only the user's browser is played
 * by the test: the OAuthClientProvider below walks Gatehouse's login and consent forms over HTTP with a cookie jar
 * and takes the code from the redirect. Everything else is the SDK's own doing: the 401, discovery (RFC 9728 from
 * the challenge's resource_metadata, then RFC 8414), registration (a Client ID Metadata Document served over HTTPS
 * with a certificate of a test CA that Gatehouse trusts through NODE_EXTRA_CA_CERTS; or Dynamic Client
 * Registration), authorization code + PKCE with `resource`, the token request, the tool call, and step-up on
 * 403 insufficient_scope. Then the refusals the MCP authorization spec asks for: a token for another resource, a
 * token without the tool's scope, a revoked token, an expired token.
 *
 * The CIMD and DCR cases need Gatehouse's resources (POST /v1/resources), Dynamic Client Registration
 * (GATEHOUSE_CLIENT_REGISTRATION) and Client ID Metadata Documents (GATEHOUSE_CLIENT_ID_METADATA_DOCUMENTS); the
 * other cases use a client created through the admin API with `audiences: [<the MCP server's URL>]`.
 */
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { Server as HttpServer } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { createAuthenticator } from 'gatehouse-sdk';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../src/core/api-keys/key-format.js';
import { tempDir } from './helpers/databases.js';
import { createTestServerCertificates, type TestServerCertificates } from './helpers/document-server.js';
import { sinkCredential } from './helpers/log-sink.js';
import { tlsRequest } from './helpers/mtls.js';
import { FormBrowser, formAction, hiddenFields } from './helpers/oauth.js';
import { api, killSpawned, REPO_ROOT, spawnProcess, spawnServer, waitFor, waitForExit, type SpawnedProcess, type SpawnedServer } from './helpers/spawn-server.js';

const PASSWORD = 'correct horse battery staple';
/** A loopback redirect URI (RFC 8252 7.3): nothing listens there, the test's browser reads the Location instead. */
const REDIRECT_URI = 'http://127.0.0.1/mcp-callback';
const OTHER_RESOURCE = 'https://other-mcp.example/mcp';
const READ = 'mcp:read';
const WRITE = 'mcp:write';

/** One HTTP exchange the MCP SDK made (through the fetch given to its transport). */
interface Exchange {
  method: string;
  url: string;
  status: number;
}

/**
 * The MCP client's OAuthClientProvider, as an MCP host application would write it, with the user's browser played
 * by a FormBrowser: `redirectToAuthorization` walks Gatehouse's login and consent forms and keeps the code from
 * the redirect, which the test hands to `transport.finishAuth` as the host's redirect handler would.
 */
class TestOAuthProvider implements OAuthClientProvider {
  readonly browser: FormBrowser;
  /** Every authorization URL the SDK sent the user to. */
  readonly authorizationUrls: URL[] = [];
  /** The pages the user saw (login, consent), per authorization. */
  readonly pages: string[][] = [];
  clientMetadataUrl?: string;
  #clientInformation: OAuthClientInformationMixed | undefined;
  #tokens: OAuthTokens | undefined;
  #codeVerifier: string | undefined;
  #state: string | undefined;
  #code: string | undefined;
  /** Every client information the SDK saved (its registration, or the CIMD URL). */
  readonly savedClientInformation: OAuthClientInformationMixed[] = [];

  constructor(
    readonly issuer: string,
    readonly user: { email: string; password: string },
    options: { clientMetadataUrl?: string; clientInformation?: OAuthClientInformationMixed; grantTypes?: string[] } = {},
  ) {
    this.browser = new FormBrowser(issuer);
    if (options.clientMetadataUrl !== undefined) this.clientMetadataUrl = options.clientMetadataUrl;
    this.#clientInformation = options.clientInformation;
    this.#grantTypes = options.grantTypes ?? ['authorization_code'];
  }

  readonly #grantTypes: string[];

  get redirectUrl(): string {
    return REDIRECT_URI;
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'Gatehouse MCP e2e client',
      redirect_uris: [REDIRECT_URI],
      grant_types: this.#grantTypes,
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  state(): string {
    this.#state = randomBytes(16).toString('base64url');
    return this.#state;
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.#clientInformation;
  }

  saveClientInformation(information: OAuthClientInformationMixed): void {
    this.#clientInformation = information;
    this.savedClientInformation.push(information);
  }

  tokens(): OAuthTokens | undefined {
    return this.#tokens;
  }

  saveTokens(tokens: OAuthTokens): void {
    sinkCredential(tokens.access_token);
    if (tokens.refresh_token) sinkCredential(tokens.refresh_token);
    this.#tokens = tokens;
  }

  saveCodeVerifier(verifier: string): void {
    this.#codeVerifier = verifier;
  }

  codeVerifier(): string {
    if (this.#codeVerifier === undefined) throw new Error('no code verifier saved');
    return this.#codeVerifier;
  }

  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): void {
    if (scope === 'all' || scope === 'client') this.#clientInformation = undefined;
    if (scope === 'all' || scope === 'tokens') this.#tokens = undefined;
    if (scope === 'all' || scope === 'verifier') this.#codeVerifier = undefined;
  }

  /** The user signs in (once: the browser keeps Gatehouse's session cookie) and allows; the code is kept. */
  async redirectToAuthorization(authorizationUrl: URL): Promise<void> {
    this.authorizationUrls.push(authorizationUrl);
    const seen: string[] = [];
    this.pages.push(seen);
    let response = await this.browser.get(authorizationUrl.href);
    let page = await response.text();
    if (response.status === 200 && page.includes('name="password"')) {
      seen.push(page);
      response = await this.browser.submit(formAction(page), { ...hiddenFields(page), email: this.user.email, password: this.user.password });
      page = await response.text();
    }
    if (response.status === 200 && page.includes('name="decision"')) {
      seen.push(page);
      response = await this.browser.submit(formAction(page), { ...hiddenFields(page), decision: 'allow' });
      page = await response.text();
    }
    if (response.status !== 303) {
      const text = page.replace(/<style[\s\S]*?<\/style>/g, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
      throw new Error(`authorization: expected a redirect, got ${response.status}: ${text.slice(0, 500)}`);
    }
    const redirect = new URL(response.headers.get('location')!);
    if (`${redirect.origin}${redirect.pathname}` !== REDIRECT_URI) throw new Error(`redirected elsewhere: ${redirect.href}`);
    const error = redirect.searchParams.get('error');
    if (error) throw new Error(`authorization refused: ${error} ${redirect.searchParams.get('error_description') ?? ''}`);
    if (redirect.searchParams.get('state') !== this.#state) throw new Error('state mismatch');
    if (redirect.searchParams.get('iss') !== this.issuer) throw new Error(`iss mismatch: ${redirect.searchParams.get('iss')}`);
    this.#code = redirect.searchParams.get('code') ?? undefined;
    if (this.#code) sinkCredential(this.#code);
  }

  /** The code of the last authorization, once (what the host's redirect handler receives). */
  takeCode(): string {
    const code = this.#code;
    this.#code = undefined;
    if (code === undefined) throw new Error('no authorization code: redirectToAuthorization did not complete');
    return code;
  }
}

/** The JSON bodies of the registration responses the MCP SDK received (it keeps only RFC 7591 fields of them). */
const registrationResponses = new WeakMap<Exchange[], any[]>();

/** A fetch that records what the MCP SDK asks (method, URL, status), for the order of the protocol steps. */
function recordingFetch(log: Exchange[]): typeof fetch {
  return async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    const response = await fetch(input, init);
    log.push({ method, url, status: response.status });
    if (method === 'POST' && new URL(url).pathname.endsWith('/oauth/register')) {
      const body = await response.clone().json().catch(() => undefined);
      registrationResponses.set(log, [...(registrationResponses.get(log) ?? []), body]);
    }
    return response;
  };
}

/** The text of a tool's result, parsed. */
function toolJson(result: Awaited<ReturnType<Client['callTool']>>): any {
  const content = result.content as Array<{ type: string; text?: string }>;
  expect(content[0]?.type).toBe('text');
  return JSON.parse(content[0]!.text!);
}

describe('the MCP SDK against the example MCP server protected by Gatehouse', () => {
  const dir = tempDir('mcp-e2e');
  const rootKey = generateApiKey('live').key;
  let gatehouse: SpawnedServer;
  let issuer: string;
  let mcp: SpawnedProcess;
  let mcpUrl: string;
  let mcpOrigin: string;
  let user: { id: string; email: string; password: string };
  let certificates: TestServerCertificates;
  let documentServer: HttpsServer;
  /**
   * https://[::1]:<port>/clients/mcp-e2e.json: on ::1 so that its host, which the consent page must show, appears
   * nowhere else on the page (Gatehouse, the MCP server and the redirect URI are on 127.0.0.1).
   */
  let clientMetadataUrl: string;
  const documentRequests: string[] = [];
  /** The answer of POST /v1/resources for the MCP server (shared design A). */
  let resourceRegistration: { status: number; body: any };

  const admin = (method: string, path: string, body?: unknown) => api(gatehouse.url, method, path, { key: rootKey, body });

  /** A public client created through the admin API, allowed to ask for the MCP server's URL as its audience. */
  async function adminClient(audiences: string[], scopes = [READ, WRITE]): Promise<string> {
    const created = await admin('POST', '/v1/clients', {
      name: 'MCP host (admin-registered)',
      redirectUris: [REDIRECT_URI],
      grantTypes: ['authorization_code'],
      scopes,
      audiences,
      tokenEndpointAuthMethod: 'none',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body.clientId;
  }

  /** Authorization code + PKCE by hand (no MCP SDK): an access token of `clientId` for `resource`. */
  async function tokenFor(clientId: string, resource: string, scope: string): Promise<string> {
    const provider = new TestOAuthProvider(issuer, user);
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const url = new URL(`${issuer}/oauth/authorize`);
    const state = provider.state();
    for (const [name, value] of Object.entries({ response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI, scope, resource, state, code_challenge: challenge, code_challenge_method: 'S256' })) {
      url.searchParams.set(name, value);
    }
    await provider.redirectToAuthorization(url);
    const response = await fetch(`${issuer}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: provider.takeCode(), code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: clientId, resource }),
    });
    const body = (await response.json()) as any;
    expect(response.status, JSON.stringify(body)).toBe(200);
    sinkCredential(body.access_token);
    return body.access_token;
  }

  /** A raw MCP call (JSON-RPC over Streamable HTTP), as any client would send it. */
  async function rawMcp(token: string | undefined, message: Record<string, unknown>, url = mcpUrl): Promise<Response> {
    return fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-11-25',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, ...message }),
    });
  }
  const callTool = (name: string, args: Record<string, unknown> = {}) => ({ method: 'tools/call', params: { name, arguments: args } });

  /**
   * Connects the MCP SDK's Client as an MCP host does: connect, and on UnauthorizedError (the SDK sent the user to
   * Gatehouse) finishAuth with the code from the redirect and connect again.
   */
  async function connect(provider: TestOAuthProvider, log: Exchange[]): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
    const open = () => new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider, fetch: recordingFetch(log) });
    let transport = open();
    let client = new Client({ name: 'gatehouse-mcp-e2e', version: '1.0.0' });
    try {
      await client.connect(transport);
      return { client, transport };
    } catch (error) {
      if (!(error instanceof UnauthorizedError)) throw error;
    }
    await transport.finishAuth(provider.takeCode());
    await transport.close();
    transport = open();
    client = new Client({ name: 'gatehouse-mcp-e2e', version: '1.0.0' });
    await client.connect(transport);
    return { client, transport };
  }

  /**
   * One MCP host connecting: 401, discovery, (registration,) authorization with `resource`, the token, then
   * tools/list and whoami. Answers the connected client (close it) and the client_id the token names.
   */
  async function connectAndCallWhoami(provider: TestOAuthProvider, log: Exchange[]): Promise<{ client: Client; transport: StreamableHTTPClientTransport; clientId: string }> {
    const { client, transport } = await connect(provider, log);
    // The first request was refused 401; the SDK then discovered Gatehouse from the challenge.
    expect(log[0]).toMatchObject({ method: 'POST', url: mcpUrl, status: 401 });
    expect(log).toContainEqual({ method: 'GET', url: `${mcpOrigin}/.well-known/oauth-protected-resource/mcp`, status: 200 });
    expect(log).toContainEqual({ method: 'GET', url: `${issuer}/.well-known/oauth-authorization-server`, status: 200 });
    expect(log).toContainEqual({ method: 'POST', url: `${issuer}/oauth/token`, status: 200 });

    // The authorization request: PKCE, the resource from the protected resource metadata, the 401's scope.
    const authorization = provider.authorizationUrls[0]!;
    expect(authorization.origin + authorization.pathname).toBe(`${issuer}/oauth/authorize`);
    expect(authorization.searchParams.get('resource')).toBe(mcpUrl);
    expect(authorization.searchParams.get('scope')).toBe(READ);
    expect(authorization.searchParams.get('code_challenge_method')).toBe('S256');

    const claims = decodeJwt(provider.tokens()!.access_token);
    expect(claims.iss).toBe(issuer);
    expect([claims.aud].flat()).toEqual([mcpUrl]);
    expect(claims.sub).toBe(user.id);
    expect(String(claims.scope).split(' ')).toEqual([READ]);
    const clientId = String(claims.client_id);

    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name).sort()).toEqual(['add_note', 'whoami']);
    expect(toolJson(await client.callTool({ name: 'whoami', arguments: {} }))).toEqual({ subject: user.id, clientId, scopes: [READ], tenantId: null });
    return { client, transport, clientId };
  }

  /**
   * Step-up: add_note is refused 403 insufficient_scope naming every scope the call needs; the SDK sends the user to
   * Gatehouse again for them (no refresh token: see docs/mcp.md), the host finishes, and the call goes through.
   */
  async function stepUp(provider: TestOAuthProvider, log: Exchange[], client: Client, transport: StreamableHTTPClientTransport): Promise<void> {
    const before = provider.authorizationUrls.length;
    const start = log.length;
    await expect(client.callTool({ name: 'add_note', arguments: { text: 'hello' } })).rejects.toBeInstanceOf(UnauthorizedError);
    // The 403, then the SDK's discovery again (it starts the authorization over, with the challenge's scope).
    expect(log[start]).toEqual({ method: 'POST', url: mcpUrl, status: 403 });
    expect(provider.authorizationUrls).toHaveLength(before + 1);
    const again = provider.authorizationUrls.at(-1)!;
    expect(again.searchParams.get('scope')).toBe(`${READ} ${WRITE}`);
    expect(again.searchParams.get('resource')).toBe(mcpUrl);
    // Signed in already (the session cookie): only the consent for the new scope.
    expect(provider.pages.at(-1)!.some((page) => page.includes('name="password"'))).toBe(false);
    await transport.finishAuth(provider.takeCode());
    expect(String(decodeJwt(provider.tokens()!.access_token).scope).split(' ').sort()).toEqual([READ, WRITE]);
    expect(toolJson(await client.callTool({ name: 'add_note', arguments: { text: 'hello' } }))).toMatchObject({ subject: user.id });
  }

  beforeAll(async () => {
    certificates = await createTestServerCertificates('Gatehouse MCP e2e test CA');
    const caFile = join(dir.path, 'test-ca.pem');
    writeFileSync(caFile, certificates.caPem);

    gatehouse = await spawnServer({
      env: {
        GATEHOUSE_DATA_DIR: join(dir.path, 'data'),
        GATEHOUSE_BOOTSTRAP_ADMIN_KEY: rootKey,
        GATEHOUSE_PASSWORD_HASH_COST: '14',
        GATEHOUSE_LOG_LEVEL: 'warn',
        // Issue 18 (shared design B and C): both ways an MCP client registers itself.
        GATEHOUSE_CLIENT_REGISTRATION: 'open',
        GATEHOUSE_CLIENT_ID_METADATA_DOCUMENTS: 'on',
        // The test's document server is on ::1, with a certificate of the test CA.
        GATEHOUSE_CIMD_ALLOW_LOOPBACK: 'true',
        NODE_EXTRA_CA_CERTS: caFile,
      },
    });
    issuer = (await api(gatehouse.url, 'GET', '/.well-known/oauth-authorization-server')).body.issuer;

    const email = `mcp-user-${randomBytes(4).toString('hex')}@example.com`;
    sinkCredential(PASSWORD);
    const created = await admin('POST', '/v1/users', { email, password: PASSWORD, name: 'Grace Hopper' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    user = { id: created.body.id, email, password: PASSWORD };
    const verifier = await admin('POST', '/v1/keys', { name: 'MCP server verifier', scopes: ['keys:verify'] });
    expect(verifier.status).toBe(201);

    mcp = spawnProcess(['examples/mcp-server/src/server.js'], {
      command: process.execPath,
      env: { GATEHOUSE_URL: gatehouse.url, GATEHOUSE_ISSUER: issuer, GATEHOUSE_VERIFIER_KEY: verifier.body.key, PORT: '0' },
    });
    mcpUrl = (await mcp.waitForStdout(/example MCP server listening on (http:\/\/\S+)/, 'the "listening on" line'))[1]!;
    mcpOrigin = new URL(mcpUrl).origin;

    // Shared design A: the MCP server registered as a resource that self-registered clients may ask for.
    resourceRegistration = await admin('POST', '/v1/resources', { identifier: mcpUrl, name: 'Example MCP server', scopes: [READ, WRITE], dynamicClients: true });

    // The Client ID Metadata Document, served over HTTPS by the test (the MCP host's web site).
    documentServer = createHttpsServer({ cert: certificates.cert, key: certificates.key }, (req, res) => {
      documentRequests.push(req.url ?? '');
      if (req.url !== '/clients/mcp-e2e.json') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60' });
      res.end(
        JSON.stringify({
          client_id: clientMetadataUrl,
          client_name: 'Gatehouse MCP e2e client (CIMD)',
          client_uri: new URL(clientMetadataUrl).origin,
          redirect_uris: [REDIRECT_URI],
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'none',
        }),
      );
    });
    await new Promise<void>((resolve) => documentServer.listen(0, '::1', resolve));
    clientMetadataUrl = `https://[::1]:${(documentServer.address() as AddressInfo).port}/clients/mcp-e2e.json`;
  });

  afterAll(async () => {
    documentServer?.closeAllConnections();
    await new Promise<void>((resolve) => (documentServer ? documentServer.close(() => resolve()) : resolve()));
    if (mcp) {
      mcp.process.kill('SIGTERM');
      expect((await waitForExit(mcp, 'example MCP server stop')).code).toBe(0);
    }
    await gatehouse?.stop();
    await killSpawned();
    dir.remove();
  });

  describe('discovery', () => {
    it('an MCP request without a token: 401 naming the protected resource metadata and the scope to ask for', async () => {
      const response = await rawMcp(undefined, { method: 'initialize', params: {} });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe(
        `Bearer realm="${mcpUrl}", scope="${READ}", resource_metadata="${mcpOrigin}/.well-known/oauth-protected-resource/mcp"`,
      );
    });

    it('the protected resource metadata (RFC 9728) names Gatehouse, whose RFC 8414 metadata supports what MCP needs', async () => {
      const metadata = await api(mcpOrigin, 'GET', '/.well-known/oauth-protected-resource/mcp');
      expect(metadata.status).toBe(200);
      expect(metadata.body).toEqual({
        resource: mcpUrl,
        authorization_servers: [issuer],
        scopes_supported: [READ, WRITE],
        bearer_methods_supported: ['header'],
        resource_name: 'Gatehouse example MCP server',
      });
      const as = (await api(gatehouse.url, 'GET', '/.well-known/oauth-authorization-server')).body;
      expect(as).toMatchObject({ issuer, response_types_supported: ['code'], code_challenge_methods_supported: ['S256'] });
      expect(as.token_endpoint_auth_methods_supported).toContain('none');
    });

    it('the test\'s Client ID Metadata Document is served over HTTPS with a certificate of the test CA', async () => {
      const response = await tlsRequest(new URL(clientMetadataUrl).origin, { ca: certificates.caPem, path: '/clients/mcp-e2e.json' });
      expect(response.status).toBe(200);
      expect(JSON.parse(response.body)).toMatchObject({ client_id: clientMetadataUrl, redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' });
      // Not trusted without the test CA (what Gatehouse gets through NODE_EXTRA_CA_CERTS).
      await expect(tlsRequest(new URL(clientMetadataUrl).origin, { ca: (await createTestServerCertificates('Gatehouse MCP e2e test CA')).caPem, path: '/clients/mcp-e2e.json' })).rejects.toThrow();
    });

    it('Gatehouse advertises Client ID Metadata Documents and Dynamic Client Registration when they are on', async () => {
      const as = (await api(gatehouse.url, 'GET', '/.well-known/oauth-authorization-server')).body;
      expect(as.client_id_metadata_document_supported).toBe(true);
      expect(as.registration_endpoint).toBe(`${issuer}/oauth/register`);
      const oidc = (await api(gatehouse.url, 'GET', '/.well-known/openid-configuration')).body;
      expect(oidc.client_id_metadata_document_supported).toBe(true);
      expect(oidc.registration_endpoint).toBe(`${issuer}/oauth/register`);
    });

    it('the MCP server is a registered resource: Gatehouse publishes its scopes (GET /oauth/resource-metadata)', async () => {
      expect(resourceRegistration.status, JSON.stringify(resourceRegistration.body)).toBe(201);
      expect(resourceRegistration.body).toMatchObject({ identifier: mcpUrl, scopes: [READ, WRITE], dynamicClients: true });
      expect(resourceRegistration.body.id).toMatch(/^res_/);
      const published = await api(gatehouse.url, 'GET', `/oauth/resource-metadata?resource=${encodeURIComponent(mcpUrl)}`);
      expect(published.status).toBe(200);
      expect(published.body).toMatchObject({ resource: mcpUrl, authorization_servers: [issuer], scopes_supported: [READ, WRITE] });
    });
  });

  describe('connecting with the MCP SDK', () => {
    it('a pre-registered client (admin API, audiences [the MCP server]): authorization with resource, tool call, step-up', async () => {
      const clientId = await adminClient([mcpUrl]);
      const provider = new TestOAuthProvider(issuer, user, { clientInformation: { client_id: clientId } });
      const log: Exchange[] = [];
      const { client, transport, clientId: named } = await connectAndCallWhoami(provider, log);
      try {
        expect(named).toBe(clientId);
        // Nothing registered: the client was known.
        expect(log.some((e) => e.url.startsWith(`${issuer}/oauth/register`))).toBe(false);
        await stepUp(provider, log, client, transport);
      } finally {
        await client.close();
      }
    });

    it('a Client ID Metadata Document: the SDK uses its HTTPS URL as client_id, Gatehouse fetches it; tool call, step-up', async () => {
      expect(resourceRegistration.status, 'POST /v1/resources (shared design A)').toBe(201);
      const provider = new TestOAuthProvider(issuer, user, { clientMetadataUrl });
      const log: Exchange[] = [];
      const before = documentRequests.length;
      const { client, transport, clientId } = await connectAndCallWhoami(provider, log);
      try {
        expect(clientId).toBe(clientMetadataUrl);
        expect(provider.savedClientInformation[0]).toMatchObject({ client_id: clientMetadataUrl });
        expect(provider.authorizationUrls[0]!.searchParams.get('client_id')).toBe(clientMetadataUrl);
        expect(log.some((e) => e.url.startsWith(`${issuer}/oauth/register`))).toBe(false);
        // Gatehouse fetched the document itself, over HTTPS, trusting the test CA through NODE_EXTRA_CA_CERTS.
        expect(documentRequests.slice(before)).toContain('/clients/mcp-e2e.json');
        // The consent page shows the host the document came from (CIMD phishing: the name alone proves nothing).
        const consent = provider.pages[0]!.find((page) => page.includes('name="decision"'));
        expect(consent).toBeDefined();
        expect(consent).toContain('::1');
        // The document declares no scope: the scopes of the registered resource are the limit, step-up works.
        await stepUp(provider, log, client, transport);
      } finally {
        await client.close();
      }
    });

    describe('Dynamic Client Registration (GATEHOUSE_CLIENT_REGISTRATION=open)', () => {
      // No clientMetadataUrl: the SDK falls back to the registration_endpoint.
      const log: Exchange[] = [];
      let provider: TestOAuthProvider;
      let connected: Awaited<ReturnType<typeof connectAndCallWhoami>> | undefined;
      afterAll(async () => {
        await connected?.client.close();
      });

      it('the SDK registers a public client, then authorizes with resource and calls a tool', async () => {
        expect(resourceRegistration.status, 'POST /v1/resources (shared design A)').toBe(201);
        provider = new TestOAuthProvider(issuer, user);
        connected = await connectAndCallWhoami(provider, log);
        expect(log).toContainEqual({ method: 'POST', url: `${issuer}/oauth/register`, status: 201 });
        // What the SDK kept of the registration (RFC 7591 fields only), and what Gatehouse answered (RFC 7592 too).
        const saved = provider.savedClientInformation[0] as Record<string, unknown>;
        expect(saved.client_id).toBe(connected.clientId);
        expect(saved).toMatchObject({ redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' });
        expect(saved.client_secret).toBeUndefined();
        const [answered] = registrationResponses.get(log) ?? [];
        if (typeof answered?.registration_access_token === 'string') sinkCredential(answered.registration_access_token);
        expect(answered).toMatchObject({ client_id: connected.clientId, scope: READ, redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' });
        expect(answered.registration_client_uri).toBe(`${issuer}/oauth/register/${connected.clientId}`);
        expect(answered.registration_access_token).toEqual(expect.any(String));
      });

      it('step-up works for the registered client too (it registered with the scope of the first 401 only)', async () => {
        expect(connected, 'the registration test above').toBeDefined();
        await stepUp(provider, log, connected!.client, connected!.transport);
      });
    });
  });

  describe('refusals, as the MCP authorization spec says', () => {
    let clientId: string;
    let readToken: string;

    beforeAll(async () => {
      clientId = await adminClient([mcpUrl, OTHER_RESOURCE]);
      readToken = await tokenFor(clientId, mcpUrl, READ);
    });

    it('a valid token for this resource is accepted (the baseline of the refusals below)', async () => {
      const response = await rawMcp(readToken, callTool('whoami'));
      expect(response.status).toBe(200);
      const body = (await response.json()) as any;
      expect(JSON.parse(body.result.content[0].text)).toMatchObject({ subject: user.id, clientId });
    });

    it('the MCP endpoint: no GET stream and no sessions (stateless), a batch is guarded by its most demanding tool', async () => {
      const get = await fetch(mcpUrl, { headers: { authorization: `Bearer ${readToken}`, accept: 'text/event-stream' } });
      expect(get.status).toBe(405);
      expect(get.headers.get('allow')).toBe('POST');
      // Without a token the GET is refused first: nothing of the server is reachable unauthenticated.
      expect((await fetch(mcpUrl, { headers: { accept: 'text/event-stream' } })).status).toBe(401);
      const batch = await fetch(mcpUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${readToken}` },
        body: JSON.stringify([
          { jsonrpc: '2.0', id: 1, ...callTool('whoami') },
          { jsonrpc: '2.0', id: 2, ...callTool('add_note', { text: 'hidden in a batch' }) },
        ]),
      });
      expect(batch.status).toBe(403);
      expect(batch.headers.get('www-authenticate')).toContain(`error="insufficient_scope", scope="${READ} ${WRITE}"`);
    });

    it('a request naming another Host is refused before anything else (DNS rebinding of a loopback server)', async () => {
      const { request } = await import('node:http');
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(mcpUrl, { method: 'POST', headers: { host: 'attacker.example', 'content-type': 'application/json' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end('{}');
      });
      expect(status).toBe(403);
    });

    it('a token Gatehouse issued for another resource: 401 invalid_token (no token passthrough)', async () => {
      const other = await tokenFor(clientId, OTHER_RESOURCE, READ);
      expect([decodeJwt(other).aud].flat()).toEqual([OTHER_RESOURCE]);
      const response = await rawMcp(other, callTool('whoami'));
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe(
        `Bearer realm="${mcpUrl}", error="invalid_token", scope="${READ}", resource_metadata="${mcpOrigin}/.well-known/oauth-protected-resource/mcp"`,
      );
      await waitFor('the refusal log line', async () => (/refused POST \/mcp: invalid_token \(401\)/.test(mcp.stderr()) ? true : undefined));
    });

    it('a token without the tool\'s scope: 403 insufficient_scope naming every scope the call needs (step-up)', async () => {
      const response = await rawMcp(readToken, callTool('add_note', { text: 'no' }));
      expect(response.status).toBe(403);
      expect(response.headers.get('www-authenticate')).toBe(
        `Bearer realm="${mcpUrl}", error="insufficient_scope", scope="${READ} ${WRITE}", resource_metadata="${mcpOrigin}/.well-known/oauth-protected-resource/mcp"`,
      );
      expect(await response.json()).toEqual({ error: 'insufficient_scope', error_description: 'The credential does not grant access to this resource.' });
      // The other tool still works with it.
      expect((await rawMcp(readToken, callTool('whoami'))).status).toBe(200);
    });

    it('a revoked token: refused 401 invalid_token as soon as the revocation reaches the server', async () => {
      const token = await tokenFor(clientId, mcpUrl, READ);
      expect((await rawMcp(token, callTool('whoami'))).status).toBe(200);
      const revoked = await fetch(`${issuer}/oauth/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token, token_type_hint: 'access_token', client_id: clientId }),
      });
      expect(revoked.status).toBe(200);
      // The example follows Gatehouse's revocation stream (GATEHOUSE_VERIFIER_KEY): no waiting for the token's exp.
      const refused = await waitFor('the revoked token refused', async () => {
        const response = await rawMcp(token, callTool('whoami'));
        return response.status === 200 ? undefined : response;
      });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token"');
      // Other tokens of the same client are unaffected.
      expect((await rawMcp(readToken, callTool('whoami'))).status).toBe(200);
    });

    it('an expired token: 401 invalid_token (the example app with its clock past the token\'s exp)', async () => {
      const { createMcpApp } = (await import(pathToFileURL(join(REPO_ROOT, 'examples/mcp-server/src/app.js')).href)) as {
        createMcpApp(options: Record<string, unknown>): (req: unknown, res: unknown) => void;
      };
      const exp = decodeJwt(readToken).exp!;
      let now = Date.now();
      const authenticator = createAuthenticator({ issuer, gatehouseUrl: gatehouse.url, audience: mcpUrl, now: () => now });
      const lines: string[] = [];
      const { createServer } = await import('node:http');
      // The same app and the same resource as the spawned server, on another port, with a clock the test moves.
      const server: HttpServer = createServer(createMcpApp({ authenticator, resource: mcpUrl, log: (line: string) => lines.push(line) }) as never);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
      try {
        expect((await rawMcp(readToken, callTool('whoami'), url)).status).toBe(200);
        // Past exp and the 60 s clock tolerance.
        now = exp * 1000 + 61_000;
        const response = await rawMcp(readToken, callTool('whoami'), url);
        expect(response.status).toBe(401);
        expect(response.headers.get('www-authenticate')).toBe(
          `Bearer realm="${mcpUrl}", error="invalid_token", scope="${READ}", resource_metadata="${mcpOrigin}/.well-known/oauth-protected-resource/mcp"`,
        );
        await waitFor('the refusal log line', async () => (lines.includes('refused POST /mcp: expired_token (401)') ? true : undefined));
      } finally {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await authenticator.close();
      }
    });
  });
});
