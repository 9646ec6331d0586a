import { CLOCK_SKEW_SECONDS } from 'gatehouse-sdk';
import { Type } from '@sinclair/typebox';
import { GatehouseError } from '../../../core/errors.js';
import { MINUTE_MS } from '../../../core/usage/usage-outcomes.js';
import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { errorResponses, Timestamp } from '../../schemas/common.js';
import { VERIFY_KEY_SCOPE } from '../keys/verify-key.js';

export const USAGE_REPORTS_PATH = '/v1/usage/reports';
export const MAX_REPORT_ENTRIES = 1_000;
export const MAX_REPORT_COUNT = 1_000_000;
/** 1,000 entries take about 90 KB of JSON: more than the default body limit (64 KiB) of other routes. */
const REPORT_BODY_LIMIT = 256 * 1024;
const DAY_MS = 86_400_000;

const UsageReportBody = Type.Object(
  {
    entries: Type.Array(
      Type.Object(
        {
          keyId: Type.String({ pattern: '^key_[0-9A-Za-z]{1,64}$' }),
          minute: Type.String({ ...Timestamp, description: 'The start of the minute the verifications happened in (seconds and milliseconds zero); not in the future (a reporter’s clock may run up to 60 s ahead), and within the minute retention (GATEHOUSE_USAGE_MINUTE_RETENTION_DAYS).' }),
          count: Type.Integer({ minimum: 1, maximum: MAX_REPORT_COUNT }),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: MAX_REPORT_ENTRIES },
    ),
  },
  { additionalProperties: false },
);

/**
 * Verifications an SDK answered from its cache, counted per key and minute and reported in batches: they count as
 * VALID for that key and minute (without latency), and move its lastUsedAt. Same key as the SDK's verifications
 * (keys:verify), and the same data-plane treatment: no management rate limit, no audit event per call.
 */
export function registerReportUsage(app: App, services: Services): void {
  const { stores, usage, clock, config } = services;
  app.post(
    USAGE_REPORTS_PATH,
    {
      bodyLimit: REPORT_BODY_LIMIT,
      config: { scope: VERIFY_KEY_SCOPE, managementRateLimit: false },
      schema: {
        tags: ['usage'],
        summary: 'Report verifications answered from an SDK cache (counted as VALID, per key and minute)',
        description:
          'Entries for keys that do not exist, or that the caller may not see (a tenant-bound key sees its tenant only), are ignored and counted in `ignored`.',
        security: [{ adminKey: [] }],
        body: UsageReportBody,
        response: {
          202: Type.Object({ accepted: Type.Integer(), ignored: Type.Integer() }),
          ...errorResponses(400, 401, 403, 429),
        },
      },
    },
    async (request, reply) => {
      const actor = request.admin!;
      const now = clock.now();
      const oldest = config.usageRetentionDays.minute > 0 ? now - config.usageRetentionDays.minute * DAY_MS : -Infinity;
      const entries = request.body.entries.map((entry, index) => {
        const at = Date.parse(entry.minute);
        if (!Number.isFinite(at) || at % MINUTE_MS !== 0) {
          throw new GatehouseError('invalid_request', `entries[${index}].minute must be the start of a minute.`);
        }
        // A reporter's clock a little ahead of this one (the skew tolerated for token times) is not an error.
        if (at > now + CLOCK_SKEW_SECONDS * 1000) throw new GatehouseError('invalid_request', `entries[${index}].minute is in the future.`);
        if (at < oldest) throw new GatehouseError('invalid_request', `entries[${index}].minute is older than the minute retention.`);
        return { keyId: entry.keyId, minute: at / MINUTE_MS, count: entry.count };
      });
      const ids = [...new Set(entries.map((entry) => entry.keyId))];
      const keys = await Promise.all(ids.map((id) => stores.apiKeys.findById(id)));
      const visible = new Set(ids.filter((_, i) => keys[i] !== undefined && (actor.tenantId === null || keys[i]!.tenantId === actor.tenantId)));
      let accepted = 0;
      for (const entry of entries) {
        if (!visible.has(entry.keyId)) continue;
        usage.report(entry.keyId, entry.minute, entry.count);
        accepted++;
      }
      return reply.code(202).send({ accepted, ignored: entries.length - accepted });
    },
  );
}
