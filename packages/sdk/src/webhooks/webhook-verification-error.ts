/**
 * Why a webhook was refused. The codes are stable: program against them (`switch (error.code)`) and log them.
 *
 * - `missing_header`: a required header is absent or empty (`webhook-id`, `webhook-timestamp`,
 *   `webhook-signature`, or the Stripe-style signature header).
 * - `malformed_header`: a header is present but does not parse: garbled or duplicated separators, an empty or
 *   wrongly sized signature, a timestamp that is not a plain decimal number of seconds, several values.
 * - `timestamp_outside_tolerance`: the signed timestamp is further than the tolerance in the past or the future.
 * - `unsupported_version`: the header carries signatures, but none of version `v1`.
 * - `no_signature_matched`: no `v1` signature matches the payload under any of the secrets.
 * - `replayed`: the signature is valid, but the replay guard has seen this delivery id already.
 * - `invalid_payload`: the signature is valid, but the payload does not parse (not JSON, or `parse` threw).
 */
export type WebhookVerificationErrorCode =
  | 'missing_header'
  | 'malformed_header'
  | 'timestamp_outside_tolerance'
  | 'unsupported_version'
  | 'no_signature_matched'
  | 'replayed'
  | 'invalid_payload';

export const WEBHOOK_VERIFICATION_ERROR_CODES: readonly WebhookVerificationErrorCode[] = [
  'missing_header',
  'malformed_header',
  'timestamp_outside_tolerance',
  'unsupported_version',
  'no_signature_matched',
  'replayed',
  'invalid_payload',
];

/** A webhook failed verification: bad input from the sender (misuse by the caller throws a `TypeError`). */
export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
  constructor(
    readonly code: WebhookVerificationErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
