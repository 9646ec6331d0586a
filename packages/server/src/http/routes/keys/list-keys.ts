import { Type } from '@sinclair/typebox';
import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { decodeCursor, page } from '../../cursor.js';
import { ApiKey, apiKeyView, Environment } from '../../schemas/api-key.js';
import { Cursor, errorResponses, Nullable, PageLimit, TenantId } from '../../schemas/common.js';

export function registerListKeys(app: App, { apiKeys, clock }: Services): void {
  app.get(
    '/v1/keys',
    {
      config: { scope: 'keys:read' },
      schema: {
        tags: ['keys'],
        summary: 'List API keys, newest first',
        security: [{ adminKey: [] }],
        querystring: Type.Object(
          {
            limit: PageLimit(100, 20),
            cursor: Type.Optional(Cursor),
            tenantId: Type.Optional(TenantId),
            environment: Type.Optional(Environment),
            status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('revoked')])),
            name: Type.Optional(
              Type.String({ minLength: 1, maxLength: 200, description: 'Keys whose name contains this, ignoring case (taken literally: no wildcards).' }),
            ),
            prefix: Type.Optional(
              Type.String({ minLength: 1, maxLength: 64, description: 'Keys whose display prefix starts with this, e.g. sk_live_Ab12 (case-sensitive).' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ data: Type.Array(ApiKey), nextCursor: Nullable(Type.String()) }),
          ...errorResponses(400, 401, 403, 429),
        },
      },
    },
    async (request) => {
      const { limit, cursor, name, ...filters } = request.query;
      const after = decodeCursor(cursor);
      const result = await page(
        limit,
        (n) => apiKeys.list(request.admin!, { ...filters, nameContains: name, limit: n, after }),
        (key) => ({ at: key.createdAt, id: key.id }),
      );
      const now = clock.now();
      return { data: result.items.map((key) => apiKeyView(key, now, apiKeys.pendingLastUsedAt(key.id))), nextCursor: result.nextCursor };
    },
  );
}
