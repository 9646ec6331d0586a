import type { ApiKeyStore } from '../../storage/stores.js';
import { actorId, type Actor, type ApiKeyService } from '../api-keys/api-key-service.js';
import { hashApiKey } from '../api-keys/hash-key.js';
import { parseApiKey } from '../api-keys/key-format.js';
import { keyStatus } from '../api-keys/key-status.js';
import type { Clock } from '../clock.js';
import type { Alerts } from './alerts.js';

/** A key found in a public place, as secret scanners report it (GitHub's secret scanning partner program). */
export interface LeakReport {
  token: string;
  type?: string | undefined;
  url?: string | undefined;
  source?: string | undefined;
}

/**
 * revoked: a live key, now revoked; already_inactive: the key had been revoked or had expired; not_found: a
 * well-formed key Gatehouse does not know (or of another tenant); invalid: not a Gatehouse key (bad format or
 * checksum), nothing looked up.
 */
export type LeakOutcome = 'revoked' | 'already_inactive' | 'not_found' | 'invalid';

export interface LeakResult {
  /** Position of the report in the request. The token itself is never echoed. */
  index: number;
  /** Display prefix of a well-formed key; null for an invalid token. */
  prefix: string | null;
  outcome: LeakOutcome;
  keyId: string | null;
}

export interface ReportLeakedKeysDeps {
  keys: Pick<ApiKeyStore, 'findByHash'>;
  apiKeys: Pick<ApiKeyService, 'revokeCompromised'>;
  alerts: Alerts;
  clock: Clock;
}

/**
 * Checks each reported token (format and checksum first, so random look-alikes cost no lookup), revokes live
 * keys, and raises alert.key_leaked to the owning tenant for every key found, live or not: a leaked key is
 * worth knowing about even when it no longer works. A tenant's reporter acts on its own tenant's keys only.
 */
export async function reportLeakedKeys(deps: ReportLeakedKeysDeps, actor: Actor, reports: readonly LeakReport[]): Promise<LeakResult[]> {
  const results: LeakResult[] = [];
  for (const [index, report] of reports.entries()) {
    const parsed = parseApiKey(report.token);
    if (!parsed.ok) {
      results.push({ index, prefix: null, outcome: 'invalid', keyId: null });
      continue;
    }
    const key = await deps.keys.findByHash(hashApiKey(report.token));
    if (!key || (actor.tenantId !== null && key.tenantId !== actor.tenantId)) {
      results.push({ index, prefix: parsed.displayPrefix, outcome: 'not_found', keyId: null });
      continue;
    }
    const where = { type: report.type ?? null, url: report.url ?? null, source: report.source ?? null };
    let outcome: LeakOutcome = 'already_inactive';
    if (keyStatus(key, deps.clock.now()) === 'active') {
      const revoked = await deps.apiKeys.revokeCompromised(key, { cause: 'leaked', ...where }, actor);
      outcome = revoked ? 'revoked' : 'already_inactive';
    }
    deps.alerts.raise({
      type: 'alert.key_leaked',
      cause: key.id,
      reason: outcome,
      keyId: key.id,
      keyPrefix: key.displayPrefix,
      tenantId: key.tenantId,
      ip: actor.origin.ip,
      details: { ...where, reportedBy: actorId(actor) },
    });
    results.push({ index, prefix: key.displayPrefix, outcome, keyId: key.id });
  }
  return results;
}
