import { credentialInQuery } from '../protocol/query-credentials.js';
import { resolveProtectedResource, withResourceChallenge, type ProtectedResource, type ProtectedResourceOptions } from '../protected-resource.js';
import type { Auth, AuthDenial, AuthenticateOptions, Authenticator, AuthSuccess, PeerCertificate } from '../index.js';

/** What a guard needs of a socket: node:tls's peer certificate, when the socket is TLS. */
export interface MaybeTlsSocket {
  encrypted?: boolean;
  getPeerCertificate?: () => { raw?: Uint8Array } | null;
}

/**
 * The client certificate of a TLS socket, read lazily (only a certificate-bound token asks for it); undefined
 * for a plain socket, or when no certificate was presented.
 */
export function socketPeerCertificate(given: object | undefined): (() => PeerCertificate | undefined) | undefined {
  const socket = given as MaybeTlsSocket | undefined;
  if (!socket?.encrypted || typeof socket.getPeerCertificate !== 'function') return undefined;
  return () => {
    const raw = socket.getPeerCertificate!()?.raw;
    return raw && raw.length > 0 ? raw : undefined;
  };
}

/**
 * Query parameters that carry credentials. A request naming any of them, under any spelling
 * `credentialParameter` matches (`API_KEY`, `api_key[]`, `access-token`), is refused with 400 before anything
 * else, as the Gatehouse server does with the same list and matcher: URLs end up in logs, proxies and browser history.
 */
export { QUERY_CREDENTIAL_PARAMS, credentialInQuery } from '../protocol/query-credentials.js';

/** The middleware's own denial: credentials were sent in the query string (its value is never kept). */
export interface QueryCredentialDenial {
  ok: false;
  code: 'credentials_in_query';
  status: 400;
  /** The offending query parameter, as its entry in QUERY_CREDENTIAL_PARAMS (`api_key` for `API_KEY[]`). */
  parameter: string;
  headers: Record<string, string>;
  error: { error: 'credentials_in_query'; error_description: string };
}

/** Why the middleware refused a request: a denial of the authenticator, or credentials in the query. */
export type RequestDenial = AuthDenial | QueryCredentialDenial;

/**
 * The options of every `requireAuth` (node:http takes `tenant` instead of `tenantParam`); `Req` is what the
 * framework calls the request (Hono: its Context). Each middleware module exports it for its framework.
 */
export interface BaseRequireAuthOptions<Req> {
  /** Scopes the credential must all hold. */
  scopes?: readonly string[];
  /** The route parameter holding the resource's tenant id: credentials of any other tenant get 403. */
  tenantParam?: string;
  /**
   * The address of the client that sent the request, forwarded to Gatehouse when it verifies an API key
   * (failures count against that client, and a blocked one is refused `ip_blocked`). Default: what the framework
   * says (its trust-proxy setting honoured); `() => undefined` forwards nothing. Called only when Gatehouse is
   * asked, never for a cached key. A value that is not an IP address is not sent.
   */
  clientIp?: (request: Req) => string | undefined;
  /**
   * The API this route belongs to, as published by `protectedResourceMetadata` (RFC 9728): access tokens must
   * name its `resource` in `aud`, and every 401 and 403 challenge carries `resource_metadata="<its metadata URL>"`
   * (a 401 also `scope="<scopes>"`).
   */
  protectedResource?: ProtectedResourceOptions;
}

export type GuardResult = AuthSuccess | RequestDenial;

export interface Guard<Req> {
  readonly tenantParam: string | undefined;
  /**
   * Refuses credentials in the query, then authenticates. `tenant` is read only when the guard has a tenant
   * source; a missing tenant on such a route is a programming error (thrown, so the app answers 500).
   * `request` is handed to the client address source, which is called only if Gatehouse is asked.
   * Synchronous when the answer needs no I/O (see Authenticator.authenticateMaybeSync).
   */
  check(
    url: string | undefined,
    authorization: string | string[] | undefined,
    tenant: () => string | undefined,
    peerCertificate: (() => PeerCertificate | undefined) | undefined,
    request: Req,
  ): GuardResult | Promise<GuardResult>;
}

/**
 * The authenticate options of one request: the route's, and the client's address, read only when the
 * authenticator asks for it (an API key verified with Gatehouse): reading it is not free everywhere (Express's
 * `req.ip` parses X-Forwarded-For on every read), and a cached key must cost nothing more. One object of one
 * shape per request, no closure.
 */
class RequestOptions<Req> implements AuthenticateOptions {
  readonly #request: Req;
  readonly #clientIp: (request: Req) => string | undefined;

  constructor(
    readonly scopes: readonly string[] | undefined,
    readonly tenantId: string | undefined,
    readonly peerCertificate: (() => PeerCertificate | undefined) | undefined,
    readonly audience: string | undefined,
    request: Req,
    clientIp: (request: Req) => string | undefined,
  ) {
    this.#request = request;
    this.#clientIp = clientIp;
  }

  get clientIp(): string | undefined {
    return this.#clientIp(this.#request);
  }
}

function queryDenial(parameter: string): QueryCredentialDenial {
  return {
    ok: false,
    code: 'credentials_in_query',
    status: 400,
    parameter,
    headers: {},
    error: { error: 'credentials_in_query', error_description: 'Credentials must be sent in the Authorization header, never in the URL.' },
  };
}

