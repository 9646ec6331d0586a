import type { FastifyReply, FastifyRequest } from 'fastify';
import type { OAuthError } from '../../../core/errors.js';
import {
  errorResponseUrl,
  authorizationResponseUrl,
  parseAuthorizationRequest,
  type AuthorizationRequest,
} from '../../../core/oauth/authorization-request.js';
import { issueAuthorizationCode, nextAuthorizationStep, type LoginSession } from '../../../core/oauth/authorize.js';
import { cookieNameSuffix, issuerPath } from '../../../config/issuer-path.js';
import type { Services } from '../../../services.js';
import { requestOrigin } from '../../plugins/authenticate.js';
import { renderConsentPage } from '../../pages/consent-page.js';
import { documentHost } from '../../../core/oauth/client-id-metadata/metadata-document-url.js';
import { isLoopbackRedirectUri } from '../../../core/oauth/redirect-uri.js';
import { renderErrorPage } from '../../pages/error-page.js';
import { renderLoginPage } from '../../pages/login-page.js';
import { pageHeaders } from '../../pages/page-headers.js';

export const LOGIN_ACTION = '/oauth/authorize/login';
export const CONSENT_ACTION = '/oauth/authorize/consent';

/** The hidden field that carries the original authorization request through the forms. */
export const REQUEST_FIELD = 'request';

/** Where a form posts to: the route under the issuer's path, which is where the browser sees the pages. */
function formAction(services: Services, route: string): string {
  return issuerPath(services.oauth.issuer()) + route;
}

const SCOPE_DESCRIPTIONS: Record<string, string> = {
  openid: 'Sign you in with your account',
  profile: 'See your name',
  email: 'See your email address',
};

export function sessionCookieName(services: Services): string {
  const issuer = services.oauth.issuer();
  return (issuer.startsWith('https:') ? '__Host-gh_session' : 'gh_session') + cookieNameSuffix(issuer);
}

export function sessionSetCookie(services: Services, value: string): string {
  const secure = services.oauth.issuer().startsWith('https:');
  return `${sessionCookieName(services)}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${services.oauth.policy.sessionSeconds}${secure ? '; Secure' : ''}`;
}

/** Clears the session cookie in the browser (the session itself is ended in the store by the caller). */
export function sessionClearCookie(services: Services): string {
  const secure = services.oauth.issuer().startsWith('https:');
  return `${sessionCookieName(services)}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${secure ? '; Secure' : ''}`;
}

/** A cookie's value from the Cookie header (the first of that name). */
export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Shows an error to the person in the browser; used when there is no trustworthy place to redirect to. */
export function sendErrorPage(
  services: Services,
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  title: string,
  message: string,
): FastifyReply {
  const branding = services.config.branding;
  return reply
    .status(status)
    .headers(pageHeaders({ branding }))
    .send(renderErrorPage({ title, message, requestId: request.id, branding }));
}

/** 303 See Other: the browser follows with a GET, whatever method brought it here. */
export function redirect(reply: FastifyReply, location: string): FastifyReply {
  return reply.status(303).header('location', location).header('cache-control', 'no-store').send();
}

export function redirectError(services: Services, reply: FastifyReply, request: AuthorizationRequest | { redirectUri: string; state: string | undefined }, error: OAuthError): FastifyReply {
  return redirect(reply, errorResponseUrl(request.redirectUri, services.oauth.issuer(), error, request.state));
}

/**
 * Validates the authorization request (from the query string, or from a form's hidden field) and either
 * returns it or answers the browser: an error page when the client or redirect URI is not trustworthy, an
 * error redirect otherwise.
 */
export async function loadAuthorizationRequest(
  services: Services,
  request: FastifyRequest,
  reply: FastifyReply,
  raw: string,
): Promise<AuthorizationRequest | undefined> {
  const parsed = await parseAuthorizationRequest(raw, services.oauth);
  if (parsed.ok) return parsed.request;
  services.oauth.audit({ type: 'oauth.authorization', outcome: 'failure', reason: parsed.error.code, details: { description: parsed.error.message } }, requestOrigin(request));
  if (!parsed.redirect) {
    sendErrorPage(services, request, reply, 400, 'This sign-in link is not valid', `${parsed.error.message} Go back to the application and try again.`);
  } else {
    redirectError(services, reply, parsed, parsed.error);
  }
  return undefined;
}

