import { hash } from 'node:crypto';
import type { ClientStore, OAuthClientRecord, RegistrationTokenRecord, RegistrationTokenStore } from '../../storage/stores.js';
import { createAuditEvent, type AuditEvent, type AuditEventInput, type RequestOrigin } from '../audit/audit-event.js';
import type { Clock } from '../clock.js';
import { GatehouseError, invalidTokenError, OAuthError } from '../errors.js';
import type { RateLimitPolicy } from '../rate-limit/decide.js';
import type { RateLimiter } from '../rate-limit/rate-limiter.js';
import { newId, randomBase62 } from '../random.js';
import type { SigningAlg } from '../tokens/signing-alg.js';
import { authFamily, type GrantType } from './client-metadata.js';
import { generateClientSecret, hashClientSecret, sameHash } from './client-secret.js';
import { parseRegistrationRequest, type ParsedRegistration } from './registration-request.js';

/** `rat_` + 43 base62 characters (256 bits): the RFC 7592 registration access token of one dynamic client. */
export const REGISTRATION_ACCESS_TOKEN_PREFIX = 'rat_';
/** `iat_` + 43 base62 characters (256 bits): an initial access token (RFC 7591 section 3). */
export const INITIAL_ACCESS_TOKEN_PREFIX = 'iat_';
const TOKEN_RANDOM_LENGTH = 43;

export const generateRegistrationAccessToken = (): string => REGISTRATION_ACCESS_TOKEN_PREFIX + randomBase62(TOKEN_RANDOM_LENGTH);

/** SHA-256 (hex): both kinds of token are 256-bit random values. */
export const hashRegistrationToken = (token: string): string => hash('sha256', token, 'hex');

/** A hash no token has: compared against when there is no client, so that a miss takes as long as a mismatch. */
const NO_HASH = '0'.repeat(64);

export interface ClientRegistrationPolicy {
  mode: 'token' | 'open';
  rateLimit: RateLimitPolicy;
  /** 0: no limit. */
  maxClientsPerAddress: number;
  grantTypes: readonly GrantType[];
}

export interface ClientRegistrationDeps {
  clients: ClientStore;
  tokens: RegistrationTokenStore;
  rateLimiter: RateLimiter;
  clock: Clock;
  policy: ClientRegistrationPolicy;
  idTokenAlgs(): readonly SigningAlg[];
  /** Drops a client from every process's cache. */
  invalidate(clientId: string): Promise<void>;
  /** Failures, written behind. */
  audit(input: AuditEventInput, origin: RequestOrigin | null): void;
}

export interface RegisterInput {
  body: unknown;
  /** The Bearer token of the request, if any (token mode: an initial access token). */
  bearer: string | undefined;
  origin: RequestOrigin;
}

export interface Registered {
  client: OAuthClientRecord;
  clientSecret: string | null;
  registrationAccessToken: string;
  responseTypes: string[];
}

/**
 * Dynamic Client Registration (RFC 7591) and its management protocol (RFC 7592). Registered clients are stored
 * with `registration: 'dynamic'`, no audiences, the scopes they asked for, and the hash of their registration
 * access token; a client registered with an initial access token takes that token's tenant.
 */
export class ClientRegistrationService {
  constructor(private readonly deps: ClientRegistrationDeps) {}

  get mode(): 'token' | 'open' {
    return this.deps.policy.mode;
  }

