/**
 * Web origins a client registers for CORS (`allowedOrigins`): exact serialized origins, `scheme://host[:port]`,
 * with no path, query, fragment or user info. The same rules as redirect URIs (redirect-uri.ts): `https:` with a
 * host, or `http:` only on loopback: 127.0.0.1, [::1] and `localhost` (the origin of most single-page apps' development
 * servers; as for public clients' redirect URIs, RFC 8252 8.3 allows it). Compared by exact string equality with
 * the `Origin` request header, so the registered form must be the one browsers send: lowercase scheme and host,
 * no default port (`:443` on https, `:80` on http), no trailing slash.
 */

export type AllowedOriginCheck = { ok: true } | { ok: false; reason: string };

export const MAX_ALLOWED_ORIGINS = 20;
export const MAX_ALLOWED_ORIGIN_LENGTH = 300;

const refuse = (reason: string): AllowedOriginCheck => ({ ok: false, reason });
const LOOPBACK_HTTP_ORIGIN = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(:[1-9][0-9]{0,4})?$/;

/** Whether `origin` may be registered as an allowed web origin; the reason when not (shown to the admin). */
export function checkAllowedOriginRegistration(origin: string): AllowedOriginCheck {
  if (typeof origin !== 'string' || origin.length === 0) return refuse('it is empty.');
  if (origin.length > MAX_ALLOWED_ORIGIN_LENGTH) return refuse(`it is longer than ${MAX_ALLOWED_ORIGIN_LENGTH} characters.`);
  if (!/^[\x21-\x7E]+$/.test(origin)) return refuse('it contains spaces, control or non-ASCII characters (register the punycode form).');
  if (origin.includes('*')) return refuse('wildcards are not allowed: register every origin exactly.');
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return refuse('it is not an origin (scheme://host[:port]).');
  }
  if (parsed.username !== '' || parsed.password !== '' || origin.includes('@')) return refuse('user info (user@host) is not allowed.');
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return refuse('the scheme must be https (or http on 127.0.0.1, [::1] or localhost).');
  // An origin serializes as scheme://host[:port]: anything more (path, query, fragment, trailing slash) is not one.
  if (parsed.origin !== origin) {
    return refuse(`an origin is scheme://host[:port] exactly as browsers send it (lowercase, no default port, no path, query, fragment or trailing slash): ${parsed.origin === 'null' ? 'not an origin' : `did you mean ${parsed.origin}?`}`);
  }
  if (parsed.protocol === 'http:') {
    if (LOOPBACK_HTTP_ORIGIN.test(origin) && Number(parsed.port || 80) <= 65_535) return { ok: true };
    return refuse('http: is only allowed on loopback (127.0.0.1, [::1], localhost); use https.');
  }
  return { ok: true };
}
