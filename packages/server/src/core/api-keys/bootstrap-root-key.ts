import type { ApiKeyRecord, ApiKeyStore } from '../../storage/stores.js';
import { createAuditEvent } from '../audit/audit-event.js';
import type { Clock } from '../clock.js';
import { newId } from '../random.js';
import { hashApiKey } from './hash-key.js';
import { generateApiKey, parseApiKey } from './key-format.js';

export type BootstrapResult =
  | { created: false }
  | { created: true; keyId: string; /** Only when Gatehouse generated it: to be shown once. */ generatedKey: string | null };

export interface RootKeyDeps {
  store: ApiKeyStore;
  clock: Clock;
  /** The prefix of a generated key (GATEHOUSE_KEY_PREFIX); unset: `sk`. A provided key may have any prefix. */
  keyPrefix?: string | undefined;
}

/**
 * On an empty store, creates the root admin key: `provided` (GATEHOUSE_BOOTSTRAP_ADMIN_KEY) when given,
 * otherwise a generated one. Exactly once per database, even when several processes start together.
 */
export async function bootstrapRootKey(deps: RootKeyDeps, provided?: string): Promise<BootstrapResult> {
  const key = provided ?? generateApiKey('live', deps.keyPrefix).key;
  const parsed = parseApiKey(key);
  if (!parsed.ok) {
    throw new TypeError(
      'GATEHOUSE_BOOTSTRAP_ADMIN_KEY is not a well-formed Gatehouse key; make one with `gatehouse keys generate`.',
    );
  }
  const now = deps.clock.now();
  const record = rootKeyRecord(key, 'root', now);
  const event = createAuditEvent(now, {
    type: 'system.bootstrap',
    outcome: 'success',
    keyId: record.id,
    keyPrefix: record.displayPrefix,
    details: { source: provided !== undefined ? 'GATEHOUSE_BOOTSTRAP_ADMIN_KEY' : 'generated' },
  });
  const created = await deps.store.insertBootstrapKey(record, [event]);
  if (!created) return { created: false };
  return { created: true, keyId: record.id, generatedKey: provided !== undefined ? null : key };
}

/** A root admin key's record: `admin`, bound to no tenant, created by no one (Gatehouse itself). */
export function rootKeyRecord(key: string, name: string, now: number): ApiKeyRecord {
  const parsed = parseApiKey(key);
  if (!parsed.ok) throw new TypeError('not a well-formed Gatehouse key');
  return {
    id: newId('key'),
    hash: hashApiKey(key),
    displayPrefix: parsed.displayPrefix,
    environment: parsed.environment,
    name,
    scopes: ['admin'],
    tenantId: null,
    metadata: {},
    rateLimit: null,
    createdAt: now,
    updatedAt: now,
    expiresAt: null,
    revokedAt: null,
    lastUsedAt: null,
    rotatedFromId: null,
    rotatedToId: null,
    createdBy: null,
    anomalyAction: 'notify',
  };
}

/**
 * `gatehouse admin recover`: a new root admin key, whatever keys exist, for an operator who lost every admin key.
 * Only someone with the server's data and master key can run it; audited as `system.recovery`. Returns the
 * plaintext, to be shown once.
 */
export async function recoverRootKey(deps: RootKeyDeps): Promise<{ keyId: string; key: string }> {
  const { key } = generateApiKey('live', deps.keyPrefix);
  const now = deps.clock.now();
  const record = rootKeyRecord(key, `recovered root (${new Date(now).toISOString()})`, now);
  const event = createAuditEvent(now, {
    type: 'system.recovery',
    outcome: 'success',
    keyId: record.id,
    keyPrefix: record.displayPrefix,
    details: { source: 'gatehouse admin recover' },
  });
  await deps.store.insert(record, [event]);
  return { keyId: record.id, key };
}
