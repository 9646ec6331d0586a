import { Type, type TProperties, type TSchema } from '@sinclair/typebox';
import type { Actor } from '../../core/api-keys/api-key-service.js';
import type { ManagementScope } from '../../core/api-keys/management-scopes.js';
import type { PageCursor } from '../../storage/stores.js';
import type { App } from '../app-types.js';
import { decodeCursor, page } from '../cursor.js';
import { Cursor, errorResponses, Nullable, PageLimit, TenantId } from '../schemas/common.js';

/** A management collection listed newest first, a page at a time, optionally for one tenant. */
export interface TenantListRoute<T extends { id: string; createdAt: number }> {
  path: string;
  scope: ManagementScope;
  tag: string;
  summary: string;
  /** The schema of one listed item. */
  item: TSchema;
  /** Optional query parameters of this collection besides limit, cursor and tenantId, passed to `list` as `filters`. */
  filters?: TProperties;
  /** Error statuses the route may answer, besides 400, 401, 403 and 429. */
  moreErrors?: number[];
  /** Newest first, at most `limit` after the cursor; the admin key's own tenant only, when it has one. */
  list(
    admin: Actor,
    query: { tenantId: string | undefined; limit: number; after: PageCursor | undefined; filters: Record<string, unknown> },
  ): Promise<T[]>;
  /** The page as answered. */
  view(items: T[]): unknown[];
}

/**
 * `GET <path>?limit=&cursor=&tenantId=` answering `{data, nextCursor}`: the one shape of the listing endpoints
 * of clients, users and webhook endpoints (each still registered from its own file).
 */
export function registerTenantListRoute<T extends { id: string; createdAt: number }>(app: App, route: TenantListRoute<T>): void {
  app.get(
    route.path,
    {
      config: { scope: route.scope },
      schema: {
        tags: [route.tag],
        summary: route.summary,
        security: [{ adminKey: [] }],
        querystring: Type.Object(
          { limit: PageLimit(100, 20), cursor: Type.Optional(Cursor), tenantId: Type.Optional(TenantId), ...route.filters },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ data: Type.Array(route.item), nextCursor: Nullable(Type.String()) }),
          ...errorResponses(400, 401, 403, 429, ...(route.moreErrors ?? [])),
        },
      },
    },
    async (request) => {
      const { limit, cursor, tenantId, ...filters } = request.query as { limit: number; cursor?: string; tenantId?: string } & Record<string, unknown>;
      const after = decodeCursor(cursor);
      const result = await page(
        limit,
        (n) => route.list(request.admin!, { tenantId, limit: n, after, filters }),
        (item) => ({ at: item.createdAt, id: item.id }),
      );
      return { data: route.view(result.items), nextCursor: result.nextCursor };
    },
  );
}
