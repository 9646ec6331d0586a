import { Type } from '@sinclair/typebox';
import { reportLeakedKeys } from '../../../core/detection/report-leaked-keys.js';
import type { Services } from '../../../services.js';
import type { App } from '../../app-types.js';
import { errorResponses, Nullable, Text } from '../../schemas/common.js';

const LeakReportBody = Type.Array(
  Type.Object(
    {
      token: Type.String({ minLength: 1, maxLength: 1024, description: 'The string found; never echoed back.' }),
      type: Type.Optional(Text({ maxLength: 100, description: 'The kind of secret, as the scanner names it.' })),
      url: Type.Optional(Text({ maxLength: 2048, description: 'Where it was found.' })),
      source: Type.Optional(Text({ maxLength: 100, description: 'Who found it (e.g. github, content, commit).' })),
    },
    { additionalProperties: false },
  ),
  { minItems: 1, maxItems: 100, description: "A list of found tokens, like GitHub's secret scanning partner program sends." },
);

const LeakResult = Type.Object({
  index: Type.Integer({ description: 'Position of the report in the request.' }),
  prefix: Nullable(Type.String({ description: 'Display prefix of a well-formed key.' })),
  outcome: Type.Union(['revoked', 'already_inactive', 'not_found', 'invalid'].map((o) => Type.Literal(o)), {
    description: 'revoked: it was live and is revoked now; already_inactive: revoked or expired before; not_found: unknown; invalid: not a Gatehouse key.',
  }),
  keyId: Nullable(Type.String()),
});

export function registerReportLeakedKeys(app: App, { stores, apiKeys, detection, clock }: Services): void {
  app.post(
    '/v1/leaked-keys',
    {
      config: { scope: 'keys:report_leaked' },
      schema: {
        tags: ['keys'],
        summary: 'Report keys found in public places: live ones are revoked and their tenant alerted',
        security: [{ adminKey: [] }],
        body: LeakReportBody,
        response: { 200: Type.Object({ data: Type.Array(LeakResult) }), ...errorResponses(400, 401, 403, 413, 415, 429, 503) },
      },
    },
    async (request) => ({
      data: await reportLeakedKeys({ keys: stores.apiKeys, apiKeys, alerts: detection.alerts, clock }, request.admin!, request.body),
    }),
  );
}
