import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/** Cookie names: the `__Host-` prefix needs `Secure`, which browsers honour only over https. */
export const CSRF_COOKIE_SECURE = '__Host-gh_csrf';
export const CSRF_COOKIE_PLAIN = 'gh_csrf';
/** The form field that carries the token. */
export const CSRF_FIELD = 'csrf_token';

const VALUE = /^[A-Za-z0-9_-]{43}$/;

export interface CsrfIssue {
  /** The browser's CSRF cookie value: the one it sent, or a new one. */
  cookieValue: string;
  /** Set when the cookie is new: the Set-Cookie header value to send with the page. */
  setCookie?: string;
  /** The token for the form's hidden `csrf_token` field. */
  token: string;
}

export interface CsrfOptions {
  /** The master key; the HMAC secret is derived from it (HKDF-SHA256), so every process agrees on it. */
  masterKey: Buffer;
  /** True when the issuer is https: the cookie is then `__Host-gh_csrf` with `Secure`. */
  secure: boolean;
  /** Appended to the cookie name: set for an issuer with a path (config/issuer-path.ts cookieNameSuffix). */
  cookieNameSuffix?: string;
}

/**
 * Stateless CSRF protection for the login and consent forms (a signed double-submit cookie): a random
 * per-browser cookie (HttpOnly, SameSite=Lax, Path=/) and, in the form, HMAC(secret, purpose, cookie value).
 * Another site can make the browser send the cookie, but cannot read it or compute the token. The purpose
 * ("login", "consent") keeps one form's token from being accepted by another.
 *
 * Over https the cookie is `__Host-gh_csrf` (Secure, no Domain), which a sibling subdomain cannot overwrite.
 * Over plain http (development) the prefix is impossible and the cookie is `gh_csrf`: a sibling host could then
 * plant a cookie of its own, so run a public issuer on https.
 */
export class CsrfProtection {
  readonly #secret: Buffer;
  readonly cookieName: string;
  readonly #attributes: string;

  constructor(options: CsrfOptions) {
    if (!Buffer.isBuffer(options.masterKey) || options.masterKey.length !== 32) {
      throw new TypeError('The master key must be exactly 32 bytes');
    }
    this.#secret = Buffer.from(hkdfSync('sha256', options.masterKey, Buffer.alloc(0), 'gatehouse/csrf/v1', 32));
    this.cookieName = (options.secure ? CSRF_COOKIE_SECURE : CSRF_COOKIE_PLAIN) + (options.cookieNameSuffix ?? '');
    this.#attributes = `Path=/; HttpOnly; SameSite=Lax${options.secure ? '; Secure' : ''}`;
  }

  /** A token for the form of `purpose`, bound to the browser's cookie; a new cookie when it has none (or a bad one). */
  issueCsrf(cookieValue: string | undefined, purpose: string): CsrfIssue {
    if (cookieValue !== undefined && VALUE.test(cookieValue)) {
      return { cookieValue, token: this.#token(cookieValue, purpose) };
    }
    const fresh = randomBytes(32).toString('base64url');
    return { cookieValue: fresh, setCookie: `${this.cookieName}=${fresh}; ${this.#attributes}`, token: this.#token(fresh, purpose) };
  }

  /** Whether a submitted token matches the browser's cookie and the form's purpose (timing-safe). */
  checkCsrf(cookieValue: string | undefined, token: string | undefined, purpose: string): boolean {
    if (typeof cookieValue !== 'string' || typeof token !== 'string' || !VALUE.test(cookieValue)) return false;
    const expected = Buffer.from(this.#token(cookieValue, purpose), 'utf8');
    const given = Buffer.from(token, 'utf8');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** The cookie value from a Cookie header (the first one of our name). */
  readCookie(cookieHeader: string | undefined): string | undefined {
    if (!cookieHeader) return undefined;
    for (const part of cookieHeader.split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0 && part.slice(0, eq).trim() === this.cookieName) return part.slice(eq + 1).trim();
    }
    return undefined;
  }

  #token(cookieValue: string, purpose: string): string {
    if (!/^[a-z_]{1,32}$/.test(purpose)) throw new TypeError('A CSRF purpose is a short lowercase word');
    return createHmac('sha256', this.#secret).update(`${purpose}\0${cookieValue}`).digest('base64url');
  }
}
