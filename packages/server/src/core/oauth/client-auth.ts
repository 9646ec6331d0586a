import { isUtf8 } from 'node:buffer';
import type { X509Certificate } from 'node:crypto';
import { certificateTenant } from '../ca/certificate-identity.js';
import { certificateThumbprint } from '../ca/certificate-thumbprint.js';
import type { Clock } from '../clock.js';
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import { registeredCertificates, type ClientAuthenticationMethod } from './client-metadata.js';
import { hashClientSecret, sameHash } from './client-secret.js';
import type { LookedUpClient } from './client-service.js';
import { certificateMatchesClient, subjectAltNames } from './tls-client-auth-match.js';

export type ClientAuthMethod = ClientAuthenticationMethod;

/** The verified client certificate of the request (TLS connection or trusted proxy), if any. */
export interface ClientCertificate {
  certificate: X509Certificate;
  /** RFC 8705 x5t#S256. */
  thumbprint: string;
  /** Issued by the built-in CA (required by tls_client_auth); otherwise self-signed. */
  issued: boolean;
}

/**
 * A denial is data. `reason` is for the audit log only; the token endpoint answers every invalid_client alike.
 * `clientId` is the id the request claimed (for the audit log), when it had one.
 */
export type ClientAuthResult =
  | { ok: true; client: LookedUpClient; method: ClientAuthMethod }
  | {
      ok: false;
      error: 'invalid_client' | 'invalid_request';
      reason: string;
      clientId?: string;
      /**
       * Set when the client exists but authenticated by another method than its registered one: the method it
       * used and the one it must use. Not secret (it is the client's public metadata), and the commonest misconfiguration (an
       * OAuth library sending the secret in the body by default), so the client is told.
       */
      wrongMethod?: { used: ClientAuthMethod; expected: ClientAuthMethod };
    };

const METHOD_USE: Record<ClientAuthMethod, string> = {
  client_secret_basic: 'client_secret_basic: its client_id and client_secret in an HTTP Basic Authorization header',
  client_secret_post: 'client_secret_post: client_id and client_secret in the request body',
  none: 'none (a public client): client_id in the request body and no secret',
  tls_client_auth: 'tls_client_auth: client_id in the request body and its client certificate, issued by the Gatehouse CA, on the TLS connection',
  self_signed_tls_client_auth: 'self_signed_tls_client_auth: client_id in the request body and its registered self-signed certificate on the TLS connection',
  private_key_jwt:
    'private_key_jwt (RFC 7523): client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer and a client_assertion JWT signed with a key of its jwks',
};

/** RFC 7523 section 2.2. */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** The algorithms a client assertion may be signed with (asymmetric only: there is no shared secret). */
export const CLIENT_ASSERTION_ALGS = ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'] as const;
/** A client assertion may not be valid for longer than this (its jti is remembered that long). */
export const MAX_CLIENT_ASSERTION_LIFETIME_SECONDS = 300;
const MAX_ASSERTION_LENGTH = 8192;

/** The error_description of an authentication by the wrong method: how this client must authenticate. */
export function wrongMethodDescription(used: ClientAuthMethod, expected: ClientAuthMethod): string {
  return `The client authenticated with ${used}; it is registered to use ${METHOD_USE[expected]}.`;
}

export interface ClientLookup {
  /** The client by id from the in-process cache (loading on a miss), deleted ones included. Throws on storage failure. */
  lookup(clientId: string): Promise<LookedUpClient | undefined>;
}

export interface ClientAuthRequest {
  /** The Authorization header, as received. */
  authorization?: string | undefined;
  /** The decoded application/x-www-form-urlencoded body of the token request. */
  body: Record<string, unknown>;
  certificate?: ClientCertificate | undefined;
}

/** RFC 7523 client assertions (private_key_jwt). */
export interface ClientAssertionDeps {
  /** What the assertion's `aud` may be: the issuer and the token endpoint's URL(s). */
  audiences(): readonly string[];
  /** Records a jti until its expiry; false when it was seen already (a replay). */
  firstUse(clientId: string, jti: string, expiresAt: number): boolean;
}

export interface ClientAuthDeps {
  clients: ClientLookup;
  clock: Clock;
  /** Absent: client assertions are refused. */
  assertions?: ClientAssertionDeps | undefined;
}

const MAX_CREDENTIAL_LENGTH = 1024;
const BASIC = /^Basic[ ]+([A-Za-z0-9+/]+={0,2})[ ]*$/i;

type ClientAuthDenial = Extract<ClientAuthResult, { ok: false }>;

const deny = (error: 'invalid_client' | 'invalid_request', reason: string, clientId?: string): ClientAuthDenial =>
  clientId === undefined ? { ok: false, error, reason } : { ok: false, error, reason, clientId: clientId.slice(0, 128) };

/**
 * RFC 6749 Appendix B: application/x-www-form-urlencoded decoding of one value (`+` is a space, then
 * percent-decoding as UTF-8). Undefined when the encoding is malformed.
 */
function formDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

