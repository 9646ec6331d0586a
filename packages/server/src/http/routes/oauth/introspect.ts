import type { FastifyInstance, FastifyRequest } from 'fastify';
import { OAuthError } from '../../../core/errors.js';
import { introspectToken, type IntrospectionCaller } from '../../../core/oauth/introspect-token.js';
import { param, type RequestParams } from '../../../core/oauth/request-params.js';
import type { Services } from '../../../services.js';
import { requestOrigin } from '../../plugins/authenticate.js';
import { requireClient } from './client-authentication.js';
import { formParams } from './form-body.js';

/**
 * The caller: an admin key holding tokens:introspect (a Bearer token, authenticated, scope-checked, audited and
 * rate limited by the authenticate plugin), or else an authenticated OAuth client.
 */
async function caller(services: Services, request: FastifyRequest, params: RequestParams): Promise<IntrospectionCaller> {
  if (request.admin) return { kind: 'admin', tenantId: request.admin.tenantId };
  return { kind: 'client', clientId: (await requireClient(services, request, params)).id };
}

/**
 * RFC 7662. Unknown tokens (never issued by Gatehouse) are counted per caller: each one is audited
 * (`oauth.introspection`, failure `unknown_token`) and still answered `{"active": false}`, until the caller has
 * presented more than GATEHOUSE_DETECTION_UNKNOWN_TOKEN_LIMIT in a window: then 429 until the window ends.
 */
export function registerIntrospectionEndpoint(app: FastifyInstance, services: Services): void {
  app.post(
    '/oauth/introspect',
    {
      config: { scope: 'tokens:introspect', bearerOptional: true },
      schema: {
        tags: ['oauth'],
        security: [{ clientBasic: [] }, { adminKey: [] }],
        summary: 'Token introspection (RFC 7662), for clients (their own tokens) and admin keys with tokens:introspect',
      },
    },
    async (request) => {
      const params = formParams(request);
      const who = await caller(services, request, params);
      const limit = services.detection.unknownTokens;
      const admin = request.admin;
      const callerId = admin ? (admin.keyId ? `key:${admin.keyId}` : `user:${admin.userId}`) : `client:${(who as { clientId: string }).clientId}`;
      limit?.check(callerId);
      const token = param(params, 'token');
      if (token === undefined) throw new OAuthError('invalid_request', 'The token parameter is required.');
      const { response, unknown } = await introspectToken(services.oauth, who, token);
      if (unknown) {
        const details = request.admin ? {} : { clientId: (who as { clientId: string }).clientId };
        services.oauth.audit(
          { type: 'oauth.introspection', outcome: 'failure', reason: 'unknown_token', keyId: admin?.keyId ?? null, keyPrefix: admin?.keyPrefix ?? null, actorUserId: admin?.userId ?? null, tenantId: admin?.tenantId ?? null, details },
          requestOrigin(request),
        );
        await limit?.count(callerId, admin ? (admin.keyId ? { keyId: admin.keyId } : { userId: admin.userId }) : details);
      }
      return response;
    },
  );
}
