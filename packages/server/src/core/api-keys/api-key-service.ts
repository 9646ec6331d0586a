import type { AnomalyAction, ApiKeyPatch, ApiKeyRecord, ApiKeyStatus, ApiKeyStore, PageCursor } from '../../storage/stores.js';
import { actorFields, createAuditEvent, observedAuditEvent, type AuditEvent, type AuditEventInput, type ObservedAuditEvent, type RequestOrigin } from '../audit/audit-event.js';
import type { KeyCache } from '../cache/key-cache.js';
import type { CredentialGuard } from '../authorization/credential-guard.js';
import type { Clock } from '../clock.js';
import { GatehouseError } from '../errors.js';
import type { Metrics } from '../metrics/metrics.js';
import { newId } from '../random.js';
import type { RateLimitPolicy } from '../rate-limit/decide.js';
import type { RateLimiter } from '../rate-limit/rate-limiter.js';
import type { UsageCounter } from '../usage/usage-counter.js';
import type { WriteBehindLog } from '../write-behind-log.js';
import { hashApiKey } from './hash-key.js';
import { generateApiKey, type ApiKeyEnvironment } from './key-format.js';
import { verifyApiKey, type ApiKeyVerification } from './verify-api-key.js';

/**
 * Who is calling the admin API, and where the request came from: an admin key (`keyId`), or an admin user signed in
 * to the console (`userId`, with the management scopes of the user's admin roles and the user's tenant). Exactly one
 * of `keyId` and `userId` is set; both act through the same policy (core/authorization).
 */
export interface Actor {
  /** The admin key that authenticated the call; null when a user did. */
  keyId: string | null;
  keyPrefix: string | null;
  /** The admin user whose console access token authenticated the call; null when a key did. */
  userId: string | null;
  tenantId: string | null;
  scopes: readonly string[];
  origin: RequestOrigin;
}

/** The id of whoever acts (`key_...` or `usr_...`), for `createdBy` fields. */
export function actorId(actor: Pick<Actor, 'keyId' | 'userId'>): string {
  return (actor.keyId ?? actor.userId)!;
}

/** The details of a verification's audit event: usually none. */
function verificationDetails(actor: Actor, result: ApiKeyVerification): Record<string, unknown> | null {
  // A rotated-out key used after its grace period: anomaly detection looks for this.
  const rotated = result.code === 'EXPIRED' && result.key?.rotatedToId ? { rotatedToId: result.key.rotatedToId } : null;
  // The client address was claimed by a tenant-bound verifier: failed-authentication tracking does not count it.
  if (actor.origin.ipClaimedByTenant) return { ...rotated, clientIpClaimedByTenant: true };
  return rotated;
}

export interface CreateKeyInput {
  name: string;
  scopes?: string[] | undefined;
  environment?: ApiKeyEnvironment | undefined;
  tenantId?: string | undefined;
  expiresAt?: number | undefined;
  rateLimit?: RateLimitPolicy | undefined;
  metadata?: Record<string, unknown> | undefined;
  anomalyAction?: AnomalyAction | undefined;
}

export interface ListKeysInput {
  tenantId?: string | undefined;
  environment?: ApiKeyEnvironment | undefined;
  status?: ApiKeyStatus | undefined;
  nameContains?: string | undefined;
  prefix?: string | undefined;
  limit: number;
  after?: PageCursor | undefined;
}

export interface ApiKeyServiceDeps {
  store: ApiKeyStore;
  cache: KeyCache;
  rateLimiter: RateLimiter;
  clock: Clock;
  audit: WriteBehindLog<AuditEvent, ObservedAuditEvent>;
  /** Per-credential, per-minute usage counts; keys' lastUsedAt derives from them. */
  usage: UsageCounter;
  /** GATEHOUSE_AUDIT_SUCCESS_SAMPLE: the fraction of repetitive successes still written as audit events. */
  auditSuccessSample: number;
  /** Draws the sample (default Math.random). */
  random?: () => number;
  metrics: Pick<Metrics, 'verificationSeconds'>;
  /** The credential policy: no caller obtains, confers or acts on more privilege than it holds. */
  guard: CredentialGuard;
  /** Drops a key from every process's cache (this one at once, the others through pub/sub). */
  invalidate(hash: string): Promise<void>;
  /** What new keys start with (GATEHOUSE_KEY_PREFIX); unset: `sk`. */
  keyPrefix?: string | undefined;
}

