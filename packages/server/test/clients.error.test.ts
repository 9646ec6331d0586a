import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../src/core/random.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const valid = {
  name: 'app',
  redirectUris: ['https://app.example.com/cb'],
  grantTypes: ['authorization_code'],
  tokenEndpointAuthMethod: 'client_secret_basic',
};

describe('OAuth client endpoints refuse bad input', () => {
  let t: TestApp;
  let confidentialId: string;
  let publicId: string;
  beforeAll(async () => {
    t = await createTestApp();
    confidentialId = (await t.api('POST', '/v1/clients', { body: valid })).body.clientId;
    publicId = (await t.api('POST', '/v1/clients', { body: { ...valid, tokenEndpointAuthMethod: 'none' } })).body.clientId;
  });
  afterAll(() => t.close());

  const expectInvalid = async (response: { status: number; body: any }, pattern: RegExp) => {
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_request');
    expect(response.body.error_description).toMatch(pattern);
  };

  it.each([
    ['an unknown field', { ...valid, client_secret: 'mine' }, /unknown field "client_secret"/],
    ['a missing name', { ...valid, name: undefined }, /name/],
    ['a missing tokenEndpointAuthMethod', { ...valid, tokenEndpointAuthMethod: undefined }, /tokenEndpointAuthMethod/],
    ['an unknown auth method', { ...valid, tokenEndpointAuthMethod: 'private_key_jwt' }, /tokenEndpointAuthMethod/],
    ['an unknown grant', { ...valid, grantTypes: ['password'] }, /grantTypes/],
    ['the implicit grant', { ...valid, grantTypes: ['implicit'] }, /grantTypes/],
    ['no grant at all', { ...valid, grantTypes: [] }, /grantTypes/],
    ['refresh_token without authorization_code', { ...valid, grantTypes: ['client_credentials', 'refresh_token'] }, /refresh_token/],
    ['client_credentials for a public client', { ...valid, tokenEndpointAuthMethod: 'none', grantTypes: ['client_credentials'] }, /confidential/],
    ['authorization_code without redirect URIs', { ...valid, redirectUris: [] }, /at least one redirect URI/],
    ['a refused redirect URI', { ...valid, redirectUris: ['http://app.example.com/cb'] }, /redirectUris.*loopback/],
    ['http://localhost for a confidential client', { ...valid, redirectUris: ['http://localhost:3000/cb'] }, /localhost is only for public clients/],
    ['http://LOCALHOST for a public client', { ...valid, tokenEndpointAuthMethod: 'none', redirectUris: ['http://LOCALHOST:3000/cb'] }, /lowercase/],
    ['an ID token algorithm no signing key has', { ...valid, idTokenSignedResponseAlg: 'ES256' }, /idTokenSignedResponseAlg must be one of .*RS256, EdDSA/],
    ['a symmetric ID token algorithm', { ...valid, idTokenSignedResponseAlg: 'HS256' }, /idTokenSignedResponseAlg/],
    ['the none ID token algorithm', { ...valid, idTokenSignedResponseAlg: 'none' }, /idTokenSignedResponseAlg/],
    ['a fragment in a redirect URI', { ...valid, redirectUris: ['https://app.example.com/cb#x'] }, /fragment/],
    ['a javascript: redirect URI', { ...valid, redirectUris: ['javascript:alert(1)'] }, /javascript/],
    ['a scope with a space', { ...valid, scopes: ['read write'] }, /scopes/],
    ['a scope with a quote', { ...valid, scopes: ['a"b'] }, /scopes/],
    ['an empty scope', { ...valid, scopes: [''] }, /scopes/],
    ['an audience with a space', { ...valid, audiences: ['https://a b'] }, /audiences/],
    ['a default audience not among the audiences', { ...valid, audiences: ['https://a'], defaultAudience: 'https://b' }, /defaultAudience/],
    ['a TTL below 60 s', { ...valid, accessTokenTtlSeconds: 59 }, /accessTokenTtlSeconds/],
    ['a TTL above 1 day', { ...valid, accessTokenTtlSeconds: 86_401 }, /accessTokenTtlSeconds/],
    ['a TTL that is not an integer', { ...valid, accessTokenTtlSeconds: 60.5 }, /accessTokenTtlSeconds/],
    ['a TTL given as a string', { ...valid, accessTokenTtlSeconds: '600' }, /accessTokenTtlSeconds/],
    ['too many redirect URIs', { ...valid, redirectUris: Array.from({ length: 21 }, (_, i) => `https://a.example.com/${i}`) }, /redirectUris/],
    ['a bad tenant id', { ...valid, tenantId: 'a b' }, /tenantId/],
  ])('POST /v1/clients with %s: 400', async (_label, body, pattern) => {
    await expectInvalid(await t.api('POST', '/v1/clients', { body }), pattern);
  });

  it('PATCH validates the result as a whole', async () => {
    await expectInvalid(await t.api('PATCH', `/v1/clients/${confidentialId}`, { body: { redirectUris: [] } }), /redirect URI/);
    await expectInvalid(await t.api('PATCH', `/v1/clients/${confidentialId}`, { body: { grantTypes: ['refresh_token'] } }), /refresh_token/);
    await expectInvalid(await t.api('PATCH', `/v1/clients/${publicId}`, { body: { grantTypes: ['client_credentials'] } }), /confidential/);
    await expectInvalid(await t.api('PATCH', `/v1/clients/${confidentialId}`, { body: { defaultAudience: 'https://nope' } }), /defaultAudience/);
    await expectInvalid(await t.api('PATCH', `/v1/clients/${confidentialId}`, { body: { redirectUris: ['http://localhost:3000/cb'] } }), /only for public clients/);
    await expectInvalid(await t.api('PATCH', `/v1/clients/${confidentialId}`, { body: { idTokenSignedResponseAlg: 'ES256' } }), /idTokenSignedResponseAlg/);
    await expectInvalid(await t.api('PATCH', `/v1/clients/${confidentialId}`, { body: {} }), /fewer than 1|properties/);
    await expectInvalid(await t.api('PATCH', `/v1/clients/${confidentialId}`, { body: { tenantId: 'other' } }), /unknown field "tenantId"/);
    await expectInvalid(await t.api('PATCH', `/v1/clients/${confidentialId}`, { body: { clientSecret: 'x' } }), /unknown field/);
    // Nothing was changed by the refused requests.
    expect((await t.api('GET', `/v1/clients/${confidentialId}`)).body).toMatchObject({ ...valid });
  });

  it('PATCH cannot turn a public client into a confidential one or back', async () => {
    await expectInvalid(
      await t.api('PATCH', `/v1/clients/${publicId}`, { body: { tokenEndpointAuthMethod: 'client_secret_basic' } }),
      /public client/,
    );
    await expectInvalid(await t.api('PATCH', `/v1/clients/${confidentialId}`, { body: { tokenEndpointAuthMethod: 'none' } }), /public client/);
  });

  it('a public client has no secret to rotate', async () => {
    await expectInvalid(await t.api('POST', `/v1/clients/${publicId}/secret/rotate`), /no secret/);
  });

  it('rotation refuses a grace period out of range and unknown fields', async () => {
    for (const body of [{ gracePeriodSeconds: -1 }, { gracePeriodSeconds: 30 * 86_400 + 1 }, { gracePeriodSeconds: 1.5 }, { revokeOld: true }]) {
      expect((await t.api('POST', `/v1/clients/${confidentialId}/secret/rotate`, { body })).status).toBe(400);
    }
  });

  it('404 for unknown clients; 400 for ids of the wrong shape', async () => {
    const unknown = newId('cli');
    for (const [method, url, body] of [
      ['GET', `/v1/clients/${unknown}`, undefined],
      ['PATCH', `/v1/clients/${unknown}`, { name: 'x' }],
      ['DELETE', `/v1/clients/${unknown}`, undefined],
      ['POST', `/v1/clients/${unknown}/secret/rotate`, {}],
    ] as const) {
      const r = await t.api(method, url, { body });
      expect(r.status, `${method} ${url}`).toBe(404);
      expect(r.body.error).toBe('not_found');
    }
    expect((await t.api('GET', '/v1/clients/key_abc')).status).toBe(400);
    expect((await t.api('GET', '/v1/clients/cli_short')).status).toBe(404);
  });

  it('list refuses bad limits and cursors', async () => {
    expect((await t.api('GET', '/v1/clients?limit=0')).status).toBe(400);
    expect((await t.api('GET', '/v1/clients?limit=101')).status).toBe(400);
    expect((await t.api('GET', '/v1/clients?cursor=nope')).body.error).toBe('invalid_request');
    expect((await t.api('GET', '/v1/clients?status=active')).status).toBe(400);
  });

  it('401 without a key; 403 with a key lacking the clients scope', async () => {
    expect((await t.api('GET', '/v1/clients', { key: null })).status).toBe(401);
    const keysOnly = (await t.createKey({ scopes: ['keys:read', 'keys:write'] })).key;
    const reader = (await t.createKey({ scopes: ['clients:read'] })).key;
    for (const [key, method, url, body] of [
      [keysOnly, 'GET', '/v1/clients', undefined],
      [keysOnly, 'POST', '/v1/clients', valid],
      [reader, 'POST', '/v1/clients', valid],
      [reader, 'PATCH', `/v1/clients/${confidentialId}`, { name: 'x' }],
      [reader, 'DELETE', `/v1/clients/${confidentialId}`, undefined],
      [reader, 'POST', `/v1/clients/${confidentialId}/secret/rotate`, {}],
    ] as const) {
      const r = await t.api(method, url, { key, body });
      expect(r.status, `${method} ${url}`).toBe(403);
      expect(r.body.error).toBe('insufficient_scope');
    }
    // A key cannot hand out the clients scopes unless it holds them.
    const r = await t.api('POST', '/v1/keys', { key: keysOnly, body: { name: 'x', scopes: ['clients:write'] } });
    expect(r.status).toBe(403);
  });
});
