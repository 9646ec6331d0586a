import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VERIFY_CODES } from '../src/core/api-keys/verify-api-key.js';
import { ERROR_CATALOG, OAUTH_ERROR_CATALOG } from '../src/core/errors.js';
import { createTestApp } from './helpers/test-app.js';

const errorsDoc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

/** Rows of the markdown table that follows a heading: first cell (a `code`) and second cell. */
function tableAfter(heading: string): Map<string, string> {
  const section = errorsDoc.slice(errorsDoc.indexOf(heading));
  const rows = new Map<string, string>();
  for (const line of section.split('\n').slice(1)) {
    if (line.startsWith('## ')) break;
    const cells = line.split('|').map((c) => c.trim());
    const code = /^`([A-Za-z_]+)`$/.exec(cells[1] ?? '')?.[1];
    if (code) rows.set(code, cells[2]!);
  }
  return rows;
}

describe('docs/errors.md is in sync with the code', () => {
  it('lists every HTTP error code with its status, and nothing else', () => {
    const documented = tableAfter('## HTTP error codes');
    expect([...documented.keys()].sort()).toEqual(Object.keys(ERROR_CATALOG).sort());
    for (const [code, { status }] of Object.entries(ERROR_CATALOG)) expect(documented.get(code)).toBe(String(status));
  });

  it('lists every OAuth error code with its status', () => {
    const documented = tableAfter('## OAuth error codes');
    expect([...documented.keys()].sort()).toEqual(Object.keys(OAUTH_ERROR_CATALOG).sort());
    for (const [code, { status }] of Object.entries(OAUTH_ERROR_CATALOG)) expect(documented.get(code)).toBe(String(status));
  });

  it('lists every verification result code', () => {
    const documented = tableAfter('## Verification result codes');
    expect([...documented.keys()].sort()).toEqual([...VERIFY_CODES].sort());
    expect(documented.get('VALID')).toBe('true');
  });
});

describe('OpenAPI document and docs page', () => {
  it('serves OpenAPI 3.1 generated from the route schemas, covering every endpoint', async () => {
    const t = await createTestApp();
    try {
      const response = await t.app.inject({ method: 'GET', url: '/openapi.json' });
      expect(response.statusCode).toBe(200);
      const doc = response.json();
      expect(doc.openapi).toBe('3.1.0');
      const operations = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
        Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
      );
      for (const route of [
        'POST /v1/keys',
        'GET /v1/keys',
        'GET /v1/keys/{id}',
        'PATCH /v1/keys/{id}',
        'POST /v1/keys/{id}/rotate',
        'POST /v1/keys/{id}/revoke',
        'POST /v1/keys/verify',
        'GET /v1/blocks',
        'DELETE /v1/blocks/{ip}',
        'POST /v1/leaked-keys',
        'GET /v1/revocations/stream',
        'GET /v1/audit-events',
        'POST /v1/users',
        'GET /v1/users',
        'GET /v1/users/{id}',
        'DELETE /v1/users/{id}',
        'PATCH /v1/users/{id}',
        'GET /v1/users/{id}/sessions',
        'DELETE /v1/users/{id}/sessions',
        'DELETE /v1/users/{id}/sessions/{sessionId}',
        'POST /v1/webhook-endpoints',
        'GET /v1/webhook-endpoints',
        'GET /v1/webhook-endpoints/{id}',
        'PATCH /v1/webhook-endpoints/{id}',
        'DELETE /v1/webhook-endpoints/{id}',
        'POST /v1/webhook-endpoints/{id}/secret/rotate',
        'GET /v1/webhook-endpoints/{id}/deliveries',
        'POST /v1/webhook-endpoints/{id}/deliveries/{deliveryId}/retry',
        'GET /healthz',
        'GET /readyz',
        'GET /.well-known/jwks.json',
        'GET /v1/signing-keys',
        'POST /v1/signing-keys/rotate',
        'DELETE /v1/users/{id}/grants',
        'DELETE /v1/clients/{id}/grants',
        'GET /.well-known/oauth-authorization-server',
        'GET /.well-known/openid-configuration',
        'GET /oauth/authorize',
        'POST /oauth/authorize/login',
        'POST /oauth/authorize/consent',
        'POST /oauth/token',
        'POST /oauth/revoke',
        'POST /oauth/introspect',
        'GET /oauth/userinfo',
        'POST /oauth/userinfo',
        'GET /oauth/logout',
        'POST /oauth/logout',
        'GET /oauth/account/password',
        'POST /oauth/account/password',
      ]) {
        expect(operations).toContain(route);
      }
      const create = doc.paths['/v1/keys'].post;
      expect(create.requestBody.content['application/json'].schema.properties.name).toBeDefined();
      expect(create.responses['201'].content['application/json'].schema.properties.key).toBeDefined();
      expect(create.security).toEqual([{ adminKey: [] }]);
      expect(doc.components.securitySchemes.adminKey).toMatchObject({ type: 'http', scheme: 'bearer' });

      const page = await t.app.inject({ method: 'GET', url: '/docs/' });
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toContain('text/html');
    } finally {
      await t.close();
    }
  });
});
