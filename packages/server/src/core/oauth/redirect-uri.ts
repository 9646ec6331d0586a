/**
 * Redirect URI rules (RFC 6749 3.1.2, RFC 8252 7 and 8, RFC 9700 2.1 and 4.1).
 *
 * Registration accepts three kinds of URI:
 * - `https:` URIs with a host (web apps, and native apps' claimed https URLs);
 * - `http:` only on a loopback host: the IP literals `http://127.0.0.1` and `http://[::1]` for any client
 *   (native apps, RFC 8252 7.3), and `http://localhost` for public clients only (RFC 8252 8.3 calls the name
 *   NOT RECOMMENDED but allows it: it may resolve to a non-loopback interface or be taken by another app on
 *   the other IP version, which PKCE, mandatory for public clients here, makes harmless for the code; every
 *   native and SPA development set-up uses it). A confidential client keeps to the IP literals;
 * - private-use schemes named for a reverse domain, such as `com.example.app:/callback` (RFC 8252 7.1).
 * Never: fragments, `javascript:` / `data:` / `file:` / `vbscript:` and similar, user info (`https://good@evil`),
 * wildcards, dot segments, backslashes, spaces, non-ASCII (register the percent-encoded form).
 *
 * Matching is exact string comparison (RFC 6749 3.1.2.3, RFC 9700 4.1.3) with one exception: a loopback
 * `http:` redirect matches on any port (RFC 8252 7.3; `localhost` like the IP literals, RFC 9700 2.1), the rest
 * of it, the host included, still compared exactly: `localhost` never matches `127.0.0.1`. Nothing is
 * normalised: case, trailing slash, dot segments, percent-encoding, user info and query all count.
 */

export type RedirectUriCheck = { ok: true } | { ok: false; reason: string };

export const MAX_REDIRECT_URI_LENGTH = 2000;

const NEVER_ALLOWED_SCHEMES = new Set(['javascript', 'data', 'file', 'vbscript', 'blob', 'about', 'filesystem', 'view-source']);
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
/** Printable ASCII, no spaces: anything else must be percent-encoded. */
const PRINTABLE_ASCII = /^[\x21-\x7E]+$/;
/** A reverse-domain private-use scheme: at least two dot-separated labels. */
const REVERSE_DOMAIN_SCHEME = /^[a-z0-9-]+(\.[a-z0-9-]+)+$/;
/** An http loopback redirect, split into host, port and the rest (path and query). */
const LOOPBACK_HTTP = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(?::([0-9]{1,5}))?([/?].*)?$/;
/** A path segment that is `.` or `..`, literally or percent-encoded. */
const DOT_SEGMENT = /(^|\/)(\.|%2e){1,2}(\/|\?|$)/i;

const refuse = (reason: string): RedirectUriCheck => ({ ok: false, reason });

export interface RedirectUriRegistrationOptions {
  /** A public client (tokenEndpointAuthMethod none) may also register `http://localhost`. Default false. */
  publicClient?: boolean;
}

