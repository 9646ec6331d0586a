import { Type } from '@sinclair/typebox';
import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { decodeCursor, page } from '../../cursor.js';
import { clientView, OAuthClientSchema } from '../../schemas/client.js';
import { Cursor, errorResponses, Nullable, PageLimit, TenantId } from '../../schemas/common.js';

export function registerListClients(app: App, { clients, clock }: Services): void {
  app.get(
    '/v1/clients',
    {
      config: { scope: 'clients:read' },
      schema: {
        tags: ['clients'],
        summary: 'List OAuth clients, newest first (deleted clients are not listed)',
        security: [{ adminKey: [] }],
        querystring: Type.Object(
          { limit: PageLimit(100, 20), cursor: Type.Optional(Cursor), tenantId: Type.Optional(TenantId) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ data: Type.Array(OAuthClientSchema), nextCursor: Nullable(Type.String()) }),
          ...errorResponses(400, 401, 403, 429),
        },
      },
    },
    async (request) => {
      const { limit, cursor, tenantId } = request.query;
      const after = decodeCursor(cursor);
      const result = await page(
        limit,
        (n) => clients.list(request.admin!, { tenantId, limit: n, after }),
        (client) => ({ at: client.createdAt, id: client.id }),
      );
      const now = clock.now();
      return { data: result.items.map((client) => clientView(client, now)), nextCursor: result.nextCursor };
    },
  );
}
