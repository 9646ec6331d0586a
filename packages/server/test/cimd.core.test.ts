import { describe, expect, it } from 'vitest';
import { cacheLifetimeSeconds, type CacheHeaders } from '../src/core/oauth/client-id-metadata/cache-lifetime.js';
import { hostPatternProblem, hostPolicyProblem, type HostPolicy } from '../src/core/oauth/client-id-metadata/host-policy.js';
import { isMetadataDocumentClientId, metadataDocumentUrlProblem } from '../src/core/oauth/client-id-metadata/metadata-document-url.js';
import { validateMetadataDocument } from '../src/core/oauth/client-id-metadata/validate-metadata-document.js';

const URL_ID = 'https://app.example/oauth/client.json';

describe('client_id metadata document URLs', () => {
  const rows: Array<[string, string | null]> = [
    ['https://app.example/oauth/client.json', null],
    ['https://app.example:8443/client', null],
    ['https://app.example/client?v=1', null],
    ['https://127.0.0.1/client', null],
    ['http://app.example/client', 'url_not_https'],
    ['HTTPS://app.example/client', 'url_not_https'],
    ['https://app.example', 'url_has_no_path'],
    ['https://app.example/', 'url_has_no_path'],
    ['https://app.example?x=1', 'url_has_no_path'],
    ['https://app.example/client#frag', 'url_has_fragment'],
    ['https://user@app.example/client', 'url_has_userinfo'],
    ['https://user:pw@app.example/client', 'url_has_userinfo'],
    ['https://app.example/a/../client', 'url_has_dot_segment'],
    ['https://app.example/./client', 'url_has_dot_segment'],
    ['https://app.example/a/%2E%2E/client', 'url_has_dot_segment'],
    ['https://app.example/a/..', 'url_has_dot_segment'],
    ['https://app.example/a/..b/client', null],
    ['https://APP.example/client', 'url_not_canonical'],
    ['https://app.example:443/client', 'url_not_canonical'],
    ['https://app.example/cl ient', 'url_not_printable_ascii'],
    ['https://app.example/clïent', 'url_not_printable_ascii'],
    [`https://app.example/${'a'.repeat(1100)}`, 'url_too_long'],
    ['https://[::1/client', 'url_invalid'],
  ];
  it.each(rows)('%s -> %s', (id, problem) => {
    expect(metadataDocumentUrlProblem(id)).toBe(problem);
  });

  it('routes only https:// client_ids to the documents', () => {
    expect(isMetadataDocumentClientId(URL_ID)).toBe(true);
    expect(isMetadataDocumentClientId('cli_0123456789012345678901')).toBe(false);
    expect(isMetadataDocumentClientId('http://app.example/client')).toBe(false);
  });
});

describe('host policy', () => {
  const open: HostPolicy = { allowedHosts: [], deniedHosts: [], allowLoopback: false };
  const rows: Array<[string, string, HostPolicy, string | null]> = [
    ['public name, no lists', 'app.example', open, null],
    ['localhost', 'localhost', open, 'host_loopback'],
    ['a .localhost name', 'app.localhost', open, 'host_loopback'],
    ['loopback IPv4', '127.0.0.1', open, 'host_private_address'],
    ['loopback IPv6', '::1', open, 'host_private_address'],
    ['private IPv4', '10.1.2.3', open, 'host_private_address'],
    ['link-local (metadata service)', '169.254.169.254', open, 'host_private_address'],
    ['IPv4-mapped loopback', '::ffff:127.0.0.1', open, 'host_private_address'],
    ['public IP', '93.184.216.34', open, null],
    ['localhost with ALLOW_LOOPBACK', 'localhost', { ...open, allowLoopback: true }, null],
    ['private IP with ALLOW_LOOPBACK', '10.1.2.3', { ...open, allowLoopback: true }, null],
    ['denied exactly', 'evil.example', { ...open, deniedHosts: ['evil.example'] }, 'host_denied'],
    ['denied by wildcard', 'a.evil.example', { ...open, deniedHosts: ['*.evil.example'] }, 'host_denied'],
    ['wildcard does not cover the apex', 'evil.example', { ...open, deniedHosts: ['*.evil.example'] }, null],
    ['wildcard does not match a suffix without a dot', 'notevil.example', { ...open, deniedHosts: ['*.evil.example'] }, null],
    ['allowed list, listed', 'app.example', { ...open, allowedHosts: ['app.example'] }, null],
    ['allowed list, not listed', 'other.example', { ...open, allowedHosts: ['app.example'] }, 'host_not_allowed'],
    ['allowed by wildcard', 'x.apps.example', { ...open, allowedHosts: ['*.apps.example'] }, null],
    ['denied wins over allowed', 'app.example', { ...open, allowedHosts: ['app.example'], deniedHosts: ['app.example'] }, 'host_denied'],
    ['allowed does not lift the loopback rule', 'localhost', { ...open, allowedHosts: ['localhost'] }, 'host_loopback'],
    ['case-insensitive', 'APP.example', { ...open, deniedHosts: ['app.example'] }, 'host_denied'],
  ];
  it.each(rows)('%s', (_name, host, policy, problem) => {
    expect(hostPolicyProblem(host, policy)).toBe(problem);
  });

  it('checks configured host patterns', () => {
    expect(hostPatternProblem('app.example')).toBeNull();
    expect(hostPatternProblem('*.app.example')).toBeNull();
    expect(hostPatternProblem('127.0.0.1')).toBeNull();
    expect(hostPatternProblem('[::1]')).toBeNull();
    expect(hostPatternProblem('App.example')).not.toBeNull();
    expect(hostPatternProblem('*app.example')).not.toBeNull();
    expect(hostPatternProblem('https://app.example')).not.toBeNull();
  });
});

