import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { errorResponses } from '../../schemas/common.js';
import { CreateUserBody, User, userView } from '../../schemas/user.js';

export function registerCreateUser(app: App, { users }: Services): void {
  app.post(
    '/v1/users',
    {
      config: { scope: 'users:write' },
      schema: {
        tags: ['users'],
        summary: 'Create a user (the password is stored only as a scrypt hash and never returned)',
        security: [{ adminKey: [] }],
        body: CreateUserBody,
        response: { 201: User, ...errorResponses(400, 401, 403, 409, 413, 415, 429, 503) },
      },
    },
    async (request, reply) => {
      const user = await users.create(request.admin!, request.body);
      return reply.status(201).send(userView(user));
    },
  );
}
