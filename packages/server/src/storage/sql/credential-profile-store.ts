import type { Kysely } from 'kysely';
import type { CredentialProfileRecord, CredentialProfileStore } from '../stores.js';
import type { Schema } from './schema.js';

/** Rows per statement: well under SQLite's and PostgreSQL's parameter limits. */
const CHUNK = 500;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

export class SqlCredentialProfileStore implements CredentialProfileStore {
  constructor(private readonly db: Kysely<Schema>) {}

  async loadAll(): Promise<CredentialProfileRecord[]> {
    const profiles = await this.db.selectFrom('credential_profiles').selectAll().execute();
    const networks = await this.db.selectFrom('credential_networks').select(['credential_id', 'network']).orderBy('first_seen_at').execute();
    const byId = new Map<string, CredentialProfileRecord>();
    for (const row of profiles) {
      byId.set(row.credential_id, {
        credentialId: row.credential_id,
        firstSeenAt: row.first_seen_at,
        baselinePerMinute: row.baseline_per_minute,
        updatedAt: row.updated_at,
        networks: [],
      });
    }
    for (const row of networks) byId.get(row.credential_id)?.networks.push(row.network);
    return [...byId.values()];
  }

  async save(profiles: readonly CredentialProfileRecord[]): Promise<void> {
    if (profiles.length === 0) return;
    const networkRows = profiles.flatMap((p) => p.networks.map((network) => ({ credential_id: p.credentialId, network, first_seen_at: p.updatedAt })));
    await this.db.transaction().execute(async (trx) => {
      for (const chunk of chunks(profiles)) {
        await trx
          .insertInto('credential_profiles')
          .values(chunk.map((p) => ({ credential_id: p.credentialId, first_seen_at: p.firstSeenAt, baseline_per_minute: p.baselinePerMinute, updated_at: p.updatedAt })))
          .onConflict((oc) =>
            oc.column('credential_id').doUpdateSet({
              baseline_per_minute: (eb) => eb.ref('excluded.baseline_per_minute'),
              updated_at: (eb) => eb.ref('excluded.updated_at'),
            }),
          )
          .execute();
      }
      for (const chunk of chunks(networkRows)) {
        await trx.insertInto('credential_networks').values(chunk).onConflict((oc) => oc.columns(['credential_id', 'network']).doNothing()).execute();
      }
    });
  }

  async hasNetwork(credentialId: string, network: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('credential_networks')
      .select('network')
      .where('credential_id', '=', credentialId)
      .where('network', '=', network)
      .executeTakeFirst();
    return row !== undefined;
  }
}
