import { CONSOLE_CLIENT_ID, postLogoutRedirectUri, redirectUri, serverUrl } from '../base-url';
import { randomToken, s256Challenge } from './pkce';

/**
 * The signed-in session. Tokens live in this module's memory only: never in localStorage, sessionStorage,
 * cookies or the URL, so a reload signs in again (silently, while the Gatehouse login session lasts).
 * What must survive the redirect to the login page is the PKCE verifier and the state, not a token: they
 * wait in sessionStorage for the one round trip and are deleted when the callback reads them.
 */
export interface Tokens {
  accessToken: string;
  refreshToken: string | null;
  idToken: string | null;
  /** Epoch milliseconds. */
  expiresAt: number;
}

/** What the console asks for: an OpenID sign-in, a refresh token, and the user's admin roles as scopes. */
export const CONSOLE_SCOPE = 'openid offline_access gatehouse:admin';
const PENDING_KEY = 'gatehouse.console.pending-sign-in';
/** Refresh this long before the access token expires. */
const REFRESH_MARGIN_MS = 30_000;

let tokens: Tokens | null = null;
let refreshing: Promise<Tokens | null> | null = null;
const listeners = new Set<() => void>();

export class SignInError extends Error {
  constructor(
    message: string,
    readonly requestId: string | null = null,
  ) {
    super(message);
    this.name = 'SignInError';
  }
}

export function isSignedIn(): boolean {
  return tokens !== null;
}

export function onSessionChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function setTokens(next: Tokens | null): void {
  tokens = next;
  for (const listener of listeners) listener();
}

/** Sends the browser to Gatehouse's authorization endpoint; comes back at /console/callback. */
export async function beginSignIn(returnTo: string): Promise<void> {
  const state = randomToken();
  const verifier = randomToken();
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ state, verifier, returnTo }));
  const url = new URL(serverUrl('/oauth/authorize'));
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: CONSOLE_CLIENT_ID,
    redirect_uri: redirectUri(),
    scope: CONSOLE_SCOPE,
    state,
    code_challenge: await s256Challenge(verifier),
    code_challenge_method: 'S256',
  }).toString();
  window.location.assign(url.toString());
}

async function tokenRequest(body: Record<string, string>): Promise<Tokens> {
  const response = await fetch(serverUrl('/oauth/token'), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: CONSOLE_CLIENT_ID, ...body }).toString(),
    credentials: 'omit',
  });
  const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok || typeof json.access_token !== 'string') {
    const description = typeof json.error_description === 'string' ? json.error_description : `The token endpoint answered ${response.status}.`;
    throw new SignInError(description, response.headers.get('x-request-id'));
  }
  return {
    accessToken: json.access_token,
    refreshToken: typeof json.refresh_token === 'string' ? json.refresh_token : null,
    idToken: typeof json.id_token === 'string' ? json.id_token : (tokens?.idToken ?? null),
    expiresAt: Date.now() + (typeof json.expires_in === 'number' ? json.expires_in : 300) * 1000,
  };
}

/** Finishes the sign-in at /console/callback: checks state, redeems the code; returns where to go next. */
export async function completeSignIn(search: string): Promise<string> {
  const params = new URLSearchParams(search);
  const pendingText = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  const pending = pendingText ? (JSON.parse(pendingText) as { state: string; verifier: string; returnTo: string }) : null;
  const error = params.get('error');
  if (error) throw new SignInError(params.get('error_description') ?? `Sign-in failed: ${error}.`);
  if (!pending || params.get('state') !== pending.state) {
    throw new SignInError('This sign-in response does not match a sign-in started here. Start again.');
  }
  const code = params.get('code');
  if (!code) throw new SignInError('The sign-in response carries no authorization code.');
  setTokens(await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: redirectUri(), code_verifier: pending.verifier }));
  return pending.returnTo.startsWith('/') ? pending.returnTo : '/';
}

/**
 * A fresh access token, refreshing (once, however many callers wait) when it is about to expire. Refresh
 * tokens rotate: the new one replaces the old at once, since presenting the old one again ends the session.
 */
export async function accessToken(forceRefresh = false): Promise<string | null> {
  if (!tokens) return null;
  if (!forceRefresh && tokens.expiresAt - Date.now() > REFRESH_MARGIN_MS) return tokens.accessToken;
  return (await refresh())?.accessToken ?? null;
}

function refresh(): Promise<Tokens | null> {
  if (refreshing) return refreshing;
  const current = tokens;
  if (!current?.refreshToken) {
    setTokens(null);
    return Promise.resolve(null);
  }
  refreshing = tokenRequest({ grant_type: 'refresh_token', refresh_token: current.refreshToken })
    .then((next) => {
      setTokens(next);
      return next;
    })
    .catch(() => {
      setTokens(null);
      return null;
    })
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

/** Ends the session: the refresh token is revoked, then Gatehouse's logout ends the login session. */
export async function signOut(): Promise<void> {
  const current = tokens;
  setTokens(null);
  if (current?.refreshToken) {
    await fetch(serverUrl('/oauth/revoke'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: CONSOLE_CLIENT_ID, token: current.refreshToken, token_type_hint: 'refresh_token' }).toString(),
      credentials: 'omit',
    }).catch(() => undefined);
  }
  const url = new URL(serverUrl('/oauth/logout'));
  url.search = new URLSearchParams({
    ...(current?.idToken ? { id_token_hint: current.idToken } : {}),
    client_id: CONSOLE_CLIENT_ID,
    post_logout_redirect_uri: postLogoutRedirectUri(),
  }).toString();
  window.location.assign(url.toString());
}
