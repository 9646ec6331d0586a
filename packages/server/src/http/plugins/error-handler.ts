import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ERROR_CATALOG, GatehouseError, OAuthError, type ErrorCode, type OAuthErrorCode } from '../../core/errors.js';
import { isStorageUnavailable } from '../../storage/is-storage-unavailable.js';

/** Fastify's own error codes that are the client's fault, by the Gatehouse code they become. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_VALIDATION: 'invalid_request',
};

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'invalid_request',
  404: 'not_found',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  431: 'request_header_too_large',
};

interface HttpError {
  code: ErrorCode | OAuthErrorCode;
  status?: number;
  description: string;
  headers: Record<string, string>;
}

/** The one place where errors become HTTP responses. */
export function toHttpError(error: FastifyError | Error): HttpError {
  if (error instanceof GatehouseError) return { code: error.code, description: error.message, headers: error.headers };
  if (error instanceof OAuthError) return { code: error.code, status: error.status, description: error.message, headers: error.headers };
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    return { code: 'invalid_request', description: describeValidation(fastifyError), headers: {} };
  }
  if (isStorageUnavailable(error)) {
    return { code: 'temporarily_unavailable', description: ERROR_CATALOG.temporarily_unavailable.description, headers: { 'retry-after': '5' } };
  }
  const known = (fastifyError.code && FASTIFY_CODES[fastifyError.code]) || (fastifyError.statusCode && STATUS_CODES[fastifyError.statusCode]);
  if (known) return { code: known, description: ERROR_CATALOG[known].description, headers: {} };
  return { code: 'server_error', description: ERROR_CATALOG.server_error.description, headers: {} };
}

function describeValidation(error: FastifyError): string {
  const first = error.validation?.[0];
  if (!first) return ERROR_CATALOG.invalid_request.description;
  const where = `${error.validationContext ?? 'request'}${first.instancePath ?? ''}`;
  const params = first.params as Record<string, unknown>;
  if (typeof params.additionalProperty === 'string') {
    return `${where} has an unknown field "${params.additionalProperty.slice(0, 64)}".`;
  }
  return `${where} ${first.message ?? 'is invalid'}.`;
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: HttpError): FastifyReply {
  return reply
    .status(statusOf(error))
    .headers(error.headers)
    .send({ error: error.code, error_description: error.description, request_id: request.id });
}

/** The HTTP status an error answers with. */
export function statusOf(error: HttpError): number {
  return error.status ?? ERROR_CATALOG[error.code as ErrorCode].status;
}

export const errorHandlerPlugin = fp(async (app: FastifyInstance) => {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const httpError = toHttpError(error);
    const status = statusOf(httpError);
    if (status >= 500) request.log.error({ err: error, code: httpError.code }, 'request failed');
    else request.log.debug({ code: httpError.code, reason: error instanceof OAuthError ? (error.reason ?? error.message) : error.message }, 'request rejected');
    return sendError(request, reply, httpError);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(request, reply, { code: 'not_found', description: 'No such endpoint.', headers: {} }),
  );
}, { name: 'gatehouse-error-handler' });
