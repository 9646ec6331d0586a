import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { errorResponses } from '../../schemas/common.js';
import { CreateRegistrationTokenBody, registrationTokenView, RegistrationTokenWithSecret } from '../../schemas/registration-token.js';

export function registerCreateRegistrationToken(app: App, { registrationTokens, clock }: Services): void {
  app.post(
    '/v1/registration-tokens',
    {
      config: { scope: 'clients:write' },
      schema: {
        tags: ['clients'],
        summary: 'Issue an initial access token for Dynamic Client Registration (the token is in this response only)',
        security: [{ adminKey: [] }],
        body: CreateRegistrationTokenBody,
        response: { 201: RegistrationTokenWithSecret, ...errorResponses(400, 401, 403, 413, 415, 429) },
      },
    },
    async (request, reply) => {
      const { token, plaintext } = await registrationTokens.create(request.admin!, request.body);
      return reply.status(201).headers({ 'cache-control': 'no-store' }).send({ ...registrationTokenView(token, clock.now()), token: plaintext });
    },
  );
}
