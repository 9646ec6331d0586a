import { Type } from '@sinclair/typebox';
import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { errorResponses } from '../../schemas/common.js';
import { UserIdParams } from '../../schemas/user.js';

export function registerDeleteUser(app: App, { users }: Services): void {
  app.delete(
    '/v1/users/:id',
    {
      config: { scope: 'users:write' },
      schema: {
        tags: ['users'],
        summary: 'Delete a user; the user can no longer sign in. Repeat a call that failed to finish it.',
        security: [{ adminKey: [] }],
        params: UserIdParams,
        response: { 204: Type.Null({ description: 'Deleted.' }), ...errorResponses(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request, reply) => {
      await users.delete(request.admin!, request.params.id);
      return reply.status(204).send(null);
    },
  );
}
