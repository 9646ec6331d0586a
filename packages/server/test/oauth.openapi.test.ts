import { describe, expect, it } from 'vitest';
import { createTestApp } from './helpers/test-app.js';

describe('OpenAPI document for the OAuth endpoints', () => {
  it('is served, lists the OAuth endpoints, and every security requirement names a declared scheme', async () => {
    const t = await createTestApp();
    try {
      const response = await t.app.inject({ method: 'GET', url: '/openapi.json' });
      expect(response.statusCode).toBe(200);
      const doc = response.json();
      const operations = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, ops]) =>
        Object.entries(ops).map(([method, op]) => ({ route: `${method.toUpperCase()} ${path}`, op })),
      );
      const routes = operations.map((o) => o.route);
      for (const route of [
        'GET /.well-known/openid-configuration',
        'GET /.well-known/oauth-authorization-server',
        'GET /oauth/authorize',
        'POST /oauth/authorize/login',
        'POST /oauth/authorize/consent',
        'POST /oauth/token',
        'POST /oauth/revoke',
        'POST /oauth/introspect',
        'GET /oauth/userinfo',
        'POST /oauth/userinfo',
      ]) {
        expect(routes).toContain(route);
      }
      const declared = Object.keys(doc.components.securitySchemes);
      for (const { op } of operations) {
        for (const requirement of (op.security ?? []) as Array<Record<string, unknown>>) {
          for (const scheme of Object.keys(requirement)) expect(declared).toContain(scheme);
        }
      }
      expect(doc.paths['/oauth/userinfo'].get.security).toStrictEqual([{ bearerAccessToken: [] }]);
      expect(doc.components.securitySchemes.bearerAccessToken).toMatchObject({ type: 'http', scheme: 'bearer' });
    } finally {
      await t.close();
    }
  });
});
