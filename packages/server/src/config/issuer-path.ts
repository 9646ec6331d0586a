import { createHash } from 'node:crypto';

/**
 * An issuer may have a path (`https://auth.example.com/t1`, as Keycloak's `/realms/x`, or Gatehouse mounted
 * under a path by a reverse proxy). Gatehouse then serves every route under that path as well as at the root
 * (a proxy may keep the prefix or strip it), and its discovery documents where RFC 8414 section 3.1 and OpenID
 * Connect Discovery section 4 put them (see rewriteForIssuerPath).
 */

/** The well-known documents, whose RFC 8414 address inserts the issuer's path after them. */
const WELL_KNOWN = ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration'] as const;

/** The issuer without its terminating slashes: what endpoint paths are appended to (RFC 8414 section 3.1). */
export function issuerBase(issuer: string): string {
  return issuer.replace(/\/+$/, '');
}

/** The issuer's path without terminating slashes: `''` for `https://host` or `https://host/`, `/t1` for `https://host/t1/`. */
export function issuerPath(issuer: string): string {
  return new URL(issuer).pathname.replace(/\/+$/, '');
}

/**
 * Maps a request target under the issuer's path `path` (non-empty) to Gatehouse's own routes:
 * `<path>/...` to `/...` (so `<path>/.well-known/openid-configuration`, OIDC Discovery section 4, too) and
 * `/.well-known/oauth-authorization-server<path>` (RFC 8414 section 3.1; the openid-configuration form is
 * accepted likewise) to the document. Anything else is left alone: routes at the root answer as well, for a
 * proxy that strips the prefix. The query string is kept.
 */
export function rewriteForIssuerPath(url: string, path: string): string {
  const q = url.indexOf('?');
  const pathname = q === -1 ? url : url.slice(0, q);
  const query = q === -1 ? '' : url.slice(q);
  if (pathname === path || pathname.startsWith(`${path}/`)) return (pathname.slice(path.length) || '/') + query;
  for (const document of WELL_KNOWN) {
    if (pathname === document + path) return document + query;
  }
  return url;
}

/** rewriteForIssuerPath for the issuer as it is now (read per request; parsed again only when it changes). */
export function issuerPathRewriter(issuer: () => string): (url: string) => string {
  let seen: string | undefined;
  let path = '';
  return (url) => {
    const current = issuer();
    if (current !== seen) {
      seen = current;
      path = issuerPath(current);
    }
    return path === '' ? url : rewriteForIssuerPath(url, path);
  };
}

/**
 * The first path segment of the issuer, when Gatehouse has routes of its own under it (`/v1`, `/oauth`, ...):
 * such an issuer would hide them, so start-up refuses it. `routes` are the registered route paths.
 */
export function issuerPathCollision(issuer: string, routes: Iterable<string>): string | undefined {
  const path = issuerPath(issuer);
  if (path === '') return undefined;
  const first = path.split('/')[1]!;
  for (const route of routes) {
    if (route.split('/')[1] === first) return `/${first}`;
  }
  return undefined;
}

/**
 * What the login and CSRF cookie names end with: nothing for an issuer without a path; for one with a path, a
 * short hash of it, so that Gatehouse instances under several paths of one host keep their cookies apart (the
 * cookies stay `Path=/`, which the `__Host-` prefix requires; a cookie's Path is no boundary within an origin).
 */
export function cookieNameSuffix(issuer: string): string {
  const path = issuerPath(issuer);
  return path === '' ? '' : `-${createHash('sha256').update(path).digest('hex').slice(0, 12)}`;
}
