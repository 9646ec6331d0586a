/**
 * The two signature schemes:
 * - `stripe`: one header, `Gatehouse-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` (several
 *   `v1=` for several secrets); the header name is configurable (`Stripe-Signature`). The HMAC key is the whole
 *   secret string as UTF-8, as Stripe's libraries use their `whsec_...` secrets.
 * - `standard` (Standard Webhooks): `webhook-id`, `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256
 *   of "<id>.<timestamp>.<body>">` (several space-separated); the HMAC key is the base64-decoded part of the
 *   `whsec_<base64>` secret.
 */
export type WebhookScheme = 'stripe' | 'standard';

export const WEBHOOK_SCHEMES: readonly WebhookScheme[] = ['stripe', 'standard'];

/** The `stripe` scheme's header unless `headerName` says otherwise. */
export const DEFAULT_SIGNATURE_HEADER = 'Gatehouse-Signature';

/** The `standard` scheme's headers (lowercase, as Node gives them). */
export const STANDARD_HEADERS = {
  id: 'webhook-id',
  timestamp: 'webhook-timestamp',
  signature: 'webhook-signature',
} as const;

/** The tolerance of `verifyWebhook` unless `toleranceSeconds` says otherwise: 5 minutes, past and future. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** Secrets as both functions take them: exactly one of `secret` and `secrets`. */
export interface WebhookSecrets {
  /** The endpoint's signing secret (`whsec_...`). */
  secret?: string;
  /** Several secrets during a rotation: `signWebhook` signs with each, `verifyWebhook` accepts any. */
  secrets?: readonly string[];
}

const HEADER_TOKEN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/** `headerName` checked as an HTTP header name (a TypeError names `caller`). */
export function checkHeaderName(caller: string, headerName: unknown): string {
  if (typeof headerName !== 'string' || !HEADER_TOKEN.test(headerName)) {
    throw new TypeError(`${caller}: headerName must be an HTTP header name, e.g. 'Stripe-Signature'`);
  }
  return headerName;
}

export function checkScheme(caller: string, scheme: unknown): WebhookScheme {
  if (scheme !== 'stripe' && scheme !== 'standard') {
    throw new TypeError(`${caller}: scheme must be 'stripe' or 'standard'`);
  }
  return scheme;
}

/** The raw body, checked: a string or bytes, never an already parsed object. */
export function checkPayload(caller: string, payload: unknown): string | Uint8Array {
  if (typeof payload === 'string' || payload instanceof Uint8Array) return payload;
  throw new TypeError(
    `${caller}: payload must be the raw body as a string or Buffer (got ${payload === null ? 'null' : typeof payload}; ` +
      'a parsed JSON body cannot be verified: keep the raw bytes, see gatehouse-sdk/webhooks/fastify and /express)',
  );
}
