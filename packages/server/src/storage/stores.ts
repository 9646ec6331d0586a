import type { SigningAlg } from '../core/tokens/signing-alg.js';
import type { ApiKeyEnvironment } from 'gatehouse-sdk';
import type { AuditEvent, AuditEventType } from '../core/audit/audit-event.js';
import type { ClientJwks, ClientRegistration, GrantType, TlsClientAuthSubject, TokenEndpointAuthMethod } from '../core/oauth/client-metadata.js';
import type { RateLimitPolicy } from '../core/rate-limit/decide.js';

/**
 * Narrow storage interfaces, one per aggregate. Every implementation passes the contract suite in
 * storage/contract. Methods throw only on infrastructure failure; "not there" is a return value.
 */

export interface ApiKeyRecord {
  id: string;
  /** SHA-256 (hex) of the plaintext key; the plaintext is never stored. */
  hash: string;
  displayPrefix: string;
  environment: ApiKeyEnvironment;
  name: string;
  scopes: string[];
  tenantId: string | null;
  metadata: Record<string, unknown>;
  rateLimit: RateLimitPolicy | null;
  createdAt: number;
  updatedAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
  rotatedFromId: string | null;
  rotatedToId: string | null;
  createdBy: string | null;
  /** What happens when the key looks compromised (core/detection): an alert, or an alert and revocation. */
  anomalyAction: AnomalyAction;
}

export type AnomalyAction = 'notify' | 'revoke';

export type ApiKeyStatus = 'active' | 'expired' | 'revoked';

export interface PageCursor {
  at: number;
  id: string;
}

export interface ApiKeyListQuery {
  tenantId?: string;
  environment?: ApiKeyEnvironment;
  status?: ApiKeyStatus;
  /**
   * Keys whose name contains this, ignoring case (every letter on PostgreSQL; ASCII letters on SQLite, whose
   * lower() folds only those). Taken literally: % and _ are not wildcards.
   */
  nameContains?: string;
  /** Keys whose display prefix starts with this, case-sensitively (e.g. `sk_live_Ab`). */
  prefix?: string;
  /** Needed to tell active from expired. */
  now: number;
  limit: number;
  after?: PageCursor;
}

export type ApiKeyPatch = Partial<Pick<ApiKeyRecord, 'name' | 'scopes' | 'rateLimit' | 'metadata' | 'expiresAt' | 'anomalyAction'>>;

/** A revoked key as it now is, and whether this call revoked it. */
export interface RevokeResult {
  key: ApiKeyRecord;
  changed: boolean;
}

/** Refuse a write that would leave no active unrestricted admin key (`admin`, no tenant). */
export interface AdminGuard {
  keepUnrestrictedAdmin: boolean;
}

export type RotateOutcome = 'rotated' | 'not_found' | 'not_active' | 'already_rotated';

export interface RotateInput {
  oldId: string;
  successor: ApiKeyRecord;
  now: number;
  /** When the old key stops working (ignored when revokeOld). */
  oldExpiresAt: number;
  revokeOld: boolean;
  events: AuditEvent[];
}

/** A record that changed, as a cache needs to know: its id, its cache key (an API key's hash) and when. */
export interface ChangedRecord {
  id: string;
  /** API keys: the SHA-256 hex of the key (the key cache's key). OAuth clients: the id. */
  hash: string;
  updatedAt: number;
}

export interface ApiKeyStore {
  /** Inserts a key and its audit events atomically. */
  insert(key: ApiKeyRecord, events: AuditEvent[]): Promise<void>;
  /**
   * Inserts the root admin key only if no key was ever bootstrapped, atomically (safe when several processes
   * start at once). Returns whether this call inserted it.
   */
  insertBootstrapKey(key: ApiKeyRecord, events: AuditEvent[]): Promise<boolean>;
  findById(id: string): Promise<ApiKeyRecord | undefined>;
  findByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  /**
   * The keys changed (updated, rotated, revoked) after `since` (their `updatedAt`), at most `limit`, most recently
   * changed first; not keys merely created then (a revoked one always): what a process polls to drop changed keys from its cache when pub/sub may have lost messages.
   */
  listChangedSince(since: number, limit: number): Promise<ChangedRecord[]>;
  /** Newest first; returns at most `limit` records after the cursor. */
  list(query: ApiKeyListQuery): Promise<ApiKeyRecord[]>;
  /**
   * Applies a patch to a key that is neither revoked nor expired at `now`; undefined when there is none.
   * With `keepUnrestrictedAdmin`, 'last_admin' (and nothing written) when the patch would take `admin` from the
   * last active admin key bound to no tenant.
   */
  updateActive(id: string, patch: ApiKeyPatch, now: number, events: AuditEvent[]): Promise<ApiKeyRecord | undefined>;
  updateActive(id: string, patch: ApiKeyPatch, now: number, events: AuditEvent[], guard: AdminGuard): Promise<ApiKeyRecord | 'last_admin' | undefined>;
  /**
   * Atomically: checks the old key is active and not yet rotated, inserts its successor, and ends the old key
   * (expires at `oldExpiresAt`, or revoked at `now` when `revokeOld`).
   */
  rotate(input: RotateInput): Promise<RotateOutcome>;
  /**
   * Revokes a key if it is not revoked yet; returns the key as it now is, and whether this call revoked it.
   * With `keepUnrestrictedAdmin`, 'last_admin' (and nothing written) when it is the last active admin key bound
   * to no tenant. The check and the write are one step: of concurrent calls removing the last two such keys, one
   * is refused.
   */
  revoke(id: string, now: number, events: AuditEvent[]): Promise<RevokeResult | undefined>;
  revoke(id: string, now: number, events: AuditEvent[], guard: AdminGuard): Promise<RevokeResult | 'last_admin' | undefined>;
  /**
   * Marks up to `limit` keys that expired by `now` (unrevoked then) and were not announced yet, and writes their
   * key.expired events, atomically: each expiry is announced once, however many processes sweep at once.
   * Returns how many it announced.
   */
  announceExpired(now: number, limit: number, eventFor: (key: ApiKeyRecord) => AuditEvent): Promise<number>;
}