type BasicCredentials = { ok: true; clientId: string; secret: string } | { ok: false; reason: string };

/** RFC 6749 2.3.1 / RFC 7617: base64 of form-urlencoded id, a colon, form-urlencoded secret. */
function parseBasic(header: string): BasicCredentials {
  const encoded = BASIC.exec(header)?.[1];
  if (!encoded || encoded.length > 4 * MAX_CREDENTIAL_LENGTH) return { ok: false, reason: 'malformed_basic_credentials' };
  const raw = Buffer.from(encoded, 'base64');
  if (!isUtf8(raw)) return { ok: false, reason: 'malformed_basic_credentials' };
  const decoded = raw.toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { ok: false, reason: 'malformed_basic_credentials' };
  const clientId = formDecode(decoded.slice(0, colon));
  const secret = formDecode(decoded.slice(colon + 1));
  if (clientId === undefined || secret === undefined || clientId.length === 0) {
    return { ok: false, reason: 'malformed_basic_credentials' };
  }
  return { ok: true, clientId, secret };
}

/** A body parameter: absent, or exactly one string (RFC 6749 3.2: parameters MUST NOT repeat). */
function bodyParam(body: Record<string, unknown>, name: string): { ok: true; value: string | undefined } | { ok: false } {
  const value = Object.hasOwn(body, name) ? body[name] : undefined;
  if (value === undefined) return { ok: true, value: undefined };
  if (typeof value !== 'string' || value.length > MAX_CREDENTIAL_LENGTH) return { ok: false };
  return { ok: true, value };
}

/**
 * Authenticates the client of a token-endpoint request (RFC 6749 2.3 and 3.2.1, RFC 8705 section 2): by HTTP
 * Basic, by client_id and client_secret in the body, or by client_id alone (public clients, and mTLS clients,
 * whose proof is the TLS client certificate). Exactly one method per request, and it must be the one the client
 * registered. Unknown, deleted and wrongly authenticated clients are all invalid_client. Storage failure throws;
 * it is never reported as invalid_client.
 */
export async function authenticateClient(request: ClientAuthRequest, deps: ClientAuthDeps): Promise<ClientAuthResult> {
  const idParam = bodyParam(request.body, 'client_id');
  const secretParam = bodyParam(request.body, 'client_secret');
  if (!idParam.ok || !secretParam.ok) return deny('invalid_request', 'repeated_or_invalid_client_parameter');
  const bodyId = idParam.value;
  const bodySecret = secretParam.value;
  const assertionType = bodyParam(request.body, 'client_assertion_type');
  const assertionValue = Object.hasOwn(request.body, 'client_assertion') ? request.body.client_assertion : undefined;
  if (!assertionType.ok || (assertionValue !== undefined && (typeof assertionValue !== 'string' || assertionValue.length > MAX_ASSERTION_LENGTH))) {
    return deny('invalid_request', 'repeated_or_invalid_client_parameter');
  }

  let method: ClientAuthMethod;
  let clientId: string;
  let secret: string | undefined;
  let assertion: string | undefined;
  const header = request.authorization;
  if (assertionType.value !== undefined || assertionValue !== undefined) {
    // RFC 7523 section 2.2: client_assertion_type and client_assertion, client_id optional.
    if ((header !== undefined && header !== '') || bodySecret !== undefined) return deny('invalid_request', 'multiple_client_auth_methods', bodyId);
    if (assertionType.value !== JWT_BEARER_ASSERTION_TYPE || typeof assertionValue !== 'string') {
      return deny('invalid_client', 'unsupported_client_assertion', bodyId);
    }
    let subject: unknown;
    try {
      subject = decodeJwt(assertionValue).sub;
    } catch {
      return deny('invalid_client', 'malformed_client_assertion', bodyId);
    }
    if (typeof subject !== 'string' || (bodyId !== undefined && bodyId !== subject)) return deny('invalid_client', 'client_assertion_subject_mismatch', bodyId);
    method = 'private_key_jwt';
    clientId = subject;
    assertion = assertionValue;
  } else if (header !== undefined && header !== '') {
    if (!/^Basic /i.test(header)) return deny('invalid_client', 'unsupported_authorization_scheme', bodyId);
    if (bodySecret !== undefined) return deny('invalid_request', 'multiple_client_auth_methods', bodyId);
    const basic = parseBasic(header);
    if (!basic.ok) return deny('invalid_client', basic.reason, bodyId);
    // A client_id in the body as well is tolerated when it names the same client.
    if (bodyId !== undefined && bodyId !== basic.clientId) return deny('invalid_request', 'client_id_mismatch', basic.clientId);
    method = 'client_secret_basic';
    clientId = basic.clientId;
    secret = basic.secret;
  } else if (bodySecret !== undefined) {
    if (bodyId === undefined) return deny('invalid_request', 'client_secret_without_client_id');
    method = 'client_secret_post';
    clientId = bodyId;
    secret = bodySecret;
  } else if (bodyId !== undefined) {
    method = 'none';
    clientId = bodyId;
  } else {
    return deny('invalid_client', 'no_client_authentication');
  }

  const client = await deps.clients.lookup(clientId);
  if (!client) return deny('invalid_client', 'unknown_client', clientId);
  if (client.deletedAt !== null) return deny('invalid_client', 'deleted_client', clientId);
  if (method === 'none' && client.tokenEndpointAuthMethod !== 'none') {
    // client_id alone: a public client, or an mTLS one whose certificate is the credential.
    const registered = client.tokenEndpointAuthMethod;
    if (registered !== 'tls_client_auth' && registered !== 'self_signed_tls_client_auth') {
      return { ...deny('invalid_client', 'auth_method_mismatch:none', clientId), wrongMethod: { used: 'none', expected: registered } };
    }
    const problem = certificateProblem(client, request.certificate);
    return problem ? deny('invalid_client', problem, clientId) : { ok: true, client, method: registered };
  }
  if (client.tokenEndpointAuthMethod !== method) {
    return {
      ...deny('invalid_client', `auth_method_mismatch:${method}`, clientId),
      wrongMethod: { used: method, expected: client.tokenEndpointAuthMethod },
    };
  }
  if (method === 'none') return { ok: true, client, method };
  if (method === 'private_key_jwt') {
    const problem = await assertionProblem(client, assertion!, deps);
    return problem ? deny('invalid_client', problem, clientId) : { ok: true, client, method };
  }
  const check = checkSecret(client, secret!, deps.clock.now());
  if (check !== 'ok') return deny('invalid_client', check, clientId);
  return { ok: true, client, method };
}

