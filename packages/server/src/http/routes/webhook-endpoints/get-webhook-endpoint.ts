import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { errorResponses } from '../../schemas/common.js';
import { WebhookEndpointIdParams, webhookEndpointView, WebhookEndpointSchema } from '../../schemas/webhook-endpoint.js';

export function registerGetWebhookEndpoint(app: App, { webhookEndpoints, clock }: Services): void {
  app.get(
    '/v1/webhook-endpoints/:id',
    {
      config: { scope: 'webhooks:read' },
      schema: {
        tags: ['webhooks'],
        summary: 'Get a webhook endpoint',
        security: [{ adminKey: [] }],
        params: WebhookEndpointIdParams,
        response: { 200: WebhookEndpointSchema, ...errorResponses(400, 401, 403, 404, 429) },
      },
    },
    async (request) => webhookEndpointView(await webhookEndpoints.get(request.admin!, request.params.id), clock.now()),
  );
}