describe('cache lifetime', () => {
  const now = Date.UTC(2026, 11, 6, 12, 0, 0);
  const rows: Array<[string, CacheHeaders, number]> = [
    ['no headers: the minimum', {}, 300],
    ['max-age within bounds', { cacheControl: 'public, max-age=3600' }, 3600],
    ['max-age below the minimum', { cacheControl: 'max-age=10' }, 300],
    ['max-age above the maximum', { cacheControl: 'max-age=9999999' }, 86_400],
    ['max-age less Age', { cacheControl: 'max-age=3600', age: '600' }, 3000],
    ['no-store', { cacheControl: 'no-store, max-age=3600' }, 300],
    ['no-cache', { cacheControl: 'no-cache' }, 300],
    ['malformed max-age', { cacheControl: 'max-age=abc' }, 300],
    ['quoted max-age', { cacheControl: 'max-age="1200"' }, 1200],
    ['Expires against Date', { expires: new Date(now + 7200_000).toUTCString(), date: new Date(now).toUTCString() }, 7200],
    ['Expires without Date: against receipt', { expires: new Date(now + 1800_000).toUTCString() }, 1800],
    ['Expires in the past', { expires: new Date(now - 1000).toUTCString() }, 300],
    ['Expires malformed', { expires: '0' }, 300],
    ['max-age wins over Expires', { cacheControl: 'max-age=600', expires: new Date(now + 7200_000).toUTCString() }, 600],
  ];
  it.each(rows)('%s', (_name, headers, seconds) => {
    expect(cacheLifetimeSeconds(headers, now)).toBe(seconds);
  });
  it('takes other bounds', () => {
    expect(cacheLifetimeSeconds({ cacheControl: 'max-age=5' }, now, { minSeconds: 1, maxSeconds: 10 })).toBe(5);
  });
});

