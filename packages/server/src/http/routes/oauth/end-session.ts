import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { OAuthError } from '../../../core/errors.js';
import { CONSOLE_CLIENT_ID } from '../../../core/oauth/console-client.js';
import { revokeGrants } from '../../../core/oauth/revoke-grants.js';
import { decideEndSession, verifyIdTokenHint, type EndSessionParams } from '../../../core/oauth/end-session.js';
import { findLoginSession } from '../../../core/oauth/authorize.js';
import { parseRequestParams, type RequestParams } from '../../../core/oauth/request-params.js';
import { hashToken } from '../../../core/oauth/token-minter.js';
import { issuerPath } from '../../../config/issuer-path.js';
import type { Services } from '../../../services.js';
import { requestOrigin } from '../../plugins/authenticate.js';
import { CSRF_FIELD } from '../../pages/csrf.js';
import { renderLogoutConfirmPage, renderSignedOutPage } from '../../pages/logout-page.js';
import { pageHeaders } from '../../pages/page-headers.js';
import { readCookie, redirect, sendErrorPage, sessionClearCookie, sessionCookieName } from './authorization-flow.js';
import { formParams } from './form-body.js';

export const END_SESSION_PATH = '/oauth/logout';
const CSRF_PURPOSE = 'logout';

const first = (params: RequestParams, name: string): string | undefined => params.get(name)?.[0];

/**
 * OpenID Connect RP-Initiated Logout 1.0: GET or POST with id_token_hint, client_id, post_logout_redirect_uri and
 * state. Ends the browser's Gatehouse login session (server-side and the cookie), then redirects to the registered
 * post_logout_redirect_uri with state, or shows a "signed out" page. Without a hint naming the signed-in user, the
 * person confirms first. The client's tokens are not revoked: logging out of Gatehouse is not revoking grants;
 * except the console's (Gatehouse's own client): signing out of it revokes the user's console grants too.
 */
export function registerEndSessionEndpoint(app: FastifyInstance, services: Services): void {
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    let params: RequestParams;
    if (request.method === 'GET') {
      const raw = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
      const parsed = parseRequestParams(raw);
      if (parsed instanceof OAuthError) return sendErrorPage(services, request, reply, 400, 'Sign-out failed', parsed.message);
      params = parsed;
    } else {
      params = formParams(request);
    }
    const input: EndSessionParams = {
      idTokenHint: first(params, 'id_token_hint'),
      clientId: first(params, 'client_id'),
      postLogoutRedirectUri: first(params, 'post_logout_redirect_uri'),
      state: first(params, 'state'),
    };
    const hint = input.idTokenHint === undefined ? undefined : await verifyIdTokenHint(input.idTokenHint, services.signingKeys, services.oauth.issuer());
    const clientId = input.clientId ?? (hint && hint.aud.length === 1 ? hint.aud[0] : undefined);
    const client = clientId === undefined ? undefined : await services.oauth.findClient(clientId);
    const cookieValue = readCookie(request, sessionCookieName(services));
    const session = await findLoginSession(services.oauth, cookieValue);
    const decision = decideEndSession(input, hint, client, session?.user.id ?? null);
    if (!decision.ok) return sendErrorPage(services, request, reply, 400, 'Sign-out failed', decision.reason);

    const branding = services.config.branding;
    const headers = pageHeaders({ redirectUris: decision.redirectTo ? [decision.redirectTo] : [], branding });
    const csrfCookie = services.csrf.readCookie(request.headers.cookie);
    const confirmedByForm =
      request.method === 'POST' && first(params, 'confirm') === 'yes' && services.csrf.checkCsrf(csrfCookie, first(params, CSRF_FIELD), CSRF_PURPOSE);
    if (!decision.confirmed && !confirmedByForm) {
      const csrf = services.csrf.issueCsrf(csrfCookie, CSRF_PURPOSE);
      if (csrf.setCookie) reply.header('set-cookie', csrf.setCookie);
      const hidden: Record<string, string> = {};
      if (decision.clientId) hidden.client_id = decision.clientId;
      if (input.postLogoutRedirectUri !== undefined) hidden.post_logout_redirect_uri = input.postLogoutRedirectUri;
      if (input.state !== undefined) hidden.state = input.state;
      const page = renderLogoutConfirmPage({
        action: issuerPath(services.oauth.issuer()) + END_SESSION_PATH,
        hiddenFields: hidden,
        csrfToken: csrf.token,
        clientName: client?.name ?? null,
        branding,
      });
      return reply.status(200).headers(headers).send(page);
    }

    if (cookieValue && cookieValue.length <= 100) await services.oauth.sessions.revoke(hashToken(cookieValue), services.oauth.clock.now());
    // Signing out of the console also ends what it holds: the user's console grants (the refresh token) and their
    // live access tokens, here and on every other process (the denylist).
    const consoleUser = decision.clientId === CONSOLE_CLIENT_ID ? (session?.user.id ?? hint?.sub) : undefined;
    if (consoleUser !== undefined) {
      await revokeGrants(services.oauth, { userId: consoleUser, clientId: CONSOLE_CLIENT_ID }, {
        reason: 'signed out of the console',
        tenantId: session?.user.tenantId ?? null,
        origin: requestOrigin(request),
      });
    }
    if (session) {
      services.oauth.audit(
        { type: 'oauth.logout', outcome: 'success', tenantId: session.user.tenantId, details: { userId: session.user.id, clientId: decision.clientId } },
        requestOrigin(request),
      );
    }
    reply.header('set-cookie', sessionClearCookie(services));
    if (decision.redirectTo) return redirect(reply, decision.redirectTo);
    return reply.status(200).headers(headers).send(renderSignedOutPage(branding));
  };
  const schema = { tags: ['oauth'], summary: 'End-session endpoint (OpenID Connect RP-Initiated Logout 1.0)' };
  app.get(END_SESSION_PATH, { schema }, handler);
  app.post(END_SESSION_PATH, { schema }, handler);
}
