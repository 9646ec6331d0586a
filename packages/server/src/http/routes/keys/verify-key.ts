import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { verificationView, VerifyKeyBody, VerifyKeyResponse } from '../../schemas/api-key.js';
import { errorResponses } from '../../schemas/common.js';

export function registerVerifyKey(app: App, { apiKeys, clock }: Services): void {
  app.post(
    '/v1/keys/verify',
    {
      // Limited per verified key (its rateLimit), not per caller: this is the data plane.
      config: { scope: 'keys:verify', managementRateLimit: false },
      schema: {
        tags: ['keys'],
        summary: 'Verify an API key presented to your API',
        description:
          'Always 200 for a well-formed request: `valid` and `code` say whether the key may be used. ' +
          'Malformed or checksum-failing keys are rejected (INVALID_FORMAT) without any lookup.',
        security: [{ adminKey: [] }],
        body: VerifyKeyBody,
        response: { 200: VerifyKeyResponse, ...errorResponses(400, 401, 403, 413, 415, 503) },
      },
    },
    async (request) => verificationView(await apiKeys.verify(request.auth!, request.body), clock.now()),
  );
}
