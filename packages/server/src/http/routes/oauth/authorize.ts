import type { FastifyInstance } from 'fastify';
import { findLoginSession, userMayUseClient } from '../../../core/oauth/authorize.js';
import type { Services } from '../../../services.js';
import { continueAuthorization, loadAuthorizationRequest, readCookie, sessionCookieName } from './authorization-flow.js';

/**
 * RFC 6749 section 4.1.1: the authorization endpoint. Validates the request, then shows the login page, the
 * consent page, or redirects straight back with a code when the browser's session and remembered consent
 * allow it (and `prompt` does not ask otherwise).
 */
export function registerAuthorizeEndpoint(app: FastifyInstance, services: Services): void {
  app.get(
    '/oauth/authorize',
    { schema: { tags: ['oauth'], summary: 'Authorization endpoint (response_type=code, PKCE S256 required)' } },
    async (request, reply) => {
      const raw = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
      const authorization = await loadAuthorizationRequest(services, request, reply, raw);
      if (!authorization) return reply;
      let session = await findLoginSession(services.oauth, readCookie(request, sessionCookieName(services)));
      if (session && !userMayUseClient(session.user, authorization)) session = null;
      return continueAuthorization(services, request, reply, authorization, session, false);
    },
  );
}
