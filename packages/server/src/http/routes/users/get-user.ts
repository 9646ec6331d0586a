import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { errorResponses } from '../../schemas/common.js';
import { User, UserIdParams, userView } from '../../schemas/user.js';

export function registerGetUser(app: App, { users }: Services): void {
  app.get(
    '/v1/users/:id',
    {
      config: { scope: 'users:read' },
      schema: {
        tags: ['users'],
        summary: 'Get a user',
        security: [{ adminKey: [] }],
        params: UserIdParams,
        response: { 200: User, ...errorResponses(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request) => userView(await users.get(request.admin!, request.params.id)),
  );
}
