import { Type } from '@sinclair/typebox';
import { revokeGrants } from '../../../core/oauth/revoke-grants.js';
import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { requestOrigin } from '../../plugins/authenticate.js';
import { errorResponses } from '../../schemas/common.js';
import { RegisteredClientParams, RegistrationRequestBody, RegistrationResponse, registrationView } from '../../schemas/registration.js';
import { bearerToken, NO_STORE } from './registration-http.js';

/**
 * RFC 7592: read, update and delete a dynamic client at its `registration_client_uri`, with its registration
 * access token as Bearer. A wrong token, or a client that is unknown, deleted or admin-created: 401
 * invalid_token, the same for all.
 */
export function registerRegisteredClientEndpoints(app: App, services: Services): void {
  const registration = services.registration;
  if (!registration) return;
  const security = [{ registrationToken: [] }];

  app.get(
    '/oauth/register/:clientId',
    {
      schema: {
        tags: ['oauth'],
        summary: 'Read a dynamically registered client (RFC 7592)',
        security,
        params: RegisteredClientParams,
        response: { 200: RegistrationResponse, ...errorResponses(401, 429, 503) },
      },
    },
    async (request, reply) => {
      const client = await registration.authenticate(request.params.clientId, bearerToken(request), requestOrigin(request));
      return reply.headers(NO_STORE).send(registrationView(client, services.oauth.issuer()));
    },
  );

  app.put(
    '/oauth/register/:clientId',
    {
      attachValidation: true,
      schema: {
        tags: ['oauth'],
        summary: "Replace a dynamically registered client's metadata (RFC 7592)",
        security,
        params: RegisteredClientParams,
        body: RegistrationRequestBody,
        response: { 200: RegistrationResponse, ...errorResponses(400, 401, 409, 413, 415, 429, 503) },
      },
    },
    async (request, reply) => {
      const origin = requestOrigin(request);
      const current = await registration.authenticate(request.params.clientId, bearerToken(request), origin);
      // As at registration, the body schema only documents: registration-request.ts checks with RFC 7591's codes.
      const { client } = await registration.update(current, request.body, origin);
      return reply.headers(NO_STORE).send(registrationView(client, services.oauth.issuer()));
    },
  );

  app.delete(
    '/oauth/register/:clientId',
    {
      schema: {
        tags: ['oauth'],
        summary: 'Delete a dynamically registered client, and end its grants (RFC 7592)',
        security,
        params: RegisteredClientParams,
        response: { 204: Type.Null({ description: 'Deleted.' }), ...errorResponses(401, 429, 503) },
      },
    },
    async (request, reply) => {
      const origin = requestOrigin(request);
      const current = await registration.authenticate(request.params.clientId, bearerToken(request), origin);
      const deleted = await registration.delete(current, origin);
      await revokeGrants(services.oauth, { clientId: deleted.id }, { reason: 'client deleted', tenantId: deleted.tenantId, origin });
      return reply.status(204).send(null);
    },
  );
}
