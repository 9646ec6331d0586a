import { Type } from '@sinclair/typebox';
import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { decodeCursor, page } from '../../cursor.js';
import { Cursor, errorResponses, Nullable, PageLimit, TenantId } from '../../schemas/common.js';
import { webhookEndpointView, WebhookEndpointSchema } from '../../schemas/webhook-endpoint.js';

export function registerListWebhookEndpoints(app: App, { webhookEndpoints, clock }: Services): void {
  app.get(
    '/v1/webhook-endpoints',
    {
      config: { scope: 'webhooks:read' },
      schema: {
        tags: ['webhooks'],
        summary: 'List webhook endpoints, newest first',
        security: [{ adminKey: [] }],
        querystring: Type.Object(
          { limit: PageLimit(100, 20), cursor: Type.Optional(Cursor), tenantId: Type.Optional(TenantId) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ data: Type.Array(WebhookEndpointSchema), nextCursor: Nullable(Type.String()) }),
          ...errorResponses(400, 401, 403, 429),
        },
      },
    },
    async (request) => {
      const { limit, cursor, tenantId } = request.query;
      const after = decodeCursor(cursor);
      const result = await page(
        limit,
        (n) => webhookEndpoints.list(request.admin!, { tenantId, limit: n, after }),
        (endpoint) => ({ at: endpoint.createdAt, id: endpoint.id }),
      );
      const now = clock.now();
      return { data: result.items.map((endpoint) => webhookEndpointView(endpoint, now)), nextCursor: result.nextCursor };
    },
  );
}
