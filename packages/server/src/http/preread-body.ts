import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { preParsingHookHandler } from 'fastify';

const PREREAD_BODY = Symbol('gatehouse.prereadBody');

type WithPrereadBody = IncomingMessage & { [PREREAD_BODY]?: Buffer };

/** Hands a body that was already read from the socket (by the verify fast path) over to Fastify. */
export function setPrereadBody(request: IncomingMessage, body: Buffer): void {
  (request as WithPrereadBody)[PREREAD_BODY] = body;
}

/** Route-level preParsing hook: Fastify parses the pre-read body, if any, instead of the (drained) socket. */
export const replayPrereadBody: preParsingHookHandler = (request, _reply, payload, done) => {
  const body = (request.raw as WithPrereadBody)[PREREAD_BODY];
  done(null, body === undefined ? payload : Readable.from([body], { objectMode: false }));
};
