import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { errorResponses } from '../../schemas/common.js';
import { WebhookDeliverySchema, WebhookEndpointIdParams, webhookDeliveryView } from '../../schemas/webhook-endpoint.js';

export function registerSendWebhookTestEvent(app: App, { webhookEndpoints }: Services): void {
  app.post(
    '/v1/webhook-endpoints/:id/test',
    {
      config: { scope: 'webhooks:write' },
      schema: {
        tags: ['webhooks'],
        summary: 'Send a test event (webhook.test) to this endpoint',
        description:
          'Queues one `webhook.test` event for this endpoint only, whatever its event filters, due now; it is signed, ' +
          'delivered and retried like any other delivery and shows in the delivery log. 409 endpoint_disabled when the endpoint is disabled.',
        security: [{ adminKey: [] }],
        params: WebhookEndpointIdParams,
        response: { 202: WebhookDeliverySchema, ...errorResponses(400, 401, 403, 404, 409, 429) },
      },
    },
    async (request, reply) => {
      const delivery = await webhookEndpoints.sendTestEvent(request.admin!, request.params.id);
      return reply.status(202).send(webhookDeliveryView(delivery));
    },
  );
}
