import { afterEach, beforeEach } from 'vitest';
import type { Stores } from '../stores.js';

/** Opens a fresh, empty, migrated set of stores; `close` releases it and removes everything it created. */
export type OpenStores = () => Promise<{ stores: Stores; close(): Promise<void> }>;

/** Gives every test of the enclosing describe block its own fresh stores; returns their getter. */
export function useFreshStores(open: OpenStores): () => Stores {
  let opened: Awaited<ReturnType<OpenStores>> | undefined;
  beforeEach(async () => {
    opened = await open();
  });
  afterEach(async () => {
    await opened?.close();
    opened = undefined;
  });
  return () => {
    if (!opened) throw new Error('stores are not open');
    return opened.stores;
  };
}
