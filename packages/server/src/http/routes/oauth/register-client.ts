import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { requestOrigin } from '../../plugins/authenticate.js';
import { errorResponses } from '../../schemas/common.js';
import { RegistrationRequestBody, RegistrationResponse, registrationView } from '../../schemas/registration.js';
import { bearerToken, NO_STORE } from './registration-http.js';

/**
 * RFC 7591: `POST /oauth/register`, only when GATEHOUSE_CLIENT_REGISTRATION is `token` or `open`. JSON in and
 * out (not the OAuth endpoints' form bodies). 201 with the client's id, its secret (confidential clients), and
 * the registration access token and URI for RFC 7592 management.
 */
export function registerClientRegistrationEndpoint(app: App, services: Services): void {
  const registration = services.registration;
  if (!registration) return;
  app.post(
    '/oauth/register',
    {
      attachValidation: true,
      schema: {
        tags: ['oauth'],
        summary: 'Dynamic Client Registration (RFC 7591)',
        description:
          'GATEHOUSE_CLIENT_REGISTRATION=open: public clients (token_endpoint_auth_method none), no token. ' +
          '=token: an initial access token from POST /v1/registration-tokens as Bearer; public or confidential clients.',
        security: [{ registrationToken: [] }, {}],
        body: RegistrationRequestBody,
        response: { 201: RegistrationResponse, ...errorResponses(400, 401, 413, 415, 429, 503) },
      },
    },
    async (request, reply) => {
      // The body schema documents the fields; registration-request.ts checks them, with RFC 7591's error codes
      // (attachValidation: a schema failure is not answered as invalid_request).
      const origin = requestOrigin(request);
      const bearer = bearerToken(request);
      const registered = await registration.register({ body: request.body, bearer, origin });
      return reply
        .status(201)
        .headers(NO_STORE)
        .send(
          registrationView(registered.client, services.oauth.issuer(), {
            clientSecret: registered.clientSecret,
            registrationAccessToken: registered.registrationAccessToken,
          }),
        );
    },
  );
}

