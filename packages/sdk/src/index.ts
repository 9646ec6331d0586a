export {
  API_KEY_ENVIRONMENTS,
  API_KEY_LENGTH,
  apiKeyChecksum,
  findApiKeys,
  isApiKey,
  parseApiKey,
  type ApiKeyEnvironment,
  type ParsedApiKey,
} from './api-key-format.js';
export * from './client/index.js';
