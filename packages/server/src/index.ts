export { buildApp, type BuildAppOptions } from './http/build-app.js';
export { loadConfig, ConfigError, type Config } from './config/load-config.js';
export { createServices, startServer, type RunningServer } from './main.js';
export type { Services } from './services.js';
export { ERROR_CATALOG, GatehouseError, type ErrorCode } from './core/errors.js';
export { generateApiKey, parseApiKey } from './core/api-keys/key-format.js';
export { hashApiKey } from './core/api-keys/hash-key.js';
