import { timingSafeEqual, type KeyObject } from 'node:crypto';
import type { ReplayGuard } from './create-replay-guard.js';
import { webhookHmac } from './sign-webhook.js';
import { webhookKeys } from './webhook-keys.js';
import {
  checkHeaderName,
  checkPayload,
  checkScheme,
  DEFAULT_SIGNATURE_HEADER,
  DEFAULT_TOLERANCE_SECONDS,
  STANDARD_HEADERS,
  type WebhookScheme,
  type WebhookSecrets,
} from './webhook-scheme.js';
import { WebhookVerificationError, type WebhookVerificationErrorCode } from './webhook-verification-error.js';

/** Request headers as Node (`IncomingMessage.headers`), Express, Fastify or the Fetch API (`Headers`) give them. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

export interface VerifyWebhookOptions<T = unknown> extends WebhookSecrets {
  /** The raw body exactly as received: a string or the bytes (a Buffer). Never a re-serialized object. */
  payload: string | Uint8Array;
  headers: WebhookHeaders;
  /**
   * Default: `standard` when a `webhook-signature` header is present, otherwise `stripe`. Then the secrets must
   * suit both schemes (`whsec_<base64>`, as generateWebhookSecret() makes them).
   */
  scheme?: WebhookScheme;
  /** How far the signed timestamp may be from now, in the past or the future. Default 300 seconds. */
  toleranceSeconds?: number;
  /** `stripe` scheme: the signature header. Default `Gatehouse-Signature` (case-insensitive, e.g. `Stripe-Signature`). */
  headerName?: string;
  /**
   * Processes each delivery once: asked with the delivery id only after the signature verified. The id is the
   * `webhook-id` (standard), or the event's `id` (stripe; if the payload has none, the timestamp and signature).
   * With a guard, `verifyWebhook` returns a Promise.
   */
  replayGuard?: ReplayGuard;
  /** The clock in milliseconds (tests). Default `Date.now`. */
  now?: () => number;
  /**
   * How the verified payload becomes the result. Default `JSON.parse`. A function parses (and may validate) the
   * payload text; `false` returns the payload unparsed, exactly as given.
   */
  parse?: false | ((text: string) => T);
}

const STRIPE_HEADER = DEFAULT_SIGNATURE_HEADER.toLowerCase();
const fail = (code: WebhookVerificationErrorCode, message: string, cause?: unknown): never => {
  throw new WebhookVerificationError(code, message, cause === undefined ? undefined : { cause });
};

/** A header's raw value (case-insensitive name). */
function rawHeader(headers: WebhookHeaders, name: string): string | string[] | null | undefined {
  if (typeof (headers as Headers).get === 'function') {
    return (headers as Headers).get(name);
  }
  const record = headers as Record<string, string | string[] | undefined>;
  const value = record[name];
  if (value !== undefined) return value;
  for (const key in record) {
    if (key.length === name.length && key.toLowerCase() === name) return record[key];
  }
  return undefined;
}

/** A header's value; absent or empty is `undefined`, several values are malformed. */
function readHeader(headers: WebhookHeaders, name: string): string | undefined {
  let value = rawHeader(headers, name);
  if (Array.isArray(value)) {
    if (value.length > 1) fail('malformed_header', `several ${name} headers`);
    value = value[0];
  }
  return value === null || value === undefined || value === '' ? undefined : value;
}

function requireHeader(headers: WebhookHeaders, name: string): string {
  return readHeader(headers, name) ?? fail('missing_header', `no ${name} header`);
}

/** Unix seconds written canonically: 1 to 15 digits, no sign, no leading zero (so the signed text is unambiguous). */
function parseTimestamp(text: string, header: string): number {
  const n = text.length;
  if (n === 0 || n > 15 || (text.charCodeAt(0) === 48 && n > 1)) fail('malformed_header', `${header}: the timestamp is not unix seconds`);
  let seconds = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) fail('malformed_header', `${header}: the timestamp is not unix seconds`);
    seconds = seconds * 10 + (c - 48);
  }
  return seconds;
}

function checkTolerance(timestamp: number, nowMs: number, toleranceSeconds: number): void {
  const skew = Math.floor(nowMs / 1000) - timestamp;
  if (skew > toleranceSeconds) fail('timestamp_outside_tolerance', `the timestamp is ${skew} s in the past`);
  if (-skew > toleranceSeconds) fail('timestamp_outside_tolerance', `the timestamp is ${-skew} s in the future`);
}

/** A `v1` signature as its 32 bytes: 64 hex digits (stripe) or 44 base64 characters ending in `=` (standard). */
function decodeSignature(text: string, encoding: 'hex' | 'base64', header: string): Buffer {
  const wellSized = encoding === 'hex' ? text.length === 64 : text.length === 44 && text.charCodeAt(43) === 61; /* = */
  const bytes = wellSized ? Buffer.from(text, encoding) : undefined;
  if (bytes === undefined || bytes.length !== 32) fail('malformed_header', `${header}: a v1 signature is not 32 bytes of ${encoding}`);
  return bytes!;
}

