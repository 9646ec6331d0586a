import { DEFAULT_ID_TOKEN_ALG, isSigningAlg, type SigningAlg } from '../../tokens/signing-alg.js';
import { MAX_CLIENT_JWKS_KEYS, MAX_REDIRECT_URIS, MAX_SCOPES, type ClientJwks, type GrantType } from '../client-metadata.js';
import type { LookedUpClient } from '../client-service.js';
import { checkRedirectUriRegistration } from '../redirect-uri.js';
import { parseScope } from '../scopes.js';
import { documentHost } from './metadata-document-url.js';

/** The grants a metadata-document client may use: it is a public client, so never client_credentials. */
export const METADATA_DOCUMENT_GRANT_TYPES: readonly GrantType[] = ['authorization_code', 'refresh_token'];

/** A client described by a metadata document: the view every lookup returns (never stored). */
export type MetadataDocumentClient = LookedUpClient & { registration: 'metadata_document' };

export type MetadataDocumentValidation = { ok: true; client: MetadataDocumentClient } | { ok: false; reason: string };

export interface ValidateOptions {
  /** When the document was fetched (createdAt / updatedAt of the view). */
  fetchedAt: number;
  /** The algorithms ID tokens can be signed with now (what id_token_signed_response_alg may be). */
  idTokenAlgs: readonly SigningAlg[];
}

const MAX_CLIENT_NAME_LENGTH = 200;
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/;
/** Shared-secret methods: there is no way to establish a secret with a metadata document (draft section 4.1). */
const SECRET_METHODS = new Set(['client_secret_basic', 'client_secret_post', 'client_secret_jwt']);

const refuse = (reason: string): MetadataDocumentValidation => ({ ok: false, reason });

/** JWK members that only a private (or symmetric) key has. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** Why a document's jwks cannot verify client assertions, or null: 1 to 10 public RSA, EC or OKP keys. */
function assertionKeysProblem(jwks: unknown): string | null {
  if (typeof jwks !== 'object' || jwks === null || !Array.isArray((jwks as { keys?: unknown }).keys)) return 'jwks_invalid';
  const keys = (jwks as { keys: unknown[] }).keys;
  if (keys.length === 0 || keys.length > MAX_CLIENT_JWKS_KEYS) return 'jwks_invalid';
  for (const key of keys) {
    if (typeof key !== 'object' || key === null || Array.isArray(key)) return 'jwks_invalid';
    const jwk = key as Record<string, unknown>;
    if (PRIVATE_MEMBERS.some((member) => Object.hasOwn(jwk, member))) return 'jwks_not_public';
    if (jwk.kty !== 'RSA' && jwk.kty !== 'EC' && jwk.kty !== 'OKP') return 'jwks_invalid';
  }
  return null;
}

function stringArray(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((item) => typeof item === 'string') ? value : undefined;
}

/**
 * Validates a fetched Client ID Metadata Document (already parsed JSON) for the URL it was fetched from, and
 * turns it into the client view: registration `metadata_document`, id = the URL, name = client_name or the host,
 * no tenant, no audiences, scopes from `scope`, grants within authorization_code and refresh_token, a public
 * client (`none`). The reason of a refusal is for the audit log. Pure.
 */
