export {
  API_KEY_ENVIRONMENTS,
  API_KEY_LENGTH,
  API_KEY_MAX_LENGTH,
  DEFAULT_API_KEY_PREFIX,
  apiKeyChecksum,
  apiKeyPrefixProblem,
  apiKeyShapesIn,
  findApiKeys,
  isApiKey,
  parseApiKey,
  type ApiKeyEnvironment,
  type ParsedApiKey,
} from './api-key-format.js';
export {
  createAuthenticator,
  ALLOWED_ALGORITHMS,
  DEFAULT_ALGORITHMS,
  type Authenticator,
  type AuthenticatorOptions,
  type AuthenticateOptions,
  type AuthenticatorStatus,
  type PeerCertificate,
} from './create-authenticator.js';
export {
  DENIAL_CODES,
  type Auth,
  type AuthDenial,
  type AuthResult,
  type AuthSuccess,
  type DenialCode,
  type RateLimitInfo,
} from './authentication-result.js';
export {
  startRevocationStream,
  type DeniedToken,
  type RevocationHandlers,
  type RevocationStream,
  type RevocationStreamOptions,
  type RevocationStreamState,
} from './revocation-stream.js';
export {
  PROTECTED_RESOURCE_METADATA_PATH,
  protectedResourceMetadataUrl,
  type ProtectedResourceOptions,
} from './protected-resource.js';
export { fetchProtectedResourceOptions, type FetchProtectedResourceOptionsInput } from './fetch-protected-resource-options.js';
export { createSseParser, type SseEvent } from './sse-parser.js';
export { UnavailableError } from './unavailable-error.js';
export * from './client/index.js';
export * from './protocol/index.js';
