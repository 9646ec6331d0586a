import type { MetaStore } from '../../storage/stores.js';
import type { SecretBox } from './secret-box.js';

const CHECK_NAME = 'master_key.check';
const CHECK_PLAINTEXT = 'gatehouse master key check';

/**
 * Stores a value encrypted under the master key the first time, and proves on every later start that the
 * configured key still decrypts it: a wrong GATEHOUSE_MASTER_KEY stops the start instead of surfacing later
 * as undecryptable secrets.
 */
export async function checkMasterKey(meta: MetaStore, box: SecretBox): Promise<void> {
  const stored = await meta.getOrInsert(CHECK_NAME, box.encrypt(CHECK_PLAINTEXT, CHECK_NAME));
  let matches = false;
  try {
    matches = box.decrypt(stored, CHECK_NAME).toString('utf8') === CHECK_PLAINTEXT;
  } catch {
    matches = false;
  }
  if (!matches) {
    throw new Error('The master key does not match the one this database was set up with (GATEHOUSE_MASTER_KEY or master.key in the data dir).');
  }
}