/** Another version's name (`v0`, `v1a`, ...), ignored but checked: letters and digits only. */
function checkVersion(value: string, start: number, end: number, header: string): void {
  for (let i = start; i < end; i++) {
    const c = value.charCodeAt(i);
    const letter = c | 0x20;
    if (!((c >= 48 && c <= 57) || (letter >= 97 && letter <= 122))) fail('malformed_header', `${header}: a key is not letters and digits`);
  }
}

interface ParsedStripeHeader {
  /** The `t` value, as signed. */
  timestamp: string;
  /** The `v1` signatures, decoded. */
  signatures: Buffer[];
}

/**
 * `t=<seconds>,v1=<hex>[,v1=<hex>...]`, other keys (`v0=...`) ignored. Every item is `key=value`, both
 * non-empty; exactly one `t`.
 */
function parseStripeHeader(value: string, header: string): ParsedStripeHeader {
  let timestamp: string | undefined;
  const signatures: Buffer[] = [];
  let others = 0;
  for (let start = 0; ; ) {
    let end = value.indexOf(',', start);
    if (end === -1) end = value.length;
    const eq = value.indexOf('=', start);
    if (eq <= start || eq >= end - 1) fail('malformed_header', `${header}: every item must be key=value, separated by single commas`);
    if (eq === start + 1 && value.charCodeAt(start) === 116 /* t */) {
      if (timestamp !== undefined) fail('malformed_header', `${header}: several timestamps`);
      timestamp = value.slice(eq + 1, end);
    } else if (eq === start + 2 && value.charCodeAt(start) === 118 /* v */ && value.charCodeAt(start + 1) === 49 /* 1 */) {
      signatures.push(decodeSignature(value.slice(eq + 1, end), 'hex', header));
    } else {
      checkVersion(value, start, eq, header);
      others++;
    }
    if (end === value.length) break;
    start = end + 1;
  }
  if (timestamp === undefined) fail('malformed_header', `${header}: no timestamp (t=)`);
  if (signatures.length === 0) {
    fail(others > 0 ? 'unsupported_version' : 'malformed_header', `${header}: no v1 signature`);
  }
  return { timestamp: timestamp!, signatures };
}

/** `v1,<base64>[ v1,<base64>...]`, other versions (`v1a,...`) ignored; items separated by single spaces. */
function parseStandardSignatures(value: string): Buffer[] {
  const header = STANDARD_HEADERS.signature;
  const signatures: Buffer[] = [];
  let others = 0;
  for (let start = 0; ; ) {
    let end = value.indexOf(' ', start);
    if (end === -1) end = value.length;
    const comma = value.indexOf(',', start);
    if (comma <= start || comma >= end - 1) fail('malformed_header', `${header}: every item must be version,signature, separated by single spaces`);
    if (comma === start + 2 && value.charCodeAt(start) === 118 /* v */ && value.charCodeAt(start + 1) === 49 /* 1 */) {
      signatures.push(decodeSignature(value.slice(comma + 1, end), 'base64', header));
    } else {
      checkVersion(value, start, comma, header);
      others++;
    }
    if (end === value.length) break;
    start = end + 1;
  }
  if (signatures.length === 0) fail(others > 0 ? 'unsupported_version' : 'malformed_header', `${header}: no v1 signature`);
  return signatures;
}

/** The MAC of the first key whose HMAC equals one of `signatures` (timing-safe), or a no_signature_matched error. */
function match(keys: readonly KeyObject[], prefix: string, payload: string | Uint8Array, signatures: Buffer[]): Buffer {
  for (const key of keys) {
    // Digested as a binary (latin1) string, one char per byte, then viewed as bytes: cheaper than digest() into a Buffer.
    const mac = Buffer.from(webhookHmac(key, prefix, payload).digest('binary'), 'latin1');
    for (const signature of signatures) if (timingSafeEqual(mac, signature)) return mac;
  }
  return fail('no_signature_matched', 'no signature matches the payload under the given secrets');
}

function parsePayload<T>(payload: string | Uint8Array, parse: VerifyWebhookOptions<T>['parse']): T {
  if (parse === false) return payload as T;
  const text =
    typeof payload === 'string' ? payload : (Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)).toString('utf8');
  try {
    return parse === undefined ? (JSON.parse(text) as T) : parse(text);
  } catch (error) {
    return fail('invalid_payload', 'the payload does not parse', error);
  }
}

/** What a verified signature says about the delivery. */
interface Delivery {
  /** `standard`: the webhook-id. */
  id: string | undefined;
  timestamp: string;
  /** The HMAC that matched. */
  mac: Buffer;
}

