import { Type } from '@sinclair/typebox';
import type { Actor } from '../../../core/api-keys/api-key-service.js';
import type { CertificateBinding } from '../../../core/ca/certificate-identity.js';
import { clientsAuthenticatedBy } from '../../../core/ca/clients-authenticated-by.js';
import { GatehouseError } from '../../../core/errors.js';
import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { certificateView, IssuedCertificateResponse } from '../../schemas/certificate.js';
import { errorResponses } from '../../schemas/common.js';

export const IssueCertificateBody = Type.Object(
  {
    csr: Type.Optional(
      Type.String({ minLength: 1, maxLength: 16_384, description: 'PEM PKCS#10 request; only its key (and, alone, its CN) is used.' }),
    ),
    commonName: Type.Optional(
      Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$', description: 'A service name: the certificate names spiffe://<trust domain>/service/<name>.' }),
    ),
    clientId: Type.Optional(Type.String({ maxLength: 64, description: 'An OAuth client: the certificate names spiffe://<trust domain>/client/<id>.' })),
    lifetimeSeconds: Type.Optional(Type.Integer({ description: 'Default 86400 (24 h); at most GATEHOUSE_CERTIFICATE_MAX_TTL_SECONDS.' })),
  },
  { additionalProperties: false },
);

/** The certificate's identity: an OAuth client of the caller's tenant, or a service name. */
async function bindingFor(services: Services, actor: Actor, body: { clientId?: string | undefined; commonName?: string | undefined }): Promise<{
  binding: CertificateBinding | undefined;
  tenantId: string | null;
}> {
  if (body.clientId !== undefined && body.commonName !== undefined) {
    throw new GatehouseError('invalid_request', 'Give clientId or commonName, not both.');
  }
  if (body.clientId !== undefined) {
    const client = await services.clients.get(actor, body.clientId).catch((error: unknown) => {
      if (error instanceof GatehouseError && error.code === 'not_found') throw new GatehouseError('invalid_request', 'clientId names no client.');
      throw error;
    });
    return { binding: { kind: 'client', clientId: client.id }, tenantId: client.tenantId };
  }
  const binding = body.commonName !== undefined ? ({ kind: 'service', service: body.commonName } as const) : undefined;
  return { binding, tenantId: actor.tenantId };
}

export function registerIssueCertificate(app: App, services: Services): void {
  const { ca, clock } = services;
  app.post(
    '/v1/certificates',
    {
      config: { scope: 'certificates:write' },
      schema: {
        tags: ['certificates'],
        summary: 'Issue a client certificate from a CSR, or with a key pair Gatehouse generates (returned once)',
        description:
          'The certificate names an OAuth client (clientId) or a service (commonName, or the CSR\'s CN) in its subject ' +
          'CN and a SPIFFE-style SAN URI. With a CSR, the private key never leaves the caller; without one, the ' +
          'private key is in this response only and is never stored.',
        security: [{ adminKey: [] }],
        body: IssueCertificateBody,
        response: { 201: IssuedCertificateResponse, ...errorResponses(400, 401, 403, 409, 413, 415, 429) },
      },
    },
    async (request, reply) => {
      const actor = request.admin!;
      const { csr, lifetimeSeconds } = request.body;
      const { binding, tenantId } = await bindingFor(services, actor, request.body);
      const issued = await ca.issue({
        binding,
        tenantId,
        csr,
        lifetimeSeconds,
        actor: { keyId: actor.keyId, userId: actor.userId, origin: actor.origin },
        // The holder authenticates as every client the certificate matches: the caller must hold what they hold.
        authorize: async (certificate) => {
          const clients = await clientsAuthenticatedBy(services.stores.clients, certificate, tenantId, binding?.kind === 'client' ? binding.clientId : null);
          services.guard.assert(actor, 'certificate.issue', { id: binding?.kind === 'client' ? binding.clientId : null, tenantId }, [{ tenantId, scopes: [] }, ...clients]);
        },
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
