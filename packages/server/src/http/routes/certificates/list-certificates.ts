import { Type } from '@sinclair/typebox';
import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { decodeCursor, page } from '../../cursor.js';
import { Certificate, CertificateStatus, certificateView } from '../../schemas/certificate.js';
import { Cursor, errorResponses, Nullable, PageLimit } from '../../schemas/common.js';

export function registerListCertificates(app: App, { ca, clock }: Services): void {
  app.get(
    '/v1/certificates',
    {
      config: { scope: 'certificates:read' },
      schema: {
        tags: ['certificates'],
        summary: 'List issued client certificates, newest first',
        security: [{ adminKey: [] }],
        querystring: Type.Object(
          {
            limit: PageLimit(100, 20),
            cursor: Type.Optional(Cursor),
            clientId: Type.Optional(Type.String({ maxLength: 64 })),
            status: Type.Optional(CertificateStatus),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ data: Type.Array(Certificate), nextCursor: Nullable(Type.String()) }),
          ...errorResponses(400, 401, 403, 429),
        },
      },
    },
    async (request) => {
      const { limit, cursor, clientId, status } = request.query;
      const after = decodeCursor(cursor);
      const tenantId = request.admin!.tenantId ?? undefined;
      const result = await page(
        limit,
        (n) => ca.list({ limit: n, after, clientId, status, tenantId }),
        (c) => ({ at: c.createdAt, id: c.id }),
      );
      const now = clock.now();
      return { data: result.items.map((c) => certificateView(c, now)), nextCursor: result.nextCursor };
    },
  );
}
