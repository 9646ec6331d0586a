import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { errorResponses } from '../../schemas/common.js';
import { RegistrationTokenIdParams, RegistrationTokenSchema, registrationTokenView } from '../../schemas/registration-token.js';

export function registerRevokeRegistrationToken(app: App, { registrationTokens, clock }: Services): void {
  app.delete(
    '/v1/registration-tokens/:id',
    {
      config: { scope: 'clients:write' },
      schema: {
        tags: ['clients'],
        summary: 'Revoke an initial access token: it admits no further registration (idempotent; clients it registered stay)',
        security: [{ adminKey: [] }],
        params: RegistrationTokenIdParams,
        response: { 200: RegistrationTokenSchema, ...errorResponses(400, 401, 403, 404, 429) },
      },
    },
    async (request) => registrationTokenView(await registrationTokens.revoke(request.admin!, request.params.id), clock.now()),
  );
}
