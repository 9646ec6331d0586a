import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { createWebhookReceiver, type WebhookReceiverOptions } from './create-webhook-receiver.js';
import type { WebhookVerificationError } from './webhook-verification-error.js';

export type { WebhookReceiverOptions } from './create-webhook-receiver.js';
export { WebhookVerificationError } from './webhook-verification-error.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The raw body, kept by `keepRawBody` as the `verify` option of express.json() / express.text(). */
      rawBody?: Buffer;
      /** The verified event, set by `verifyWebhooks`. */
      webhook?: unknown;
      /** Why `verifyWebhooks` refused this delivery (for logs and metrics; the sender sees a vague body). */
      webhookError?: WebhookVerificationError;
    }
  }
}

const NAME = 'gatehouse-sdk/webhooks/express';

/**
 * The `verify` option of Express's body parsers (`express.json({ verify: keepRawBody })`): keeps the raw bytes
 * on `req.rawBody`, so routes that parse JSON for other purposes can still verify webhooks.
 */
export function keepRawBody(req: IncomingMessage, _res: unknown, buffer: Buffer): void {
  (req as Request).rawBody = buffer;
}

export interface ExpressWebhookOptions<T = unknown> extends WebhookReceiverOptions<T> {
  /** When the middleware reads the body itself: the largest accepted, in bytes (default 1 MiB; beyond: 413). */
  limit?: number;
}

/** The body as raw bytes: from express.raw() / express.text(), `keepRawBody`, or read here from the request. */
async function rawBody(req: Request, limit: number): Promise<string | Buffer | 'too_large'> {
  if (Buffer.isBuffer(req.body) || typeof req.body === 'string') return req.body;
  if (req.rawBody !== undefined) return req.rawBody;
  if (req.readableEnded || req.body !== undefined) {
    throw new TypeError(
      `${NAME}: the body was parsed without its raw bytes; mount verifyWebhooks() before body parsers, ` +
        'behind express.raw(), or give the parser { verify: keepRawBody }',
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return 'too_large';
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/**
 * Express (5) middleware that verifies a webhook delivery:
 *
 * ```ts
 * app.post('/webhooks/gatehouse', verifyWebhooks({ secret: process.env.GATEHOUSE_WEBHOOK_SECRET }), (req, res) => {
 *   handle(req.webhook);
 *   res.json({ received: true });
 * });
 * ```
 *
 * It takes the raw body from express.raw() / express.text(), from `req.rawBody` (`keepRawBody`), or reads it
 * itself when nothing consumed it (up to `limit`; compressed bodies are not inflated: put express.raw() in
 * front for that). On success `req.webhook` is the event; otherwise it answers 400 with a vague JSON body and
 * keeps the cause in `req.webhookError` (a replay is answered 200 `{"received":true,"duplicate":true}`, so the
 * sender stops retrying). A delivery answered with anything but a 2xx is forgotten by the replay guard, so the
 * sender's retry is processed. Failures (a shared replay guard that is down, a body parsed without its raw
 * bytes) go to `next(error)`. Options are `verifyWebhook`'s; bad ones throw a TypeError here.
 */
export function verifyWebhooks<T = unknown>(options: ExpressWebhookOptions<T>) {
  const receiver = createWebhookReceiver<T>(NAME, options);
  const limit = options.limit ?? 1024 * 1024;
  if (!Number.isSafeInteger(limit) || limit < 0) throw new TypeError(`${NAME}: limit must be a non-negative integer (bytes)`);

  return async function gatehouseVerifyWebhook(req: Request, res: Response, next: NextFunction): Promise<void> {
    let receipt;
    try {
      const payload = await rawBody(req, limit);
      if (payload === 'too_large') {
        res.status(413).set('connection', 'close').type('application/json').send(
          JSON.stringify({ error: 'payload_too_large', error_description: 'The request body is too large.' }),
        );
        return;
      }
      receipt = await receiver.receive(payload, req.headers);
    } catch (error) {
      return next(error);
    }
    if (!receipt.ok) {
      req.webhookError = receipt.error;
      res.status(receipt.status).type('application/json').send(receipt.body);
      return;
    }
    req.webhook = receipt.event;
    const { deliveryId } = receipt;
    if (deliveryId !== undefined) {
      res.once('close', () => {
        if (!res.writableFinished || res.statusCode < 200 || res.statusCode >= 300) {
          receiver.release(deliveryId).catch((error: unknown) => process.emitWarning(`${NAME}: the replay guard could not forget ${deliveryId}: ${String(error)}`));
        }
      });
    }
    next();
  };
}
