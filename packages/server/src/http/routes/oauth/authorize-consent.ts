import type { FastifyInstance } from 'fastify';
import { OAuthError } from '../../../core/errors.js';
import { findLoginSession, userMayUseClient } from '../../../core/oauth/authorize.js';
import { param } from '../../../core/oauth/request-params.js';
import type { Services } from '../../../services.js';
import { requestOrigin } from '../../plugins/authenticate.js';
import { CSRF_FIELD } from '../../pages/csrf.js';
import { formParams } from './form-body.js';
import {
  completeAuthorization,
  loadAuthorizationRequest,
  readCookie,
  redirectError,
  renderLogin,
  REQUEST_FIELD,
  sendErrorPage,
  sessionClearCookie,
  sessionCookieName,
} from './authorization-flow.js';
import { hashToken } from '../../../core/oauth/token-minter.js';

/** The consent form's target: `decision=allow` remembers the consent and issues the code; `deny` says so. */
export function registerAuthorizeConsent(app: FastifyInstance, services: Services): void {
  app.post(
    '/oauth/authorize/consent',
    { schema: { tags: ['oauth'], summary: 'Consent form submission (decision=allow|deny, csrf_token, request)' } },
    async (request, reply) => {
      const form = formParams(request);
      if (!services.csrf.checkCsrf(services.csrf.readCookie(request.headers.cookie), param(form, CSRF_FIELD), 'consent')) {
        return sendErrorPage(services, request, reply, 403, 'This form has expired', 'Go back to the application and sign in again.');
      }
      const authorization = await loadAuthorizationRequest(services, request, reply, param(form, REQUEST_FIELD) ?? '');
      if (!authorization) return reply;
      const cookieValue = readCookie(request, sessionCookieName(services));
      const session = await findLoginSession(services.oauth, cookieValue);
      if (!session || !userMayUseClient(session.user, authorization)) return renderLogin(services, request, reply, authorization);

      const decision = param(form, 'decision');
      const origin = requestOrigin(request);
      if (decision === 'switch_account') {
        // "Not you?": end this browser's session, then sign in again for the same authorization request.
        await services.oauth.sessions.revoke(hashToken(cookieValue!), services.clock.now());
        services.oauth.audit(
          { type: 'oauth.logout', outcome: 'success', tenantId: session.user.tenantId, details: { userId: session.user.id, clientId: authorization.client.id, reason: 'switch_account' } },
          origin,
        );
        reply.header('set-cookie', sessionClearCookie(services));
        return renderLogin(services, request, reply, authorization);
      }
      if (decision !== 'allow') {
        services.oauth.audit(
          { type: 'oauth.authorization', outcome: 'failure', reason: 'access_denied', details: { clientId: authorization.client.id, userId: session.user.id } },
          origin,
        );
        return redirectError(services, reply, authorization, new OAuthError('access_denied'));
      }
      await services.oauth.consents.grant(session.user.id, authorization.client.id, authorization.scopes, services.clock.now());
      return completeAuthorization(services, request, reply, authorization, session);
    },
  );
}
