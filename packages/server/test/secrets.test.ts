import { statSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SecretBox } from '../src/core/crypto/secret-box.js';
import { resolveMasterKey } from '../src/config/master-key.js';
import { tempDir } from './helpers/databases.js';

describe('SecretBox (AES-256-GCM under the master key)', () => {
  const box = new SecretBox(Buffer.alloc(32, 9));

  it('round-trips, with a fresh IV each time', () => {
    const a = box.encrypt('signing key material', 'row:1');
    const b = box.encrypt('signing key material', 'row:1');
    expect(a).not.toBe(b);
    expect(a.startsWith('v1.')).toBe(true);
    expect(a).not.toContain('signing');
    expect(box.decrypt(a, 'row:1').toString()).toBe('signing key material');
  });

  it('refuses a ciphertext that was altered, moved to another row, or made under another key', () => {
    const sealed = box.encrypt('secret', 'row:1');
    expect(() => box.decrypt(sealed, 'row:2')).toThrow();
    const raw = Buffer.from(sealed.slice(3), 'base64url');
    raw[raw.length - 1]! ^= 1;
    expect(() => box.decrypt(`v1.${raw.toString('base64url')}`, 'row:1')).toThrow();
    expect(() => new SecretBox(Buffer.alloc(32, 8)).decrypt(sealed, 'row:1')).toThrow();
    expect(() => box.decrypt('v2.abc', 'row:1')).toThrow();
  });

  it('insists on a 32-byte key', () => {
    expect(() => new SecretBox(Buffer.alloc(16))).toThrow(TypeError);
  });
});

describe('master key', () => {
  const dirs: Array<{ remove(): void }> = [];
  afterEach(() => dirs.splice(0).forEach((d) => d.remove()));
  const dir = () => {
    const d = tempDir('mk');
    dirs.push(d);
    return d.path;
  };

  it('embedded mode generates one key into the data dir with mode 0600 and reuses it', () => {
    const dataDir = dir();
    const first = resolveMasterKey({ dataDir, masterKey: undefined });
    expect(first.source).toBe('generated');
    expect(first.key).toHaveLength(32);
    expect(statSync(join(dataDir, 'master.key')).mode & 0o777).toBe(0o600);
    const second = resolveMasterKey({ dataDir, masterKey: undefined });
    expect(second.source).toBe('file');
    expect(second.key.equals(first.key)).toBe(true);
  });

  it('prefers GATEHOUSE_MASTER_KEY', () => {
    const key = Buffer.alloc(32, 3);
    expect(resolveMasterKey({ dataDir: dir(), masterKey: key.toString('base64') })).toEqual({ key, source: 'env' });
  });

  it('refuses a key file others can read', () => {
    const dataDir = dir();
    writeFileSync(join(dataDir, 'master.key'), Buffer.alloc(32).toString('base64'));
    chmodSync(join(dataDir, 'master.key'), 0o644);
    expect(() => resolveMasterKey({ dataDir, masterKey: undefined })).toThrow(/chmod 600/);
  });
});
