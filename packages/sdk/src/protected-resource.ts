/** RFC 9728 section 3: the well-known URI suffix of Protected Resource Metadata. */
export const PROTECTED_RESOURCE_METADATA_PATH = '/.well-known/oauth-protected-resource';

/** What the SDK says about the API it protects (RFC 9728 section 2); only `resource` is required. */
export interface ProtectedResourceOptions {
  /**
   * This API's resource identifier: the `resource` clients ask Gatehouse for (RFC 8707) and the `aud` its
   * access tokens must contain. An absolute `https` URL (`http` only for localhost, 127.x and [::1]) in canonical
   * form (lowercase scheme and host, no default port), without query or fragment; its path may hold
   * `A-Z a-z 0-9 - . _ ~ /` only. E.g. `https://api.example.com/mcp`.
   */
  resource: string;
  /** Issuer identifiers of the authorization servers; default the authenticator's `issuer`. */
  authorizationServers?: readonly string[];
  /** `scopes_supported`: the scopes this API understands (advertised to clients choosing what to ask for). */
  scopesSupported?: readonly string[];
  /** `resource_name`: a human-readable name of the API. */
  resourceName?: string;
  /** `resource_documentation`: a URL of the API's documentation for developers. */
  resourceDocumentation?: string;
  /** `resource_policy_uri`: a URL of the API's data usage policy. */
  resourcePolicyUri?: string;
  /** `resource_tos_uri`: a URL of the API's terms of service. */
  resourceTosUri?: string;
  /** `tls_client_certificate_bound_access_tokens` (RFC 8705): the API supports certificate-bound tokens. */
  tlsClientCertificateBoundAccessTokens?: boolean;
}

/** Validated protected resource options: what the middleware and the metadata handlers answer with. */
export interface ProtectedResource {
  readonly resource: string;
  /** The URL of the metadata document (RFC 9728 section 3.1): the `resource_metadata` of challenges. */
  readonly metadataUrl: string;
  /**
   * The paths the metadata is served at: the path-suffixed form (`/.well-known/oauth-protected-resource/mcp` for
   * `https://api.example.com/mcp`), then the bare well-known path (clients fall back to it); one path for a
   * resource without a path.
   */
  readonly paths: readonly string[];
  /** The metadata document, serialized. */
  readonly body: string;
  /** The headers of the metadata answer. */
  readonly headers: Readonly<Record<string, string>>;
}

const OPTION_NAMES = [
  'resource',
  'authorizationServers',
  'scopesSupported',
  'resourceName',
  'resourceDocumentation',
  'resourcePolicyUri',
  'resourceTosUri',
  'tlsClientCertificateBoundAccessTokens',
];
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
const RESOURCE_PATH = /^(\/[A-Za-z0-9\-._~]+)*\/?$/;
const CONTROL = /[\u0000-\u001f\u007f]/;
const LOOPBACK_HOSTS = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

/**
 * The metadata URL of a resource identifier (RFC 9728 section 3.1): the well-known suffix inserted between the
 * host and the path (a terminating `/` of the host dropped): `https://api.example.com/mcp` has
 * `https://api.example.com/.well-known/oauth-protected-resource/mcp`.
 */
export function protectedResourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname === '/' ? '' : url.pathname;
  return `${url.origin}${PROTECTED_RESOURCE_METADATA_PATH}${path}`;
}

/** Is this an allowed resource server URL: https, or http for a loopback host (local development and tests)? */
function secureOrLoopback(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.test(url.hostname));
}

/**
 * Validates protected resource options once (TypeError naming `owner` on misuse) and builds what is answered:
 * the metadata document and the metadata URL of challenges. `issuer` is the authenticator's, the default
 * authorization server; `routeScopes` (a requireAuth's) must be among `scopesSupported` when both are given.
 */