/** Checks the headers, the timestamp and the signatures of a delivery (throws a WebhookVerificationError). */
function authenticate(
  scheme: WebhookScheme,
  headers: WebhookHeaders,
  stripeHeader: string,
  keys: readonly KeyObject[],
  payload: string | Uint8Array,
  nowMs: () => number,
  toleranceSeconds: number,
): Delivery {
  if (scheme === 'stripe') {
    const { timestamp, signatures } = parseStripeHeader(requireHeader(headers, stripeHeader), stripeHeader);
    checkTolerance(parseTimestamp(timestamp, stripeHeader), nowMs(), toleranceSeconds);
    return { id: undefined, timestamp, mac: match(keys, `${timestamp}.`, payload, signatures) };
  }
  const id = requireHeader(headers, STANDARD_HEADERS.id);
  const timestamp = requireHeader(headers, STANDARD_HEADERS.timestamp);
  const signatures = parseStandardSignatures(requireHeader(headers, STANDARD_HEADERS.signature));
  checkTolerance(parseTimestamp(timestamp, STANDARD_HEADERS.timestamp), nowMs(), toleranceSeconds);
  return { id, timestamp, mac: match(keys, `${id}.${timestamp}.`, payload, signatures) };
}

/** The id the replay guard sees: the webhook-id, or for `stripe` the event's `id`, else the timestamp and the MAC. */
function deliveryId(delivery: Delivery, event: unknown): string {
  if (delivery.id !== undefined) return delivery.id;
  const id = typeof event === 'object' && event !== null ? (event as { id?: unknown }).id : undefined;
  return typeof id === 'string' && id !== '' ? id : `${delivery.timestamp}.${delivery.mac.toString('hex')}`;
}

/**
 * Verifies a webhook and returns its payload, parsed (JSON unless `parse` says otherwise).
 *
 * It reads the signature headers of `scheme`, rejects a timestamp further than `toleranceSeconds` from now in
 * either direction, and accepts the payload when a `v1` signature matches its HMAC-SHA256 under any of the
 * secrets (compared with `timingSafeEqual`; other versions are ignored, only other versions is an error). Then
 * it parses the payload and, with a `replayGuard`, asks the guard about the delivery id.
 *
 * Without a `replayGuard` it is synchronous: it returns the event or throws a `WebhookVerificationError`. With
 * one it returns a Promise (the guard may be asynchronous) that rejects with every error, so `await` it.
 * Misuse (no or bad secrets, a parsed object as payload, bad options) throws a `TypeError` in both cases.
 */
export function verifyWebhook<T = unknown>(options: VerifyWebhookOptions<T> & { replayGuard?: undefined }): T;
export function verifyWebhook<T = unknown>(options: VerifyWebhookOptions<T> & { replayGuard: ReplayGuard }): Promise<T>;
export function verifyWebhook<T = unknown>(options: VerifyWebhookOptions<T>): T | Promise<T>;
export function verifyWebhook<T = unknown>(options: VerifyWebhookOptions<T>): T | Promise<T> {
  const caller = 'verifyWebhook';
  const { headers, toleranceSeconds = DEFAULT_TOLERANCE_SECONDS, now = Date.now, parse, replayGuard } = options;
  const payload = checkPayload(caller, options.payload);
  if (typeof headers !== 'object' || headers === null) throw new TypeError(`${caller}: headers must be the request headers`);
  if (typeof toleranceSeconds !== 'number' || !(toleranceSeconds >= 0) || !Number.isFinite(toleranceSeconds)) {
    throw new TypeError(`${caller}: toleranceSeconds must be a non-negative number`);
  }
  if (typeof now !== 'function') throw new TypeError(`${caller}: now must be a function returning milliseconds`);
  if (parse !== undefined && parse !== false && typeof parse !== 'function') throw new TypeError(`${caller}: parse must be false or a function`);
  if (replayGuard !== undefined && typeof replayGuard?.seen !== 'function') throw new TypeError(`${caller}: replayGuard must have a seen(id) method`);
  const stripeHeader = options.headerName === undefined ? STRIPE_HEADER : checkHeaderName(caller, options.headerName).toLowerCase();
  const scheme =
    options.scheme === undefined
      ? rawHeader(headers, STANDARD_HEADERS.signature) == null
        ? 'stripe'
        : 'standard'
      : checkScheme(caller, options.scheme);
  const keys = webhookKeys(caller, options, scheme);
  // Detected from the headers, the scheme is the sender's choice: the secrets must suit both, or misuse would
  // surface only when some sender picks the other scheme.
  if (options.scheme === undefined) webhookKeys(caller, options, scheme === 'stripe' ? 'standard' : 'stripe');

  if (replayGuard === undefined) {
    authenticate(scheme, headers, stripeHeader, keys, payload, now, toleranceSeconds);
    return parsePayload(payload, parse);
  }
  return (async () => {
    const delivery = authenticate(scheme, headers, stripeHeader, keys, payload, now, toleranceSeconds);
    const event = parsePayload(payload, parse);
    const id = deliveryId(delivery, event);
    if (await replayGuard.seen(id)) fail('replayed', `delivery ${id} was seen before`);
    return event;
  })();
}
