import type { AuditEventInput, RequestOrigin } from '../audit/audit-event.js';
import type { UsageOutcome } from '../usage/usage-outcomes.js';
import type { Clock } from '../clock.js';
import type { AlertInput } from '../detection/alerts.js';
import type { AccessTokenClaims } from '../tokens/access-token.js';
import type { TokenDenylist } from '../tokens/token-denylist.js';
import type { ConsentStore, GrantStore, SessionStore } from '../../storage/stores.js';
import type { KeyObject } from 'node:crypto';
import type { ClientAuthenticationMethod, ClientRegistration } from './client-metadata.js';

/** What the OAuth logic needs to know of a registered client. */
export interface OAuthClientView {
  id: string;
  name: string;
  redirectUris: string[];
  /** Web origins allowed to call the token, revocation and userinfo endpoints (CORS). */
  allowedOrigins: string[];
  postLogoutRedirectUris: string[];
  grantTypes: string[];
  scopes: string[];
  tokenEndpointAuthMethod: ClientAuthenticationMethod;
  audiences: string[];
  defaultAudience: string | null;
  tenantId: string | null;
  accessTokenTtlSeconds: number | null;
  /** The JWS algorithm of its ID tokens (OIDC Dynamic Client Registration `id_token_signed_response_alg`). */
  idTokenSignedResponseAlg: OAuthSigningKey['alg'];
  /** How the client came to be known (admin API, Dynamic Client Registration, Client ID Metadata Document). */
  registration: ClientRegistration;
}

/** What the OAuth logic needs to know of a registered resource (an API tokens are for). */
export interface OAuthResourceView {
  identifier: string;
  name: string;
  scopes: string[];
  /** Self-registered clients (registration other than admin) may ask for it. */
  dynamicClients: boolean;
  /** Caps the lifetime of its access tokens. */
  accessTokenTtlSeconds: number | null;
}

/** What the OAuth logic needs to know of a user. */
export interface OAuthUserView {
  id: string;
  email: string;
  name: string | null;
  tenantId: string | null;
}

export interface OAuthSigningKey {
  kid: string;
  alg: 'EdDSA' | 'ES256' | 'RS256';
  privateKey: KeyObject;
}

export interface OAuthPolicy {
  /** Default access-token lifetime when the client sets none. */
  accessTokenTtlSeconds: number;
  /** No token lives longer, whatever a client asks for (retired signing keys stay published this long). */
  maxTokenTtlSeconds: number;
  idTokenTtlSeconds: number;
  /** Grants (and so refresh tokens) end this long after the user authorised, whatever happens. */
  refreshTokenAbsoluteSeconds: number;
  /** A refresh token unused for this long expires. */
  refreshTokenIdleSeconds: number;
  /** How long an authorization code lives (RFC 6749 recommends at most 10 minutes; we use 60 s). */
  authorizationCodeSeconds: number;
  /** How long a browser login session lasts. */
  sessionSeconds: number;
}

/** Everything the grants, the authorization endpoint and revocation / introspection share. */
export interface OAuthDeps {
  clock: Clock;
  issuer(): string;
  policy: OAuthPolicy;
  grants: GrantStore;
  consents: ConsentStore;
  sessions: SessionStore;
  denylist: TokenDenylist;
  /** The key access tokens are signed with now (GATEHOUSE_SIGNING_ALG's, or the last rotation's). */
  signingKey(): OAuthSigningKey;
  /** The key ID tokens of `alg` are signed with now; throws when no key of `alg` signs. */
  idTokenSigningKey(alg: OAuthSigningKey['alg']): OAuthSigningKey;
  findClient(id: string): Promise<OAuthClientView | undefined>;
  findUser(id: string): Promise<OAuthUserView | undefined>;
  /** The registered resource (RFC 8707) with this exact identifier, not deleted; from an in-process cache. */
  findResource(identifier: string): Promise<OAuthResourceView | undefined>;
  /**
   * Checks an access token Gatehouse issued: signature under a published key (allow-listed algorithm), typ,
   * issuer and expiry (all but expiry with `anyTime`). Undefined for anything else. Does not consult the denylist.
   */
  verifyAccessToken(token: string, options?: { anyTime?: boolean }): AccessTokenClaims | undefined;
  /** Audit events written behind (authentication outcomes). */
  audit(input: AuditEventInput, origin: RequestOrigin | null): void;
  /**
   * A repetitive success of a client (a client_credentials grant, an introspection of one of its tokens): counted
   * per client and minute, and audited only when sampled (GATEHOUSE_AUDIT_SUCCESS_SAMPLE).
   */
  recordSuccess(input: AuditEventInput, origin: RequestOrigin | null, usage: { clientId: string; outcome: UsageOutcome; latencyUs: number }): void;
  /** Raises a security alert (aggregated per cause, written at once; see docs/protection.md). */
  alert(input: AlertInput): void;
}
