import { Type } from '@sinclair/typebox';
import { DEFAULT_CLIENT_SECRET_GRACE_SECONDS, MAX_CLIENT_SECRET_GRACE_SECONDS } from '../../../core/oauth/client-service.js';
import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { emptyBodyAsObject } from '../../plugins/json-body.js';
import { ClientIdParams, clientView, OAuthClientSchema } from '../../schemas/client.js';
import { errorResponses } from '../../schemas/common.js';

export function registerRotateClientSecret(app: App, { clients, clock }: Services): void {
  app.post(
    '/v1/clients/:id/secret/rotate',
    {
      config: { scope: 'clients:write' },
      preValidation: emptyBodyAsObject,
      schema: {
        tags: ['clients'],
        summary: 'Issue a new client secret; the old one keeps working for the grace period',
        security: [{ adminKey: [] }],
        params: ClientIdParams,
        body: Type.Object(
          {
            gracePeriodSeconds: Type.Optional(
              Type.Integer({
                minimum: 0,
                maximum: MAX_CLIENT_SECRET_GRACE_SECONDS,
                default: DEFAULT_CLIENT_SECRET_GRACE_SECONDS,
                description: 'How long the replaced secret keeps working; 0 ends it at once.',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Composite([OAuthClientSchema, Type.Object({ clientSecret: Type.String({ description: 'Shown this once.' }) })]),
          ...errorResponses(400, 401, 403, 404, 409, 413, 415, 429),
        },
      },
    },
    async (request) => {
      const { client, clientSecret } = await clients.rotateSecret(request.admin!, request.params.id, {
        gracePeriodSeconds: request.body.gracePeriodSeconds,
      });
      return { ...clientView(client, clock.now()), clientSecret };
    },
  );
}
