import { Type } from '@sinclair/typebox';
import { GatehouseError } from '../../../core/errors.js';
import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { peerCertificate } from '../../peer-certificate.js';
import { requestOrigin } from '../../plugins/authenticate.js';
import { emptyBodyAsObject } from '../../plugins/json-body.js';
import { certificateView, IssuedCertificateResponse } from '../../schemas/certificate.js';
import { errorResponses } from '../../schemas/common.js';

/**
 * A certificate renews itself: over mTLS, the caller's own (unrevoked, unexpired) Gatehouse certificate is the
 * credential, and the new one names the same client or service, with the same lifetime (capped by today's maximum).
 */
export function registerRenewCertificate(app: App, services: Services): void {
  const { ca, clock } = services;
  app.post(
    '/v1/certificates/renew',
    {
      preValidation: emptyBodyAsObject,
      schema: {
        tags: ['certificates'],
        summary: 'Renew the client certificate presented in this mTLS connection (no admin key needed)',
        description:
          'Call it on the TLS listener with the certificate to renew. With a csr, the new certificate certifies its ' +
          'key; without one, Gatehouse generates a key pair and returns the private key in this response only.',
        security: [],
        body: Type.Object(
          { csr: Type.Optional(Type.String({ minLength: 1, maxLength: 16_384, description: 'PEM PKCS#10 request.' })) },
          { additionalProperties: false },
        ),
        response: { 201: IssuedCertificateResponse, ...errorResponses(400, 401, 409, 413, 415) },
      },
    },
    async (request, reply) => {
      const presented = peerCertificate(services, request);
      if (!presented || presented.kind !== 'issued') {
        throw new GatehouseError('certificate_refused', 'Present the Gatehouse-issued certificate to renew (mTLS).');
      }
      const current = await ca.find(presented.certificate.serialNumber.toLowerCase());
      if (!current || current.revokedAt !== null) throw new GatehouseError('certificate_refused');
      // A client's certificate outlives its client only until it expires: it does not renew itself after deletion.
      if (current.clientId !== null) {
        const client = await services.clients.lookup(current.clientId);
        if (!client || client.deletedAt !== null) throw new GatehouseError('certificate_refused');
      }
      const binding = current.clientId !== null ? { kind: 'client' as const, clientId: current.clientId } : { kind: 'service' as const, service: current.service! };
      // The same lifetime (notBefore is backdated a minute), within today's limits.
      const lifetimeSeconds = Math.min(Math.round((current.notAfter - current.notBefore) / 1000) - 60, services.config.certificateMaxLifetimeSeconds);
      const issued = await ca.issue({
        binding,
        tenantId: current.tenantId,
        csr: request.body.csr,
        lifetimeSeconds: Math.max(lifetimeSeconds, 300),
        actor: { keyId: null, origin: requestOrigin(request) },
        renewalOf: current.serialNumber,
      });
      reply.header('cache-control', 'no-store');
      return reply.status(201).send({
        ...certificateView(issued.record, clock.now()),
        caCertificatePem: issued.chainPem,
        privateKeyPem: issued.privateKeyPem,
      });
    },
  );
}