describe('metadata document validation', () => {
  const base = {
    client_id: URL_ID,
    client_name: 'Example MCP Client',
    redirect_uris: ['http://127.0.0.1/callback', 'https://app.example/callback'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    scope: 'openid read',
  };
  const options = { fetchedAt: 1000, idTokenAlgs: ['RS256', 'EdDSA'] as const };
  const validate = (doc: unknown) => validateMetadataDocument(URL_ID, doc, { ...options, idTokenAlgs: [...options.idTokenAlgs] });

  it('turns a good document into the client view', () => {
    const result = validate(base);
    expect(result).toMatchObject({
      ok: true,
      client: {
        id: URL_ID,
        name: 'Example MCP Client',
        registration: 'metadata_document',
        tenantId: null,
        audiences: [],
        scopes: ['openid', 'read'],
        grantTypes: ['authorization_code', 'refresh_token'],
        tokenEndpointAuthMethod: 'none',
        redirectUris: base.redirect_uris,
        secretHash: null,
        deletedAt: null,
        idTokenSignedResponseAlg: 'RS256',
      },
    });
  });

  it('private_key_jwt with public keys inline', () => {
    const jwks = { keys: [{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b' }] };
    expect(validate({ ...base, token_endpoint_auth_method: 'private_key_jwt', jwks })).toMatchObject({ ok: true, client: { tokenEndpointAuthMethod: 'private_key_jwt', jwks } });
  });

  it('defaults: name = host, grants = authorization_code, no scopes', () => {
    const result = validate({ client_id: URL_ID, redirect_uris: ['https://app.example/cb'] });
    expect(result).toMatchObject({ ok: true, client: { name: 'app.example', grantTypes: ['authorization_code'], scopes: [] } });
  });

  const refusals: Array<[string, unknown, string]> = [
    ['not an object', [base], 'document_not_object'],
    ['null', null, 'document_not_object'],
    ['client_id mismatch', { ...base, client_id: 'https://app.example/other.json' }, 'client_id_mismatch'],
    ['client_id missing', { ...base, client_id: undefined }, 'client_id_mismatch'],
    ['client_id with a trailing slash', { ...base, client_id: `${URL_ID}/` }, 'client_id_mismatch'],
    ['client_secret', { ...base, client_secret: 'shh' }, 'client_secret_not_allowed'],
    ['client_secret_expires_at', { ...base, client_secret_expires_at: 0 }, 'client_secret_not_allowed'],
    ['client_secret_basic', { ...base, token_endpoint_auth_method: 'client_secret_basic' }, 'shared_secret_auth_method_not_allowed'],
    ['client_secret_post', { ...base, token_endpoint_auth_method: 'client_secret_post' }, 'shared_secret_auth_method_not_allowed'],
    ['client_secret_jwt', { ...base, token_endpoint_auth_method: 'client_secret_jwt' }, 'shared_secret_auth_method_not_allowed'],
    ['private_key_jwt without jwks', { ...base, token_endpoint_auth_method: 'private_key_jwt' }, 'jwks_missing'],
    ['private_key_jwt with jwks_uri only', { ...base, token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://app.example/jwks' }, 'jwks_uri_not_supported'],
    ['private_key_jwt with no keys', { ...base, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [] } }, 'jwks_invalid'],
    ['private_key_jwt with a private key', { ...base, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b', d: 'c' }] } }, 'jwks_not_public'],
    ['private_key_jwt with a symmetric key', { ...base, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }, 'jwks_not_public'],
    ['private_key_jwt with http://localhost (a confidential client)', { ...base, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b' }] }, redirect_uris: ['http://localhost/cb'] }, 'redirect_uri_invalid'],
    ['tls_client_auth', { ...base, token_endpoint_auth_method: 'tls_client_auth' }, 'token_endpoint_auth_method_unsupported'],
    ['no redirect_uris', { ...base, redirect_uris: undefined }, 'redirect_uris_missing'],
    ['empty redirect_uris', { ...base, redirect_uris: [] }, 'redirect_uris_missing'],
    ['redirect_uris not strings', { ...base, redirect_uris: [1] }, 'redirect_uris_missing'],
    ['javascript: redirect', { ...base, redirect_uris: ['javascript:alert(1)'] }, 'redirect_uri_invalid'],
    ['plain http redirect', { ...base, redirect_uris: ['http://app.example/cb'] }, 'redirect_uri_invalid'],
    ['redirect with a fragment', { ...base, redirect_uris: ['https://app.example/cb#x'] }, 'redirect_uri_invalid'],
    ['client_credentials', { ...base, grant_types: ['client_credentials'] }, 'grant_type_not_allowed'],
    ['implicit', { ...base, grant_types: ['authorization_code', 'implicit'] }, 'grant_type_not_allowed'],
    ['refresh_token alone', { ...base, grant_types: ['refresh_token'] }, 'grant_types_without_authorization_code'],
    ['token response type', { ...base, response_types: ['token'] }, 'response_types_not_code'],
    ['malformed scope', { ...base, scope: 'a  b' }, 'scope_invalid'],
    ['scope not a string', { ...base, scope: ['read'] }, 'scope_invalid'],
    ['unknown id token alg', { ...base, id_token_signed_response_alg: 'HS256' }, 'id_token_signed_response_alg_unsupported'],
    ['id token alg not signed with here', { ...base, id_token_signed_response_alg: 'ES256' }, 'id_token_signed_response_alg_unsupported'],
    ['client_name with control characters', { ...base, client_name: 'Good\u202eApp' }, 'client_name_invalid'],
    ['client_name too long', { ...base, client_name: 'x'.repeat(201) }, 'client_name_invalid'],
    ['bad post_logout_redirect_uris', { ...base, post_logout_redirect_uris: ['http://app.example/'] }, 'post_logout_redirect_uris_invalid'],
  ];
  it.each(refusals)('refuses: %s', (_name, doc, reason) => {
    expect(validate(doc)).toEqual({ ok: false, reason });
  });
});
