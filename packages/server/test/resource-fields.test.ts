import { describe, expect, it } from 'vitest';
import { resourceFieldsProblem, type ResourceFields } from '../src/core/resources/resource-fields.js';

const valid: ResourceFields = { identifier: 'https://mcp.example.com/mcp', name: 'MCP', scopes: ['tools:call'], dynamicClients: true, accessTokenTtlSeconds: null };

describe('resourceFieldsProblem', () => {
  it.each([
    ['an https URL', {}],
    ['a URN', { identifier: 'urn:example:orders' }],
    ['a trailing slash kept as given', { identifier: 'https://mcp.example.com/' }],
    ['no scopes', { scopes: [] }],
    ['management scopes when only admin clients may ask', { scopes: ['keys:read'], dynamicClients: false }],
    ['a lifetime cap', { accessTokenTtlSeconds: 300 }],
  ])('accepts %s', (_name, change) => {
    expect(resourceFieldsProblem({ ...valid, ...change })).toBeNull();
  });

  it.each([
    ['a relative identifier', { identifier: '/mcp' }, /identifier/],
    ['an identifier with a fragment', { identifier: 'https://mcp.example.com/#x' }, /fragment/],
    ['an empty identifier', { identifier: '' }, /identifier/],
    ['a too long identifier', { identifier: `https://e.com/${'a'.repeat(300)}` }, /identifier/],
    ['an empty name', { name: '  ' }, /name/],
    ['a scope with a space', { scopes: ['a b'] }, /scope token/],
    ['a scope with a quote', { scopes: ['a"b'] }, /scope token/],
    ['an OpenID scope', { scopes: ['openid'] }, /OpenID/],
    ['offline_access', { scopes: ['offline_access'] }, /OpenID/],
    ['a management scope for self-registered clients', { scopes: ['admin'], dynamicClients: true }, /management scope/],
    ['a too short lifetime', { accessTokenTtlSeconds: 10 }, /accessTokenTtlSeconds/],
    ['a fractional lifetime', { accessTokenTtlSeconds: 100.5 }, /accessTokenTtlSeconds/],
  ])('refuses %s', (_name, change, message) => {
    expect(resourceFieldsProblem({ ...valid, ...change })).toMatch(message);
  });
});
