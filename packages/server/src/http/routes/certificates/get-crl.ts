import { Type } from '@sinclair/typebox';
import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { errorResponses } from '../../schemas/common.js';
import { GatehouseError } from '../../../core/errors.js';

/**
 * Public CRLs (RFC 5280): `GET /ca/crl` is every trusted root's CRL as PEM; `GET /ca/crl/{authorityId}` is one
 * root's CRL in DER, the address issued certificates name in their CRL distribution point.
 */
export function registerGetCrl(app: App, { ca }: Services): void {
  app.get(
    '/ca/crl',
    {
      schema: {
        tags: ['certificates'],
        summary: 'Certificate revocation lists of every trusted root, PEM',
        response: { 200: Type.String({ description: 'application/x-pem-file: one X509 CRL block per trusted root' }) },
      },
    },
    async (_request, reply) => {
      reply.headers({ 'content-type': 'application/x-pem-file', 'cache-control': 'public, max-age=60' });
      return reply.send(await ca.crlBundlePem());
    },
  );
  app.get(
    '/ca/crl/:authorityId',
    {
      schema: {
        tags: ['certificates'],
        summary: "One root's certificate revocation list, DER (the CRL distribution point of its certificates)",
        params: Type.Object({ authorityId: Type.String({ pattern: '^ca_[0-9A-Za-z]{1,64}$' }) }, { additionalProperties: false }),
        response: { 200: Type.String({ description: 'application/pkix-crl (binary)' }), ...errorResponses(400, 404) },
      },
    },
    async (request, reply) => {
      const der = ca.crl(request.params.authorityId);
      if (!der) throw new GatehouseError('not_found', 'No trusted certificate authority with that id.');
      reply.headers({ 'content-type': 'application/pkix-crl', 'cache-control': 'public, max-age=60' });
      // Bytes are sent as they are (no schema serialization).
      return reply.send((await der) as never);
    },
  );
}
