/**
 * The pure parts of an issuer with a path (config/issuer-path.ts, the metadata document); served end to end in
 * oauth.issuer-path.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { cookieNameSuffix, issuerBase, issuerPath, issuerPathCollision, rewriteForIssuerPath } from '../src/config/issuer-path.js';
import { authorizationServerMetadata } from '../src/http/routes/oauth/metadata.js';

describe('issuer path', () => {
  it('is the URL path without terminating slashes; the base drops them too, the issuer itself keeps them', () => {
    expect(issuerPath('https://auth.example.com')).toBe('');
    expect(issuerPath('https://auth.example.com/')).toBe('');
    expect(issuerPath('https://auth.example.com/t1/')).toBe('/t1');
    expect(issuerPath('https://auth.example.com/realms/acme')).toBe('/realms/acme');
    expect(issuerBase('https://auth.example.com/t1/')).toBe('https://auth.example.com/t1');
    const metadata = authorizationServerMetadata('https://auth.example.com/t1/', ['EdDSA'], 'https://mtls.example.com');
    expect(metadata).toMatchObject({
      issuer: 'https://auth.example.com/t1/',
      token_endpoint: 'https://auth.example.com/t1/oauth/token',
      jwks_uri: 'https://auth.example.com/t1/.well-known/jwks.json',
      mtls_endpoint_aliases: { token_endpoint: 'https://mtls.example.com/t1/oauth/token' },
    });
  });

  it('maps targets under the path, and the RFC 8414 well-known form, to the routes; leaves everything else alone', () => {
    const cases: Array<[string, string]> = [
      ['/realms/acme/oauth/token', '/oauth/token'],
      ['/realms/acme/oauth/authorize?client_id=a&state=%2F', '/oauth/authorize?client_id=a&state=%2F'],
      ['/realms/acme', '/'],
      ['/realms/acme?x=1', '/?x=1'],
      ['/realms/acme/.well-known/openid-configuration', '/.well-known/openid-configuration'],
      ['/.well-known/oauth-authorization-server/realms/acme', '/.well-known/oauth-authorization-server'],
      ['/.well-known/openid-configuration/realms/acme', '/.well-known/openid-configuration'],
      // Not this issuer: unchanged (and then a 404, or a route at the root).
      ['/realms/acmex/oauth/token', '/realms/acmex/oauth/token'],
      ['/realms/other/oauth/token', '/realms/other/oauth/token'],
      ['/.well-known/oauth-authorization-server/realms/acme/x', '/.well-known/oauth-authorization-server/realms/acme/x'],
      ['/.well-known/oauth-authorization-server/realms', '/.well-known/oauth-authorization-server/realms'],
      ['/oauth/token', '/oauth/token'],
    ];
    for (const [target, routed] of cases) expect(rewriteForIssuerPath(target, '/realms/acme'), target).toBe(routed);
  });

  it("finds a path whose first segment is one of Gatehouse's own", () => {
    const routes = ['/v1/keys', '/oauth/token', '/.well-known/jwks.json', '/healthz'];
    expect(issuerPathCollision('https://a.example/v1', routes)).toBe('/v1');
    expect(issuerPathCollision('https://a.example/oauth/t1', routes)).toBe('/oauth');
    expect(issuerPathCollision('https://a.example/healthz', routes)).toBe('/healthz');
    expect(issuerPathCollision('https://a.example/auth/v1', routes)).toBeUndefined();
    expect(issuerPathCollision('https://a.example/v10', routes)).toBeUndefined();
    expect(issuerPathCollision('https://a.example/', routes)).toBeUndefined();
  });

  it('cookie names differ per path and are unchanged without one', () => {
    expect(cookieNameSuffix('https://a.example')).toBe('');
    expect(cookieNameSuffix('https://a.example/')).toBe('');
    expect(cookieNameSuffix('https://a.example/t1')).toMatch(/^-[0-9a-f]{12}$/);
    expect(cookieNameSuffix('https://a.example/t1')).toBe(cookieNameSuffix('https://b.example/t1/'));
    expect(cookieNameSuffix('https://a.example/t1')).not.toBe(cookieNameSuffix('https://a.example/t2'));
  });
});
