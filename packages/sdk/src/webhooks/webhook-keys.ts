import { createSecretKey, type KeyObject } from 'node:crypto';
import { WEBHOOK_SECRET_PREFIX } from './generate-webhook-secret.js';
import type { WebhookScheme, WebhookSecrets } from './webhook-scheme.js';

// HMAC keys are derived once per secret and kept as KeyObjects (no base64 decoding or UTF-8 encoding of the
// secret on every call). The caches are bounded: a process juggling more secrets than this starts over.
const MAX_CACHED = 1000;
const caches: Record<WebhookScheme, Map<string, readonly KeyObject[]>> = { stripe: new Map(), standard: new Map() };

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;

function deriveKey(caller: string, secret: unknown, scheme: WebhookScheme): KeyObject {
  if (typeof secret !== 'string' || secret === '') throw new TypeError(`${caller}: a secret must be a non-empty string`);
  if (scheme === 'stripe') return createSecretKey(Buffer.from(secret, 'utf8'));
  // Standard Webhooks: `whsec_<base64>`; the bare base64 is accepted too, as the reference libraries do.
  const encoded = secret.startsWith(WEBHOOK_SECRET_PREFIX) ? secret.slice(WEBHOOK_SECRET_PREFIX.length) : secret;
  if (encoded === '' || !BASE64.test(encoded)) {
    throw new TypeError(`${caller}: a 'standard' scheme secret must be 'whsec_' followed by base64 (for Stripe's own secrets, set scheme: 'stripe')`);
  }
  return createSecretKey(Buffer.from(encoded, 'base64'));
}

/** The single-element key list of one secret, from the cache. */
function keysOf(caller: string, secret: string, scheme: WebhookScheme): readonly KeyObject[] {
  const cache = caches[scheme];
  let keys = cache.get(secret);
  if (keys === undefined) {
    keys = [deriveKey(caller, secret, scheme)];
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(secret, keys);
  }
  return keys;
}

/**
 * The HMAC keys of `options` (exactly one of `secret` and `secrets`) under `scheme`, in order. Misuse (neither,
 * both, an empty list, a secret that is not a string, a `standard` secret that is not base64) is a TypeError.
 */
export function webhookKeys(caller: string, options: WebhookSecrets, scheme: WebhookScheme): readonly KeyObject[] {
  const { secret, secrets } = options;
  if (secrets === undefined) {
    if (secret === undefined) throw new TypeError(`${caller}: give the secret (secret) or the secrets (secrets)`);
    return keysOf(caller, secret, scheme);
  }
  if (secret !== undefined) throw new TypeError(`${caller}: give either secret or secrets, not both`);
  if (!Array.isArray(secrets) || secrets.length === 0) throw new TypeError(`${caller}: secrets must be a non-empty array`);
  if (secrets.length === 1) return keysOf(caller, secrets[0], scheme);
  return secrets.map((s: string) => keysOf(caller, s, scheme)[0]!);
}
