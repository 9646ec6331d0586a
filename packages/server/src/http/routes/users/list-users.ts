import { Type } from '@sinclair/typebox';
import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { decodeCursor, page } from '../../cursor.js';
import { Cursor, errorResponses, Nullable, PageLimit, TenantId } from '../../schemas/common.js';
import { User, userView } from '../../schemas/user.js';

export function registerListUsers(app: App, { users }: Services): void {
  app.get(
    '/v1/users',
    {
      config: { scope: 'users:read' },
      schema: {
        tags: ['users'],
        summary: 'List users, newest first',
        security: [{ adminKey: [] }],
        querystring: Type.Object(
          { limit: PageLimit(100, 20), cursor: Type.Optional(Cursor), tenantId: Type.Optional(TenantId) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ data: Type.Array(User), nextCursor: Nullable(Type.String()) }),
          ...errorResponses(400, 401, 403, 429, 503),
        },
      },
    },
    async (request) => {
      const { limit, cursor, tenantId } = request.query;
      const after = decodeCursor(cursor);
      const result = await page(
        limit,
        (n) => users.list(request.admin!, { tenantId, limit: n, after }),
        (user) => ({ at: user.createdAt, id: user.id }),
      );
      return { data: result.items.map(userView), nextCursor: result.nextCursor };
    },
  );
}
