import { discoverMetadata, type FetchLike } from './discover-metadata.js';
import { DiscoveryError } from './errors.js';
import { isUrl } from './is-url.js';

export interface AuthorizationUrlOptions {
  /** The issuer, to discover the authorization endpoint from; or give `authorizationEndpoint`. */
  issuer?: string;
  authorizationEndpoint?: string;
  clientId: string;
  redirectUri: string;
  scope: string | string[];
  /** Recommended: a random value (see randomToken()) checked when the browser comes back. */
  state?: string;
  /** OpenID Connect: echoed in the ID token. */
  nonce?: string;
  /** From createPkcePair(); the method is always S256. */
  codeChallenge: string;
  resource?: string | string[];
  prompt?: string;
  fetch?: FetchLike;
}

/** The URL to send the browser to for the authorization code flow with PKCE (RFC 6749 4.1, RFC 7636). */
export async function buildAuthorizationUrl(options: AuthorizationUrlOptions): Promise<URL> {
  if (!options.clientId) throw new TypeError('clientId is required');
  if (!isUrl(options.redirectUri)) throw new TypeError('redirectUri must be a URL');
  if (!/^[A-Za-z0-9_-]{43}$/.test(options.codeChallenge ?? '')) throw new TypeError('codeChallenge must be an S256 challenge (createPkcePair().challenge)');
  let endpoint = options.authorizationEndpoint;
  if (endpoint === undefined) {
    if (!isUrl(options.issuer)) throw new TypeError('issuer or authorizationEndpoint is required');
    const metadata = await discoverMetadata(options.issuer, options.fetch ? { fetch: options.fetch } : {});
    if (typeof metadata.authorization_endpoint !== 'string') throw new DiscoveryError('missing_endpoint', 'The metadata has no authorization_endpoint');
    endpoint = metadata.authorization_endpoint;
  } else if (!isUrl(endpoint)) {
    throw new TypeError('authorizationEndpoint must be a URL');
  }
  const url = new URL(endpoint);
  const params = url.searchParams;
  params.set('response_type', 'code');
  params.set('client_id', options.clientId);
  params.set('redirect_uri', options.redirectUri);
  params.set('scope', Array.isArray(options.scope) ? options.scope.join(' ') : options.scope);
  params.set('code_challenge', options.codeChallenge);
  params.set('code_challenge_method', 'S256');
  if (options.state !== undefined) params.set('state', options.state);
  if (options.nonce !== undefined) params.set('nonce', options.nonce);
  if (options.prompt !== undefined) params.set('prompt', options.prompt);
  for (const resource of options.resource === undefined ? [] : Array.isArray(options.resource) ? options.resource : [options.resource]) {
    params.append('resource', resource);
  }
  return url;
}
