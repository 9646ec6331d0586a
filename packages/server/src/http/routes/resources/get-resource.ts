import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { errorResponses } from '../../schemas/common.js';
import { ResourceIdParams, resourceView, ResourceSchema } from '../../schemas/resource.js';

export function registerGetResource(app: App, { resources }: Services): void {
  app.get(
    '/v1/resources/:id',
    {
      config: { scope: 'resources:read' },
      schema: {
        tags: ['resources'],
        summary: 'Get a resource',
        security: [{ adminKey: [] }],
        params: ResourceIdParams,
        response: { 200: ResourceSchema, ...errorResponses(400, 401, 403, 404, 429) },
      },
    },
    async (request) => resourceView(await resources.get(request.admin!, request.params.id)),
  );
}
