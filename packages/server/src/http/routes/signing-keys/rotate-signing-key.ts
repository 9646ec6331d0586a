import { Type } from '@sinclair/typebox';
import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { emptyBodyAsObject } from '../../plugins/json-body.js';
import { errorResponses } from '../../schemas/common.js';
import { SigningAlgSchema, SigningKey, signingKeyView } from '../../schemas/signing-key.js';
import { assertGlobalAdmin } from './assert-global-admin.js';

export function registerRotateSigningKey(app: App, { signingKeys }: Services): void {
  app.post(
    '/v1/signing-keys/rotate',
    {
      config: { scope: 'signing-keys:write' },
      preValidation: emptyBodyAsObject,
      schema: {
        tags: ['signing-keys'],
        summary: 'Create a new signing key; it is published at once and signs after activateAfterSeconds',
        description:
          'The keys signing now retire when the new key activates, and stay in the JWKS until every token they ' +
          'signed has expired (retirement + GATEHOUSE_MAX_TOKEN_TTL_SECONDS + 60 s).',
        security: [{ adminKey: [] }],
        body: Type.Object(
          {
            alg: Type.Optional(SigningAlgSchema),
            activateAfterSeconds: Type.Optional(
              Type.Integer({
                minimum: 0,
                maximum: 7 * 86_400,
                description:
                  'How long the key is published before it signs (default GATEHOUSE_SIGNING_KEY_ACTIVATION_SECONDS). ' +
                  'Give verifiers time to refetch the JWKS; 0 signs at once.',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: SigningKey,
          ...errorResponses(400, 401, 403, 413, 415, 429),
        },
      },
    },
    async (request) => {
      const actor = request.admin!;
      assertGlobalAdmin(actor);
      const info = await signingKeys.rotate({
        ...(request.body.alg !== undefined ? { alg: request.body.alg } : {}),
        ...(request.body.activateAfterSeconds !== undefined ? { activateAfterSeconds: request.body.activateAfterSeconds } : {}),
        actor,
      });
      return signingKeyView(info);
    },
  );
}