export function resolveProtectedResource(
  owner: string,
  options: unknown,
  issuer: string | undefined,
  routeScopes?: readonly string[],
): ProtectedResource {
  const fail = (message: string): never => {
    throw new TypeError(`${owner}: protectedResource ${message}`);
  };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) fail('must be an object');
  const given = options as Record<string, unknown>;
  for (const name of Object.keys(given)) {
    if (!OPTION_NAMES.includes(name)) fail(`has an unknown option ${JSON.stringify(name)} (allowed: ${OPTION_NAMES.join(', ')})`);
  }

  const parse = (value: unknown, name: string): URL => {
    if (typeof value !== 'string') fail(`${name} must be a URL string`);
    try {
      return new URL(value as string);
    } catch {
      return fail(`${name} must be an absolute URL`);
    }
  };
  const webUrl = (value: unknown, name: string): string => {
    const url = parse(value, name);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(`${name} must be an http(s) URL`);
    if (url.username || url.password) fail(`${name} must not contain credentials`);
    return value as string;
  };

  const { resource } = given;
  const url = parse(resource, 'resource');
  const text = resource as string;
  if (!secureOrLoopback(url)) fail('resource must be an https URL (http only for localhost, 127.x.x.x and [::1])');
  if (text.includes('#')) fail('resource must not have a fragment (RFC 9728 section 1.2)');
  if (text.includes('?')) fail('resource must not have a query (RFC 9728 section 1.2)');
  if (url.username || url.password) fail('resource must not contain credentials');
  // Byte for byte what clients send as `resource` and find in `aud`: compare in canonical form only.
  if (text !== url.href && !(url.pathname === '/' && `${text}/` === url.href)) {
    const canonical = url.pathname === '/' ? url.origin : url.href;
    fail(`resource must be in canonical form (lowercase scheme and host, no default port): did you mean ${JSON.stringify(canonical)}?`);
  }
  if (!RESOURCE_PATH.test(url.pathname)) {
    fail('resource path may hold only A-Z a-z 0-9 - . _ ~ and / between non-empty segments (it becomes a route path)');
  }

  let authorizationServers: readonly string[];
  if (given.authorizationServers === undefined) {
    if (typeof issuer !== 'string') fail('needs authorizationServers: the authenticator has no issuer to default to');
    authorizationServers = [issuer!];
  } else {
    const list = given.authorizationServers;
    if (!Array.isArray(list) || list.length === 0) fail('authorizationServers must be a non-empty array of issuer URLs');
    authorizationServers = (list as unknown[]).map((server, i) => {
      const value = webUrl(server, `authorizationServers[${i}]`);
      if (value.includes('?') || value.includes('#')) fail(`authorizationServers[${i}] must not have a query or fragment (RFC 8414 issuer)`);
      return value;
    });
  }

  let scopesSupported: readonly string[] | undefined;
  if (given.scopesSupported !== undefined) {
    const list = given.scopesSupported;
    if (!Array.isArray(list) || !list.every((s) => typeof s === 'string' && SCOPE.test(s))) {
      fail('scopesSupported must be an array of scope names (printable ASCII, no spaces, quotes or backslashes)');
    }
    scopesSupported = [...new Set(list as string[])];
    for (const scope of routeScopes ?? []) {
      if (!scopesSupported.includes(scope)) fail(`scopesSupported lacks ${JSON.stringify(scope)}, a scope this route requires`);
    }
  }

  const { resourceName } = given;
  if (resourceName !== undefined && (typeof resourceName !== 'string' || resourceName.trim() === '' || CONTROL.test(resourceName))) {
    fail('resourceName must be a non-empty string without control characters');
  }
  const links: Record<string, string> = {};
  for (const [name, field] of [
    ['resourceDocumentation', 'resource_documentation'],
    ['resourcePolicyUri', 'resource_policy_uri'],
    ['resourceTosUri', 'resource_tos_uri'],
  ] as const) {
    if (given[name] !== undefined) links[field] = webUrl(given[name], name);
  }
  const bound = given.tlsClientCertificateBoundAccessTokens;
  if (bound !== undefined && typeof bound !== 'boolean') fail('tlsClientCertificateBoundAccessTokens must be a boolean');

  const metadataUrl = protectedResourceMetadataUrl(text);
  const suffixed = new URL(metadataUrl).pathname;
  const document = {
    resource: text,
    authorization_servers: authorizationServers,
    ...(scopesSupported ? { scopes_supported: scopesSupported } : {}),
    // Only the Authorization header: the middleware refuses credentials in the query, and reads no body.
    bearer_methods_supported: ['header'],
    ...(resourceName !== undefined ? { resource_name: resourceName } : {}),
    ...links,
    ...(bound !== undefined ? { tls_client_certificate_bound_access_tokens: bound } : {}),
  };
  return Object.freeze({
    resource: text,
    metadataUrl,
    paths: Object.freeze(suffixed === PROTECTED_RESOURCE_METADATA_PATH ? [suffixed] : [suffixed, PROTECTED_RESOURCE_METADATA_PATH]),
    body: JSON.stringify(document),
    headers: Object.freeze({
      'content-type': 'application/json',
      // Public, and as long as Gatehouse's own metadata; CORS open, so browser-based clients can discover it.
      'cache-control': 'public, max-age=300',
      'access-control-allow-origin': '*',
    }),
  });
}

function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

/**
 * A denial of a protected resource's route, its challenge completed (RFC 9728 section 5.1, RFC 6750 section 3):
 * every 401 and 403 names the metadata URL in `resource_metadata`, and a 401 names the route's scopes in `scope`
 * (a 403 insufficient_scope names them already), so a client knows where to discover Gatehouse and what to ask
 * for. Other denials (400, 429, 503) are returned as they are.
 */
export function withResourceChallenge<D extends { status: number; headers: Record<string, string>; wwwAuthenticate?: string }>(
  denial: D,
  resource: ProtectedResource,
  routeScopes: readonly string[] | undefined,
): D {
  const current = denial.wwwAuthenticate;
  if ((denial.status !== 401 && denial.status !== 403) || current === undefined) return denial;
  const scope = denial.status === 401 && routeScopes?.length ? `, scope=${quote(routeScopes.join(' '))}` : '';
  const wwwAuthenticate = `${current}${scope}, resource_metadata=${quote(resource.metadataUrl)}`;
  return { ...denial, wwwAuthenticate, headers: { ...denial.headers, 'WWW-Authenticate': wwwAuthenticate } };
}
