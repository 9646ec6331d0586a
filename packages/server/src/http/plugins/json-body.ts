import { isUtf8 } from 'node:buffer';
import type { FastifyInstance, preValidationHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { GatehouseError } from '../../core/errors.js';

/**
 * The only body type the API accepts is UTF-8 JSON. Invalid UTF-8 is refused rather than silently replaced
 * with U+FFFD; `__proto__` and `constructor` keys are refused (prototype poisoning); an empty body parses to
 * nothing, so endpoints without a body accept a bare POST with a JSON content type.
 */
export const jsonBodyPlugin = fp(async (app: FastifyInstance) => {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const buffer = body as Buffer;
    if (buffer.length === 0) return done(null, undefined);
    if (!isUtf8(buffer)) return done(new GatehouseError('invalid_encoding'), undefined);
    parseJson(request, buffer.toString('utf8'), (error, value) => {
      if (error) return done(new GatehouseError('invalid_json'), undefined);
      done(null, value);
    });
  });
}, { name: 'gatehouse-json-body' });

/**
 * Route-level hook for endpoints whose body fields are all optional: a POST without a body means "no options"
 * (as in Stripe's API). Kept off the global hook list, where every request would pay for it.
 */
export const emptyBodyAsObject: preValidationHookHandler = (request, _reply, done) => {
  request.body ??= {};
  done();
};