export const DEFAULT_ROTATION_GRACE_SECONDS = 86_400;

/** The API key lifecycle. Tenant isolation lives here: a tenant's admin key sees only its tenant's keys. */
export class ApiKeyService {
  constructor(private readonly deps: ApiKeyServiceDeps) {}

  async create(actor: Actor, input: CreateKeyInput): Promise<{ record: ApiKeyRecord; key: string }> {
    const now = this.deps.clock.now();
    const tenantId = this.#tenantFor(actor, input.tenantId);
    const scopes = [...new Set(input.scopes ?? [])];
    this.deps.guard.assert(actor, 'key.create', { id: null, tenantId }, [{ tenantId, scopes }]);
    if (input.expiresAt !== undefined && input.expiresAt <= now) {
      throw new GatehouseError('invalid_request', 'expiresAt must be in the future.');
    }
    const environment = input.environment ?? 'live';
    const { key, displayPrefix } = generateApiKey(environment, this.deps.keyPrefix);
    const record: ApiKeyRecord = {
      id: newId('key'),
      hash: hashApiKey(key),
      displayPrefix,
      environment,
      name: input.name,
      scopes,
      tenantId,
      metadata: input.metadata ?? {},
      rateLimit: input.rateLimit ?? null,
      createdAt: now,
      updatedAt: now,
      expiresAt: input.expiresAt ?? null,
      revokedAt: null,
      lastUsedAt: null,
      rotatedFromId: null,
      rotatedToId: null,
      createdBy: actorId(actor),
      anomalyAction: input.anomalyAction ?? 'notify',
    };
    await this.deps.store.insert(record, [this.#lifecycleEvent(actor, 'key.created', record, { scopes, environment })]);
    return { record, key };
  }

  async list(actor: Actor, input: ListKeysInput): Promise<ApiKeyRecord[]> {
    if (actor.tenantId !== null && input.tenantId !== undefined && input.tenantId !== actor.tenantId) return [];
    return this.deps.store.list({
      ...input,
      tenantId: actor.tenantId ?? input.tenantId,
      now: this.deps.clock.now(),
    });
  }

  /** The key, or a not_found error when it does not exist or belongs to another tenant. */
  async get(actor: Actor, id: string): Promise<ApiKeyRecord> {
    const key = await this.deps.store.findById(id);
    if (!key || (actor.tenantId !== null && key.tenantId !== actor.tenantId)) {
      throw new GatehouseError('not_found', 'No API key with that id.');
    }
    return key;
  }

  async update(actor: Actor, id: string, patch: ApiKeyPatch): Promise<ApiKeyRecord> {
    const current = await this.get(actor, id);
    const now = this.deps.clock.now();
    if (patch.scopes) patch = { ...patch, scopes: [...new Set(patch.scopes)] };
    const after = patch.scopes ? [{ tenantId: current.tenantId, scopes: patch.scopes }] : [];
    this.deps.guard.assert(actor, 'key.update', keyTarget(current), [current, ...after]);
    if (patch.expiresAt != null && patch.expiresAt <= now) {
      throw new GatehouseError('invalid_request', 'expiresAt must be in the future.');
    }
    const event = this.#lifecycleEvent(actor, 'key.updated', current, { fields: Object.keys(patch).sort() });
    const updated = await this.deps.store.updateActive(id, patch, now, [event], { keepUnrestrictedAdmin: true });
    if (updated === 'last_admin') throw lastAdminError();
    if (!updated) throw new GatehouseError('key_not_active');
    await this.deps.invalidate(updated.hash);
    return updated;
  }

  async rotate(
    actor: Actor,
    id: string,
    gracePeriodSeconds = DEFAULT_ROTATION_GRACE_SECONDS,
  ): Promise<{ record: ApiKeyRecord; key: string; previous: ApiKeyRecord }> {
    const old = await this.get(actor, id);
    // The successor holds what the old key holds, and its plaintext goes to the caller.
    this.deps.guard.assert(actor, 'key.rotate', keyTarget(old), [old]);
    const now = this.deps.clock.now();
    const { key, displayPrefix } = generateApiKey(old.environment, this.deps.keyPrefix);
    const successor: ApiKeyRecord = {
      ...old,
      id: newId('key'),
      hash: hashApiKey(key),
      displayPrefix,
      createdAt: now,
      updatedAt: now,
      revokedAt: null,
      lastUsedAt: null,
      rotatedFromId: old.id,
      rotatedToId: null,
      createdBy: actorId(actor),
    };
    const oldExpiresAt = Math.min(old.expiresAt ?? Infinity, now + gracePeriodSeconds * 1000);
    const events = [
      this.#lifecycleEvent(actor, 'key.rotated', old, { successorId: successor.id, gracePeriodSeconds }),
      this.#lifecycleEvent(actor, 'key.created', successor, { scopes: successor.scopes, environment: successor.environment, rotatedFromId: old.id }),
    ];
    const outcome = await this.deps.store.rotate({
      oldId: old.id,
      successor,
      now,
      oldExpiresAt,
      revokeOld: gracePeriodSeconds === 0,
      events,
    });
    if (outcome === 'not_found') throw new GatehouseError('not_found', 'No API key with that id.');
    if (outcome === 'not_active') throw new GatehouseError('key_not_active');
    if (outcome === 'already_rotated') throw new GatehouseError('key_already_rotated');
    await this.deps.invalidate(old.hash);
    const previous: ApiKeyRecord = {
      ...old,
      rotatedToId: successor.id,
      updatedAt: now,
      ...(gracePeriodSeconds === 0 ? { revokedAt: now } : { expiresAt: oldExpiresAt }),
    };
    return { record: successor, key, previous };
  }

  /** Idempotent: revoking a revoked key answers the key as it is. */
  async revoke(actor: Actor, id: string): Promise<ApiKeyRecord> {
    const current = await this.get(actor, id);
    this.deps.guard.assert(actor, 'key.revoke', keyTarget(current), [current]);
    const now = this.deps.clock.now();
    const result = await this.deps.store.revoke(id, now, [this.#lifecycleEvent(actor, 'key.revoked', current)], { keepUnrestrictedAdmin: true });
    if (result === 'last_admin') throw lastAdminError();
    if (!result) throw new GatehouseError('not_found', 'No API key with that id.');
    // Announce even when it was already revoked: a retry after a failed broadcast must reach every node.
    await this.deps.invalidate(result.key.hash);
    return result.key;
  }

  /**
   * Verifies a key for a caller holding keys:verify; records the attempt. Synchronous when the answer needs no
   * I/O (the cached hot path), a promise otherwise.
   */
  verify(actor: Actor, input: { key: string; scopes?: string[] | undefined }): ApiKeyVerification | Promise<ApiKeyVerification> {
    // A monotonic clock for the latency histogram (the injected Clock is wall time, frozen in tests).
    const started = performance.now();
    const result = verifyApiKey(
      { keys: this.deps.cache, rateLimiter: this.deps.rateLimiter, clock: this.deps.clock },
      { key: input.key, scopes: input.scopes, tenantId: actor.tenantId },
    );
    if (result instanceof Promise) return result.then((settled) => this.#recordVerification(actor, settled, started));
    return this.#recordVerification(actor, result, started);
  }

  #recordVerification(actor: Actor, result: ApiKeyVerification, started: number): ApiKeyVerification {
    const elapsedMs = performance.now() - started;
    this.deps.metrics.verificationSeconds(elapsedMs / 1000);
    const now = this.deps.clock.now();
    // Counted per key and minute, whatever the outcome (a key that was not found names no key to count under).
    if (result.key) this.deps.usage.count(result.key.id, result.code, Math.round(elapsedMs * 1000), now);
    const event: AuditEventInput = {
      type: 'key.verification',
      outcome: result.valid ? 'success' : 'failure',
      reason: result.valid ? null : result.code,
      keyId: result.key?.id ?? null,
      keyPrefix: result.key?.displayPrefix ?? (result.valid ? null : result.displayPrefix),
      tenantId: result.key?.tenantId ?? null,
      // As actorFields(actor), without the intermediate object (the hot path).
      actorKeyId: actor.keyId,
      actorUserId: actor.userId,
      details: verificationDetails(actor, result),
    };
    // A failure is audited one event each; a success is counted, and audited only when sampled.
    if (result.valid) this.recordSuccess(now, event, actor.origin);
    else this.record(now, event, actor.origin);
    return result;
  }

  /**
   * Revokes a key that looks compromised (anomaly detection, a leak report) whatever its tenant, recording why.
   * `actor` is the admin key that reported it, or null when Gatehouse acted by itself. Whether this call revoked it.
   */
  async revokeCompromised(key: ApiKeyRecord, cause: Record<string, unknown>, actor: Actor | null): Promise<boolean> {
    const now = this.deps.clock.now();
    const event = createAuditEvent(
      now,
      { type: 'key.revoked', outcome: 'success', keyId: key.id, keyPrefix: key.displayPrefix, tenantId: key.tenantId, ...actorFields(actor), details: cause },
      actor?.origin,
    );
    // Not guarded: a compromised key is revoked even when it is the last admin key (`gatehouse admin recover`).
    const result = await this.deps.store.revoke(key.id, now, [event]);
    if (!result) return false;
    await this.deps.invalidate(result.key.hash);
    return result.changed;
  }

  /**
   * Checks an admin credential (no rate limit consumed; the caller applies the management limit).
   * Synchronous for a cached key.
   */
  authenticate(key: string): ApiKeyVerification | Promise<ApiKeyVerification> {
    return verifyApiKey({ keys: this.deps.cache, rateLimiter: null, clock: this.deps.clock }, { key });
  }

  /** Notes a successful use of a key that is not counted as usage (an admin key's management call): its lastUsedAt. */
  touch(keyId: string, at: number): void {
    this.deps.usage.touch(keyId, at);
  }

  /** The start of the newest minute a key was used in, counted by this process and not yet written. */
  pendingLastUsedAt(keyId: string): number | undefined {
    return this.deps.usage.lastUsedAt(keyId);
  }

  /** Queues a high-volume audit event (written behind, in batches). */
  record(now: number, input: AuditEventInput, origin?: RequestOrigin | null): void {
    this.deps.audit.add(createAuditEvent(now, input, origin));
  }

  /**
   * A repetitive success (a verification, a client_credentials grant, an introspection), which the usage counters
   * count: written as an audit event only for the sampled fraction (GATEHOUSE_AUDIT_SUCCESS_SAMPLE). Every one is
   * still shown to the audit log's observers (authentication metrics, anomaly detection): an unsampled one as an
   * ObservedAuditEvent, without the id that only a written event needs.
   */
  recordSuccess(now: number, input: AuditEventInput, origin?: RequestOrigin | null): void {
    const sample = this.deps.auditSuccessSample;
    if (sample > 0 && (sample >= 1 || (this.deps.random ?? Math.random)() < sample)) this.deps.audit.add(createAuditEvent(now, input, origin));
    else this.deps.audit.observeOnly(observedAuditEvent(now, input, origin));
  }

  #lifecycleEvent(actor: Actor, type: AuditEventInput['type'], key: ApiKeyRecord, details?: Record<string, unknown>): AuditEvent {
    return createAuditEvent(
      this.deps.clock.now(),
      {
        type,
        outcome: 'success',
        keyId: key.id,
        keyPrefix: key.displayPrefix,
        tenantId: key.tenantId,
        ...actorFields(actor),
        details: details ?? null,
      },
      actor.origin,
    );
  }

  #tenantFor(actor: Actor, requested: string | undefined): string | null {
    if (actor.tenantId === null) return requested ?? null;
    if (requested !== undefined && requested !== actor.tenantId) {
      throw new GatehouseError('insufficient_scope', "This key can only manage its own tenant's keys.");
    }
    return actor.tenantId;
  }
}

const keyTarget = (key: ApiKeyRecord) => ({ id: key.id, keyPrefix: key.displayPrefix, tenantId: key.tenantId });

const lastAdminError = () =>
  new GatehouseError(
    'last_admin_credential',
    'This is the last active admin key bound to no tenant; create another before revoking it or removing its admin scope.',
  );
