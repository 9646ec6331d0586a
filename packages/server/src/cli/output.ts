import type { Query } from './admin-api.js';
import { UsageError, type CommandContext } from './command.js';
import { formatRecord, formatTable, type Column } from './print-table.js';

/** What the admin commands print: the API's JSON with --json, readable text otherwise. */

export function emit(context: CommandContext, body: unknown, text: () => string): void {
  process.stdout.write(context.json ? `${JSON.stringify(body, null, 2)}\n` : text());
}

/** A record as `field  value` lines, without the fields that are too bulky for a terminal. */
export function record(body: Record<string, unknown>, omit: readonly string[] = []): string {
  return formatRecord(Object.fromEntries(Object.entries(body).filter(([field]) => !omit.includes(field))));
}

/**
 * A response holding a secret shown once: the secret goes to stdout exactly once (inside the JSON with --json,
 * on its own labelled line otherwise), and a warning to stderr. Never through any logger.
 */
export function emitWithSecret(
  context: CommandContext,
  body: Record<string, unknown>,
  secretField: string,
  label: string,
  omit: readonly string[] = [],
): void {
  const secret = body[secretField];
  if (typeof secret === 'string' && secret) {
    process.stderr.write(`gatehouse: the ${label} below is shown once; store it now, it cannot be shown again\n`);
  }
  emit(context, body, () => {
    const text = record(body, [secretField, ...omit]);
    return typeof secret === 'string' && secret ? `${text}\n${label}:\n${secret.endsWith('\n') ? secret : `${secret}\n`}` : text;
  });
}

/** A paginated listing: one page (--limit, --cursor) or every page (--all). */
export async function emitList<T>(context: CommandContext, path: string, query: Query, columns: ReadonlyArray<Column<T>>): Promise<void> {
  const { limit, cursor, all } = context.options as { limit?: string; cursor?: string; all?: boolean };
  const pageQuery: Query = { ...query, limit: limit === undefined ? undefined : positiveInteger(limit, '--limit'), cursor };
  let body: { data: T[]; nextCursor: string | null } = await context.api.call('GET', path, { query: pageQuery });
  if (all) {
    const data = [...body.data];
    while (body.nextCursor) {
      body = await context.api.call('GET', path, { query: { ...pageQuery, cursor: body.nextCursor } });
      data.push(...body.data);
    }
    body = { data, nextCursor: null };
  }
  emit(context, body, () => formatTable(body.data, columns) + (body.nextCursor ? `\nMore: --cursor ${body.nextCursor} (or --all)\n` : ''));
}

/** An unpaginated listing (`{data}`). */
export async function emitFullList<T>(context: CommandContext, path: string, columns: ReadonlyArray<Column<T>>): Promise<void> {
  const body: { data: T[] } = await context.api.call('GET', path);
  emit(context, body, () => formatTable(body.data, columns));
}

// Option values to API fields.

export function positiveInteger(value: string, flag: string): number {
  if (!/^\d+$/.test(value.trim())) throw new UsageError(`${flag} must be a whole number, not "${value}"`);
  return Number(value.trim());
}

export function optionalInteger(value: string | undefined, flag: string): number | undefined {
  return value === undefined ? undefined : positiveInteger(value, flag);
}

/** `100/60`: at most 100 per 60 seconds. */
export function rateLimit(value: string, flag = '--rate-limit'): { limit: number; windowSeconds: number } {
  const match = value.trim().match(/^(\d+)\/(\d+)$/);
  if (!match) throw new UsageError(`${flag} must be LIMIT/SECONDS (e.g. 100/60), not "${value}"`);
  return { limit: Number(match[1]), windowSeconds: Number(match[2]) };
}

/** `k=v` pairs; a value of true/false/null or a number is sent as such, anything else as a string. */
export function metadata(pairs: string[] | undefined): Record<string, unknown> | undefined {
  if (!pairs?.length) return undefined;
  const result: Record<string, unknown> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at < 1) throw new UsageError(`--metadata must be KEY=VALUE, not "${pair}"`);
    const raw = pair.slice(at + 1);
    result[pair.slice(0, at)] =
      raw === 'true' ? true : raw === 'false' ? false : raw === 'null' ? null : /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
  }
  return result;
}

/** An ISO 8601 instant, as given (the server validates it); a bare date is refused here to keep it unambiguous. */
export function timestamp(value: string, flag: string): string {
  const trimmed = value.trim();
  if (!/^\d{4}-\d{2}-\d{2}T/.test(trimmed) || Number.isNaN(Date.parse(trimmed))) {
    throw new UsageError(`${flag} must be an ISO 8601 time such as 2027-01-31T00:00:00Z, not "${value}"`);
  }
  return trimmed;
}

export function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], flag: string): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, not "${value}"`);
  return value as T;
}

/** Drops undefined fields, so that a body names only what was given. */
export function defined<T extends Record<string, unknown>>(body: T): Partial<T> {
  return Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** An update needs at least one change. */
export function nonEmpty<T extends Record<string, unknown>>(body: T, what: string): T {
  if (Object.keys(body).length === 0) throw new UsageError(`${what}: give at least one option to change`);
  return body;
}
