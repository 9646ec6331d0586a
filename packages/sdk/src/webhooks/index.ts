export { generateWebhookSecret, WEBHOOK_SECRET_PREFIX } from './generate-webhook-secret.js';
export { signWebhook, type SignWebhookOptions } from './sign-webhook.js';
export {
  DEFAULT_SIGNATURE_HEADER,
  DEFAULT_TOLERANCE_SECONDS,
  STANDARD_HEADERS,
  WEBHOOK_SCHEMES,
  type WebhookScheme,
  type WebhookSecrets,
} from './webhook-scheme.js';
export {
  WEBHOOK_VERIFICATION_ERROR_CODES,
  WebhookVerificationError,
  type WebhookVerificationErrorCode,
} from './webhook-verification-error.js';
export { createReplayGuard, type MemoryReplayGuard, type ReplayGuard, type ReplayGuardOptions } from './create-replay-guard.js';
export { verifyWebhook, type VerifyWebhookOptions, type WebhookHeaders } from './verify-webhook.js';
