import { Type } from '@sinclair/typebox';
import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { errorResponses } from '../../schemas/common.js';
import { ResourceIdParams } from '../../schemas/resource.js';

export function registerDeleteResource(app: App, { resources }: Services): void {
  app.delete(
    '/v1/resources/:id',
    {
      config: { scope: 'resources:write' },
      schema: {
        tags: ['resources'],
        summary: 'Delete a resource: self-registered clients can no longer ask for it, and its metadata is gone (idempotent)',
        security: [{ adminKey: [] }],
        params: ResourceIdParams,
        response: { 204: Type.Null({ description: 'Deleted.' }), ...errorResponses(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request, reply) => {
      await resources.delete(request.admin!, request.params.id);
      return reply.status(204).send(null);
    },
  );
}
