import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { emptyBodyAsObject } from '../../plugins/json-body.js';
import { CertificateAuthorityInfo, authorityView } from '../../schemas/certificate.js';
import { errorResponses } from '../../schemas/common.js';
import { Type } from '@sinclair/typebox';
import { assertGlobalAdmin } from '../signing-keys/assert-global-admin.js';

export function registerRotateCa(app: App, { ca }: Services): void {
  app.post(
    '/v1/ca/rotate',
    {
      config: { scope: 'certificates:write' },
      preValidation: emptyBodyAsObject,
      schema: {
        tags: ['certificates'],
        summary: 'Create a new CA root that issues from now on; the previous ones stay trusted and published',
        description:
          'Previous roots stop issuing at once and stay in GET /v1/ca/certificates, and trusted by the TLS listener, ' +
          'until every certificate they issued has expired (GATEHOUSE_CERTIFICATE_MAX_TTL_SECONDS + 2 minutes).',
        security: [{ adminKey: [] }],
        body: Type.Object({}, { additionalProperties: false }),
        response: { 200: Type.Object({ data: Type.Array(CertificateAuthorityInfo) }), ...errorResponses(400, 401, 403, 409, 413, 415, 429) },
      },
    },
    async (request) => {
      const actor = request.admin!;
      assertGlobalAdmin(actor);
      await ca.rotate({ keyId: actor.keyId, userId: actor.userId, origin: actor.origin });
      return { data: ca.authorities().map(authorityView) };
    },
  );
}
