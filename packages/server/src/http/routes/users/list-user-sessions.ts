import { Type } from '@sinclair/typebox';
import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { errorResponses, PageLimit } from '../../schemas/common.js';
import { Session, sessionView, UserIdParams } from '../../schemas/user.js';

export function registerListUserSessions(app: App, services: Services): void {
  app.get(
    '/v1/users/:id/sessions',
    {
      config: { scope: 'users:read' },
      schema: {
        tags: ['users'],
        summary: "List a user's live login sessions, newest first (neither the cookie nor its hash is ever answered)",
        security: [{ adminKey: [] }],
        params: UserIdParams,
        querystring: Type.Object({ limit: PageLimit(100, 100) }, { additionalProperties: false }),
        response: {
          200: Type.Object({ data: Type.Array(Session) }),
          ...errorResponses(400, 401, 403, 404, 429, 503),
        },
      },
    },
    async (request) => {
      const user = await services.users.get(request.admin!, request.params.id);
      const sessions = await services.oauth.sessions.listLive(user.id, services.oauth.clock.now(), request.query.limit);
      return { data: sessions.map(sessionView) };
    },
  );
}