export function validateMetadataDocument(url: string, document: unknown, options: ValidateOptions): MetadataDocumentValidation {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return refuse('document_not_object');
  const doc = document as Record<string, unknown>;
  if (doc.client_id !== url) return refuse('client_id_mismatch');
  if (Object.hasOwn(doc, 'client_secret') || Object.hasOwn(doc, 'client_secret_expires_at')) return refuse('client_secret_not_allowed');

  const method = doc.token_endpoint_auth_method ?? 'none';
  if (typeof method !== 'string') return refuse('token_endpoint_auth_method_invalid');
  if (SECRET_METHODS.has(method)) return refuse('shared_secret_auth_method_not_allowed');
  if (method !== 'none' && method !== 'private_key_jwt') return refuse('token_endpoint_auth_method_unsupported');
  let jwks: ClientJwks | null = null;
  if (method === 'private_key_jwt') {
    // RFC 7523 client authentication with the keys the document publishes inline (jwks_uri: not fetched).
    if (doc.jwks === undefined) return refuse(doc.jwks_uri !== undefined ? 'jwks_uri_not_supported' : 'jwks_missing');
    const problem = assertionKeysProblem(doc.jwks);
    if (problem) return refuse(problem);
    jwks = doc.jwks as ClientJwks;
  }

  const redirectUris = stringArray(doc.redirect_uris);
  if (!redirectUris || redirectUris.length === 0) return refuse('redirect_uris_missing');
  if (redirectUris.length > MAX_REDIRECT_URIS) return refuse('redirect_uris_too_many');
  for (const uri of redirectUris) {
    if (!checkRedirectUriRegistration(uri, { publicClient: method === 'none' }).ok) return refuse('redirect_uri_invalid');
  }
  let postLogoutRedirectUris: string[] = [];
  if (doc.post_logout_redirect_uris !== undefined) {
    const uris = stringArray(doc.post_logout_redirect_uris);
    if (!uris || uris.length > MAX_REDIRECT_URIS) return refuse('post_logout_redirect_uris_invalid');
    if (!uris.every((uri) => checkRedirectUriRegistration(uri).ok)) return refuse('post_logout_redirect_uris_invalid');
    postLogoutRedirectUris = [...new Set(uris)];
  }

  const grantTypes = doc.grant_types === undefined ? ['authorization_code'] : stringArray(doc.grant_types);
  if (!grantTypes || grantTypes.length === 0) return refuse('grant_types_invalid');
  if (!grantTypes.every((grant) => (METADATA_DOCUMENT_GRANT_TYPES as readonly string[]).includes(grant))) return refuse('grant_type_not_allowed');
  if (!grantTypes.includes('authorization_code')) return refuse('grant_types_without_authorization_code');
  if (doc.response_types !== undefined) {
    const responseTypes = stringArray(doc.response_types);
    if (!responseTypes || !responseTypes.every((type) => type === 'code')) return refuse('response_types_not_code');
  }

  let scopes: string[] = [];
  if (doc.scope !== undefined) {
    const parsed = typeof doc.scope === 'string' ? parseScope(doc.scope) : undefined;
    if (!parsed || parsed.length > MAX_SCOPES || !parsed.every((scope) => SCOPE_TOKEN.test(scope))) return refuse('scope_invalid');
    scopes = parsed;
  }

  let idTokenSignedResponseAlg: SigningAlg = DEFAULT_ID_TOKEN_ALG;
  if (doc.id_token_signed_response_alg !== undefined) {
    if (!isSigningAlg(doc.id_token_signed_response_alg) || !options.idTokenAlgs.includes(doc.id_token_signed_response_alg)) {
      return refuse('id_token_signed_response_alg_unsupported');
    }
    idTokenSignedResponseAlg = doc.id_token_signed_response_alg;
  }

  let name = documentHost(url);
  if (doc.client_name !== undefined) {
    if (typeof doc.client_name !== 'string') return refuse('client_name_invalid');
    const trimmed = doc.client_name.trim();
    if (trimmed.length > MAX_CLIENT_NAME_LENGTH || /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/.test(trimmed)) {
      return refuse('client_name_invalid');
    }
    if (trimmed !== '') name = trimmed;
  }

  return {
    ok: true,
    client: {
      id: url,
      name,
      redirectUris: [...new Set(redirectUris)],
      allowedOrigins: [],
      postLogoutRedirectUris,
      grantTypes: [...new Set(grantTypes)] as GrantType[],
      scopes,
      tokenEndpointAuthMethod: method,
      audiences: [],
      defaultAudience: null,
      tenantId: null,
      accessTokenTtlSeconds: null,
      idTokenSignedResponseAlg,
      tlsClientAuth: null,
      jwks,
      registration: 'metadata_document',
      registrationAccessTokenHash: null,
      registeredAddress: null,
      registrationMetadata: null,
      lastUsedAt: null,
      secretHash: null,
      secretPrefix: null,
      previousSecretHash: null,
      previousSecretExpiresAt: null,
      version: 1,
      createdBy: null,
      createdAt: options.fetchedAt,
      updatedAt: options.fetchedAt,
      deletedAt: null,
    },
  };
}
