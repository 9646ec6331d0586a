import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { errorResponses } from '../../schemas/common.js';
import { ResourceIdParams, resourceView, ResourceSchema, UpdateResourceBody } from '../../schemas/resource.js';

export function registerUpdateResource(app: App, { resources }: Services): void {
  app.patch(
    '/v1/resources/:id',
    {
      config: { scope: 'resources:write' },
      schema: {
        tags: ['resources'],
        summary: 'Change a resource; the result is validated as a whole',
        description:
          'Takes effect at once on every server process for new authorizations and tokens; tokens already issued keep their audience and scope. The tenant cannot be changed.',
        security: [{ adminKey: [] }],
        params: ResourceIdParams,
        body: UpdateResourceBody,
        response: { 200: ResourceSchema, ...errorResponses(400, 401, 403, 404, 409, 413, 415, 429) },
      },
    },
    async (request) => resourceView(await resources.update(request.admin!, request.params.id, request.body)),
  );
}
