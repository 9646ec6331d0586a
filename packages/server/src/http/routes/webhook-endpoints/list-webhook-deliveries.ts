import { Type } from '@sinclair/typebox';
import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { decodeCursor, page } from '../../cursor.js';
import { Cursor, errorResponses, Nullable, PageLimit } from '../../schemas/common.js';
import {
  WebhookDeliverySchema,
  WebhookDeliveryStatusSchema,
  webhookDeliveryView,
  WebhookEndpointIdParams,
} from '../../schemas/webhook-endpoint.js';

export function registerListWebhookDeliveries(app: App, { webhookEndpoints }: Services): void {
  app.get(
    '/v1/webhook-endpoints/:id/deliveries',
    {
      config: { scope: 'webhooks:read' },
      schema: {
        tags: ['webhooks'],
        summary: "An endpoint's delivery log, newest first: status, and every attempt's status code and latency",
        security: [{ adminKey: [] }],
        params: WebhookEndpointIdParams,
        querystring: Type.Object(
          { limit: PageLimit(100, 20), cursor: Type.Optional(Cursor), status: Type.Optional(WebhookDeliveryStatusSchema) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ data: Type.Array(WebhookDeliverySchema), nextCursor: Nullable(Type.String()) }),
          ...errorResponses(400, 401, 403, 404, 429),
        },
      },
    },
    async (request) => {
      const { limit, cursor, status } = request.query;
      const after = decodeCursor(cursor);
      const result = await page(
        limit,
        (n) => webhookEndpoints.listDeliveries(request.admin!, request.params.id, { status, limit: n, after }),
        (delivery) => ({ at: delivery.createdAt, id: delivery.id }),
      );
      return { data: result.items.map(webhookDeliveryView), nextCursor: result.nextCursor };
    },
  );
}
