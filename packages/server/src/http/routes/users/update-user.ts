import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { errorResponses } from '../../schemas/common.js';
import { UpdateUserBody, User, UserIdParams, userView } from '../../schemas/user.js';

export function registerUpdateUser(app: App, { users }: Services): void {
  app.patch(
    '/v1/users/:id',
    {
      config: { scope: 'users:write' },
      schema: {
        tags: ['users'],
        summary: "Change a user's email, name or password, or disable it (which ends its sessions and grants)",
        security: [{ adminKey: [] }],
        params: UserIdParams,
        body: UpdateUserBody,
        response: { 200: User, ...errorResponses(400, 401, 403, 404, 409, 413, 415, 429, 503) },
      },
    },
    async (request) => userView(await users.update(request.admin!, request.params.id, request.body)),
  );
}
