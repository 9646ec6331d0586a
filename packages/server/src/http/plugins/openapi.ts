import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** SHA-256 of the one <style> element @fastify/swagger-ui 5's Swagger UI inserts at run time. */
const SWAGGER_UI_STYLE_HASH = 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w=';

/** Gatehouse's mark for the top bar of /docs (instead of the default, another project's logo). */
const GATEHOUSE_LOGO = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="160" height="40" viewBox="0 0 160 40" role="img" aria-label="Gatehouse">' +
    '<title>Gatehouse</title>' +
    '<path d="M4 36V14L18 4l14 10v22h-9V24h-10v12z" fill="#fff"/>' +
    '<text x="40" y="28" font-family="sans-serif" font-size="20" font-weight="bold" fill="#fff">Gatehouse</text>' +
    '</svg>',
);

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
            description:
              'A Gatehouse API key holding the management scope the operation needs, or an access token of the admin console ' +
              "(client cli_console, audience <issuer>/v1, scope gatehouse:admin) whose user's admin roles hold it (docs/console.md).",
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
          registrationToken: {
            type: 'http',
            scheme: 'bearer',
            description:
              'Dynamic Client Registration: an initial access token (iat_..., POST /v1/registration-tokens) for POST /oauth/register in token mode, ' +
              "or a client's registration access token (rat_...) for /oauth/register/{client_id} (RFC 7592).",
          },
        },
      },
    },
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // No inline script, and one inline style: the <style> element Swagger UI's bundle inserts, allowed by its
    // hash alone (test/openapi-docs.browser.test.ts fails on any violation, so an upgrade that changes it is
    // caught). The logo is a data: URL.
    staticCSP:
      "default-src 'self'; base-uri 'self'; font-src 'self' data:; frame-ancestors 'self'; img-src 'self' data:; " +
      "object-src 'none'; script-src 'self'; script-src-attr 'none'; " +
      `style-src 'self' '${SWAGGER_UI_STYLE_HASH}'; form-action 'self'`,
    theme: { title: 'Gatehouse API' },
    logo: { type: 'image/svg+xml', content: GATEHOUSE_LOGO, href: '/docs', target: '_self' },
  });
  // The issuer is read per request: with GATEHOUSE_PORT=0 it is only known once the server listens.
  app.get('/openapi.json', { schema: { hide: true } }, async () => ({ ...app.swagger(), servers: [{ url: issuer() }] }));
}, { name: 'gatehouse-openapi' });