/** Whether a URI may be registered as a redirect URI; the reason when not (shown to the admin). */
export function checkRedirectUriRegistration(uri: string, options: RedirectUriRegistrationOptions = {}): RedirectUriCheck {
  if (typeof uri !== 'string' || uri.length === 0) return refuse('it is empty.');
  if (uri.length > MAX_REDIRECT_URI_LENGTH) return refuse(`it is longer than ${MAX_REDIRECT_URI_LENGTH} characters.`);
  if (!PRINTABLE_ASCII.test(uri)) return refuse('it contains spaces, control or non-ASCII characters (percent-encode them).');
  const scheme = SCHEME.exec(uri)?.[1];
  if (!scheme) return refuse('it is not an absolute URI (no scheme).');
  const lowerScheme = scheme.toLowerCase();
  if (NEVER_ALLOWED_SCHEMES.has(lowerScheme)) return refuse(`the ${lowerScheme}: scheme is never allowed.`);
  if (scheme !== lowerScheme) return refuse('the scheme must be lowercase.');
  if (uri.includes('#')) return refuse('redirect URIs must not contain a fragment (RFC 6749 3.1.2).');
  if (uri.includes('*')) return refuse('wildcards are not allowed: register every redirect URI exactly.');
  if (uri.includes('\\')) return refuse('backslashes are not allowed.');

  const rest = uri.slice(scheme.length + 1);
  const hasAuthority = rest.startsWith('//');
  const authority = hasAuthority ? rest.slice(2).split(/[/?]/, 1)[0]! : '';
  const pathAndQuery = hasAuthority ? rest.slice(2 + authority.length) : rest;
  if (authority.includes('@')) return refuse('user info (user@host) is not allowed.');
  if (DOT_SEGMENT.test(pathAndQuery.split('?', 1)[0]!)) return refuse('dot segments (/./, /../) are not allowed.');

  if (scheme === 'https') {
    if (!hasAuthority || authority.length === 0) return refuse('an https URI needs a host.');
    let parsed: URL;
    try {
      parsed = new URL(uri);
    } catch {
      return refuse('it is not a valid URI.');
    }
    if (parsed.hostname === '') return refuse('an https URI needs a host.');
    return { ok: true };
  }
  if (scheme === 'http') {
    const loopback = LOOPBACK_HTTP.exec(uri);
    if (loopback && (loopback[1] !== 'localhost' || options.publicClient === true)) {
      if (loopback[2] !== undefined && !validPort(loopback[2])) return refuse('the port is not valid.');
      return { ok: true };
    }
    if (/^http:\/\/localhost([:/?]|$)/i.test(uri)) {
      if (options.publicClient === true) return refuse('write the host in lowercase: http://localhost.');
      return refuse(
        'http://localhost is only for public clients (tokenEndpointAuthMethod none); a confidential client uses the loopback IP literal http://127.0.0.1 or http://[::1] (RFC 8252 8.3).',
      );
    }
    return refuse('http: is only allowed on loopback (127.0.0.1, [::1], and localhost for public clients); use https.');
  }
  if (REVERSE_DOMAIN_SCHEME.test(scheme)) {
    if (pathAndQuery.length === 0 && authority.length === 0) return refuse('a private-use scheme URI needs a path.');
    return { ok: true };
  }
  return refuse(
    'the scheme must be https, http on a loopback IP literal, or a reverse-domain private-use scheme such as com.example.app (RFC 8252 7.1).',
  );
}

function validPort(port: string): boolean {
  return /^[1-9][0-9]{0,4}$/.test(port) && Number(port) <= 65_535;
}

interface LoopbackParts {
  host: string;
  rest: string;
}

function loopbackParts(uri: string): LoopbackParts | undefined {
  const match = LOOPBACK_HTTP.exec(uri);
  if (!match) return undefined;
  if (match[2] !== undefined && !validPort(match[2])) return undefined;
  return { host: match[1]!, rest: match[3] ?? '' };
}

/**
 * Whether a redirect URI presented in a request is one of the client's registered ones: exact string equality,
 * except that a loopback http redirect may use any port.
 */
export function matchRedirectUri(registered: readonly string[], requested: string): boolean {
  if (typeof requested !== 'string' || requested.length === 0 || requested.length > MAX_REDIRECT_URI_LENGTH) return false;
  if (registered.includes(requested)) return true;
  const presented = loopbackParts(requested);
  if (!presented) return false;
  return registered.some((uri) => {
    const parts = loopbackParts(uri);
    return parts !== undefined && parts.host === presented.host && parts.rest === presented.rest;
  });
}

/** Whether a redirect URI goes to this machine: `http` on 127.0.0.1, [::1] or localhost (RFC 8252 7.3). */
export function isLoopbackRedirectUri(uri: string): boolean {
  return loopbackParts(uri) !== undefined;
}
