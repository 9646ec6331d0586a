import type { FastifyInstance, FastifyRequest } from 'fastify';
import { OAuthError } from '../../../core/errors.js';
import { parseRequestParams, type RequestParams } from '../../../core/oauth/request-params.js';

const FORM_BODY_LIMIT = 16 * 1024;

/**
 * OAuth endpoints take application/x-www-form-urlencoded bodies (RFC 6749 section 3.2) and nothing else.
 * Registered inside the OAuth routes' own context, so the JSON API keeps its JSON-only parser.
 */
export function acceptFormBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT }, (_request, body, done) => {
    const params = parseRequestParams(body as string);
    if (params instanceof OAuthError) done(params, undefined);
    else done(null, params);
  });
  app.addContentTypeParser('*', (_request, _payload, done) => {
    done(new OAuthError('invalid_request', 'The body must be application/x-www-form-urlencoded.'), undefined);
  });
}

/** The parsed form body; an empty map for a request without one. */
export function formParams(request: FastifyRequest): RequestParams {
  return (request.body as RequestParams | undefined) ?? new Map();
}

/** The form parameters with one value each, as client authentication expects them. */
export function firstValues(params: RequestParams): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [name, values] of params) out[name] = values[0]!;
  return out;
}
