import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** scrypt cost parameters. `ln` is log2 of N. */
export interface ScryptParams {
  ln: number;
  r: number;
  p: number;
}

/**
 * OWASP Password Storage Cheat Sheet: scrypt with N=2^17, r=8, p=1 (128 MiB per hash). Tests and small
 * machines may lower `ln` through GATEHOUSE_PASSWORD_HASH_COST (never below MIN_PASSWORD_HASH_COST).
 */
export const DEFAULT_SCRYPT_PARAMS: Readonly<ScryptParams> = Object.freeze({ ln: 17, r: 8, p: 1 });
export const MIN_PASSWORD_HASH_COST = 14;
export const MAX_PASSWORD_HASH_COST = 20;

const SALT_BYTES = 16;
const KEY_BYTES = 32;
const ENCODED = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{16,88})\$([A-Za-z0-9+/]{16,88})$/;
/** Bounds on parameters read back from an encoded hash, so a corrupted row cannot ask for unbounded work. */
const LIMITS = { ln: [10, 22], r: [1, 32], p: [1, 16] } as const;

function assertParams({ ln, r, p }: ScryptParams): void {
  for (const [name, value] of Object.entries({ ln, r, p }) as Array<[keyof typeof LIMITS, number]>) {
    const [min, max] = LIMITS[name];
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new RangeError(`scrypt parameter ${name} must be an integer from ${min} to ${max}`);
    }
  }
}

/** node:crypto refuses work above maxmem (default 32 MiB): allow what these parameters need, with a margin. */
function scryptOptions({ ln, r, p }: ScryptParams): ScryptOptions {
  const N = 2 ** ln;
  return { N, r, p, maxmem: 128 * r * (N + p + 2) + 16 * 1024 * 1024 };
}

/** scrypt on the libuv thread pool, never blocking the event loop. */
function derive(password: string, salt: Buffer, params: ScryptParams, keyLength: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, keyLength, scryptOptions(params), (error, key) => (error ? reject(error) : resolve(key)));
  });
}

const b64 = (buffer: Buffer) => buffer.toString('base64').replace(/=+$/, '');

interface ParsedHash {
  params: ScryptParams;
  salt: Buffer;
  hash: Buffer;
}

function parse(encoded: string): ParsedHash {
  const match = ENCODED.exec(encoded);
  if (!match) throw new TypeError('Not a Gatehouse scrypt password hash');
  const params = { ln: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
  assertParams(params);
  return { params, salt: Buffer.from(match[4]!, 'base64'), hash: Buffer.from(match[5]!, 'base64') };
}

/**
 * Hashes a password (NFKC-normalised first) with scrypt and a fresh 16-byte salt, as a self-describing string:
 * `$scrypt$ln=17,r=8,p=1$<salt, base64>$<32-byte hash, base64>` (unpadded base64, as in the PHC format), so
 * the parameters can change later without invalidating stored hashes (see needsRehash).
 */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT_PARAMS): Promise<string> {
  assertParams(params);
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, params, KEY_BYTES);
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${b64(salt)}$${b64(hash)}`;
}

/**
 * Whether `password` matches `encoded`, compared in constant time. A mismatch is `false`; an `encoded` value
 * that is not a Gatehouse scrypt hash (a corrupted row) throws, since it is a failure, not a wrong password.
 */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const { params, salt, hash } = parse(encoded);
  const candidate = await derive(password, salt, params, hash.length);
  return timingSafeEqual(candidate, hash);
}

/** Whether a stored hash was made with other parameters than `params` and should be replaced at next login. */
export function needsRehash(encoded: string, params: ScryptParams = DEFAULT_SCRYPT_PARAMS): boolean {
  let parsed: ParsedHash;
  try {
    parsed = parse(encoded);
  } catch {
    return true;
  }
  return (
    parsed.params.ln !== params.ln ||
    parsed.params.r !== params.r ||
    parsed.params.p !== params.p ||
    parsed.salt.length !== SALT_BYTES ||
    parsed.hash.length !== KEY_BYTES
  );
}

/** The parameters for a configured cost (log2 N), the rest as OWASP recommends. */
export function scryptParamsForCost(cost: number): ScryptParams {
  return { ...DEFAULT_SCRYPT_PARAMS, ln: cost };
}
