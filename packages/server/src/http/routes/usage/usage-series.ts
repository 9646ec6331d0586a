import { Type, type Static } from '@sinclair/typebox';
import { GatehouseError } from '../../../core/errors.js';
import { MINUTE_MS, usageOutcomeOf } from '../../../core/usage/usage-outcomes.js';
import { RESOLUTION_MINUTES } from '../../../core/usage/usage-periods.js';
import type { Services } from '../../../services.js';
import type { UsageQuery, UsageResolution, UsageSeriesRow } from '../../../storage/stores.js';
import { parseTimestamp } from '../../cursor.js';
import { Nullable, Timestamp } from '../../schemas/common.js';

/** Points a usage answer may hold at most: the range allowed depends on the granularity. */
export const MAX_USAGE_POINTS = 400;
const DAY_MS = 86_400_000;

export const UsageQueryString = Type.Object(
  {
    from: Type.Optional(Type.String({ ...Timestamp, description: `RFC 3339, rounded down to the granularity; default \`to\` minus 24 hours (for granularity=minute, the last ${MAX_USAGE_POINTS} minutes).` })),
    to: Type.Optional(Type.String({ ...Timestamp, description: 'RFC 3339, exclusive, rounded up to the granularity; default: the end of the current period.' })),
    granularity: Type.Optional(
      Type.Union([Type.Literal('minute'), Type.Literal('hour'), Type.Literal('day')], {
        description: `Default hour. At most ${MAX_USAGE_POINTS} periods: ${MAX_USAGE_POINTS} minutes, hours or days.`,
      }),
    ),
  },
  { additionalProperties: false },
);
export type UsageQueryInput = Static<typeof UsageQueryString>;

export const UsagePoint = Type.Object({
  start: Timestamp,
  total: Type.Integer({ description: 'Every counted event, including SDK-reported cache hits.' }),
  byOutcome: Type.Record(Type.String(), Type.Integer(), {
    description: 'Per outcome: VALID, REVOKED, EXPIRED, RATE_LIMITED, INSUFFICIENT_SCOPE (API keys); TOKEN_ISSUED, TOKEN_INTROSPECTED (OAuth clients).',
  }),
  latency: Type.Object(
    {
      count: Type.Integer({ description: 'Events whose latency the server measured (SDK-reported cache hits are not).' }),
      meanMs: Nullable(Type.Number()),
      maxMs: Nullable(Type.Number()),
    },
    { description: 'Server-side processing time.' },
  ),
});

export const usageSeriesProperties = {
  granularity: Type.Union([Type.Literal('minute'), Type.Literal('hour'), Type.Literal('day')]),
  from: Timestamp,
  to: Timestamp,
  data: Type.Array(UsagePoint, { description: 'Periods with traffic only, oldest first.' }),
};
export const UsageSeries = Type.Object(usageSeriesProperties);

/** A query's range, aligned to its granularity (minutes since the epoch); 400 when it is inverted or too long. */
export function usageRange(input: UsageQueryInput, now: number): { resolution: UsageResolution; fromMinute: number; toMinute: number } {
  const resolution = input.granularity ?? 'hour';
  const unit = RESOLUTION_MINUTES[resolution];
  const to = parseTimestamp(input.to, 'to') ?? now;
  // An explicit `to` is exclusive; by default the answer runs to the end of the current period (now included).
  const toMinute = input.to === undefined ? (Math.floor(now / MINUTE_MS / unit) + 1) * unit : Math.ceil(to / MINUTE_MS / unit) * unit;
  // By default 24 hours back, or the last MAX_USAGE_POINTS minutes for granularity=minute.
  const from = parseTimestamp(input.from, 'from') ?? Math.max(to - DAY_MS, (toMinute - MAX_USAGE_POINTS * unit) * MINUTE_MS);
  const fromMinute = Math.floor(from / MINUTE_MS / unit) * unit;
  if (toMinute <= fromMinute || from >= to) throw new GatehouseError('invalid_request', 'from must be before to.');
  if ((toMinute - fromMinute) / unit > MAX_USAGE_POINTS) {
    throw new GatehouseError('invalid_request', `The range holds more than ${MAX_USAGE_POINTS} ${resolution}s: narrow it, or ask for a coarser granularity.`);
  }
  return { resolution, fromMinute, toMinute };
}

/** The API's view of store rows (one per period and outcome): one point per period. */
export function usagePoints(rows: readonly UsageSeriesRow[]): Array<Static<typeof UsagePoint>> {
  const points = new Map<number, { start: string; total: number; byOutcome: Record<string, number>; count: number; sumUs: number; maxUs: number }>();
  for (const row of rows) {
    let point = points.get(row.startMinute);
    if (!point) {
      point = { start: new Date(row.startMinute * MINUTE_MS).toISOString(), total: 0, byOutcome: {}, count: 0, sumUs: 0, maxUs: 0 };
      points.set(row.startMinute, point);
    }
    const outcome = usageOutcomeOf(row.outcome) ?? `OUTCOME_${row.outcome}`;
    point.byOutcome[outcome] = (point.byOutcome[outcome] ?? 0) + row.count;
    point.total += row.count;
    point.count += row.latencyCount;
    point.sumUs += row.latencySumUs;
    point.maxUs = Math.max(point.maxUs, row.latencyMaxUs);
  }
  return [...points.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, p]) => ({
      start: p.start,
      total: p.total,
      byOutcome: p.byOutcome,
      latency: { count: p.count, meanMs: p.count > 0 ? p.sumUs / p.count / 1000 : null, maxMs: p.count > 0 ? p.maxUs / 1000 : null },
    }));
}

/**
 * The usage series for a query, exact: this process's counts not yet written are flushed first (other processes'
 * are at most GATEHOUSE_USAGE_FLUSH_SECONDS behind), and the store answers from minutes, hours and days as rolled up.
 */
export async function readUsageSeries(services: Services, input: UsageQueryInput, filter: Pick<UsageQuery, 'credentialId' | 'tenantId'>) {
  const range = usageRange(input, services.clock.now());
  await services.usage.flush();
  const rows = await services.stores.usage.series({ ...range, ...filter });
  return {
    range,
    body: {
      granularity: range.resolution,
      from: new Date(range.fromMinute * MINUTE_MS).toISOString(),
      to: new Date(range.toMinute * MINUTE_MS).toISOString(),
      data: usagePoints(rows),
    },
  };
}