/** A registered OAuth client. Secrets are stored only as SHA-256 (hex); public clients have none. */
export interface OAuthClientRecord {
  id: string;
  name: string;
  redirectUris: string[];
  /** Web origins allowed to call the browser endpoints (CORS), exact `scheme://host[:port]`. */
  allowedOrigins: string[];
  /** OpenID Connect RP-Initiated Logout: where the client may be sent after logout (exact match). */
  postLogoutRedirectUris: string[];
  grantTypes: GrantType[];
  scopes: string[];
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  audiences: string[];
  defaultAudience: string | null;
  tenantId: string | null;
  accessTokenTtlSeconds: number | null;
  /** The JWS algorithm of its ID tokens (OIDC Dynamic Client Registration `id_token_signed_response_alg`). */
  idTokenSignedResponseAlg: SigningAlg;
  /** tls_client_auth: the registered subject DN or SAN (RFC 8705 section 2.1.2). */
  tlsClientAuth: TlsClientAuthSubject | null;
  /** self_signed_tls_client_auth: the registered certificates, as a JWK Set with x5c. */
  jwks: ClientJwks | null;
  /** `admin` (created through the admin API) or `dynamic` (RFC 7591); metadata-document clients have no record. */
  registration: Exclude<ClientRegistration, 'metadata_document'>;
  /** Dynamic clients: SHA-256 (hex) of the RFC 7592 registration access token; null for admin clients. */
  registrationAccessTokenHash: string | null;
  /** Dynamic clients: the address that registered it (the per-address maximum of live dynamic clients). */
  registeredAddress: string | null;
  /** Dynamic clients: the RFC 7591 descriptive fields they registered (client_uri, logo_uri, contacts, ...). */
  registrationMetadata: RegistrationMetadata | null;
  /** When it last obtained a token by client_credentials (from the usage counters), for idle expiry; null: never. */
  lastUsedAt: number | null;
  secretHash: string | null;
  /** Display prefix of the current secret (`cs_` + 6 characters); null for public clients. */
  secretPrefix: string | null;
  /** The secret replaced by the last rotation, accepted until `previousSecretExpiresAt`. */
  previousSecretHash: string | null;
  previousSecretExpiresAt: number | null;
  /** Incremented by every change; updates are conditional on it. */
  version: number;
  createdBy: string | null;
  createdAt: number;
  updatedAt: number;
  deletedAt: number | null;
}

export type OAuthClientPatch = Partial<
  Pick<
    OAuthClientRecord,
    | 'name'
    | 'redirectUris'
    | 'allowedOrigins'
    | 'postLogoutRedirectUris'
    | 'grantTypes'
    | 'scopes'
    | 'tokenEndpointAuthMethod'
    | 'audiences'
    | 'defaultAudience'
    | 'accessTokenTtlSeconds'
    | 'idTokenSignedResponseAlg'
    | 'tlsClientAuth'
    | 'jwks'
    | 'registrationMetadata'
  >
>;

/** RFC 7591 section 2: the descriptive client metadata a dynamic client may register; each field optional. */
export interface RegistrationMetadata {
  clientUri?: string;
  logoUri?: string;
  tosUri?: string;
  policyUri?: string;
  contacts?: string[];
  softwareId?: string;
  softwareVersion?: string;
}

export interface OAuthClientListQuery {
  tenantId?: string;
  /** Only clients registered this way. */
  registration?: Exclude<ClientRegistration, 'metadata_document'>;
  limit: number;
  after?: PageCursor;
}

export type ClientWriteOutcome<T> = { ok: true; client: T } | { ok: false; reason: 'not_found' | 'conflict' };

export interface RotateClientSecretInput {
  id: string;
  /** The secret hash the caller saw: the rotation applies only if it is still current (one of two racing wins). */
  expectedSecretHash: string;
  secretHash: string;
  secretPrefix: string;
  /** The replaced secret is kept until then; null drops it at once. */
  previousSecretExpiresAt: number | null;
  now: number;
  events: AuditEvent[];
}

export interface ClientStore {
  /** Inserts a client and its audit events atomically. */
  insert(client: OAuthClientRecord, events: AuditEvent[]): Promise<void>;
  /** Deleted clients too (their `deletedAt` is set). */
  findById(id: string): Promise<OAuthClientRecord | undefined>;
  /** The clients changed (deleted ones included) after `since`, at most `limit`, most recently changed first. */
  listChangedSince(since: number, limit: number): Promise<ChangedRecord[]>;
  /** Clients that are not deleted, newest first; at most `limit` after the cursor. */
  list(query: OAuthClientListQuery): Promise<OAuthClientRecord[]>;
  /**
   * Applies a patch to a client that is not deleted and still at `expectedVersion`, bumping the version;
   * not_found when it is missing or deleted, conflict when another change came first.
   */
  update(
    id: string,
    expectedVersion: number,
    patch: OAuthClientPatch,
    now: number,
    events: AuditEvent[],
  ): Promise<ClientWriteOutcome<OAuthClientRecord>>;
  /** Replaces the secret in one conditional write: the old one becomes the previous secret. */
  rotateSecret(input: RotateClientSecretInput): Promise<ClientWriteOutcome<OAuthClientRecord>>;
  /** Soft-deletes a client if it is not deleted yet; the client as it now is, and whether this call deleted it. */
  softDelete(id: string, now: number, events: AuditEvent[]): Promise<{ client: OAuthClientRecord; changed: boolean } | undefined>;
  /** Live (not deleted) dynamic clients registered from this address. */
  countDynamicByAddress(address: string): Promise<number>;
  /**
   * Soft-deletes up to `limit` live dynamic clients unused since `cutoff`: created before it, not used by
   * client_credentials since (lastUsedAt), and with no grant and no refresh token issued since. Writes one event
   * per client (`eventFor`) with its deletion, atomically per client. Returns the clients deleted by this call
   * (several processes sweeping at once delete each client once).
   */
  deleteIdleDynamic(cutoff: number, now: number, limit: number, eventFor: (client: OAuthClientRecord) => AuditEvent): Promise<OAuthClientRecord[]>;
}