export function renderLogin(
  services: Services,
  request: FastifyRequest,
  reply: FastifyReply,
  authorization: AuthorizationRequest,
  options: { status?: number; email?: string; error?: string } = {},
): FastifyReply {
  const csrf = services.csrf.issueCsrf(services.csrf.readCookie(request.headers.cookie), 'login');
  if (csrf.setCookie) reply.header('set-cookie', csrf.setCookie);
  return reply
    .status(options.status ?? 200)
    .headers(pageHeaders({ redirectUris: [authorization.redirectUri], branding: services.config.branding }))
    .send(
      renderLoginPage({
        branding: services.config.branding,
        action: formAction(services, LOGIN_ACTION),
        hiddenFields: { [REQUEST_FIELD]: authorization.raw },
        csrfToken: csrf.token,
        clientName: authorization.client.name,
        ...(options.email !== undefined ? { email: options.email } : {}),
        ...(options.error !== undefined ? { error: options.error } : {}),
      }),
    );
}

export function renderConsent(
  services: Services,
  request: FastifyRequest,
  reply: FastifyReply,
  authorization: AuthorizationRequest,
  session: LoginSession,
): FastifyReply {
  const csrf = services.csrf.issueCsrf(services.csrf.readCookie(request.headers.cookie), 'consent');
  if (csrf.setCookie) reply.header('set-cookie', csrf.setCookie);
  return reply
    .status(200)
    .headers(pageHeaders({ redirectUris: [authorization.redirectUri], branding: services.config.branding }))
    .send(
      renderConsentPage({
        branding: services.config.branding,
        action: formAction(services, CONSENT_ACTION),
        hiddenFields: { [REQUEST_FIELD]: authorization.raw },
        csrfToken: csrf.token,
        clientName: authorization.client.name,
        scopes: authorization.scopes.map((name) => ({
          name,
          description: services.config.scopeDescriptions[name] ?? SCOPE_DESCRIPTIONS[name] ?? `Use "${name}" on your behalf`,
        })),
        userEmail: session.user.email,
        ...(authorization.client.registration === 'metadata_document' ? { publishedBy: documentHost(authorization.client.id) } : {}),
        loopbackRedirect: isLoopbackRedirectUri(authorization.redirectUri),
      }),
    );
}

/** Issues the code and sends the browser back to the client with it, `state` and `iss`. */
export async function completeAuthorization(
  services: Services,
  request: FastifyRequest,
  reply: FastifyReply,
  authorization: AuthorizationRequest,
  session: LoginSession,
): Promise<FastifyReply> {
  const issued = await issueAuthorizationCode(services.oauth, authorization, session, requestOrigin(request));
  // A reused code_challenge goes back to the client like any error after the redirect URI is known good: the
  // client starts over with a fresh verifier (a reload of the authorization URL re-sends the spent challenge).
  if (!issued.ok) return redirectError(services, reply, authorization, issued.error);
  return redirect(reply, authorizationResponseUrl(authorization.redirectUri, services.oauth.issuer(), { code: issued.code, state: authorization.state }));
}

/** Takes the flow to its next step for a browser whose session (if any) is known. */
export async function continueAuthorization(
  services: Services,
  request: FastifyRequest,
  reply: FastifyReply,
  authorization: AuthorizationRequest,
  session: LoginSession | null,
  justAuthenticated: boolean,
): Promise<FastifyReply> {
  const consent = session ? await services.oauth.consents.find(session.user.id, authorization.client.id) : undefined;
  const next = nextAuthorizationStep(authorization, session, consent?.scopes ?? null, services.clock.now(), justAuthenticated);
  switch (next.step) {
    case 'login':
      return renderLogin(services, request, reply, authorization);
    case 'consent':
      return renderConsent(services, request, reply, authorization, session!);
    case 'issue_code':
      return completeAuthorization(services, request, reply, authorization, session!);
    case 'error':
      return redirectError(services, reply, authorization, next.error);
  }
}
