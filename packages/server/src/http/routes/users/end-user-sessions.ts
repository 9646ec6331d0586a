import { actorFields } from '../../../core/audit/audit-event.js';
import { Type } from '@sinclair/typebox';
import { CONSOLE_CLIENT_ID } from '../../../core/oauth/console-client.js';
import { revokeGrants } from '../../../core/oauth/revoke-grants.js';
import { requestOrigin } from '../../plugins/authenticate.js';
import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { errorResponses } from '../../schemas/common.js';
import { UserIdParams } from '../../schemas/user.js';

/**
 * Ends every login session of a user: each browser signed in as the user must sign in again. Grants are kept,
 * except the console's (Gatehouse's own client, signed in through these sessions): they end too.
 */
export function registerEndUserSessions(app: App, services: Services): void {
  app.delete(
    '/v1/users/:id/sessions',
    {
      config: { scope: 'users:write' },
      schema: {
        tags: ['users'],
        summary:
          "End all of a user's login sessions, and its console grants (other OAuth grants and tokens are not touched: see DELETE /v1/users/{id}/grants)",
        security: [{ adminKey: [] }],
        params: UserIdParams,
        response: { 204: Type.Null({ description: 'Ended (also when there was none).' }), ...errorResponses(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request, reply) => {
      const actor = request.admin!;
      const user = await services.users.get(actor, request.params.id);
      await services.oauth.sessions.revokeForUser(user.id, services.oauth.clock.now());
      await revokeGrants(services.oauth, { userId: user.id, clientId: CONSOLE_CLIENT_ID }, {
        reason: 'sessions ended',
        tenantId: user.tenantId,
        origin: requestOrigin(request),
        actor,
      });
      services.oauth.audit(
        { type: 'user.sessions_ended', outcome: 'success', ...actorFields(actor), tenantId: user.tenantId, details: { userId: user.id } },
        requestOrigin(request),
      );
      return reply.status(204).send(null);
    },
  );
}
