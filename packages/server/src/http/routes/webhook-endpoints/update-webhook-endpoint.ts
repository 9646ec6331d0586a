import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { errorResponses } from '../../schemas/common.js';
import {
  UpdateWebhookEndpointBody,
  WebhookEndpointIdParams,
  webhookEndpointView,
  WebhookEndpointSchema,
} from '../../schemas/webhook-endpoint.js';

export function registerUpdateWebhookEndpoint(app: App, { webhookEndpoints, clock }: Services): void {
  app.patch(
    '/v1/webhook-endpoints/:id',
    {
      config: { scope: 'webhooks:write' },
      schema: {
        tags: ['webhooks'],
        summary: 'Change a webhook endpoint, or disable / enable it',
        description: 'Disabling fails its pending deliveries; enabling clears its failure record. The tenant and the secret cannot be changed here.',
        security: [{ adminKey: [] }],
        params: WebhookEndpointIdParams,
        body: UpdateWebhookEndpointBody,
        response: { 200: WebhookEndpointSchema, ...errorResponses(400, 401, 403, 404, 409, 413, 415, 429) },
      },
    },
    async (request) => webhookEndpointView(await webhookEndpoints.update(request.admin!, request.params.id, request.body), clock.now()),
  );
}
