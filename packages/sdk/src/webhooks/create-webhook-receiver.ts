import { createReplayGuard, type ReplayGuard } from './create-replay-guard.js';
import { verifyWebhook, type VerifyWebhookOptions, type WebhookHeaders } from './verify-webhook.js';
import { DEFAULT_TOLERANCE_SECONDS } from './webhook-scheme.js';
import { WebhookVerificationError } from './webhook-verification-error.js';

/** The options of the Fastify and Express helpers: `verifyWebhook`'s, with a replay guard on by default. */
export interface WebhookReceiverOptions<T = unknown> extends Omit<VerifyWebhookOptions<T>, 'payload' | 'headers' | 'replayGuard'> {
  /**
   * Default: an in-memory guard of this receiver (ids kept for twice the tolerance, at most 100,000). Pass a
   * shared one when several processes receive, or `false` for none. A delivery whose response is not a 2xx is
   * forgotten again, so the sender's retry is processed.
   */
  replayGuard?: ReplayGuard | false;
}

/** What the helpers answer when a delivery is refused: vague on the wire, the cause stays on the request. */
export const REFUSAL_BODY = JSON.stringify({ error: 'invalid_webhook', error_description: 'The webhook could not be verified.' });
/** What they answer to a replay: a 2xx, so that a sender whose first acknowledgement was lost stops retrying. */
export const DUPLICATE_BODY = JSON.stringify({ received: true, duplicate: true });

export type WebhookReceipt<T> =
  | { ok: true; event: T; /** The id the replay guard recorded (to forget when the response is not a 2xx). */ deliveryId: string | undefined }
  | { ok: false; error: WebhookVerificationError; status: 200 | 400; body: string };

export interface WebhookReceiver<T> {
  /** Verifies one delivery. Rejects only on failures (e.g. a shared replay guard that is down), never on bad input. */
  receive(payload: string | Uint8Array, headers: WebhookHeaders): Promise<WebhookReceipt<T>>;
  /** The delivery was not acknowledged with a 2xx: lets the sender's retry of it through the replay guard. */
  release(deliveryId: string): Promise<void>;
}

const OPTION_KEYS = ['secret', 'secrets', 'scheme', 'toleranceSeconds', 'headerName', 'now', 'parse'] as const;

/**
 * The request-independent half of the framework helpers: options checked once (a TypeError names
 * `middleware`), the default replay guard, and `receive` mapping a refusal to its status and vague body.
 */
export function createWebhookReceiver<T>(middleware: string, options: WebhookReceiverOptions<T>): WebhookReceiver<T> {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${middleware}: options must be an object`);
  // Only verifyWebhook's own options (framework options such as Fastify's `prefix` stay out).
  const verifyOptions: Omit<VerifyWebhookOptions<T>, 'payload' | 'headers'> = {};
  for (const key of OPTION_KEYS) if (options[key] !== undefined) Object.assign(verifyOptions, { [key]: options[key] });
  // Misuse surfaces now: a dry run reaches every option check (with the scheme detected, for both schemes).
  try {
    verifyWebhook({ ...verifyOptions, payload: '', headers: {} });
  } catch (error) {
    if (error instanceof TypeError) throw new TypeError(`${middleware}: ${error.message.replace(/^verifyWebhook: /, '')}`);
  }
  const { replayGuard = createReplayGuard({ ttlSeconds: 2 * (verifyOptions.toleranceSeconds || DEFAULT_TOLERANCE_SECONDS) }) } = options;
  if (replayGuard !== false && typeof replayGuard?.seen !== 'function') throw new TypeError(`${middleware}: replayGuard must have a seen(id) method, or be false`);
  const guard = replayGuard === false ? undefined : replayGuard;

  return {
    async receive(payload, headers) {
      let recorded: string | undefined;
      const recording: ReplayGuard | undefined = guard && {
        async seen(id) {
          const seen = await guard.seen(id);
          if (!seen) recorded = id;
          return seen;
        },
      };
      try {
        const event = await verifyWebhook<T>({ ...verifyOptions, payload, headers, replayGuard: recording });
        return { ok: true, event, deliveryId: recorded };
      } catch (error) {
        if (!(error instanceof WebhookVerificationError)) throw error;
        return error.code === 'replayed' ? { ok: false, error, status: 200, body: DUPLICATE_BODY } : { ok: false, error, status: 400, body: REFUSAL_BODY };
      }
    },
    async release(deliveryId) {
      await guard?.forget?.(deliveryId);
    },
  };
}
