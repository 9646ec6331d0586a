import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { emailFingerprint, findLoginSession, type LoginSession } from '../../../core/oauth/authorize.js';
import { param } from '../../../core/oauth/request-params.js';
import { hashToken } from '../../../core/oauth/token-minter.js';
import { issuerPath } from '../../../config/issuer-path.js';
import type { Services } from '../../../services.js';
import { requestOrigin } from '../../plugins/authenticate.js';
import { CSRF_FIELD } from '../../pages/csrf.js';
import { pageHeaders } from '../../pages/page-headers.js';
import { renderPasswordPage } from '../../pages/password-page.js';
import { readCookie, sendErrorPage, sessionCookieName } from './authorization-flow.js';
import { formParams } from './form-body.js';

export const ACCOUNT_PASSWORD_PATH = '/oauth/account/password';
const CSRF_PURPOSE = 'password';

function render(services: Services, request: FastifyRequest, reply: FastifyReply, session: LoginSession, status: number, options: { error?: string; done?: boolean }) {
  const csrf = services.csrf.issueCsrf(services.csrf.readCookie(request.headers.cookie), CSRF_PURPOSE);
  if (csrf.setCookie) reply.header('set-cookie', csrf.setCookie);
  const branding = services.config.branding;
  return reply
    .status(status)
    .headers(pageHeaders({ branding }))
    .send(
      renderPasswordPage({
        action: issuerPath(services.oauth.issuer()) + ACCOUNT_PASSWORD_PATH,
        csrfToken: csrf.token,
        userEmail: session.user.email,
        branding,
        ...options,
      }),
    );
}

/**
 * A signed-in user (the login session of Gatehouse's pages) changes their own password: GET shows the form, POST
 * (CSRF-protected) checks the current password, applies the policy, and ends the user's other sessions (this one
 * stays). Failed attempts count toward the same per-account slow-down as the login page.
 */
export function registerAccountPassword(app: FastifyInstance, services: Services): void {
  const notSignedIn = (request: FastifyRequest, reply: FastifyReply) =>
    sendErrorPage(services, request, reply, 401, 'Not signed in', 'Sign in through an application first, then come back to this page.');

  app.get(ACCOUNT_PASSWORD_PATH, { schema: { tags: ['oauth'], summary: 'Change-password page for the signed-in user' } }, async (request, reply) => {
    const session = await findLoginSession(services.oauth, readCookie(request, sessionCookieName(services)));
    if (!session) return notSignedIn(request, reply);
    return render(services, request, reply, session, 200, {});
  });

  app.post(
    ACCOUNT_PASSWORD_PATH,
    { schema: { tags: ['oauth'], summary: 'Change-password form submission (current_password, new_password, csrf_token)' } },
    async (request, reply) => {
      const form = formParams(request);
      if (!services.csrf.checkCsrf(services.csrf.readCookie(request.headers.cookie), param(form, CSRF_FIELD), CSRF_PURPOSE)) {
        return sendErrorPage(services, request, reply, 403, 'This form has expired', 'Open the change-password page again.');
      }
      const cookieValue = readCookie(request, sessionCookieName(services));
      const session = await findLoginSession(services.oauth, cookieValue);
      if (!session || !cookieValue) return notSignedIn(request, reply);
      const throttle = services.detection.loginThrottle;
      const account = emailFingerprint(session.user.email);
      await throttle.beforeAttempt(account);
      const result = await services.users.changeOwnPassword(session.user.id, param(form, 'current_password') ?? '', param(form, 'new_password') ?? '');
      if (!result.ok) {
        if (result.reason === 'not_found') return notSignedIn(request, reply);
        if (result.reason === 'wrong_password') {
          await throttle.failed(account);
          services.oauth.audit(
            { type: 'user.updated', outcome: 'failure', reason: 'wrong_password', tenantId: session.user.tenantId, details: { userId: session.user.id, fields: ['password'], by: 'user' } },
            requestOrigin(request),
          );
          return render(services, request, reply, session, 400, { error: 'The current password is wrong.' });
        }
        return render(services, request, reply, session, 400, { error: `The new ${result.problem ?? 'password is not accepted.'}` });
      }
      await throttle.succeeded(account);
      await services.oauth.sessions.revokeOthers(session.user.id, hashToken(cookieValue), services.clock.now());
      return render(services, request, reply, session, 200, { done: true });
    },
  );
}
