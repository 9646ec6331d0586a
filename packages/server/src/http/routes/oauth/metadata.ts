import type { FastifyInstance } from 'fastify';
import { issuerBase, issuerPath } from '../../../config/issuer-path.js';
import { OIDC_SCOPES } from '../../../core/oauth/scopes.js';
import { CLIENT_ASSERTION_ALGS } from '../../../core/oauth/client-auth.js';
import { SUPPORTED_GRANT_TYPES } from '../../../core/oauth/token-request.js';
import type { Services } from '../../../services.js';

/**
 * RFC 8414 and OpenID Connect Discovery 1.0: one document, served at both well-known addresses. With an mTLS
 * listener (`mtlsUrl`), the RFC 8705 methods, certificate-bound tokens and the endpoints' mTLS aliases too.
 * `issuer` is byte for byte the configured one; the endpoints are under it (its terminating slash dropped), and
 * the mTLS aliases under the mTLS origin with the issuer's path.
 */
export function authorizationServerMetadata(
  issuer: string,
  signingAlgs: readonly string[],
  mtlsUrl?: string,
  options: { clientIdMetadataDocuments?: boolean } = {},
): Record<string, unknown> {
  const base = issuerBase(issuer);
  const mtlsBase = mtlsUrl === undefined ? undefined : mtlsUrl + issuerPath(issuer);
  const mtlsMethods = mtlsUrl ? ['tls_client_auth', 'self_signed_tls_client_auth'] : [];
  // private_key_jwt (RFC 7523) is for clients described by a Client ID Metadata Document with a jwks.
  const assertionMethods = options.clientIdMetadataDocuments ? ['private_key_jwt'] : [];
  const clientAuthMethods = ['client_secret_basic', 'client_secret_post', 'none', ...mtlsMethods, ...assertionMethods];
  return {
    issuer,
    authorization_endpoint: `${base}/oauth/authorize`,
    token_endpoint: `${base}/oauth/token`,
    jwks_uri: `${base}/.well-known/jwks.json`,
    userinfo_endpoint: `${base}/oauth/userinfo`,
    revocation_endpoint: `${base}/oauth/revoke`,
    introspection_endpoint: `${base}/oauth/introspect`,
    end_session_endpoint: `${base}/oauth/logout`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: SUPPORTED_GRANT_TYPES,
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: clientAuthMethods,
    revocation_endpoint_auth_methods_supported: clientAuthMethods,
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'bearer', ...mtlsMethods],
    scopes_supported: [...OIDC_SCOPES],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: signingAlgs,
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'at_hash', 'name', 'email', 'tenant_id'],
    prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
    authorization_response_iss_parameter_supported: true,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    claims_parameter_supported: false,
    // draft-ietf-oauth-client-id-metadata-document: https URLs as client_id (GATEHOUSE_CLIENT_ID_METADATA_DOCUMENTS=on).
    ...(options.clientIdMetadataDocuments
      ? {
          client_id_metadata_document_supported: true,
          token_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_ALGS],
          revocation_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_ALGS],
        }
      : {}),
    ...(mtlsBase !== undefined
      ? {
          tls_client_certificate_bound_access_tokens: true,
          mtls_endpoint_aliases: {
            token_endpoint: `${mtlsBase}/oauth/token`,
            revocation_endpoint: `${mtlsBase}/oauth/revoke`,
            introspection_endpoint: `${mtlsBase}/oauth/introspect`,
            userinfo_endpoint: `${mtlsBase}/oauth/userinfo`,
          },
        }
      : {}),
  };
}

export function registerMetadataEndpoints(app: FastifyInstance, services: Services): void {
  const handler = async (_request: unknown, reply: { header(name: string, value: string): unknown }) => {
    reply.header('cache-control', 'public, max-age=300');
    const issuer = services.oauth.issuer();
    return {
      ...authorizationServerMetadata(issuer, services.signingKeys.idTokenAlgs(), services.config.mtlsUrl, {
        clientIdMetadataDocuments: services.config.clientIdMetadataDocuments.enabled,
      }),
      // RFC 7591 section 3 / RFC 8414: only when GATEHOUSE_CLIENT_REGISTRATION is token or open.
      ...(services.registration ? { registration_endpoint: `${issuerBase(issuer)}/oauth/register` } : {}),
    };
  };
  // Under an issuer with a path (https://host/t1) these also answer at /.well-known/oauth-authorization-server/t1
  // (RFC 8414 section 3.1) and /t1/.well-known/openid-configuration (OIDC Discovery section 4): build-app.ts.
  app.get('/.well-known/oauth-authorization-server', { schema: { tags: ['oauth'], summary: 'Authorization server metadata (RFC 8414)' } }, handler);
  app.get('/.well-known/openid-configuration', { schema: { tags: ['oauth'], summary: 'OpenID Connect discovery' } }, handler);
}
