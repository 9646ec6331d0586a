import { GatehouseError } from '../core/errors.js';
import type { PageCursor } from '../storage/stores.js';

/** Opaque page cursors: base64url of "<time>.<id>" of the last item of the previous page. */
export function encodeCursor(at: number, id: string): string {
  return Buffer.from(`${at}.${id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): PageCursor | undefined {
  if (cursor === undefined) return undefined;
  const match = /^(\d{1,16})\.([a-z]{1,8}_[0-9A-Za-z]{1,64})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw new GatehouseError('invalid_request', 'The cursor is not valid.');
  return { at: Number(match[1]), id: match[2]! };
}

/** One page: asks the store for one more than the limit to know whether another page follows. */
export async function page<T>(
  limit: number,
  fetch: (limit: number) => Promise<T[]>,
  position: (item: T) => { at: number; id: string },
): Promise<{ items: T[]; nextCursor: string | null }> {
  const items = await fetch(limit + 1);
  if (items.length <= limit) return { items, nextCursor: null };
  const last = position(items[limit - 1]!);
  return { items: items.slice(0, limit), nextCursor: encodeCursor(last.at, last.id) };
}

export function parseTimestamp(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw new GatehouseError('invalid_request', `${field} is not a valid RFC 3339 time.`);
  return ms;
}
