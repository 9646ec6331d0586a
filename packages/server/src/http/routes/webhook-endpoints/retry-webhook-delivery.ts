import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { errorResponses } from '../../schemas/common.js';
import { WebhookDeliveryParams, WebhookDeliverySchema, webhookDeliveryView } from '../../schemas/webhook-endpoint.js';

export function registerRetryWebhookDelivery(app: App, { webhookEndpoints }: Services): void {
  app.post(
    '/v1/webhook-endpoints/:id/deliveries/:deliveryId/retry',
    {
      config: { scope: 'webhooks:write' },
      schema: {
        tags: ['webhooks'],
        summary: 'Attempt a delivery again, now (once for a finished delivery; a pending one keeps its retry window)',
        description: 'A delivered event is sent again (same webhook-id). 409 when the endpoint is disabled or an attempt is under way.',
        security: [{ adminKey: [] }],
        params: WebhookDeliveryParams,
        response: { 202: WebhookDeliverySchema, ...errorResponses(400, 401, 403, 404, 409, 429) },
      },
    },
    async (request, reply) => {
      const delivery = await webhookEndpoints.retryDelivery(request.admin!, request.params.id, request.params.deliveryId);
      return reply.status(202).send(webhookDeliveryView(delivery));
    },
  );
}
