import type { ClientStore, ClientWriteOutcome, OAuthClientPatch, OAuthClientRecord, PageCursor } from '../../storage/stores.js';
import { actorId, type Actor } from '../api-keys/api-key-service.js';
import { actorFields, createAuditEvent, type AuditEvent, type AuditEventInput, type ObservedAuditEvent, type RequestOrigin } from '../audit/audit-event.js';
import type { KeyCache } from '../cache/key-cache.js';
import type { CredentialGuard } from '../authorization/credential-guard.js';
import type { Clock } from '../clock.js';
import { GatehouseError } from '../errors.js';
import { newId } from '../random.js';
import type { WriteBehindLog } from '../write-behind-log.js';
import {
  authFamily,
  clientMetadataProblem,
  unique,
  type ClientJwks,
  type ClientAuthenticationMethod,
  type ClientMetadata,
  type ClientRegistration,
  type GrantType,
  type TlsClientAuthSubject,
  type TokenEndpointAuthMethod,
} from './client-metadata.js';
import { generateClientSecret, hashClientSecret } from './client-secret.js';
import { isMetadataDocumentClientId } from './client-id-metadata/metadata-document-url.js';
import { DEFAULT_ID_TOKEN_ALG, type SigningAlg } from '../tokens/signing-alg.js';

/** A registered OAuth client as the rest of the server sees it. */
export type OAuthClient = OAuthClientRecord;

/**
 * A client as a lookup by id finds it: stored, built in (the console), or described by a Client ID Metadata
 * Document (registration `metadata_document`, never stored: core/oauth/client-id-metadata/).
 */
export type LookedUpClient = Omit<OAuthClientRecord, 'registration' | 'tokenEndpointAuthMethod'> & {
  registration: ClientRegistration;
  tokenEndpointAuthMethod: ClientAuthenticationMethod;
};

export interface CreateClientInput {
  name: string;
  redirectUris?: string[] | undefined;
  allowedOrigins?: string[] | undefined;
  postLogoutRedirectUris?: string[] | undefined;
  grantTypes: GrantType[];
  scopes?: string[] | undefined;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  audiences?: string[] | undefined;
  defaultAudience?: string | undefined;
  tenantId?: string | undefined;
  accessTokenTtlSeconds?: number | undefined;
  idTokenSignedResponseAlg?: SigningAlg | undefined;
  tlsClientAuth?: TlsClientAuthSubject | undefined;
  jwks?: ClientJwks | undefined;
}

export interface ListClientsInput {
  tenantId?: string | undefined;
  registration?: 'admin' | 'dynamic' | undefined;
  limit: number;
  after?: PageCursor | undefined;
}

export interface ClientServiceDeps {
  store: ClientStore;
  /** By client id; holds deleted clients too, so a deleted id is answered from memory. */
  cache: KeyCache<OAuthClientRecord>;
  clock: Clock;
  audit: WriteBehindLog<AuditEvent, ObservedAuditEvent>;
  /** The credential policy: no caller obtains, confers or acts on more privilege than it holds. */
  guard: CredentialGuard;
  /** The algorithms ID tokens can be signed with now (SigningKeys.idTokenAlgs): what idTokenSignedResponseAlg may be. */
  idTokenAlgs(): readonly SigningAlg[];
  /** Drops a client from every process's cache (this one at once, the others through pub/sub). */
  invalidate(clientId: string): Promise<void>;
  /** Gatehouse's own clients (the console, core/oauth/console-client.ts), defined in code rather than stored. */
  builtIn?: (clientId: string) => OAuthClient | undefined;
  /**
   * Clients whose client_id is an https URL (Client ID Metadata Documents), when they are on: resolved through
   * the fetched document; undefined when it cannot be used (the reason is audited there). Never throws.
   */
  metadataDocument?: (clientId: string) => Promise<LookedUpClient | undefined>;
}

export const DEFAULT_CLIENT_SECRET_GRACE_SECONDS = 86_400;
export const MAX_CLIENT_SECRET_GRACE_SECONDS = 30 * 86_400;
const CLIENT_ID = /^cli_[0-9A-Za-z]{22}$/;

