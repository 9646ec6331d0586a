import type { ApiKeyStore } from '../../storage/stores.js';
import { createAuditEvent } from '../audit/audit-event.js';
import type { Clock } from '../clock.js';
import { newId } from '../random.js';
import { hashApiKey } from './hash-key.js';
import { generateApiKey, parseApiKey } from './key-format.js';

export type BootstrapResult =
  | { created: false }
  | { created: true; keyId: string; /** Only when Gatehouse generated it: to be shown once. */ generatedKey: string | null };

/**
 * On an empty store, creates the root admin key: `provided` (GATEHOUSE_BOOTSTRAP_ADMIN_KEY) when given,
 * otherwise a generated one. Exactly once per database, even when several processes start together.
 */
export async function bootstrapRootKey(deps: { store: ApiKeyStore; clock: Clock }, provided?: string): Promise<BootstrapResult> {
  const key = provided ?? generateApiKey('live').key;
  const parsed = parseApiKey(key);
  if (!parsed.ok) {
    throw new TypeError(
      'GATEHOUSE_BOOTSTRAP_ADMIN_KEY is not a well-formed Gatehouse key; make one with `gatehouse keys generate`.',
    );
  }
  const { displayPrefix, environment } = parsed;
  const now = deps.clock.now();
  const id = newId('key');
  const record = {
    id,
    hash: hashApiKey(key),
    displayPrefix,
    environment,
    name: 'root',
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
    anomalyAction: 'notify' as const,
  };
  const event = createAuditEvent(now, {
    type: 'system.bootstrap',
    outcome: 'success',
    keyId: id,
    keyPrefix: displayPrefix,
    details: { source: provided !== undefined ? 'GATEHOUSE_BOOTSTRAP_ADMIN_KEY' : 'generated' },
  });
  const created = await deps.store.insertBootstrapKey(record, [event]);
  if (!created) return { created: false };
  return { created: true, keyId: id, generatedKey: provided !== undefined ? null : key };
}
