import * as client from 'openid-client';
import { sinkCredential } from './log-sink.js';
import { authorizeThroughForms, FormBrowser } from './oauth.js';

/** The console's sign-in, as the console does it: openid-client as the public client cli_console, PKCE S256. */
export interface ConsoleSession {
  browser: FormBrowser;
  config: client.Configuration;
  accessToken: string;
  refreshToken: string;
  idToken: string;
}

export const CONSOLE_SCOPE = 'openid offline_access gatehouse:admin';

/**
 * Signs `user` in to the console of the server at `origin` whose issuer is `issuer` (they differ when the issuer
 * is a public name the test does not listen on): authorization code + PKCE through the login form, then the token
 * endpoint.
 */
export async function consoleSignIn(
  origin: string,
  issuer: string,
  user: { email: string; password: string },
  /** Another client and its redirect URI: a third party signing an admin user in (what the admin API must refuse). */
  options: { scope?: string; clientId?: string; redirectUri?: string } = {},
): Promise<ConsoleSession> {
  const { scope = CONSOLE_SCOPE, clientId = 'cli_console', redirectUri = `${issuer}/console/callback` } = options;
  const metadata: client.ServerMetadata = {
    issuer,
    authorization_endpoint: `${origin}/oauth/authorize`,
    token_endpoint: `${origin}/oauth/token`,
    end_session_endpoint: `${origin}/oauth/logout`,
    jwks_uri: `${origin}/.well-known/jwks.json`,
  };
  const config = new client.Configuration(metadata, clientId, undefined, client.None());
  client.allowInsecureRequests(config);
  const browser = new FormBrowser(origin);
  const verifier = client.randomPKCECodeVerifier();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: 'console-state',
  });
  const callback = await authorizeThroughForms(browser, url.href, user);
  if (callback.searchParams.has('error')) throw new Error(`authorization refused: ${callback.searchParams.get('error')}`);
  const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 'console-state', idTokenExpected: scope.split(' ').includes('openid') });
  for (const secret of [tokens.access_token, tokens.refresh_token, tokens.id_token]) if (secret) sinkCredential(secret);
  return { browser, config, accessToken: tokens.access_token, refreshToken: tokens.refresh_token!, idToken: tokens.id_token! };
}