/**
 * Why a client assertion does not authenticate this client, or null when it does (RFC 7523 section 3): signed by
 * a key of the client's jwks with an asymmetric algorithm, iss and sub the client_id, aud the issuer or the token
 * endpoint, unexpired with exp at most MAX_CLIENT_ASSERTION_LIFETIME_SECONDS ahead, and a jti never seen before.
 */
async function assertionProblem(client: LookedUpClient, assertion: string, deps: ClientAuthDeps): Promise<string | null> {
  if (!deps.assertions) return 'client_assertions_unsupported';
  if (!client.jwks) return 'client_has_no_jwks';
  const now = deps.clock.now();
  let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
  try {
    ({ payload } = await jwtVerify(assertion, createLocalJWKSet(client.jwks as unknown as JSONWebKeySet), {
      issuer: client.id,
      subject: client.id,
      audience: [...deps.assertions.audiences()],
      algorithms: [...CLIENT_ASSERTION_ALGS],
      requiredClaims: ['exp', 'jti'],
      currentDate: new Date(now),
      clockTolerance: 5,
    }));
  } catch {
    return 'client_assertion_invalid';
  }
  const expiresAt = payload.exp! * 1000;
  if (expiresAt > now + MAX_CLIENT_ASSERTION_LIFETIME_SECONDS * 1000) return 'client_assertion_lifetime_too_long';
  if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > 256) return 'client_assertion_jti_invalid';
  if (!deps.assertions.firstUse(client.id, payload.jti, expiresAt)) return 'client_assertion_replayed';
  return null;
}

/** Why the presented certificate does not authenticate this mTLS client, or null when it does. */
function certificateProblem(client: LookedUpClient, presented: ClientCertificate | undefined): string | null {
  if (!presented) return 'no_client_certificate';
  if (client.tokenEndpointAuthMethod === 'tls_client_auth') {
    if (!presented.issued) return 'certificate_not_issued_by_ca';
    // Issued for a tenant: good only for that tenant's clients (an administrator of no tenant may issue for any).
    const tenant = certificateTenant(subjectAltNames(presented.certificate).filter((san) => san.type === 'URI').map((san) => san.value));
    if (tenant !== null && tenant !== client.tenantId) return 'certificate_tenant_mismatch';
    return client.tlsClientAuth && certificateMatchesClient(client.tlsClientAuth, presented.certificate) ? null : 'certificate_subject_mismatch';
  }
  const registered = registeredCertificates(client.jwks).some((der) => certificateThumbprint(der) === presented.thumbprint);
  return registered ? null : 'certificate_not_registered';
}

/**
 * The current secret, or the previous one inside its grace window; both compared, timing-safely, every time.
 * A replaced secret presented after its grace window is told apart (for the audit log and anomaly detection).
 */
function checkSecret(client: LookedUpClient, secret: string, now: number): 'ok' | 'wrong_secret' | 'expired_previous_secret' {
  if (client.secretHash === null) return 'wrong_secret';
  const presented = hashClientSecret(secret);
  const current = sameHash(presented, client.secretHash);
  const previousValid = client.previousSecretHash !== null && client.previousSecretExpiresAt !== null && now < client.previousSecretExpiresAt;
  const previous = sameHash(presented, client.previousSecretHash ?? client.secretHash);
  if (current || (previous && previousValid)) return 'ok';
  return previous && client.previousSecretHash !== null ? 'expired_previous_secret' : 'wrong_secret';
}
