import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { errorResponses } from '../../schemas/common.js';
import { CreateResourceBody, resourceView, ResourceSchema } from '../../schemas/resource.js';

export function registerCreateResource(app: App, { resources }: Services): void {
  app.post(
    '/v1/resources',
    {
      config: { scope: 'resources:write' },
      schema: {
        tags: ['resources'],
        summary: 'Register a resource (RFC 8707): an API with its scopes, that clients may ask tokens for',
        security: [{ adminKey: [] }],
        body: CreateResourceBody,
        response: { 201: ResourceSchema, ...errorResponses(400, 401, 403, 409, 413, 415, 429) },
      },
    },
    async (request, reply) => reply.status(201).send(resourceView(await resources.create(request.admin!, request.body))),
  );
}
