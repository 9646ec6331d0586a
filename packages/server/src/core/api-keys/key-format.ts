import { apiKeyChecksum, apiKeyPrefixProblem, DEFAULT_API_KEY_PREFIX, parseApiKey, type ApiKeyEnvironment } from 'gatehouse-sdk';
import { randomBase62 } from '../random.js';

export { apiKeyPrefixProblem, DEFAULT_API_KEY_PREFIX, parseApiKey, type ApiKeyEnvironment };

const RANDOM_LENGTH = 43;

/**
 * Generates a new key: `<prefix>_<env>_` + 256 random bits in base62 + CRC-32 checksum. The prefix is the
 * deployment's GATEHOUSE_KEY_PREFIX (`sk` by default), validated at start-up; an invalid one here is a bug.
 */
export function generateApiKey(environment: ApiKeyEnvironment, prefix: string = DEFAULT_API_KEY_PREFIX): { key: string; displayPrefix: string } {
  const problem = apiKeyPrefixProblem(prefix);
  if (problem !== undefined) throw new TypeError(problem);
  const body = `${prefix}_${environment}_${randomBase62(RANDOM_LENGTH)}`;
  const key = body + apiKeyChecksum(body);
  const parsed = parseApiKey(key);
  if (!parsed.ok) throw new Error('generated key failed its own format check');
  return { key, displayPrefix: parsed.displayPrefix };
}