/** An initial access token (RFC 7591 section 3): admits Dynamic Client Registration in `token` mode. */
export interface RegistrationTokenRecord {
  id: string;
  /** SHA-256 (hex) of the token; the plaintext is shown once, at creation. */
  hash: string;
  /** `iat_` + 6 characters, for display. */
  displayPrefix: string;
  name: string;
  /** Clients registered with it belong to this tenant. */
  tenantId: string | null;
  expiresAt: number | null;
  /** How many registrations it admits; null: no limit. */
  maxUses: number | null;
  uses: number;
  revokedAt: number | null;
  createdBy: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface RegistrationTokenListQuery {
  tenantId?: string;
  limit: number;
  after?: PageCursor;
}

export interface RegistrationTokenStore {
  /** Inserts a token and its audit events atomically. */
  insert(token: RegistrationTokenRecord, events: AuditEvent[]): Promise<void>;
  findById(id: string): Promise<RegistrationTokenRecord | undefined>;
  /** Newest first (revoked, expired and used-up tokens too); at most `limit` after the cursor. */
  list(query: RegistrationTokenListQuery): Promise<RegistrationTokenRecord[]>;
  /**
   * Takes one use of the token with this hash if it is usable at `now` (not revoked, not expired, uses below
   * maxUses), in one conditional write: of registrations racing for the last use exactly one gets it. Returns the
   * token after the use, or undefined when no usable token has that hash.
   */
  consume(hash: string, now: number): Promise<RegistrationTokenRecord | undefined>;
  /** Revokes a token if it is not revoked yet; the token as it now is, and whether this call revoked it. */
  revoke(id: string, now: number, events: AuditEvent[]): Promise<{ token: RegistrationTokenRecord; changed: boolean } | undefined>;
}

/** An API (RFC 8707 resource) registered with its scopes: what clients may ask tokens for, and with which scopes. */
export interface ResourceRecord {
  id: string;
  /** The resource indicator: an absolute URI without a fragment; unique among resources not deleted. */
  identifier: string;
  name: string;
  /** The scopes this API defines (what its tokens may carry). */
  scopes: string[];
  /** Clients that registered themselves (Dynamic Client Registration, Client ID Metadata Documents) may ask for it. */
  dynamicClients: boolean;
  /** Caps the lifetime of access tokens for this resource; null: the client's or the server's default. */
  accessTokenTtlSeconds: number | null;
  tenantId: string | null;
  /** Incremented by every change; updates are conditional on it. */
  version: number;
  createdBy: string | null;
  createdAt: number;
  updatedAt: number;
  deletedAt: number | null;
}

export type ResourcePatch = Partial<Pick<ResourceRecord, 'identifier' | 'name' | 'scopes' | 'dynamicClients' | 'accessTokenTtlSeconds'>>;

export interface ResourceListQuery {
  tenantId?: string;
  limit: number;
  after?: PageCursor;
}

/** `duplicate`: another resource not deleted has that identifier. */
export type ResourceWriteOutcome =
  | { ok: true; resource: ResourceRecord }
  | { ok: false; reason: 'not_found' | 'conflict' | 'duplicate' };

export interface ResourceStore {
  /** Inserts a resource and its audit events atomically; `duplicate` (nothing written) when its identifier is taken. */
  insert(resource: ResourceRecord, events: AuditEvent[]): Promise<'ok' | 'duplicate'>;
  /** Deleted resources too (their `deletedAt` is set). */
  findById(id: string): Promise<ResourceRecord | undefined>;
  /** The resource not deleted with this identifier (exact match). */
  findByIdentifier(identifier: string): Promise<ResourceRecord | undefined>;
  /** Resources changed (deleted ones included) after `since`, at most `limit`, most recently changed first; `hash` is the identifier. */
  listChangedSince(since: number, limit: number): Promise<ChangedRecord[]>;
  /** Resources not deleted, newest first; at most `limit` after the cursor. */
  list(query: ResourceListQuery): Promise<ResourceRecord[]>;
  /** Applies a patch to a resource not deleted and still at `expectedVersion`, bumping the version. */
  update(id: string, expectedVersion: number, patch: ResourcePatch, now: number, events: AuditEvent[]): Promise<ResourceWriteOutcome>;
  /** Soft-deletes a resource if it is not deleted yet; the resource as it now is, and whether this call deleted it. */
  softDelete(id: string, now: number, events: AuditEvent[]): Promise<{ resource: ResourceRecord; changed: boolean } | undefined>;
}

export interface AuditEventQuery {
  type?: AuditEventType;
  /** Events whose type starts with this, e.g. `key.` for every key event. */
  typePrefix?: string;
  keyId?: string;
  tenantId?: string;
  outcome?: 'success' | 'failure';
  /** Events about this OAuth client (details.clientId). */
  clientId?: string;
  /** Events about this user (details.userId) or made by this admin user (actorUserId). */
  userId?: string;
  /** Events made by this admin key. */
  actorKeyId?: string;
  /** Occurred at or after (ms). */
  since?: number;
  /** Occurred before (ms, exclusive): `since` and `until` tile time without overlap. */
  until?: number;
  limit: number;
  after?: PageCursor;
}

export interface AuditStore {
  /** The write-behind path for high-volume events: batched, possibly retried, idempotent per event id. */
  insertMany(events: readonly AuditEvent[]): Promise<void>;
  /**
   * Events that stand on their own (an alert, an expiry noticed by a sweep) written at once, in one transaction
   * through the same path as the lifecycle events written with their change.
   */
  insertNow(events: readonly AuditEvent[]): Promise<void>;
  /** Newest first. */
  list(query: AuditEventQuery): Promise<AuditEvent[]>;
  /** Retention: deletes up to `limit` of the events that occurred before `cutoff`, oldest first; returns how many. */
  purgeOlderThan(cutoff: number, limit: number): Promise<number>;
}

/** Small named values: the master-key check value and similar. */
export interface MetaStore {
  get(name: string): Promise<string | undefined>;
  /** Inserts when absent; returns the value now stored (the existing one if another writer won). */
  getOrInsert(name: string, value: string): Promise<string>;
}

export interface GrantRecord {
  id: string;
  clientId: string;
  /** Null for grants without a user (none today: client credentials create no grant). */
  userId: string | null;
  tenantId: string | null;
  scopes: string[];
  audience: string[];
  authTime: number | null;
  createdAt: number;
  /** The absolute end of the grant: no refresh token outlives it. */
  expiresAt: number;
  revokedAt: number | null;
  revokedReason: string | null;
  /**
   * RFC 8705 section 4: the x5t#S256 of the certificate a public client used when the grant was made; its
   * refresh tokens are accepted only over a connection presenting that certificate. Null: not bound.
   */
  certificateThumbprint: string | null;
}

export interface AuthorizationCodeRecord {
  /** SHA-256 (hex) of the code; the code itself is never stored. */
  hash: string;
  clientId: string;
  userId: string;
  tenantId: string | null;
  redirectUri: string;
  /** The S256 challenge (PKCE is required for every code). */
  codeChallenge: string;
  scopes: string[];
  audience: string[];
  nonce: string | null;
  authTime: number;
  createdAt: number;
  expiresAt: number;
  redeemedAt: number | null;
  /** The grant created when the code was redeemed. */
  grantId: string | null;
}

export interface RefreshTokenRecord {
  /** SHA-256 (hex) of the token. */
  hash: string;
  grantId: string;
  scopes: string[];
  createdAt: number;
  /** The idle expiry (never after the grant's absolute expiry). */
  expiresAt: number;
  /** When it was exchanged for its successor; presenting it again after that is reuse. */
  usedAt: number | null;
}

/** An access token issued from a grant, remembered so that revoking the grant can deny it. */
export interface GrantAccessToken {
  jti: string;
  grantId: string;
  expiresAt: number;
}

export interface DeniedToken {
  jti: string;
  expiresAt: number;
}

export type RedeemCodeOutcome =
  | { outcome: 'redeemed' }
  | { outcome: 'already_redeemed'; grantId: string | null }
  | { outcome: 'not_redeemable' };

export type RotateRefreshOutcome =
  | { outcome: 'rotated' }
  /** The token was exchanged before: the caller must treat this as theft and revoke the grant. */
  | { outcome: 'reused'; grantId: string }
  | { outcome: 'not_active' };

/** `challenge_reused`: the client already has a code with this code_challenge; nothing was written. */
export type InsertCodeOutcome = 'inserted' | 'challenge_reused';

export interface GrantStore {
  /**
   * Stores a code, unless the same client already has one (redeemed, expired or not, as long as it is kept) with
   * the same code_challenge: PKCE challenges are single-use per client (RFC 9700 section 2.1.1). Atomic: of
   * concurrent inserts with one challenge exactly one is `inserted`.
   */
  insertCode(code: AuthorizationCodeRecord): Promise<InsertCodeOutcome>;
  findCode(hash: string): Promise<AuthorizationCodeRecord | undefined>;
  /**
   * One atomic step: marks the code redeemed if it is unredeemed and unexpired at `now`, and creates the grant,
   * its first refresh token (if any) and the access token's record. Of concurrent redemptions exactly one wins.
   */
  redeemCode(input: {
    codeHash: string;
    now: number;
    grant: GrantRecord;
    refreshToken: RefreshTokenRecord | null;
    accessToken: GrantAccessToken;
    events: AuditEvent[];
  }): Promise<RedeemCodeOutcome>;
  findRefreshToken(hash: string): Promise<{ token: RefreshTokenRecord; grant: GrantRecord } | undefined>;
  /**
   * One atomic step: marks the old token used if it is unused, unexpired and its grant unrevoked at `now`, and
   * inserts its successor and the new access token's record. Of concurrent rotations exactly one wins.
   */
  rotateRefreshToken(input: {
    oldHash: string;
    now: number;
    next: RefreshTokenRecord;
    accessToken: GrantAccessToken;
    events: AuditEvent[];
  }): Promise<RotateRefreshOutcome>;
  findGrant(id: string): Promise<GrantRecord | undefined>;
  /**
   * Revokes grants (one by id, or every live one of a user or a client) and, in the same transaction, puts the
   * unexpired access tokens issued from them on the denylist. `events` are written when something was revoked,
   * `detections` (what caused it) always. Returns what it revoked and denied.
   */
  revokeGrants(
    /** One grant; a user's (of one client, with `clientId` too); or a client's. */
    filter: { grantId: string } | { userId: string; clientId?: string } | { clientId: string },
    now: number,
    reason: string,
    events: AuditEvent[],
    detections?: AuditEvent[],
  ): Promise<{ grantIds: string[]; deniedTokens: DeniedToken[] }>;
  /** Adds one access token to the denylist (idempotent). */
  denyToken(token: DeniedToken, now: number, events: AuditEvent[]): Promise<void>;
  /** Every denylisted token that has not expired at `now`. */
  listDeniedTokens(now: number): Promise<DeniedToken[]>;
  /**
   * Deletes what can no longer matter at `now`: expired refresh tokens, denylist entries and access-token
   * records, and codes that expired before `codesExpiredBefore` (redeemed codes are kept a while longer, so
   * that a late replay still revokes what was issued from them).
   */
  purgeExpired(now: number, codesExpiredBefore: number): Promise<void>;
}

export interface ConsentRecord {
  userId: string;
  clientId: string;
  scopes: string[];
  createdAt: number;
  updatedAt: number;
}

export interface ConsentStore {
  find(userId: string, clientId: string): Promise<ConsentRecord | undefined>;
  /** Adds scopes to what the user has granted the client (a union; never narrows). */
  grant(userId: string, clientId: string, scopes: readonly string[], now: number): Promise<ConsentRecord>;
  /** Forgets a user's consents (to one client, or to all). */
  forget(userId: string, clientId?: string): Promise<void>;
}

export interface SessionRecord {
  /** SHA-256 (hex) of the session cookie's value. */
  hash: string;
  /** Public id (`ses_...`): what administrators see and name; never the hash. */
  id: string;
  userId: string;
  authTime: number;
  createdAt: number;
  expiresAt: number;
  revokedAt: number | null;
}

export interface SessionStore {
  insert(session: SessionRecord): Promise<void>;
  find(hash: string): Promise<SessionRecord | undefined>;
  /** Ends every session of a user. */
  revokeForUser(userId: string, now: number): Promise<void>;
  revoke(hash: string, now: number): Promise<void>;
  /** A user's live sessions (not ended, not expired at `now`), newest first; at most `limit`. */
  listLive(userId: string, now: number, limit: number): Promise<SessionRecord[]>;
  /** Ends one live session of a user, named by its public id; false when the user has no such live session. */
  revokeById(userId: string, id: string, now: number): Promise<boolean>;
  /** Ends every session of a user except the one with this hash (a password change keeps the session it was made in). */
  revokeOthers(userId: string, keepHash: string, now: number): Promise<void>;
}

export interface UserRecord {
  id: string;
  /** Normalised: trimmed and lowercased. Unique across the whole store. */
  email: string;
  /** Self-describing scrypt encoding (core/users/password-hash.ts); never the password. */
  passwordHash: string;
  name: string | null;
  tenantId: string | null;
  createdAt: number;
  updatedAt: number;
  /** Set while the user's deletion is under way; such a user cannot log in and is not listed. */
  deletedAt: number | null;
  /** Set while the user is disabled: kept and listed, but cannot log in, and no session or grant of theirs works. */
  disabledAt: number | null;
  /**
   * The user's admin roles: management scopes (`admin`, `keys:read`, ...) the user holds on the admin API when
   * signed in to the console, within the user's tenant (none: every tenant). Empty: not an administrator.
   */
  adminScopes: string[];
}

/** What an update changes; absent fields are kept. */
export interface UserPatch {
  email?: string;
  name?: string | null;
  passwordHash?: string;
  disabledAt?: number | null;
  adminScopes?: string[];
}

export interface UserListQuery {
  tenantId?: string;
  limit: number;
  after?: PageCursor;
}

export interface UserStore {
  /** Inserts a user and its audit events atomically; 'email_taken' (and nothing written) when the email exists. */
  insert(user: UserRecord, events: AuditEvent[]): Promise<'created' | 'email_taken'>;
  /** Finds a user by id, a user being deleted included. */
  findById(id: string): Promise<UserRecord | undefined>;
  /** Finds a user by normalised email, a user being deleted included. */
  findByEmail(email: string): Promise<UserRecord | undefined>;
  /** Users not being deleted, newest first; at most `limit` after the cursor. */
  list(query: UserListQuery): Promise<UserRecord[]>;
  /** Replaces the password hash of a user not being deleted (rehash at login); false when there is none. */
  updatePasswordHash(id: string, passwordHash: string, now: number): Promise<boolean>;
  /**
   * First step of a deletion: marks the user deleted at `now` and writes the events atomically, if not marked
   * yet. Returns the user as it now is and whether this call marked it; undefined when there is no such user.
   */
  markDeleted(id: string, now: number, events: AuditEvent[]): Promise<{ user: UserRecord; changed: boolean } | undefined>;
  /** Last step of a deletion: removes a user marked deleted. Idempotent. */
  purge(id: string): Promise<void>;
  /**
   * Applies a patch to a user not being deleted and writes the events, in one transaction. 'email_taken' (and
   * nothing written) when another user has the new email; undefined when there is no such user.
   */
  update(id: string, patch: UserPatch, now: number, events: AuditEvent[]): Promise<{ user: UserRecord } | 'email_taken' | undefined>;
  /** Whether the first run is over: it created an admin user once, or some user (not being deleted) holds an admin role. */
  firstRunDone(): Promise<boolean>;
  /**
   * The first run's one creation of an admin user, atomically: 'setup_done' (nothing written) once a first run has
   * created one before, or while any admin user exists; 'email_taken' (nothing written) when the email is taken.
   */
  insertFirstAdmin(user: UserRecord, events: AuditEvent[]): Promise<'created' | 'setup_done' | 'email_taken'>;
}

/** A JWT signing key as stored. The private key is only ever held here as master-key ciphertext. */
export interface SigningKeyRecord {
  kid: string;
  alg: string;
  /** The public JWK (kty, crv / n, e, x, y ...) with kid, alg and use. */
  publicJwk: Record<string, unknown>;
  /** SecretBox ciphertext of the PKCS#8 DER private key, sealed with associated data = kid. */
  sealedPrivateKey: string;
  createdAt: number;
  /** Signs from this time on (it is published from its creation). */
  activatesAt: number;
  /** Stops signing at this time (set when a successor is created). */
  retiredAt: number | null;
  /** Dropped from the JWKS at this time (retirement + the longest token lifetime). */
  publishUntil: number | null;
}

export interface SigningKeyRotation {
  /** The new keys, one per algorithm, all with the same `activatesAt` (the first is the access-token key). */
  keys: SigningKeyRecord[];
  /** Every older key still signing at the new keys' `activatesAt` is retired then, and published until this time. */
  previousPublishUntil: number;
  events: AuditEvent[];
}

export interface SigningKeyStore {
  /**
   * Inserts the first signing keys (one per algorithm) only if none was ever created, atomically (safe when
   * several processes start at once on one database). Returns whether this call inserted them.
   */
  insertInitial(keys: SigningKeyRecord[], events: AuditEvent[]): Promise<boolean>;
  /**
   * Atomically, serialized with every other rotation: inserts the new keys and retires each other key not yet
   * retired by their `activatesAt` at that time. Returns the kids it retired.
   */
  rotate(rotation: SigningKeyRotation): Promise<string[]>;
  /**
   * Inserts `key` only if no key of its algorithm is unretired (retiredAt null), serialized with rotations: of
   * several processes adding the key of an algorithm the set lacks (an upgrade), exactly one does. Returns
   * whether this call inserted it.
   */
  insertIfAlgMissing(key: SigningKeyRecord, events: AuditEvent[]): Promise<boolean>;
  /** Every key, oldest activation first. */
  list(): Promise<SigningKeyRecord[]>;
}

/** A client address refused until `expiresAt` after too many failed authentications. */
export interface IpBlockRecord {
  /** Canonical address (core/detection/ip-address.ts). */
  ip: string;
  reason: string;
  /** Failures counted when it was blocked, when known. */
  failures: number | null;
  createdAt: number;
  expiresAt: number;
}

export interface IpBlockStore {
  /**
   * Blocks an address until `block.expiresAt` and writes the events, atomically. A block in force is extended,
   * never shortened; an ended one is replaced. Returns the block as it now is.
   */
  upsert(block: IpBlockRecord, events: AuditEvent[]): Promise<IpBlockRecord>;
  /** Ends the block of an address, writing the events only if one was in force at `now`; returns it. */
  remove(ip: string, now: number, events: AuditEvent[]): Promise<IpBlockRecord | undefined>;
  /** Blocks in force at `now`, soonest to end first. */
  listActive(now: number): Promise<IpBlockRecord[]>;
}

/** What is normal for a credential (`key_...` or `cli_...`), learned by anomaly detection. */
export interface CredentialProfileRecord {
  credentialId: string;
  firstSeenAt: number;
  /** Recent requests per minute (a moving average). */
  baselinePerMinute: number;
  updatedAt: number;
  /** Networks (`/24` or `/48`) it was used from. */
  networks: string[];
}

export interface CredentialProfileStore {
  loadAll(): Promise<CredentialProfileRecord[]>;
  /**
   * Write-behind of learned profiles: the baseline is replaced, the first-seen time kept, and the networks are
   * added to those already stored (several processes learning one credential lose nothing).
   */
  save(profiles: readonly CredentialProfileRecord[]): Promise<void>;
  /** Whether any process has stored this network for the credential. */
  hasNetwork(credentialId: string, network: string): Promise<boolean>;
}

export type WebhookScheme = 'standard' | 'stripe';

/** A webhook endpoint. Its signing secrets are held only as master-key ciphertext (associated data = id). */
export interface WebhookEndpointRecord {
  id: string;
  url: string;
  /** Event types, `*`, or `<prefix>.*`. */
  events: string[];
  scheme: WebhookScheme;
  /** Null: receives every tenant's events; otherwise only that tenant's. */
  tenantId: string | null;
  description: string | null;
  sealedSecret: string;
  /** The secret replaced by the last rotation: deliveries are signed with it too until it expires. */
  sealedPreviousSecret: string | null;
  previousSecretExpiresAt: number | null;
  disabledAt: number | null;
  /** manual | failing | gone */
  disabledReason: string | null;
  /** The first failed attempt since the last success; null while healthy. */
  failingSince: number | null;
  /** Incremented by every change an admin makes, and by a disable; updates are conditional on it. */
  version: number;
  createdBy: string | null;
  createdAt: number;
  updatedAt: number;
}

export type WebhookEndpointPatch = Partial<
  Pick<
    WebhookEndpointRecord,
    | 'url'
    | 'events'
    | 'scheme'
    | 'description'
    | 'sealedSecret'
    | 'sealedPreviousSecret'
    | 'previousSecretExpiresAt'
    | 'disabledAt'
    | 'disabledReason'
    | 'failingSince'
  >
>;

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface WebhookDeliveryRecord {
  id: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  status: WebhookDeliveryStatus;
  /** Attempts made so far. */
  attempts: number;
  nextAttemptAt: number;
  /** No automatic retry is scheduled after this time. */
  deadlineAt: number;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
  deliveredAt: number | null;
}

export type WebhookAttemptOutcome = 'success' | 'failure';

export interface WebhookAttemptRecord {
  deliveryId: string;
  /** 1 for the first attempt. */
  attempt: number;
  attemptedAt: number;
  outcome: WebhookAttemptOutcome;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
}

/** A delivery this process holds the lease of, with the exact body to send. */
export interface ClaimedDelivery {
  delivery: WebhookDeliveryRecord;
  payload: string;
}

/** What came of one claimed delivery, written by completeAttempts. */
export interface AttemptResult {
  deliveryId: string;
  endpointId: string;
  /** Null when nothing was sent (the endpoint was disabled or deleted meanwhile). */
  attempt: WebhookAttemptRecord | null;
  status: WebhookDeliveryStatus;
  nextAttemptAt: number;
  /** What the attempt says of the endpoint: it answered, it failed, or it is gone for good (410). */
  endpointHealth: 'healthy' | 'failing' | 'gone' | 'unknown';
}

export interface CompleteAttemptsInput {
  results: readonly AttemptResult[];
  /** The claim's lease owner: results of a lease lost meanwhile are dropped. */
  leaseOwner: string;
  now: number;
  /** An endpoint failing since this time or earlier is disabled. */
  failingSinceLimit: number;
  /** The webhook_endpoint.disabled event of an endpoint disabled here, written in the same transaction. */
  disabledEvent(endpoint: WebhookEndpointRecord, reason: 'failing' | 'gone'): AuditEvent;
  /** Also claims (as claimDue, for the same owner, at `now`) up to `limit` due deliveries, in the same transaction. */
  claim?: { limit: number; leaseUntil: number };
}

export interface FanOutInput {
  now: number;
  limit: number;
  /** Whether an endpoint receives an event (filters and tenant). */
  receives(endpoint: Pick<WebhookEndpointRecord, 'events' | 'tenantId'>, event: { type: string; tenantId: string | null }): boolean;
  newDeliveryId(): string;
  /** Retries stop this long after the event. */
  retryWindowMs: number;
}

export interface WebhookDeliveryListQuery {
  endpointId: string;
  status?: WebhookDeliveryStatus;
  limit: number;
  after?: PageCursor;
}

export interface TestDeliveryInput {
  endpointId: string;
  /** The outbox event: its id, type, tenant and the exact body to send. */
  event: { id: string; type: string; tenantId: string | null; payload: string };
  deliveryId: string;
  now: number;
  /** No automatic retry after this time. */
  deadlineAt: number;
}

export type WriteOutcome<T> = { ok: true; value: T } | { ok: false; reason: 'not_found' | 'conflict' };

export interface WebhookStore {
  /** Inserts an endpoint and its audit events atomically. */
  insertEndpoint(endpoint: WebhookEndpointRecord, events: AuditEvent[]): Promise<void>;
  findEndpoint(id: string): Promise<WebhookEndpointRecord | undefined>;
  findEndpoints(ids: readonly string[]): Promise<WebhookEndpointRecord[]>;
  /** Newest first; at most `limit` after the cursor. */
  listEndpoints(query: { tenantId?: string; limit: number; after?: PageCursor }): Promise<WebhookEndpointRecord[]>;
  /**
   * Applies a patch to an endpoint still at `expectedVersion`, bumping the version. An endpoint disabled by the
   * patch has its pending deliveries (those not being attempted) failed in the same transaction.
   */
  updateEndpoint(
    id: string,
    expectedVersion: number,
    patch: WebhookEndpointPatch,
    now: number,
    events: AuditEvent[],
  ): Promise<WriteOutcome<WebhookEndpointRecord>>;
  /** Deletes an endpoint with its deliveries and their attempts; false when there was none. */
  deleteEndpoint(id: string, events: AuditEvent[]): Promise<boolean>;
  /**
   * Creates the deliveries of outbox events not fanned out yet (oldest first, at most `limit` events), for every
   * enabled endpoint that receives them and existed when the event happened, and marks the events fanned out:
   * one transaction, safe when several processes do it at once. Returns how many events it fanned out.
   */
  fanOut(input: FanOutInput): Promise<number>;
  /**
   * Leases up to `limit` pending deliveries due at `now` (and not leased by anyone else) to `leaseOwner` until
   * `leaseUntil`, oldest due first. Of processes claiming at once, each delivery goes to one.
   */
  claimDue(now: number, leaseOwner: string, leaseUntil: number, limit: number): Promise<ClaimedDelivery[]>;
  /**
   * Writes attempts and the resulting delivery states (only for deliveries `leaseOwner` still holds), updates
   * each endpoint's failing-since time, disables endpoints that answered 410 or have failed since
   * `failingSinceLimit` (with their event), and fails the pending deliveries of disabled endpoints: one transaction.
   * Returns what it claimed (see `claim`).
   */
  completeAttempts(input: CompleteAttemptsInput): Promise<ClaimedDelivery[]>;
  findDelivery(id: string): Promise<WebhookDeliveryRecord | undefined>;
  /** Newest first. */
  listDeliveries(query: WebhookDeliveryListQuery): Promise<WebhookDeliveryRecord[]>;
  /** The attempts of these deliveries, oldest first. */
  listAttempts(deliveryIds: readonly string[]): Promise<WebhookAttemptRecord[]>;
  /**
   * Makes a delivery due at `now`, unless an attempt is under way: a pending one keeps its retry window, a
   * delivered or failed one gets one attempt (no automatic retry after it).
   */
  requeueDelivery(
    id: string,
    endpointId: string,
    now: number,
    events: AuditEvent[],
  ): Promise<{ ok: true; delivery: WebhookDeliveryRecord } | { ok: false; reason: 'not_found' | 'in_flight' }>;
  /**
   * A test event (`webhook.test`) and its one delivery, to this endpoint only, due at `now`, with its audit
   * events: one transaction. The event is written fanned out already, so no other endpoint receives it. Refused
   * (nothing written) when the endpoint does not exist or is disabled; a concurrent disable either comes first
   * (refused) or fails the delivery as it fails every pending one.
   */
  queueTestDelivery(input: TestDeliveryInput, events: AuditEvent[]): Promise<{ ok: true; delivery: WebhookDeliveryRecord } | { ok: false; reason: 'not_found' | 'disabled' }>;
  /**
   * Retention: deletes up to `limit` finished (delivered or failed) deliveries last changed before `cutoff`, with
   * their attempts, and up to `limit` outbox events fanned out before `cutoff` that no delivery refers to any
   * more: one transaction. Pending deliveries and their events are never purged. Returns how many rows of
   * deliveries and events it deleted.
   */
  purgeOlderThan(cutoff: number, limit: number): Promise<number>;
}

/** A certificate authority of the built-in CA. Its private key is only ever held here as master-key ciphertext. */
export interface CertificateAuthorityRecord {
  /** `ca_...` */
  id: string;
  certificatePem: string;
  /** SecretBox ciphertext of the PKCS#8 DER private key, sealed with associated data = id. */
  sealedPrivateKey: string;
  createdAt: number;
  /** The root certificate's own end of validity. */
  notAfter: number;
  /** Stops issuing at this time (set when a successor is created). */
  retiredAt: number | null;
  /** Trusted and published until this time (retirement + the longest certificate lifetime). */
  trustedUntil: number | null;
}

/** A client certificate the CA issued. Gatehouse never stores a certificate's private key. */
export interface IssuedCertificateRecord {
  /** `crt_...` */
  id: string;
  /** Lowercase hex, unique. */
  serialNumber: string;
  authorityId: string;
  /** The subject's common name: the client id or the service name. */
  commonName: string;
  clientId: string | null;
  service: string | null;
  /** The SPIFFE-style SAN URI. */
  sanUri: string;
  /** RFC 8705 x5t#S256 of the certificate. */
  thumbprint: string;
  certificatePem: string;
  notBefore: number;
  notAfter: number;
  /** Whether Gatehouse generated the key pair (and returned the private key once) rather than signing a CSR. */
  keyGenerated: boolean;
  tenantId: string | null;
  /** The admin key that asked for it, or null when a certificate renewed itself. */
  createdBy: string | null;
  createdAt: number;
  revokedAt: number | null;
  revokedReason: string | null;
}

export type IssuedCertificateStatus = 'active' | 'expired' | 'revoked';

export interface IssuedCertificateListQuery {
  tenantId?: string;
  clientId?: string;
  status?: IssuedCertificateStatus;
  /** Needed to tell active from expired. */
  now: number;
  limit: number;
  after?: PageCursor;
}

export interface RevokedCertificate {
  serialNumber: string;
  authorityId: string;
  revokedAt: number;
}

export interface CertificateStore {
  /**
   * Inserts the first authority only if none was ever created, atomically (safe when several processes start at
   * once on one database). Returns whether this call inserted it.
   */
  insertInitialAuthority(authority: CertificateAuthorityRecord, events: AuditEvent[]): Promise<boolean>;
  /**
   * Atomically, serialized with every other rotation: inserts the new authority and retires every other one not
   * retired yet at `authority.createdAt`, trusted until `previousTrustedUntil`. Returns the ids it retired.
   */
  rotateAuthority(authority: CertificateAuthorityRecord, previousTrustedUntil: number, events: AuditEvent[]): Promise<string[]>;
  /** Every authority, oldest first. */
  listAuthorities(): Promise<CertificateAuthorityRecord[]>;
  insertCertificate(certificate: IssuedCertificateRecord, events: AuditEvent[]): Promise<void>;
  findCertificate(serialNumber: string): Promise<IssuedCertificateRecord | undefined>;
  /** Newest first; at most `limit` after the cursor. */
  listCertificates(query: IssuedCertificateListQuery): Promise<IssuedCertificateRecord[]>;
  /** Revokes a certificate if it is not revoked yet; the certificate as it now is, and whether this call revoked it. */
  revokeCertificate(
    serialNumber: string,
    now: number,
    reason: string | null,
    events: AuditEvent[],
  ): Promise<{ certificate: IssuedCertificateRecord; changed: boolean } | undefined>;
  /** Revoked certificates that have not expired at `now` (what the CRLs and the TLS listener need). */
  listRevoked(now: number): Promise<RevokedCertificate[]>;
}

/** Counts and latency statistics that merge by addition (the maximum by taking the larger). */
export interface UsageCounts {
  count: number;
  /** Latency statistics cover only the events the server measured (not reported SDK cache hits). */
  latencyCount: number;
  latencySumUs: number;
  latencyMaxUs: number;
  /** Per bucket of LATENCY_BUCKET_BOUNDS_US (the last one unbounded). */
  histogram: number[];
}

/** Counts of one credential, minute and outcome (a code of USAGE_OUTCOMES), as the usage counters add them. */
export interface UsageCell extends UsageCounts {
  credentialId: string;
  /** Minutes since the epoch. */
  minute: number;
  outcome: number;
}

/** One flush of the usage counters: cells to add, and the newest minute each API key was used in. */
export interface UsageBatch {
  cells: UsageCell[];
  lastUsed: Array<[keyId: string, minute: number]>;
}

export type UsageResolution = 'minute' | 'hour' | 'day';

/** Periods [from, to) in minutes since the epoch, aligned to the resolution. */
export interface UsageQuery {
  resolution: UsageResolution;
  fromMinute: number;
  toMinute: number;
  /** One credential (`key_...` or `cli_...`). */
  credentialId?: string | undefined;
  /** The credentials (API keys and OAuth clients) of one tenant. */
  tenantId?: string | undefined;
}

/** Usage of one period (its first minute) and outcome, summed over the credentials asked for. */
export interface UsageSeriesRow extends UsageCounts {
  startMinute: number;
  outcome: number;
}

/** Usage of one credential and outcome over a whole query range. */
export interface UsageTotalRow {
  credentialId: string;
  outcome: number;
  count: number;
}

/**
 * Usage counters per credential: minutes, rolled up into hours and days. Exact whatever has been rolled up, and
 * safe with any number of processes adding and rolling up at once.
 */
export interface UsageStore {
  /**
   * Adds a batch into the minute rows (set-based upserts: counts add, maxima take the larger), into the hour and
   * day rows too for minutes already rolled up, and moves each key's last_used_at forward to its minute's start.
   */
  add(batch: UsageBatch): Promise<void>;
  /** Rolls every complete hour before `nowMinute` into hours, and every complete day into days; idempotent. */
  rollUp(nowMinute: number): Promise<void>;
  /** Deletes up to `limit` rows of a resolution whose period started before `cutoff` (ms); never rows not yet rolled up. */
  purge(resolution: UsageResolution, cutoff: number, limit: number): Promise<number>;
  /** Per period and outcome; only periods with counts. */
  series(query: UsageQuery): Promise<UsageSeriesRow[]>;
  /** Per credential and outcome over the whole range. */
  totals(query: UsageQuery): Promise<UsageTotalRow[]>;
}

export interface Stores {
  apiKeys: ApiKeyStore;
  audit: AuditStore;
  meta: MetaStore;
  grants: GrantStore;
  consents: ConsentStore;
  sessions: SessionStore;
  clients: ClientStore;
  users: UserStore;
  signingKeys: SigningKeyStore;
  ipBlocks: IpBlockStore;
  credentialProfiles: CredentialProfileStore;
  webhooks: WebhookStore;
  certificates: CertificateStore;
  usage: UsageStore;
  registrationTokens: RegistrationTokenStore;
  resources: ResourceStore;
}
