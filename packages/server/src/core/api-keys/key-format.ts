import { apiKeyChecksum, parseApiKey, type ApiKeyEnvironment } from 'gatehouse-sdk';
import { randomBase62 } from '../random.js';

export { parseApiKey, type ApiKeyEnvironment };

const RANDOM_LENGTH = 43;

/** Generates a new key: `sk_<env>_` + 256 random bits in base62 + CRC-32 checksum. */
export function generateApiKey(environment: ApiKeyEnvironment): { key: string; displayPrefix: string } {
  const body = `sk_${environment}_${randomBase62(RANDOM_LENGTH)}`;
  const key = body + apiKeyChecksum(body);
  const parsed = parseApiKey(key);
  if (!parsed.ok) throw new Error('generated key failed its own format check');
  return { key, displayPrefix: parsed.displayPrefix };
}
