import { X509Certificate } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { clientsAuthenticatedBy } from '../../../core/ca/clients-authenticated-by.js';
import { GatehouseError } from '../../../core/errors.js';
import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { emptyBodyAsObject } from '../../plugins/json-body.js';
import { Certificate, certificateView, SerialParams } from '../../schemas/certificate.js';
import { errorResponses, Text } from '../../schemas/common.js';

export function registerRevokeCertificate(app: App, services: Services): void {
  const { ca, clock } = services;
  app.post(
    '/v1/certificates/:serial/revoke',
    {
      config: { scope: 'certificates:write' },
      preValidation: emptyBodyAsObject,
      schema: {
        tags: ['certificates'],
        summary: 'Revoke a certificate: refused by the TLS listener at once on every process, and listed in the CRL (idempotent)',
        security: [{ adminKey: [] }],
        params: SerialParams,
        body: Type.Object({ reason: Type.Optional(Text({ maxLength: 200 })) }, { additionalProperties: false }),
        response: { 200: Certificate, ...errorResponses(400, 401, 403, 404, 413, 415, 429) },
      },
    },
    async (request) => {
      const actor = request.admin!;
      const found = await ca.find(request.params.serial.toLowerCase());
      if (!found || (actor.tenantId !== null && found.tenantId !== actor.tenantId)) {
        throw new GatehouseError('not_found', 'No certificate with that serial number.');
      }
      const clients = await clientsAuthenticatedBy(services.stores.clients, new X509Certificate(found.certificatePem), found.tenantId, found.clientId);
      services.guard.assert(actor, 'certificate.revoke', { id: found.id, tenantId: found.tenantId }, [{ tenantId: found.tenantId, scopes: [] }, ...clients]);
      const revoked = await ca.revoke(found, request.body.reason ?? null, { keyId: actor.keyId, userId: actor.userId, origin: actor.origin });
      return certificateView(revoked, clock.now());
    },
  );
}
