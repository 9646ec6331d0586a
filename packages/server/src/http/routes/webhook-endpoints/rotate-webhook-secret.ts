import { Type } from '@sinclair/typebox';
import { DEFAULT_WEBHOOK_SECRET_GRACE_SECONDS, MAX_WEBHOOK_SECRET_GRACE_SECONDS } from '../../../core/webhooks/webhook-endpoint-service.js';
import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { emptyBodyAsObject } from '../../plugins/json-body.js';
import { errorResponses } from '../../schemas/common.js';
import { WebhookEndpointIdParams, webhookEndpointView, WebhookEndpointWithSecret } from '../../schemas/webhook-endpoint.js';

export function registerRotateWebhookSecret(app: App, { webhookEndpoints, clock }: Services): void {
  app.post(
    '/v1/webhook-endpoints/:id/secret/rotate',
    {
      config: { scope: 'webhooks:write' },
      preValidation: emptyBodyAsObject,
      schema: {
        tags: ['webhooks'],
        summary: 'Issue a new signing secret; deliveries carry signatures under both until the grace period ends',
        security: [{ adminKey: [] }],
        params: WebhookEndpointIdParams,
        body: Type.Object(
          {
            gracePeriodSeconds: Type.Optional(
              Type.Integer({
                minimum: 0,
                maximum: MAX_WEBHOOK_SECRET_GRACE_SECONDS,
                default: DEFAULT_WEBHOOK_SECRET_GRACE_SECONDS,
                description: 'How long deliveries are also signed with the replaced secret; 0 drops it at once.',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: WebhookEndpointWithSecret, ...errorResponses(400, 401, 403, 404, 409, 413, 415, 429) },
      },
    },
    async (request) => {
      const { endpoint, secret } = await webhookEndpoints.rotateSecret(request.admin!, request.params.id, request.body.gracePeriodSeconds);
      return { ...webhookEndpointView(endpoint, clock.now()), secret };
    },
  );
}
