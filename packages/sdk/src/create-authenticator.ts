import { base64url, errors, jwtVerify, type JWTPayload } from 'jose';
import { API_KEY_START, parseApiKey, isApiKey } from './api-key-format.js';
import { ApiKeyVerifier, type CachedKey, type KeyVerification } from './api-key-verifier.js';
import { forwardableClientIp } from './client-ip.js';
import {
  denials,
  NO_HEADERS,
  rateLimitHeaders,
  type Auth,
  type AuthDenial,
  type AuthResult,
  type AuthSuccess,
} from './authentication-result.js';
import { JwksSource } from './jwks-source.js';
import { startRevocationStream, type RevocationStream, type RevocationStreamState } from './revocation-stream.js';
import { sha256Hex } from './sha256-hex.js';
import { TokenDenylist } from './token-denylist.js';
import { decodeJoseSegment } from './protocol/decode-jose-segment.js';
import { checkTimeClaims, CLOCK_SKEW_SECONDS } from './protocol/time-claims.js';
import { UnavailableError } from './unavailable-error.js';
import { UsageReporter } from './usage-reporter.js';
import type { UsageTallyStats } from './usage-tally.js';

/** Asymmetric JWS algorithms the authenticator can be told to accept. Never `none`, never HMAC. */
export const ALLOWED_ALGORITHMS = ['EdDSA', 'Ed25519', 'ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const;
export const DEFAULT_ALGORITHMS = ['EdDSA', 'ES256', 'RS256'];

export interface AuthenticatorOptions {
  /** Gatehouse's issuer URL, exactly as in the tokens' `iss` (e.g. https://auth.example.com). */
  issuer: string;
  /** The audience(s) this API accepts in `aud` (its RFC 8707 resource indicator). */
  audience: string | string[];
  /** Where to reach Gatehouse's API (verify endpoint, revocation stream). Default: issuer. */
  gatehouseUrl?: string;
  /** An admin key holding keys:verify. Without it API keys are not accepted (invalid_token). */
  verifierKey?: string;
  /** Accepted JWS algorithms; default EdDSA, ES256, RS256. */
  algorithms?: string[];
  /** Clock skew tolerated in exp, nbf and iat, seconds; default 60 (CLOCK_SKEW_SECONDS, the server's too). */
  clockToleranceSeconds?: number;
  /** How long a valid API key stays cached, seconds; default 10; 0 disables the cache. */
  cacheTtlSeconds?: number;
  /** Subscribe to the revocation stream; default true when verifierKey is given. */
  revocationStream?: boolean;
  /** The fetch to use; default globalThis.fetch. */
  fetch?: typeof fetch;
  /** The realm of WWW-Authenticate challenges; default the (first) audience. */
  realm?: string;
  /**
   * Seconds between reports of the API keys answered from the cache to Gatehouse (`POST /v1/usage/reports`,
   * with the verifierKey), so that their usage and last-used times count them; default 5; 0 or false: no
   * reports. A last report is sent at close().
   */
  usageReportSeconds?: number | false;
  /** Timeout for each request to Gatehouse (verify, usage reports, metadata, JWKS), ms; default 5000. */
  timeoutMs?: number;
  /** Background and infrastructure failures (stream disconnects, Gatehouse unreachable), for your logs. */
  onError?: (error: Error) => void;
  /** The clock, epoch ms; default Date.now. For tests. */
  now?: () => number;
}

/**
 * The client certificate of the request's TLS connection: its DER bytes, or anything with them in `raw`
 * (node:crypto's X509Certificate, or what `tlsSocket.getPeerCertificate()` returns).
 */
export type PeerCertificate = Uint8Array | { raw: Uint8Array };

export interface AuthenticateOptions {
  /** Scopes the credential must all hold. */
  scopes?: readonly string[];
  /** The tenant the resource belongs to: credentials of any other tenant (or of none) are denied. */
  tenantId?: string;
  /**
   * The client certificate of the connection (mTLS), or a function giving it (called only for a certificate-bound
   * token). A token bound to a certificate (RFC 8705 `cnf.x5t#S256`) is denied (`certificate_mismatch`) without
   * the same certificate. The middleware passes the TLS socket's peer certificate for you.
   */
  peerCertificate?: PeerCertificate | (() => PeerCertificate | undefined) | undefined;
  /**
   * The address of the client that presented the credential, or a function giving it (called only when an API
   * key is verified with Gatehouse, never for a cached key or a JWT). Sent as `clientIp`, so Gatehouse counts
   * failed verifications against that client rather than against this server, and refuses a blocked client
   * (`ip_blocked`, 429). Anything but a well-formed IPv4 or IPv6 address is not sent. The middleware passes the
   * request's address for you.
   */
  clientIp?: string | (() => string | undefined) | undefined;
  /**
   * The resource this request is for (RFC 8707), in place of the authenticator's `audience`: an access token
   * whose `aud` does not contain it is denied (`invalid_token`). API keys have no audience and are unaffected.
   * The middleware passes its `protectedResource.resource`.
   */
  audience?: string;
}

export interface AuthenticatorStatus {
  revocationStream: RevocationStreamState | 'off';
  /** Connections of the revocation stream that reached `ready`. */
  streamConnections: number;
  cachedKeys: number;
  deniedTokens: number;
  /** The reports of cache hits to Gatehouse; undefined when off (no verifierKey, or usageReportSeconds 0). */
  usageReports?: UsageTallyStats;
}

export interface Authenticator {
  /** Never throws for bad credentials: resolves to a success or a denial (see DENIAL_CODES). */
  authenticate(authorization: string | string[] | null | undefined, options?: AuthenticateOptions): Promise<AuthResult>;
  /** The issuer the authenticator trusts (its `issuer` option): the default authorization server of metadata. */
  readonly issuer?: string;
  /**
   * The same answer as `authenticate`, given synchronously when it needs no I/O (a cached API key, a missing or
   * malformed header) and as a promise otherwise. For middleware on the hot path, where a promise per request
   * is a measurable share of the cost; everyone else should use `authenticate`.
   */
  authenticateMaybeSync(authorization: string | string[] | null | undefined, options?: AuthenticateOptions): AuthResult | Promise<AuthResult>;
  status(): AuthenticatorStatus;
  /**
   * Stops the revocation stream, empties the caches and sends the last usage report; the promise resolves when
   * that report is done (it never rejects: a failure goes to onError).
   */
  close(): Promise<void>;
}

const MAX_AUTHORIZATION_LENGTH = 8192;
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const NO_SCOPES: readonly string[] = Object.freeze([]);
const NO_OPTIONS: AuthenticateOptions = Object.freeze({});

function fail(message: string): never {
  throw new TypeError(`createAuthenticator: ${message}`);
}

function httpUrl(value: unknown, name: string): string {
  if (typeof value !== 'string') fail(`${name} must be a URL string`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    fail(`${name} must be an absolute URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(`${name} must be an http(s) URL`);
  if (url.search || url.hash) fail(`${name} must not have a query or fragment`);
  return value;
}

function seconds(value: unknown, name: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max) fail(`${name} must be a number from 0 to ${max}`);
  return value;
}

interface Settings {
  issuer: string;
  audience: string | string[];
  gatehouseUrl: string;
  verifierKey: string | undefined;
  algorithms: string[];
  clockToleranceSeconds: number;
  cacheTtlSeconds: number;
  usageReportSeconds: number;
  revocationStream: boolean;
  fetch: typeof fetch;
  realm: string;
  timeoutMs: number;
  onError: (error: Error) => void;
  now: () => number;
}

function validate(options: AuthenticatorOptions): Settings {
  if (typeof options !== 'object' || options === null) fail('options must be an object');
  const issuer = httpUrl(options.issuer, 'issuer');
  const { audience } = options;
  const audiences = Array.isArray(audience) ? audience : [audience];
  if (audiences.length === 0 || !audiences.every((a) => typeof a === 'string' && a.length > 0)) {
    fail('audience must be a non-empty string or array of non-empty strings');
  }
  const gatehouseUrl = options.gatehouseUrl === undefined ? issuer : httpUrl(options.gatehouseUrl, 'gatehouseUrl');
  const { verifierKey } = options;
  if (verifierKey !== undefined && (typeof verifierKey !== 'string' || !isApiKey(verifierKey))) {
    fail('verifierKey must be a Gatehouse API key (<prefix>_live_... or <prefix>_test_..., e.g. sk_live_...)');
  }
  const algorithms = options.algorithms ?? DEFAULT_ALGORITHMS;
  if (!Array.isArray(algorithms) || algorithms.length === 0) fail('algorithms must be a non-empty array');
  for (const alg of algorithms) {
    if (!(ALLOWED_ALGORITHMS as readonly unknown[]).includes(alg)) {
      fail(`algorithm ${JSON.stringify(alg)} is not allowed (asymmetric algorithms only: ${ALLOWED_ALGORITHMS.join(', ')})`);
    }
  }
  const revocationStream = options.revocationStream ?? verifierKey !== undefined;
  if (typeof revocationStream !== 'boolean') fail('revocationStream must be a boolean');
  if (revocationStream && verifierKey === undefined) fail('revocationStream needs a verifierKey (it is authenticated with keys:verify)');
  const fetchImpl = options.fetch ?? globalThis.fetch?.bind(globalThis);
  if (typeof fetchImpl !== 'function') fail('fetch must be a function (and no global fetch exists)');
  const realm = options.realm ?? audiences[0]!;
  if (typeof realm !== 'string' || realm.length === 0 || /[\u0000-\u001f\u007f]/.test(realm)) fail('realm must be a non-empty string without control characters');
  const timeoutMs = options.timeoutMs ?? 5000;
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || !Number.isFinite(timeoutMs)) fail('timeoutMs must be a positive number');
  const usageReport = options.usageReportSeconds;
  if (usageReport !== undefined && usageReport !== false && (typeof usageReport !== 'number' || !Number.isFinite(usageReport) || usageReport < 0 || usageReport > 3600)) {
    fail('usageReportSeconds must be false or a number from 0 to 3600');
  }
  for (const name of ['onError', 'now'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') fail(`${name} must be a function`);
  }
  return {
    issuer,
    audience: Array.isArray(audience) ? [...audience] : audience,
    gatehouseUrl: gatehouseUrl.replace(/\/+$/, ''),
    verifierKey,
    algorithms: [...algorithms],
    clockToleranceSeconds: seconds(options.clockToleranceSeconds, 'clockToleranceSeconds', CLOCK_SKEW_SECONDS, 300),
    cacheTtlSeconds: seconds(options.cacheTtlSeconds, 'cacheTtlSeconds', 10, 86_400),
    usageReportSeconds: usageReport === false ? 0 : usageReport ?? 5,
    revocationStream,
    fetch: fetchImpl,
    realm,
    timeoutMs,
    onError: options.onError ?? (() => {}),
    now: options.now ?? Date.now,
  };
}

/**
 * The address to send as `clientIp`: the option's (or its function's) value when it is an IP address.
 * Forwarding the address helps Gatehouse's detection; it never makes a verification fail: a function that
 * throws is reported to onError and the key is verified without an address.
 */
function clientIpOf(required: AuthenticateOptions, onError: (error: Error) => void): string | undefined {
  let value: unknown;
  try {
    // Read here, not before: the middleware's options read the request's address only when it is needed.
    value = required.clientIp;
    if (typeof value === 'function') value = value();
  } catch (error) {
    onError(new Error(`clientIp: reading the client's address threw: ${(error as Error)?.message ?? String(error)}`, { cause: error }));
    return undefined;
  }
  return forwardableClientIp(value);
}

/** RFC 8705 x5t#S256 (base64url SHA-256 of the DER certificate), or undefined without a certificate. */
async function certificateThumbprint(given: AuthenticateOptions['peerCertificate']): Promise<string | undefined> {
  const certificate = typeof given === 'function' ? given() : given;
  const der = certificate instanceof Uint8Array ? certificate : certificate?.raw;
  if (!(der instanceof Uint8Array) || der.length === 0) return undefined;
  return base64url.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', der as Uint8Array<ArrayBuffer>)));
}

/**
 * Creates the authenticator of an API server: API keys verified through Gatehouse (cached, single flight),
 * JWT access tokens verified locally against the issuer's JWKS, revocations pushed by the revocation stream.
 * Throws a TypeError on bad options; afterwards never throws for bad credentials.
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const settings = validate(options);
  const { now, onError } = settings;
  const deny = denials(settings.realm);
  const toleranceMs = settings.clockToleranceSeconds * 1000;
  const denylist = new TokenDenylist(now, toleranceMs);
  const keys = settings.verifierKey
    ? new ApiKeyVerifier({
        verifyUrl: `${settings.gatehouseUrl}/v1/keys/verify`,
        verifierKey: settings.verifierKey,
        fetch: settings.fetch,
        cacheTtlMs: settings.cacheTtlSeconds * 1000,
        now,
        timeoutMs: settings.timeoutMs,
      })
    : undefined;
  // Gatehouse counts each verification it answers; the ones answered here without asking it are reported.
  const usage =
    settings.verifierKey && settings.usageReportSeconds > 0
      ? new UsageReporter({
          url: `${settings.gatehouseUrl}/v1/usage/reports`,
          verifierKey: settings.verifierKey,
          fetch: settings.fetch,
          intervalSeconds: settings.usageReportSeconds,
          timeoutMs: settings.timeoutMs,
          onError,
        })
      : undefined;
  const jwks = new JwksSource({ issuer: settings.issuer, fetch: settings.fetch, now, timeoutMs: settings.timeoutMs });
  const stream: RevocationStream | undefined = settings.revocationStream
    ? startRevocationStream({
        url: `${settings.gatehouseUrl}/v1/revocations/stream`,
        verifierKey: settings.verifierKey!,
        fetch: settings.fetch,
        onError,
        handlers: {
          onReady(deniedTokens) {
            // Whatever was revoked while disconnected is unknown: verify every key afresh.
            keys?.clear();
            for (const token of deniedTokens) denylist.add(token.jti, token.exp);
          },
          onKey: (hash) => keys?.drop(hash),
          onToken: (token) => denylist.add(token.jti, token.exp),
        },
      })
    : undefined;

  const unavailable = (error: unknown): AuthDenial => {
    onError(error instanceof Error ? error : new Error(String(error)));
    return deny.unavailable();
  };

  /** Scope and tenant checks, shared by both credential kinds. */
  const admit = (
    success: AuthSuccess,
    scopes: readonly string[],
    tenantId: string | null,
    required: AuthenticateOptions,
  ): AuthResult => {
    if (required.tenantId !== undefined && tenantId !== required.tenantId) return deny.forbidden('wrong_tenant');
    const needed = required.scopes;
    if (needed !== undefined) {
      for (let i = 0; i < needed.length; i++) {
        if (!scopes.includes(needed[i]!)) return deny.forbidden('insufficient_scope', needed);
      }
    }
    return success;
  };

  // ---- API keys ----

  const successByEntry = new WeakMap<CachedKey, AuthSuccess>();

  const keySuccess = (v: KeyVerification): AuthSuccess => {
    const auth: Auth = {
      kind: 'api_key',
      subject: v.keyId!,
      tenantId: v.tenantId,
      scopes: Object.freeze([...v.scopes]),
      keyId: v.keyId!,
      ...(v.rateLimit ? { rateLimit: Object.freeze({ ...v.rateLimit }) } : {}),
    };
    return Object.freeze({
      ok: true,
      auth: Object.freeze(auth),
      headers: v.rateLimit ? Object.freeze(rateLimitHeaders(v.rateLimit)) : NO_HEADERS,
    });
  };

  /** `answeredHere`: Gatehouse did not see this verification (a cache hit), so a success is counted for it. */
  const fromCache = (entry: CachedKey, required: AuthenticateOptions, answeredHere: boolean): AuthResult => {
    let success = successByEntry.get(entry);
    if (success === undefined) {
      success = keySuccess(entry.verification);
      successByEntry.set(entry, success);
    }
    const result = admit(success, success.auth.scopes, success.auth.tenantId, required);
    if (answeredHere && usage !== undefined && result.ok) usage.count(success.auth.keyId!, now());
    return result;
  };

  const verifyKey = async (key: string, hash: string, required: AuthenticateOptions): Promise<AuthResult> => {
    if (!keys || !parseApiKey(key).ok) return deny.unauthorized('invalid_token');
    let outcome;
    try {
      outcome = await keys.verify(key, hash, required.scopes ?? NO_SCOPES, clientIpOf(required, onError));
    } catch (error) {
      return unavailable(error);
    }
    const v = outcome.verification;
    switch (v.code) {
      case 'VALID': {
        if (outcome.cached) return fromCache(outcome.cached, required, false);
        const result = admit(keySuccess(v), v.scopes, v.tenantId, required);
        // Another caller's request answered this one too (single flight): Gatehouse counted only that one.
        if (outcome.shared && usage !== undefined && result.ok) usage.count(v.keyId!, now());
        return result;
      }
      case 'INSUFFICIENT_SCOPE':
        if (required.tenantId !== undefined && v.tenantId !== required.tenantId) return deny.forbidden('wrong_tenant');
        return deny.forbidden('insufficient_scope', required.scopes);
      case 'IP_BLOCKED':
        return deny.ipBlocked(v.retryAfterSeconds);
      case 'RATE_LIMITED':
        if (v.rateLimit) return deny.rateLimited(v.rateLimit, now() / 1000);
        return unavailable(new UnavailableError('key verification: RATE_LIMITED without rateLimit'));
      case 'REVOKED':
        return deny.unauthorized('revoked_token');
      case 'EXPIRED':
        return deny.unauthorized('expired_token');
      default:
        return deny.unauthorized('invalid_token');
    }
  };

  // ---- JWT access tokens ----

  const verifyJwt = async (token: string, required: AuthenticateOptions): Promise<AuthResult> => {
    // The one strict decoding rule the server applies too (valid UTF-8, a JSON object), before jose reads the
    // token: jose decodes invalid UTF-8 into U+FFFD, which RFC 7519 section 7.2 forbids accepting.
    const dot = token.indexOf('.');
    const second = token.indexOf('.', dot + 1);
    if (decodeJoseSegment(token.slice(0, dot)) === undefined || decodeJoseSegment(token.slice(dot + 1, second)) === undefined) {
      return deny.unauthorized('invalid_token');
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwks.getKey, {
        issuer: settings.issuer,
        audience: required.audience ?? settings.audience,
        algorithms: settings.algorithms,
        typ: 'at+jwt',
        clockTolerance: settings.clockToleranceSeconds,
        requiredClaims: ['exp', 'iat', 'sub', 'jti', 'client_id'],
        currentDate: new Date(now()),
      }));
    } catch (error) {
      if (error instanceof errors.JWTExpired) return deny.unauthorized('expired_token');
      if (error instanceof UnavailableError) return unavailable(error);
      if (error instanceof errors.JOSEError) return deny.unauthorized('invalid_token');
      return unavailable(error);
    }
    // exp and nbf were checked by jose with the same tolerance; this adds iat (not in the future, not after exp).
    const time = checkTimeClaims(payload as Record<string, unknown>, now(), settings.clockToleranceSeconds);
    if (time !== 'valid') return deny.unauthorized(time === 'expired' ? 'expired_token' : 'invalid_token');
    if (denylist.has(payload.jti!)) return deny.unauthorized('revoked_token');
    const cnf = (payload as { cnf?: unknown }).cnf;
    if (cnf !== undefined) {
      const bound = typeof cnf === 'object' && cnf !== null ? (cnf as Record<string, unknown>)['x5t#S256'] : undefined;
      if (typeof bound !== 'string' || (await certificateThumbprint(required.peerCertificate)) !== bound) {
        return deny.unauthorized('certificate_mismatch');
      }
    }
    const { scope, tenant_id: tenant, client_id: clientId, sub } = payload as JWTPayload & Record<string, unknown>;
    if (typeof sub !== 'string' || typeof clientId !== 'string' || (scope !== undefined && typeof scope !== 'string') ||
        (tenant !== undefined && tenant !== null && typeof tenant !== 'string')) {
      return deny.unauthorized('invalid_token');
    }
    const scopes = Object.freeze(scope ? scope.split(' ').filter(Boolean) : []);
    const tenantId = (tenant as string | null | undefined) ?? null;
    const auth: Auth = Object.freeze({ kind: 'jwt', subject: sub, tenantId, scopes, clientId, claims: Object.freeze(payload) });
    return admit({ ok: true, auth, headers: NO_HEADERS }, scopes, tenantId, required);
  };

  // ---- dispatch ----

  const authenticateMaybeSync = (
    authorization: string | string[] | null | undefined,
    required: AuthenticateOptions = NO_OPTIONS,
  ): AuthResult | Promise<AuthResult> => {
    if (authorization === undefined || authorization === null || authorization === '') return deny.unauthorized('missing_credentials');
    if (typeof authorization !== 'string' || authorization.length > MAX_AUTHORIZATION_LENGTH) return deny.unauthorized('malformed_authorization');
    const match = BEARER.exec(authorization);
    if (match === null) return deny.unauthorized('malformed_authorization');
    const token = match[1]!;
    if (API_KEY_START.test(token)) {
      if (!keys) return deny.unauthorized('invalid_token');
      const hash = sha256Hex(token);
      if (typeof hash === 'string') {
        const entry = keys.cached(hash, now());
        return entry !== undefined ? fromCache(entry, required, true) : verifyKey(token, hash, required);
      }
      return hash.then((h) => {
        const entry = keys.cached(h, now());
        return entry !== undefined ? fromCache(entry, required, true) : verifyKey(token, h, required);
      });
    }
    if (JWT_SHAPE.test(token)) return verifyJwt(token, required);
    return deny.unauthorized('invalid_token');
  };

  const authenticate = (authorization: string | string[] | null | undefined, required?: AuthenticateOptions): Promise<AuthResult> => {
    const result = authenticateMaybeSync(authorization, required);
    return result instanceof Promise ? result : Promise.resolve(result);
  };

  return {
    issuer: settings.issuer,
    authenticate,
    authenticateMaybeSync,
    status: () => ({
      revocationStream: stream ? stream.state : 'off',
      streamConnections: stream?.connections ?? 0,
      cachedKeys: keys?.size ?? 0,
      deniedTokens: denylist.size,
      ...(usage ? { usageReports: usage.stats() } : {}),
    }),
    close() {
      stream?.close();
      keys?.clear();
      return usage ? usage.close() : Promise.resolve();
    },
  };
}
