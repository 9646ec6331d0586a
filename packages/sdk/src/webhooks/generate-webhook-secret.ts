import { randomBytes } from 'node:crypto';

/** The prefix of webhook signing secrets (Standard Webhooks, Svix and Stripe all use it). */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';

/**
 * A new webhook signing secret: `whsec_` and the base64 of 32 random bytes, the form Gatehouse gives its
 * endpoints. It works with both schemes: `standard` signs with the 32 decoded bytes, `stripe` with the whole
 * string.
 */
export function generateWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + randomBytes(32).toString('base64');
}
