import type { UsageResolution } from '../../storage/stores.js';
import { MINUTES_PER_DAY, MINUTES_PER_HOUR } from './usage-outcomes.js';

/** Minutes in one period of each resolution. */
export const RESOLUTION_MINUTES: Record<UsageResolution, number> = { minute: 1, hour: MINUTES_PER_HOUR, day: MINUTES_PER_DAY };

/** Per target resolution, the first minute not yet rolled up into it (a multiple of its period). */
export interface UsageWatermarks {
  hour: number;
  day: number;
}

/** One step of a rollup: move a watermark from `from` to `to` (minutes), summing what lies between. */
export interface RollUpStep {
  from: number;
  to: number;
}

/**
 * What a rollup at `nowMinute` does, given the watermarks it read: every complete hour not yet rolled up into
 * hours, then every complete day (of hours already rolled up) into days. Pure; the store applies each step only if
 * the watermark still is `from` (another process may have done it), so running it twice, or in two processes,
 * counts nothing twice.
 */
export function planRollUp(watermarks: UsageWatermarks, nowMinute: number): { hour: RollUpStep | null; day: RollUpStep | null } {
  const hourTo = Math.floor(nowMinute / MINUTES_PER_HOUR) * MINUTES_PER_HOUR;
  const hour = hourTo > watermarks.hour ? { from: watermarks.hour, to: hourTo } : null;
  const hoursDone = Math.max(watermarks.hour, hourTo);
  const dayTo = Math.floor(hoursDone / MINUTES_PER_DAY) * MINUTES_PER_DAY;
  const day = dayTo > watermarks.day ? { from: watermarks.day, to: dayTo } : null;
  return { hour, day };
}

/** One source of a read: periods [fromPeriod, toPeriod) of a table, `divisor` of its periods to one answer period. */
export interface UsageReadPart {
  source: UsageResolution;
  fromPeriod: number;
  toPeriod: number;
  divisor: number;
}

/**
 * Where the answer for minutes [from, to) at a resolution lies, exactly, whatever has been rolled up: the rolled-up
 * table below its watermark, the finer tables above it. `from` and `to` are aligned to the resolution.
 */
export function planRead(resolution: UsageResolution, from: number, to: number, watermarks: UsageWatermarks): UsageReadPart[] {
  const parts: UsageReadPart[] = [];
  const add = (source: UsageResolution, start: number, end: number) => {
    if (end <= start) return;
    const unit = RESOLUTION_MINUTES[source];
    parts.push({ source, fromPeriod: start / unit, toPeriod: end / unit, divisor: RESOLUTION_MINUTES[resolution] / unit });
  };
  if (resolution === 'minute') {
    add('minute', from, to);
  } else if (resolution === 'hour') {
    add('hour', from, Math.min(to, watermarks.hour));
    add('minute', Math.max(from, watermarks.hour), to);
  } else {
    const day = Math.min(watermarks.day, watermarks.hour);
    add('day', from, Math.min(to, day));
    add('hour', Math.max(from, day), Math.min(to, watermarks.hour));
    add('minute', Math.max(from, watermarks.hour), to);
  }
  return parts;
}
