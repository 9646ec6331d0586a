import type { PageBranding } from '../../config/page-branding.js';
import { pageCssHash } from './layout.js';

export interface PageHeaderOptions {
  /**
   * Where a submission of this page's form may end up besides this server: the redirect URI the flow will
   * 303 to. Chrome and Safari check `form-action` against every redirect that follows a form submission
   * (w3c/webappsec-csp#8), so the consent (and login) page must allow the client's redirect target, or the
   * final redirect with the code is silently blocked. Pass the redirect URI of this very request (a loopback
   * redirect's port varies, RFC 8252); `formActionSource` turns it into a CSP source.
   */
  redirectUris?: readonly string[];
  /** The stylesheet's hash follows the brand colour; a logo's origin is allowed for images (only it). */
  branding?: PageBranding;
}

/**
 * A CSP source expression for a redirect URI: the origin for http(s) (`https://app.example.com`), the scheme
 * for a private-use scheme (`com.example.app:`). Throws for anything that is not a clean absolute URI.
 */
export function formActionSource(redirectUri: string): string {
  const url = new URL(redirectUri);
  if (url.protocol === 'http:' || url.protocol === 'https:') return url.origin;
  if (!/^[a-z][a-z0-9+.-]*:$/.test(url.protocol)) throw new TypeError('Not a usable redirect URI scheme');
  return url.protocol;
}

/** The CSP source for the logo: its origin, or 'self' for a path on this server. */
function logoSource(logoUrl: string): string {
  return logoUrl.startsWith('/') ? "'self'" : new URL(logoUrl).origin;
}

/** The headers every server-rendered page needs. */
export function pageHeaders(options: PageHeaderOptions = {}): Record<string, string> {
  const formAction = ["'self'", ...new Set((options.redirectUris ?? []).map(formActionSource))].join(' ');
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': [
      "default-src 'none'",
      `style-src ${pageCssHash(options.branding)}`,
      ...(options.branding?.logoUrl ? [`img-src ${logoSource(options.branding.logoUrl)}`] : []),
      `form-action ${formAction}`,
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ].join('; '),
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
  };
}