function checkAuthenticator(owner: string, authenticator: Authenticator): void {
  if (typeof authenticator !== 'object' || authenticator === null || typeof authenticator.authenticate !== 'function') {
    throw new TypeError(`${owner}: the first argument must be an authenticator from createAuthenticator()`);
  }
}

/**
 * Validates the options of a framework's `protectedResourceMetadata(authenticator, options)` once (TypeError on
 * misuse): the document it serves, and the paths it serves it at.
 */
export function resolveMetadata(middleware: string, authenticator: Authenticator, options: ProtectedResourceOptions): ProtectedResource {
  const owner = `${middleware} protectedResourceMetadata`;
  checkAuthenticator(owner, authenticator);
  return resolveProtectedResource(owner, options, authenticator.issuer);
}

/** The body and content type of a refusal: the vague error shape, never the denial code. */
export function denialBody(denial: RequestDenial): string {
  return JSON.stringify(denial.error);
}

/**
 * Validates `requireAuth` options once (TypeError on misuse) and returns the per-request check. `clientIp` is
 * the framework's own source of the client's address, used unless the options name another.
 */
export function createGuard<Req>(
  middleware: string,
  authenticator: Authenticator,
  options: object | undefined,
  allowed: readonly string[],
  tenantSource: 'tenantParam' | 'tenant',
  clientIp: (request: Req) => string | undefined,
): Guard<Req> & { readonly tenantFunction: ((req: never) => string | undefined) | undefined } {
  const fail = (message: string): never => {
    throw new TypeError(`${middleware} requireAuth: ${message}`);
  };
  checkAuthenticator(`${middleware} requireAuth`, authenticator);
  if (options !== undefined && (typeof options !== 'object' || options === null)) fail('options must be an object');
  const given = (options ?? {}) as Record<string, unknown>;
  for (const name of Object.keys(given)) {
    if (!allowed.includes(name)) fail(`unknown option ${JSON.stringify(name)} (allowed: ${allowed.join(', ')})`);
  }
  let scopes: readonly string[] | undefined;
  const givenScopes: unknown = given.scopes;
  if (givenScopes !== undefined) {
    if (!Array.isArray(givenScopes) || !givenScopes.every((s) => typeof s === 'string' && /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s))) {
      fail('scopes must be an array of scope names (printable ASCII, no spaces, quotes or backslashes)');
    }
    const list = givenScopes as string[];
    scopes = list.length > 0 ? Object.freeze([...list]) : undefined;
  }
  let tenantParam: string | undefined;
  let tenantFunction: ((req: never) => string | undefined) | undefined;
  const tenant = given[tenantSource];
  if (tenant !== undefined) {
    if (tenantSource === 'tenantParam') {
      if (typeof tenant !== 'string' || tenant.length === 0) fail('tenantParam must be the name of a route parameter');
      tenantParam = tenant as string;
    } else {
      if (typeof tenant !== 'function') fail('tenant must be a function (req) => string | undefined');
      tenantFunction = tenant as (req: never) => string | undefined;
    }
  }
  const givenClientIp = given.clientIp;
  if (givenClientIp !== undefined && typeof givenClientIp !== 'function') fail('clientIp must be a function (request) => string | undefined');
  const clientIpOf = (givenClientIp as ((request: Req) => string | undefined) | undefined) ?? clientIp;
  const protectedResource =
    given.protectedResource === undefined
      ? undefined
      : resolveProtectedResource(`${middleware} requireAuth`, given.protectedResource, authenticator.issuer, scopes);
  const audience = protectedResource?.resource;
  const challenge = protectedResource && ((result: GuardResult): GuardResult => (result.ok ? result : withResourceChallenge(result, protectedResource, scopes)));
  // An authenticator written by hand (say, a test double) may only have `authenticate`.
  const authenticateMaybeSync: Authenticator['authenticateMaybeSync'] =
    typeof authenticator.authenticateMaybeSync === 'function'
      ? (authorization, o) => authenticator.authenticateMaybeSync(authorization, o)
      : (authorization, o) => authenticator.authenticate(authorization, o);
  const hasTenant = tenantParam !== undefined || tenantFunction !== undefined;
  const what = tenantParam !== undefined ? `route parameter ${JSON.stringify(tenantParam)}` : 'tenant function';

  return {
    tenantParam,
    tenantFunction,
    // Not async: a cached answer is returned as it is, and the authenticator's promise without another around it.
    check(url, authorization, readTenant, peerCertificate, request) {
      const parameter = credentialInQuery(url);
      if (parameter !== undefined) return queryDenial(parameter);
      let tenantId: string | undefined;
      if (hasTenant) {
        tenantId = readTenant();
        // A route that names a tenant but yields none is misconfigured: fail closed and loudly.
        if (typeof tenantId !== 'string' || tenantId.length === 0) {
          throw new Error(`${middleware} requireAuth: the ${what} gave no tenant id for this request`);
        }
      }
      const result = authenticateMaybeSync(authorization, new RequestOptions(scopes, tenantId, peerCertificate, audience, request, clientIpOf));
      if (challenge === undefined) return result;
      return result instanceof Promise ? result.then(challenge) : challenge(result);
    },
  };
}

export type { Auth, ProtectedResource, ProtectedResourceOptions };