export const isClientId = (value: string): boolean => CLIENT_ID.test(value);

/**
 * The OAuth client lifecycle: registration, changes, secret rotation with a grace window, soft deletion; and the
 * cached lookup by id that client authentication uses on every token request. Tenant isolation lives here: an
 * admin key bound to a tenant sees and touches only that tenant's clients.
 */
export class ClientService {
  constructor(private readonly deps: ClientServiceDeps) {}

  async create(actor: Actor, input: CreateClientInput): Promise<{ client: OAuthClient; clientSecret: string | null }> {
    const now = this.deps.clock.now();
    const tenantId = this.#tenantFor(actor, input.tenantId);
    const audiences = unique(input.audiences ?? []);
    const metadata: ClientMetadata = {
      redirectUris: unique(input.redirectUris ?? []),
      allowedOrigins: unique(input.allowedOrigins ?? []),
      postLogoutRedirectUris: unique(input.postLogoutRedirectUris ?? []),
      grantTypes: unique(input.grantTypes),
      scopes: unique(input.scopes ?? []),
      tokenEndpointAuthMethod: input.tokenEndpointAuthMethod,
      audiences,
      defaultAudience: input.defaultAudience ?? (audiences.length === 1 ? audiences[0]! : null),
      accessTokenTtlSeconds: input.accessTokenTtlSeconds ?? null,
      idTokenSignedResponseAlg: input.idTokenSignedResponseAlg ?? DEFAULT_ID_TOKEN_ALG,
      tlsClientAuth: input.tlsClientAuth ?? null,
      jwks: input.jwks ?? null,
    };
    assertValid(metadata, this.deps.idTokenAlgs());
    this.deps.guard.assert(actor, 'client.create', { id: null, tenantId }, [{ tenantId, scopes: metadata.scopes }]);
    // Only secret-based methods get a secret: public clients have none, mTLS clients prove themselves by certificate.
    const secret = authFamily(metadata.tokenEndpointAuthMethod) === 'secret' ? generateClientSecret() : null;
    const client: OAuthClientRecord = {
      id: newId('cli'),
      name: input.name,
      ...metadata,
      tenantId,
      registration: 'admin',
      registrationAccessTokenHash: null,
      registeredAddress: null,
      registrationMetadata: null,
      lastUsedAt: null,
      secretHash: secret ? hashClientSecret(secret.secret) : null,
      secretPrefix: secret?.displayPrefix ?? null,
      previousSecretHash: null,
      previousSecretExpiresAt: null,
      version: 1,
      createdBy: actorId(actor),
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
    };
    await this.deps.store.insert(client, [this.#event(actor, 'client.created', client)]);
    return { client, clientSecret: secret?.secret ?? null };
  }

  async list(actor: Actor, input: ListClientsInput): Promise<OAuthClient[]> {
    if (actor.tenantId !== null && input.tenantId !== undefined && input.tenantId !== actor.tenantId) return [];
    const { registration, ...rest } = input;
    return this.deps.store.list({ ...rest, tenantId: actor.tenantId ?? input.tenantId, ...(registration !== undefined ? { registration } : {}) });
  }

  /** The client, or not_found when it does not exist, is deleted, or belongs to another tenant. */
  async get(actor: Actor, id: string): Promise<OAuthClient> {
    const client = await this.#find(actor, id);
    if (client.deletedAt !== null) throw notFound();
    return client;
  }

  async update(actor: Actor, id: string, patch: OAuthClientPatch): Promise<OAuthClient> {
    const current = await this.get(actor, id);
    const normalised: OAuthClientPatch = { ...patch };
    if (patch.redirectUris) normalised.redirectUris = unique(patch.redirectUris);
    if (patch.allowedOrigins) normalised.allowedOrigins = unique(patch.allowedOrigins);
    if (patch.postLogoutRedirectUris) normalised.postLogoutRedirectUris = unique(patch.postLogoutRedirectUris);
    if (patch.grantTypes) normalised.grantTypes = unique(patch.grantTypes);
    if (patch.scopes) normalised.scopes = unique(patch.scopes);
    if (patch.audiences) normalised.audiences = unique(patch.audiences);
    const method = normalised.tokenEndpointAuthMethod;
    if (method !== undefined && authFamily(method) !== authFamily(current.tokenEndpointAuthMethod)) {
      throw new GatehouseError(
        'invalid_request',
        'tokenEndpointAuthMethod cannot change between a public client (none), a secret and a certificate; register a new client.',
      );
    }
    // Audiences narrowed so that the default audience is no longer one of them: drop the default.
    const audiences = normalised.audiences ?? current.audiences;
    if (normalised.defaultAudience === undefined && current.defaultAudience !== null && !audiences.includes(current.defaultAudience)) {
      normalised.defaultAudience = null;
    }
    const merged: ClientMetadata = {
      redirectUris: normalised.redirectUris ?? current.redirectUris,
      allowedOrigins: normalised.allowedOrigins ?? current.allowedOrigins,
      postLogoutRedirectUris: normalised.postLogoutRedirectUris ?? current.postLogoutRedirectUris,
      grantTypes: normalised.grantTypes ?? current.grantTypes,
      scopes: normalised.scopes ?? current.scopes,
      tokenEndpointAuthMethod: normalised.tokenEndpointAuthMethod ?? current.tokenEndpointAuthMethod,
      audiences,
      defaultAudience: normalised.defaultAudience !== undefined ? normalised.defaultAudience : current.defaultAudience,
      accessTokenTtlSeconds:
        normalised.accessTokenTtlSeconds !== undefined ? normalised.accessTokenTtlSeconds : current.accessTokenTtlSeconds,
      idTokenSignedResponseAlg: normalised.idTokenSignedResponseAlg ?? current.idTokenSignedResponseAlg,
      tlsClientAuth: normalised.tlsClientAuth !== undefined ? normalised.tlsClientAuth : current.tlsClientAuth,
      jwks: normalised.jwks !== undefined ? normalised.jwks : current.jwks,
    };
    // A stored algorithm the keys no longer sign with (after a rotation to another one) does not block other
    // changes; naming one does.
    assertValid(merged, normalised.idTokenSignedResponseAlg === undefined ? [...this.deps.idTokenAlgs(), merged.idTokenSignedResponseAlg] : this.deps.idTokenAlgs());
    this.deps.guard.assert(actor, 'client.update', clientTarget(current), [current, { tenantId: current.tenantId, scopes: merged.scopes }]);
    const now = this.deps.clock.now();
    const event = this.#event(actor, 'client.updated', current, { fields: Object.keys(patch).sort() });
    const outcome = await this.deps.store.update(id, current.version, normalised, now, [event]);
    const updated = unwrap(outcome);
    await this.deps.invalidate(id);
    return updated;
  }

  /**
   * Issues a new secret (returned once). The replaced one keeps working until the grace period ends;
   * 0 ends it at once. Only the secret just replaced is kept: rotating again within the grace period ends the
   * older one at once.
   */
  async rotateSecret(
    actor: Actor,
    id: string,
    options: { gracePeriodSeconds?: number | undefined } = {},
  ): Promise<{ client: OAuthClient; clientSecret: string }> {
    const gracePeriodSeconds = options.gracePeriodSeconds ?? DEFAULT_CLIENT_SECRET_GRACE_SECONDS;
    if (!Number.isInteger(gracePeriodSeconds) || gracePeriodSeconds < 0 || gracePeriodSeconds > MAX_CLIENT_SECRET_GRACE_SECONDS) {
      throw new GatehouseError('invalid_request', `gracePeriodSeconds must be an integer from 0 to ${MAX_CLIENT_SECRET_GRACE_SECONDS}.`);
    }
    const current = await this.get(actor, id);
    // The new secret goes to the caller: it authenticates as this client, with everything the client may do.
    this.deps.guard.assert(actor, 'client.rotate_secret', clientTarget(current), [current]);
    if (current.secretHash === null) throw new GatehouseError('invalid_request', 'This client has no secret to rotate (public or mTLS client).');
    const now = this.deps.clock.now();
    const { secret, displayPrefix } = generateClientSecret();
    const outcome = await this.deps.store.rotateSecret({
      id,
      expectedSecretHash: current.secretHash,
      secretHash: hashClientSecret(secret),
      secretPrefix: displayPrefix,
      previousSecretExpiresAt: gracePeriodSeconds === 0 ? null : now + gracePeriodSeconds * 1000,
      now,
      events: [this.#event(actor, 'client.secret_rotated', current, { gracePeriodSeconds, secretPrefix: displayPrefix })],
    });
    const client = unwrap(outcome);
    await this.deps.invalidate(id);
    return { client, clientSecret: secret };
  }

  /** Soft delete: the client never authenticates again. Idempotent for a client already deleted. */
  /** Deletes a client (idempotent); returns it as it now is. */
  async delete(actor: Actor, id: string): Promise<OAuthClientRecord> {
    const current = await this.#find(actor, id);
    this.deps.guard.assert(actor, 'client.delete', clientTarget(current), [current]);
    const result = await this.deps.store.softDelete(id, this.deps.clock.now(), [this.#event(actor, 'client.deleted', current)]);
    if (!result) throw notFound();
    // Announce even when it was already deleted: a retry after a failed broadcast must reach every node.
    await this.deps.invalidate(id);
    return result.client;
  }

  /** Drops a client deleted outside this service (idle expiry) from every process's cache. */
  forget(clientId: string): Promise<void> {
    return this.deps.invalidate(clientId);
  }

  /**
   * The hot-path lookup for client authentication: from the in-process cache, loading on a miss. Deleted
   * clients are returned too (with `deletedAt`); the caller refuses them. Throws only on storage failure.
   */
  lookup(clientId: string): Promise<LookedUpClient | undefined> {
    const builtIn = this.deps.builtIn?.(clientId);
    if (builtIn) return Promise.resolve(builtIn);
    if (this.deps.metadataDocument && isMetadataDocumentClientId(clientId)) return this.deps.metadataDocument(clientId);
    if (!isClientId(clientId)) return Promise.resolve(undefined);
    return this.deps.cache.get(clientId);
  }

  /** Queues a high-volume audit event (client authentication), written behind. */
  record(input: AuditEventInput, origin?: RequestOrigin | null): void {
    this.deps.audit.add(createAuditEvent(this.deps.clock.now(), input, origin));
  }

  async #find(actor: Actor, id: string): Promise<OAuthClientRecord> {
    const client = isClientId(id) ? await this.deps.store.findById(id) : undefined;
    if (!client || (actor.tenantId !== null && client.tenantId !== actor.tenantId)) throw notFound();
    return client;
  }

  #event(actor: Actor, type: AuditEventInput['type'], client: OAuthClientRecord, details: Record<string, unknown> = {}): AuditEvent {
    return createAuditEvent(
      this.deps.clock.now(),
      {
        type,
        outcome: 'success',
        tenantId: client.tenantId,
        ...actorFields(actor),
        details: { clientId: client.id, ...details },
      },
      actor.origin,
    );
  }

  #tenantFor(actor: Actor, requested: string | undefined): string | null {
    if (actor.tenantId === null) return requested ?? null;
    if (requested !== undefined && requested !== actor.tenantId) {
      throw new GatehouseError('insufficient_scope', "This key can only manage its own tenant's clients.");
    }
    return actor.tenantId;
  }
}

function assertValid(metadata: ClientMetadata, idTokenAlgs: readonly SigningAlg[]): void {
  const problem = clientMetadataProblem(metadata, idTokenAlgs);
  if (problem) throw new GatehouseError('invalid_request', problem);
}

const clientTarget = (client: OAuthClientRecord) => ({ id: client.id, tenantId: client.tenantId });

const notFound = () => new GatehouseError('not_found', 'No client with that id.');

function unwrap(outcome: ClientWriteOutcome<OAuthClientRecord>): OAuthClientRecord {
  if (outcome.ok) return outcome.client;
  if (outcome.reason === 'not_found') throw notFound();
  throw new GatehouseError('conflict', 'The client changed while this request was processed; fetch it and retry.');
}
