import type { OAuthClientRecord } from '../../storage/stores.js';
import { DEFAULT_ID_TOKEN_ALG } from '../tokens/signing-alg.js';

/** The admin console's OAuth client: first party, public, defined by Gatehouse itself (never stored). */
export const CONSOLE_CLIENT_ID = 'cli_console';

/** The scope the console asks for: its tokens act on the admin API, with the signed-in user's admin roles. */
export const CONSOLE_ADMIN_SCOPE = 'gatehouse:admin';

/** Access tokens of the console live this long at most (GATEHOUSE_MAX_TOKEN_TTL_SECONDS still caps it). */
export const CONSOLE_ACCESS_TOKEN_TTL_SECONDS = 300;

const withoutTrailingSlash = (issuer: string): string => (issuer.endsWith('/') ? issuer.slice(0, -1) : issuer);

/** The audience of the console's access tokens, the one audience the admin API accepts them for: `<issuer>/v1`. */
export function consoleAudience(issuer: string): string {
  return `${withoutTrailingSlash(issuer)}/v1`;
}

/** Whether a client is one of Gatehouse's own (first party): its users are not asked for consent. */
export function isFirstPartyClient(clientId: string): boolean {
  return clientId === CONSOLE_CLIENT_ID;
}

/**
 * The console's client, for the issuer as it is now. It is defined here rather than stored: its redirect URIs
 * follow the issuer (known only once the port is bound when GATEHOUSE_PORT=0, and free to change between starts),
 * every start serves exactly this definition, and no admin-API call can read, change or delete it (its id is
 * not a stored client's `cli_` + 22 characters, so no stored client can take it either).
 */
export function consoleClient(issuer: string): OAuthClientRecord {
  const base = withoutTrailingSlash(issuer);
  const audience = consoleAudience(issuer);
  return {
    id: CONSOLE_CLIENT_ID,
    name: 'Gatehouse console',
    redirectUris: [`${base}/console/callback`],
    allowedOrigins: [],
    postLogoutRedirectUris: [`${base}/console/`],
    grantTypes: ['authorization_code', 'refresh_token'],
    scopes: ['openid', 'profile', 'email', 'offline_access', CONSOLE_ADMIN_SCOPE],
    tokenEndpointAuthMethod: 'none',
    audiences: [audience],
    defaultAudience: audience,
    tenantId: null,
    accessTokenTtlSeconds: CONSOLE_ACCESS_TOKEN_TTL_SECONDS,
    idTokenSignedResponseAlg: DEFAULT_ID_TOKEN_ALG,
    tlsClientAuth: null,
    jwks: null,
    registration: 'admin',
    registrationAccessTokenHash: null,
    registeredAddress: null,
    registrationMetadata: null,
    lastUsedAt: null,
    secretHash: null,
    secretPrefix: null,
    previousSecretHash: null,
    previousSecretExpiresAt: null,
    version: 1,
    createdBy: null,
    createdAt: 0,
    updatedAt: 0,
    deletedAt: null,
  };
}
