import { actorFields } from '../../../core/audit/audit-event.js';
import { Type } from '@sinclair/typebox';
import { GatehouseError } from '../../../core/errors.js';
import { requestOrigin } from '../../plugins/authenticate.js';
import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { errorResponses } from '../../schemas/common.js';
import { SessionParams } from '../../schemas/user.js';

/** Ends one login session of a user, named by the public id GET /v1/users/{id}/sessions answers. */
export function registerEndUserSession(app: App, services: Services): void {
  app.delete(
    '/v1/users/:id/sessions/:sessionId',
    {
      config: { scope: 'users:write' },
      schema: {
        tags: ['users'],
        summary: 'End one login session of a user',
        security: [{ adminKey: [] }],
        params: SessionParams,
        response: { 204: Type.Null({ description: 'Ended.' }), ...errorResponses(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request, reply) => {
      const actor = request.admin!;
      const user = await services.users.get(actor, request.params.id);
      const ended = await services.oauth.sessions.revokeById(user.id, request.params.sessionId, services.oauth.clock.now());
      if (!ended) throw new GatehouseError('not_found', 'No live session with that id for this user.');
      services.oauth.audit(
        {
          type: 'user.sessions_ended',
          outcome: 'success',
          ...actorFields(actor),
          tenantId: user.tenantId,
          details: { userId: user.id, sessionId: request.params.sessionId },
        },
        requestOrigin(request),
      );
      return reply.status(204).send(null);
    },
  );
}
