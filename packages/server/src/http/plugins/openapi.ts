import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * OpenAPI 3.1 generated from the route schemas, served at /openapi.json, with human-readable docs at /docs.
 * Must be registered before the routes so it sees them.
 */
export const openApiPlugin = fp(async (app: FastifyInstance, { issuer }: { issuer: () => string }) => {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Gatehouse API',
        version: '0.1.0',
        description:
          'Self-hosted API authentication: API keys, OAuth 2.0, JWT access tokens. Errors use one shape: ' +
          '{"error", "error_description", "request_id"}; see docs/errors.md.',
      },
      components: {
        securitySchemes: {
          adminKey: {
            type: 'http',
            scheme: 'bearer',
            description: 'A Gatehouse API key holding the management scope the operation needs.',
          },
          bearerAccessToken: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description: 'An RFC 9068 access token issued by this server.',
          },
          clientBasic: {
            type: 'http',
            scheme: 'basic',
            description: 'OAuth client authentication (client_secret_basic); client_secret_post and public clients send client_id in the form body instead.',
          },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  // The issuer is read per request: with GATEHOUSE_PORT=0 it is only known once the server listens.
  app.get('/openapi.json', { schema: { hide: true } }, async () => ({ ...app.swagger(), servers: [{ url: issuer() }] }));
}, { name: 'gatehouse-openapi' });
