import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { createWebhookReceiver, type WebhookReceiverOptions } from './create-webhook-receiver.js';
import type { WebhookVerificationError } from './webhook-verification-error.js';

export type { WebhookReceiverOptions } from './create-webhook-receiver.js';
export { WebhookVerificationError } from './webhook-verification-error.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified event, set by `verifyWebhooks` on the routes of its scope. */
    webhook?: unknown;
    /** Why `verifyWebhooks` refused this delivery (for logs and metrics; the sender sees a vague body). */
    webhookError?: WebhookVerificationError;
  }
}

const NAME = 'gatehouse-sdk/webhooks/fastify';
const EMPTY = Buffer.alloc(0);

/**
 * A Fastify plugin that turns the routes of the scope it is registered in into webhook receivers:
 *
 * ```ts
 * app.register(async (webhooks) => {
 *   await webhooks.register(verifyWebhooks, { secret: process.env.GATEHOUSE_WEBHOOK_SECRET });
 *   webhooks.post('/webhooks/gatehouse', async (request) => { handle(request.webhook); return { received: true }; });
 * });
 * ```
 *
 * In that scope (and only there: register it inside its own `app.register`, never on the root instance) every
 * body is kept as its raw Buffer (`request.body`; Fastify's body limit still applies), and a `preHandler` hook
 * verifies it: on success `request.webhook` is the event; otherwise it answers 400 with a vague JSON body and
 * keeps the cause in `request.webhookError` (a replay is answered 200 `{"received":true,"duplicate":true}`, so
 * the sender stops retrying). A delivery answered with anything but a 2xx is forgotten by the replay guard, so
 * the sender's retry is processed. Options are `verifyWebhook`'s; bad ones fail the registration.
 */
export const verifyWebhooks: FastifyPluginAsync<WebhookReceiverOptions> = Object.assign(
  async function gatehouseVerifyWebhooks(instance: FastifyInstance, options: WebhookReceiverOptions) {
    const receiver = createWebhookReceiver(NAME, options);
    const recorded = new WeakMap<FastifyRequest, string>();

    instance.removeAllContentTypeParsers();
    instance.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, parsed) => parsed(null, body));

    instance.addHook('preHandler', async function gatehouseVerifyWebhook(request: FastifyRequest, reply: FastifyReply) {
      const body = request.body;
      const receipt = await receiver.receive(typeof body === 'string' || body instanceof Uint8Array ? body : EMPTY, request.headers);
      if (receipt.ok) {
        request.webhook = receipt.event;
        if (receipt.deliveryId !== undefined) recorded.set(request, receipt.deliveryId);
        return;
      }
      request.webhookError = receipt.error;
      await reply.code(receipt.status).type('application/json').send(receipt.body);
    });

    instance.addHook('onResponse', async function gatehouseReleaseWebhook(request: FastifyRequest, reply: FastifyReply) {
      const deliveryId = recorded.get(request);
      if (deliveryId !== undefined && (reply.statusCode < 200 || reply.statusCode >= 300)) await receiver.release(deliveryId);
    });
  },
  // As fastify-plugin does: the parser and hooks apply to the scope that registers the plugin.
  { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: NAME },
);
