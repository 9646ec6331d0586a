import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { GatehouseError } from '../../../core/errors.js';
import type { OAuthResourceView } from '../../../core/oauth/oauth-deps.js';
import type { Services } from '../../../services.js';
import { errorResponses } from '../../schemas/common.js';

/**
 * An RFC 9728 protected resource metadata document for a resource registered in the admin API, so that the API
 * publishing its own (the SDK's `protectedResourceMetadata`, fed by `fetchProtectedResourceOptions`) and the
 * authorization server share one scope list.
 */
export function protectedResourceMetadata(issuer: string, resource: OAuthResourceView): Record<string, unknown> {
  return {
    resource: resource.identifier,
    authorization_servers: [issuer],
    scopes_supported: resource.scopes,
    resource_name: resource.name,
    bearer_methods_supported: ['header'],
  };
}

const ResourceMetadata = Type.Object(
  {
    resource: Type.String(),
    authorization_servers: Type.Array(Type.String()),
    scopes_supported: Type.Array(Type.String()),
    resource_name: Type.String(),
    bearer_methods_supported: Type.Array(Type.String()),
  },
  { description: 'Protected resource metadata (RFC 9728 section 2).' },
);

export function registerResourceMetadataEndpoint(app: FastifyInstance, services: Services): void {
  app.get<{ Querystring: { resource: string } }>(
    '/oauth/resource-metadata',
    {
      schema: {
        tags: ['oauth'],
        summary: 'Protected resource metadata (RFC 9728) of a registered resource, for the API to publish',
        querystring: Type.Object(
          { resource: Type.String({ minLength: 1, maxLength: 256, description: 'The resource identifier (RFC 8707), exactly as registered.' }) },
          { additionalProperties: false },
        ),
        response: { 200: ResourceMetadata, ...errorResponses(400, 404) },
      },
    },
    async (request, reply) => {
      const resource = await services.oauth.findResource(request.query.resource);
      if (!resource) throw new GatehouseError('not_found', 'No resource is registered with that identifier.');
      reply.header('cache-control', 'public, max-age=300');
      return protectedResourceMetadata(services.oauth.issuer(), resource);
    },
  );
}
