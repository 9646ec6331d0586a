import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { verificationView, VerifyKeyBody, VerifyKeyResponse } from '../../schemas/api-key.js';
import { errorResponses } from '../../schemas/common.js';
import { replayPrereadBody } from '../../preread-body.js';
import { verifyOnBehalfOf } from '../../verify-on-behalf.js';

export const VERIFY_KEY_PATH = '/v1/keys/verify';
export const VERIFY_KEY_SCOPE = 'keys:verify';

/** Most verifications are answered by the fast path in front of Fastify (http/fast-verify.ts) with the same
 * result; this route answers the rest, and every request the fast path hands over. */
export function registerVerifyKey(app: App, { apiKeys, clock, detection }: Services): void {
  app.post(
    VERIFY_KEY_PATH,
    {
      // Limited per verified key (its rateLimit), not per caller: this is the data plane.
      config: { scope: VERIFY_KEY_SCOPE, managementRateLimit: false },
      preParsing: replayPrereadBody,
      schema: {
        tags: ['keys'],
        summary: 'Verify an API key presented to your API',
        description:
          'Always 200 for a well-formed request: `valid` and `code` say whether the key may be used. ' +
          'Malformed or checksum-failing keys are rejected (INVALID_FORMAT) without any lookup.',
        security: [{ adminKey: [] }],
        body: VerifyKeyBody,
        response: { 200: VerifyKeyResponse, ...errorResponses(400, 401, 403, 413, 415, 429, 503) },
      },
    },
    async (request) => {
      const actor = verifyOnBehalfOf(request.admin!, request.body.clientIp, detection.blocks);
      return verificationView(await apiKeys.verify(actor, request.body), clock.now());
    },
  );
}