  async register(input: RegisterInput): Promise<Registered> {
    const { policy } = this.deps;
    const { origin } = input;
    const address = origin.ip ?? 'unknown';
    const refuse = (reason: string, error: Error, details: Record<string, unknown> = {}): never => {
      this.deps.audit({ type: 'client.registered', outcome: 'failure', reason, details: { mode: policy.mode, ...details } }, origin);
      throw error;
    };
    if (policy.mode === 'token' && input.bearer === undefined) refuse('missing_token', missingTokenError());
    const decision = await this.deps.rateLimiter.consume(`client-registration:${address}`, policy.rateLimit);
    if (!decision.allowed) {
      refuse('rate_limited', new GatehouseError('rate_limited', undefined, { headers: { 'retry-after': String(decision.retryAfterSeconds) } }));
    }
    let parsed: ParsedRegistration;
    try {
      parsed = parseRegistrationRequest(input.body, { mode: policy.mode, grantTypes: policy.grantTypes, idTokenAlgs: this.deps.idTokenAlgs() });
    } catch (error) {
      if (error instanceof OAuthError) refuse(error.code, error, { problem: error.message });
      throw error;
    }
    if (policy.maxClientsPerAddress > 0 && (await this.deps.clients.countDynamicByAddress(address)) >= policy.maxClientsPerAddress) {
      refuse('address_maximum', new OAuthError('invalid_client_metadata', 'This address has registered as many clients as it may; delete one first.'));
    }
    let initial: RegistrationTokenRecord | undefined;
    if (policy.mode === 'token') {
      // Taken last, so that a refused request does not use up a use.
      initial = await this.deps.tokens.consume(hashRegistrationToken(input.bearer!), this.deps.clock.now());
      if (!initial) refuse('invalid_token', invalidTokenError());
    }
    const now = this.deps.clock.now();
    const secret = authFamily(parsed.metadata.tokenEndpointAuthMethod) === 'secret' ? generateClientSecret() : null;
    const registrationAccessToken = generateRegistrationAccessToken();
    const client: OAuthClientRecord = {
      id: newId('cli'),
      name: parsed.name,
      ...parsed.metadata,
      tenantId: initial?.tenantId ?? null,
      registration: 'dynamic',
      registrationAccessTokenHash: hashRegistrationToken(registrationAccessToken),
      registeredAddress: address,
      registrationMetadata: parsed.registrationMetadata,
      lastUsedAt: null,
      secretHash: secret ? hashClientSecret(secret.secret) : null,
      secretPrefix: secret?.displayPrefix ?? null,
      previousSecretHash: null,
      previousSecretExpiresAt: null,
      version: 1,
      createdBy: initial ? initial.id : null,
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
    };
    const event = this.#event('client.registered', client, origin, {
      mode: policy.mode,
      ...(initial ? { registrationTokenId: initial.id } : {}),
      tokenEndpointAuthMethod: client.tokenEndpointAuthMethod,
      grantTypes: client.grantTypes,
    });
    await this.deps.clients.insert(client, [event]);
    return { client, clientSecret: secret?.secret ?? null, registrationAccessToken, responseTypes: parsed.responseTypes };
  }

  /**
   * The dynamic client a registration access token manages (RFC 7592 section 3). A wrong token, an unknown,
   * deleted or admin-created client all answer the same 401: nothing tells whether the client exists.
   */
  async authenticate(clientId: string, bearer: string | undefined, origin: RequestOrigin): Promise<OAuthClientRecord> {
    if (bearer === undefined) throw missingTokenError();
    const presented = hashRegistrationToken(bearer);
    const client = /^cli_[0-9A-Za-z]{22}$/.test(clientId) ? await this.deps.clients.findById(clientId) : undefined;
    const expected = client?.registrationAccessTokenHash ?? NO_HASH;
    const matches = sameHash(presented, expected);
    if (!client || !matches || client.deletedAt !== null || client.registration !== 'dynamic') {
      this.deps.audit(
        { type: 'client.authentication', outcome: 'failure', reason: 'registration_access_token', tenantId: client?.tenantId ?? null, details: { clientId: clientId.slice(0, 64) } },
        origin,
      );
      throw invalidTokenError();
    }
    return client;
  }

  /** RFC 7592 section 2.2: replaces the client's metadata with the request's, under the same rules as registration. */
  async update(current: OAuthClientRecord, body: unknown, origin: RequestOrigin): Promise<{ client: OAuthClientRecord; responseTypes: string[] }> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new OAuthError('invalid_client_metadata', 'The body must be a JSON object of client metadata.');
    const fields = body as Record<string, unknown>;
    if (fields.client_id !== current.id) throw new OAuthError('invalid_client_metadata', 'client_id must be the id of the client being updated.');
    if (fields.client_secret !== undefined) {
      const secret = fields.client_secret;
      const matches = typeof secret === 'string' && current.secretHash !== null && sameHash(hashClientSecret(secret), current.secretHash);
      if (!matches) throw new OAuthError('invalid_client_metadata', 'client_secret, when sent, must be the client\'s current secret.');
    }
    // The mode the client was registered under decides what it may become: a confidential client stays one.
    const mode = current.tenantId !== null || current.tokenEndpointAuthMethod !== 'none' ? 'token' : this.deps.policy.mode;
    const parsed = parseRegistrationRequest(
      { token_endpoint_auth_method: current.tokenEndpointAuthMethod, ...fields },
      { mode, grantTypes: this.deps.policy.grantTypes, idTokenAlgs: this.deps.idTokenAlgs() },
    );
    if (authFamily(parsed.metadata.tokenEndpointAuthMethod) !== authFamily(current.tokenEndpointAuthMethod)) {
      throw new OAuthError('invalid_client_metadata', 'token_endpoint_auth_method cannot change between a public and a confidential client; register a new client.');
    }
    const now = this.deps.clock.now();
    const event = this.#event('client.updated', current, origin, { via: 'registration_access_token' });
    const { redirectUris, grantTypes, scopes, tokenEndpointAuthMethod } = parsed.metadata;
    const outcome = await this.deps.clients.update(
      current.id,
      current.version,
      { name: parsed.name, redirectUris, grantTypes, scopes, tokenEndpointAuthMethod, registrationMetadata: parsed.registrationMetadata },
      now,
      [event],
    );
    if (!outcome.ok) {
      if (outcome.reason === 'not_found') throw invalidTokenError();
      throw new GatehouseError('conflict', 'The client changed while this request was processed; retry.');
    }
    await this.deps.invalidate(current.id);
    return { client: outcome.client, responseTypes: parsed.responseTypes };
  }

  /** RFC 7592 section 2.3: deletes the client (its grants are revoked by the caller, as for an admin deletion). */
  async delete(current: OAuthClientRecord, origin: RequestOrigin): Promise<OAuthClientRecord> {
    const event = this.#event('client.deleted', current, origin, { via: 'registration_access_token' });
    const result = await this.deps.clients.softDelete(current.id, this.deps.clock.now(), [event]);
    await this.deps.invalidate(current.id);
    if (!result) throw invalidTokenError();
    return result.client;
  }

  #event(type: AuditEventInput['type'], client: OAuthClientRecord, origin: RequestOrigin, details: Record<string, unknown>): AuditEvent {
    return createAuditEvent(
      this.deps.clock.now(),
      { type, outcome: 'success', tenantId: client.tenantId, details: { clientId: client.id, registeredAddress: client.registeredAddress, ...details } },
      origin,
    );
  }
}

/** 401 for a request that carried no Bearer token (RFC 6750 section 3.1: no error code in the challenge). */
function missingTokenError(): GatehouseError {
  return new GatehouseError('invalid_token', 'A Bearer token is required.', { headers: { 'www-authenticate': 'Bearer realm="gatehouse"' } });
}
