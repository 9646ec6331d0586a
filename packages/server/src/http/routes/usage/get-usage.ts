import { Type } from '@sinclair/typebox';
import { SUCCESS_OUTCOMES, usageOutcomeOf } from '../../../core/usage/usage-outcomes.js';
import type { Services } from '../../../services.js';
import type { UsageTotalRow } from '../../../storage/stores.js';
import type { App } from '../../app-types.js';
import { errorResponses, Nullable, TenantId } from '../../schemas/common.js';
import { readUsageSeries, UsageQueryString, usageSeriesProperties } from './usage-series.js';

const TOP = 10;

const TopKey = (measure: 'total' | 'failures') =>
  Type.Object({ keyId: Type.String(), keyPrefix: Nullable(Type.String()), name: Nullable(Type.String()), [measure]: Type.Integer() });

const UsageSummary = Type.Object({
  ...usageSeriesProperties,
  topKeys: Type.Object({
    byVolume: Type.Array(TopKey('total'), { description: `The ${TOP} API keys with the most counted events in the range.` }),
    byFailures: Type.Array(TopKey('failures'), { description: `The ${TOP} API keys with the most failed verifications (REVOKED, EXPIRED, RATE_LIMITED, INSUFFICIENT_SCOPE) in the range.` }),
  }),
});

/** The API keys with the largest sums of `measure` over their totals, largest first (ties by id). */
function top(totals: readonly UsageTotalRow[], measure: (row: UsageTotalRow) => number): Array<[string, number]> {
  const sums = new Map<string, number>();
  for (const row of totals) {
    if (!row.credentialId.startsWith('key_')) continue;
    const n = measure(row);
    if (n > 0) sums.set(row.credentialId, (sums.get(row.credentialId) ?? 0) + n);
  }
  return [...sums].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1)).slice(0, TOP);
}

export function registerGetUsage(app: App, services: Services): void {
  const { stores, guard } = services;
  app.get(
    '/v1/usage',
    {
      config: { scope: 'audit:read' },
      schema: {
        tags: ['usage'],
        summary: "A tenant's (or the whole deployment's) usage of every credential, and its top API keys by volume and by failures",
        description:
          'Needs audit:read. A caller bound to a tenant sees its own tenant (the default) and no other; one bound to none sees the ' +
          'whole deployment, or one tenant with tenantId.',
        security: [{ adminKey: [] }],
        querystring: Type.Object({ ...UsageQueryString.properties, tenantId: Type.Optional(TenantId) }, { additionalProperties: false }),
        response: { 200: UsageSummary, ...errorResponses(400, 401, 403, 429) },
      },
    },
    async (request) => {
      const actor = request.admin!;
      const { tenantId: asked, ...query } = request.query;
      const tenantId = asked ?? actor.tenantId ?? null;
      // The credential policy's tenant rule: a tenant's admin reads its own tenant only.
      guard.assert(actor, 'usage.read', { id: null, tenantId }, [{ tenantId, scopes: [] }]);
      const filter = { tenantId: tenantId ?? undefined };
      const { range, body } = await readUsageSeries(services, query, filter);
      const totals = await stores.usage.totals({ ...range, ...filter });
      const byVolume = top(totals, (row) => row.count);
      const byFailures = top(totals, (row) => (SUCCESS_OUTCOMES.has(usageOutcomeOf(row.outcome)!) ? 0 : row.count));
      const keys = new Map(
        await Promise.all([...new Set([...byVolume, ...byFailures].map(([id]) => id))].map(async (id) => [id, await stores.apiKeys.findById(id)] as const)),
      );
      const describe = (id: string) => ({ keyId: id, keyPrefix: keys.get(id)?.displayPrefix ?? null, name: keys.get(id)?.name ?? null });
      return {
        ...body,
        topKeys: {
          byVolume: byVolume.map(([id, total]) => ({ ...describe(id), total })),
          byFailures: byFailures.map(([id, failures]) => ({ ...describe(id), failures })),
        },
      };
    },
  );
}
