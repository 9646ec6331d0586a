import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../src/core/random.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const valid = { identifier: 'https://api.example.com/v1', name: 'API', scopes: ['orders:read'] };

describe('resource endpoints refuse bad input', () => {
  let t: TestApp;
  let id: string;
  beforeAll(async () => {
    t = await createTestApp();
    id = (await t.api('POST', '/v1/resources', { body: valid })).body.id;
  });
  afterAll(() => t.close());

  const expectInvalid = async (response: { status: number; body: any }, pattern: RegExp) => {
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_request');
    expect(response.body.error_description).toMatch(pattern);
  };

  it.each([
    ['an unknown field', { ...valid, identifier: 'https://a.example.com', audience: 'x' }, /unknown field "audience"/],
    ['a missing identifier', { name: 'x' }, /identifier/],
    ['a missing name', { identifier: 'https://b.example.com' }, /name/],
    ['an identifier of the wrong type', { ...valid, identifier: 42 }, /identifier/],
    ['a relative identifier', { ...valid, identifier: '/api' }, /absolute URI/],
    ['an identifier with a fragment', { ...valid, identifier: 'https://c.example.com/#top' }, /fragment/],
    ['an identifier that is not a URI', { ...valid, identifier: 'not a uri' }, /absolute URI/],
    ['scopes of the wrong type', { ...valid, identifier: 'https://d.example.com', scopes: 'orders:read' }, /scopes/],
    ['a scope with a space', { ...valid, identifier: 'https://e.example.com', scopes: ['a b'] }, /scope token/],
    ['an OpenID scope', { ...valid, identifier: 'https://f.example.com', scopes: ['openid'] }, /OpenID/],
    ['a management scope for self-registered clients', { ...valid, identifier: 'https://g.example.com', scopes: ['admin'], dynamicClients: true }, /management scope/],
    ['dynamicClients of the wrong type', { ...valid, identifier: 'https://h.example.com', dynamicClients: 'yes' }, /dynamicClients/],
    ['a too short token lifetime', { ...valid, identifier: 'https://i.example.com', accessTokenTtlSeconds: 5 }, /accessTokenTtlSeconds/],
    ['a bad tenant id', { ...valid, identifier: 'https://j.example.com', tenantId: 'a b' }, /tenantId/],
  ])('POST refuses %s', async (_name, body, pattern) => {
    await expectInvalid(await t.api('POST', '/v1/resources', { body }), pattern);
  });

  it('a second resource with the same identifier is a conflict (409), and so is renaming one onto it', async () => {
    const again = await t.api('POST', '/v1/resources', { body: { ...valid, name: 'other' } });
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('conflict');
    const other = (await t.api('POST', '/v1/resources', { body: { ...valid, identifier: 'https://other.example.com' } })).body;
    const renamed = await t.api('PATCH', `/v1/resources/${other.id}`, { body: { identifier: valid.identifier } });
    expect(renamed.status).toBe(409);
    expect((await t.api('GET', `/v1/resources/${other.id}`)).body.identifier).toBe('https://other.example.com');
  });

  it.each([
    ['an empty patch', {}, /at least 1|fewer than 1|minProperties|property/i],
    ['an unknown field', { tenantId: 't' }, /unknown field "tenantId"/],
    ['a bad identifier', { identifier: 'https://x.example.com#f' }, /fragment/],
    ['a management scope on a resource self-registered clients may ask for', { scopes: ['keys:write'], dynamicClients: true }, /management scope/],
  ])('PATCH refuses %s', async (_name, body, pattern) => {
    await expectInvalid(await t.api('PATCH', `/v1/resources/${id}`, { body }), pattern);
  });

  it('turning dynamicClients on is validated against the scopes already there', async () => {
    const privileged = (await t.api('POST', '/v1/resources', { body: { identifier: 'https://priv.example.com', name: 'p', scopes: ['users:read'] } })).body;
    await expectInvalid(await t.api('PATCH', `/v1/resources/${privileged.id}`, { body: { dynamicClients: true } }), /management scope/);
  });

  it('unknown, malformed and deleted ids', async () => {
    expect((await t.api('GET', `/v1/resources/${newId('res')}`)).status).toBe(404);
    expect((await t.api('PATCH', `/v1/resources/${newId('res')}`, { body: { name: 'x' } })).status).toBe(404);
    expect((await t.api('DELETE', `/v1/resources/${newId('res')}`)).status).toBe(404);
    expect((await t.api('GET', '/v1/resources/cli_abc')).status).toBe(400);
    const gone = (await t.api('POST', '/v1/resources', { body: { identifier: 'https://gone.example.com', name: 'g' } })).body;
    await t.api('DELETE', `/v1/resources/${gone.id}`);
    expect((await t.api('PATCH', `/v1/resources/${gone.id}`, { body: { name: 'x' } })).status).toBe(404);
  });
});
