import type { PageCursor, RegistrationTokenRecord, RegistrationTokenStore } from '../../storage/stores.js';
import { actorId, type Actor } from '../api-keys/api-key-service.js';
import { actorFields, createAuditEvent, type AuditEvent } from '../audit/audit-event.js';
import type { CredentialGuard } from '../authorization/credential-guard.js';
import type { Clock } from '../clock.js';
import { GatehouseError } from '../errors.js';
import { newId, randomBase62 } from '../random.js';
import { hashRegistrationToken, INITIAL_ACCESS_TOKEN_PREFIX } from './client-registration-service.js';

const TOKEN_RANDOM_LENGTH = 43;
const DISPLAY_LENGTH = 6;
export const MAX_REGISTRATION_TOKEN_TTL_SECONDS = 365 * 86_400;
export const MAX_REGISTRATION_TOKEN_USES = 1_000_000;

export interface CreateRegistrationTokenInput {
  name: string;
  tenantId?: string | undefined;
  /** Seconds from now; unset: never expires. */
  expiresInSeconds?: number | undefined;
  /** Registrations it admits; unset: no limit. */
  maxUses?: number | undefined;
}

export type RegistrationTokenStatus = 'active' | 'expired' | 'used_up' | 'revoked';

export function registrationTokenStatus(token: RegistrationTokenRecord, now: number): RegistrationTokenStatus {
  if (token.revokedAt !== null) return 'revoked';
  if (token.expiresAt !== null && token.expiresAt <= now) return 'expired';
  if (token.maxUses !== null && token.uses >= token.maxUses) return 'used_up';
  return 'active';
}

/**
 * Initial access tokens (RFC 7591 section 3) for GATEHOUSE_CLIENT_REGISTRATION=token: issued through the admin
 * API (shown once, stored as SHA-256), listed, revoked. A token bound to a tenant registers clients of that
 * tenant; a caller bound to a tenant issues tokens of its own tenant only (credential policy).
 */
export class RegistrationTokenService {
  constructor(private readonly deps: { store: RegistrationTokenStore; clock: Clock; guard: CredentialGuard }) {}

  async create(actor: Actor, input: CreateRegistrationTokenInput): Promise<{ token: RegistrationTokenRecord; plaintext: string }> {
    const now = this.deps.clock.now();
    const tenantId = actor.tenantId ?? input.tenantId ?? null;
    if (actor.tenantId !== null && input.tenantId !== undefined && input.tenantId !== actor.tenantId) {
      throw new GatehouseError('insufficient_scope', "This key can only issue registration tokens for its own tenant.");
    }
    const { expiresInSeconds, maxUses } = input;
    if (expiresInSeconds !== undefined && (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 60 || expiresInSeconds > MAX_REGISTRATION_TOKEN_TTL_SECONDS)) {
      throw new GatehouseError('invalid_request', `expiresInSeconds must be an integer from 60 to ${MAX_REGISTRATION_TOKEN_TTL_SECONDS}.`);
    }
    if (maxUses !== undefined && (!Number.isInteger(maxUses) || maxUses < 1 || maxUses > MAX_REGISTRATION_TOKEN_USES)) {
      throw new GatehouseError('invalid_request', `maxUses must be an integer from 1 to ${MAX_REGISTRATION_TOKEN_USES}.`);
    }
    // Whoever holds the token registers clients in its tenant: no management scopes are conferred.
    this.deps.guard.assert(actor, 'registration_token.create', { id: null, tenantId }, [{ tenantId, scopes: [] }]);
    const plaintext = INITIAL_ACCESS_TOKEN_PREFIX + randomBase62(TOKEN_RANDOM_LENGTH);
    const token: RegistrationTokenRecord = {
      id: newId('rgt'),
      hash: hashRegistrationToken(plaintext),
      displayPrefix: plaintext.slice(0, INITIAL_ACCESS_TOKEN_PREFIX.length + DISPLAY_LENGTH),
      name: input.name,
      tenantId,
      expiresAt: expiresInSeconds === undefined ? null : now + expiresInSeconds * 1000,
      maxUses: maxUses ?? null,
      uses: 0,
      revokedAt: null,
      createdBy: actorId(actor),
      createdAt: now,
      updatedAt: now,
    };
    await this.deps.store.insert(token, [this.#event(actor, 'registration_token.created', token)]);
    return { token, plaintext };
  }

  async list(actor: Actor, input: { tenantId?: string | undefined; limit: number; after?: PageCursor | undefined }): Promise<RegistrationTokenRecord[]> {
    if (actor.tenantId !== null && input.tenantId !== undefined && input.tenantId !== actor.tenantId) return [];
    const tenantId = actor.tenantId ?? input.tenantId;
    return this.deps.store.list({ limit: input.limit, ...(tenantId !== undefined ? { tenantId } : {}), ...(input.after ? { after: input.after } : {}) });
  }

  /** Revokes a token (idempotent); not_found for an unknown one or another tenant's. */
  async revoke(actor: Actor, id: string): Promise<RegistrationTokenRecord> {
    const current = /^rgt_[0-9A-Za-z]{22}$/.test(id) ? await this.deps.store.findById(id) : undefined;
    if (!current || (actor.tenantId !== null && current.tenantId !== actor.tenantId)) throw new GatehouseError('not_found', 'No registration token with that id.');
    this.deps.guard.assert(actor, 'registration_token.revoke', { id, tenantId: current.tenantId }, [{ tenantId: current.tenantId, scopes: [] }]);
    const result = await this.deps.store.revoke(id, this.deps.clock.now(), [this.#event(actor, 'registration_token.revoked', current)]);
    if (!result) throw new GatehouseError('not_found', 'No registration token with that id.');
    return result.token;
  }

  #event(actor: Actor, type: 'registration_token.created' | 'registration_token.revoked', token: RegistrationTokenRecord): AuditEvent {
    return createAuditEvent(
      this.deps.clock.now(),
      {
        type,
        outcome: 'success',
        tenantId: token.tenantId,
        ...actorFields(actor),
        details: { registrationTokenId: token.id, prefix: token.displayPrefix, maxUses: token.maxUses, expiresAt: token.expiresAt },
      },
      actor.origin,
    );
  }
}
