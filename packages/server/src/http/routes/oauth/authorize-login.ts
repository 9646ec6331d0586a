import type { FastifyInstance } from 'fastify';
import { createLoginSession, emailFingerprint, userMayUseClient } from '../../../core/oauth/authorize.js';
import { param } from '../../../core/oauth/request-params.js';
import type { Services } from '../../../services.js';
import { requestOrigin } from '../../plugins/authenticate.js';
import { CSRF_FIELD } from '../../pages/csrf.js';
import { formParams } from './form-body.js';
import {
  continueAuthorization,
  loadAuthorizationRequest,
  renderLogin,
  REQUEST_FIELD,
  sendErrorPage,
  sessionSetCookie,
} from './authorization-flow.js';

const LOGIN_FAILED = 'Wrong email or password.';

/**
 * The login form's target. A failed login is an audit event with the IP and a hash of the email, never the
 * password; the page says only that the email or password is wrong. Repeated failures for one account slow its
 * further attempts down (core/detection/login-throttle.ts), without ever refusing the right password.
 */
export function registerAuthorizeLogin(app: FastifyInstance, services: Services): void {
  app.post(
    '/oauth/authorize/login',
    { schema: { tags: ['oauth'], summary: 'Login form submission (fields email, password, csrf_token, request)' } },
    async (request, reply) => {
      const form = formParams(request);
      if (!services.csrf.checkCsrf(services.csrf.readCookie(request.headers.cookie), param(form, CSRF_FIELD), 'login')) {
        return sendErrorPage(services, request, reply, 403, 'This form has expired', 'Go back to the application and sign in again.');
      }
      const authorization = await loadAuthorizationRequest(services, request, reply, param(form, REQUEST_FIELD) ?? '');
      if (!authorization) return reply;
      const email = (param(form, 'email') ?? '').slice(0, 320);
      const password = param(form, 'password') ?? '';
      const origin = requestOrigin(request);
      // Per-account slow-down: recent failures for this email delay the attempt (capped), before the password is checked.
      const throttle = services.detection.loginThrottle;
      const account = email ? emailFingerprint(email) : undefined;
      if (account) await throttle.beforeAttempt(account);

      const result = email && password ? await services.users.authenticate(email, password) : { ok: false as const, reason: 'missing_credentials' };
      const failure = !result.ok ? result.reason : userMayUseClient(result.user, authorization) ? null : 'tenant_mismatch';
      if (failure !== null || !result.ok) {
        if (account) await throttle.failed(account);
        services.oauth.audit(
          {
            type: 'oauth.login',
            outcome: 'failure',
            reason: failure ?? 'unknown',
            tenantId: authorization.client.tenantId,
            details: { clientId: authorization.client.id, emailHash: emailFingerprint(email) },
          },
          origin,
        );
        return renderLogin(services, request, reply, authorization, { status: 400, email, error: LOGIN_FAILED });
      }
      const user = result.user;
      if (account) await throttle.succeeded(account);
      const { cookieValue, session } = await createLoginSession(services.oauth, user);
      services.oauth.audit(
        { type: 'oauth.login', outcome: 'success', tenantId: user.tenantId, details: { clientId: authorization.client.id, userId: user.id } },
        origin,
      );
      reply.header('set-cookie', sessionSetCookie(services, cookieValue));
      return continueAuthorization(services, request, reply, authorization, { user, authTime: session.authTime }, true);
    },
  );
}
