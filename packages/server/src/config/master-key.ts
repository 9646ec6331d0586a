import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './load-config.js';

export const MASTER_KEY_FILE = 'master.key';

/**
 * The master key that encrypts secrets at rest: GATEHOUSE_MASTER_KEY when set; in embedded mode otherwise a
 * key generated once into the data dir, readable by the owner only (0600). Cluster mode requires the variable
 * (load-config enforces it), since every process must share one key.
 */
export function resolveMasterKey(config: Pick<Config, 'masterKey' | 'dataDir'>): { key: Buffer; source: 'env' | 'file' | 'generated' } {
  if (config.masterKey !== undefined) return { key: Buffer.from(config.masterKey, 'base64'), source: 'env' };
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const file = join(config.dataDir, MASTER_KEY_FILE);
  try {
    // 'wx' fails if the file exists, so two starts cannot each write a different key.
    writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { flag: 'wx', mode: 0o600 });
    chmodSync(file, 0o600);
    return { key: readKeyFile(file), source: 'generated' };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if ((statSync(file).mode & 0o077) !== 0) {
    throw new Error(`${file} is readable by other users; run: chmod 600 ${file}`);
  }
  return { key: readKeyFile(file), source: 'file' };
}

function readKeyFile(file: string): Buffer {
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`${file} does not hold a base64 32-byte key`);
  return key;
}
