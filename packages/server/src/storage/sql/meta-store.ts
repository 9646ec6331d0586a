import type { Kysely } from 'kysely';
import type { MetaStore } from '../stores.js';
import type { Schema } from './schema.js';

export class SqlMetaStore implements MetaStore {
  constructor(private readonly db: Kysely<Schema>) {}

  async get(name: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('meta').select('value').where('name', '=', name).executeTakeFirst();
    return row?.value;
  }

  async getOrInsert(name: string, value: string): Promise<string> {
    await this.db
      .insertInto('meta')
      .values({ name, value })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const stored = await this.get(name);
    if (stored === undefined) throw new Error(`meta value ${name} vanished after insert`);
    return stored;
  }
}
