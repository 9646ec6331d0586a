import type { Kysely } from 'kysely';

// Admin users (the console): a user's admin roles, as a JSON array of management scopes ('[]': none); and the
// admin user who made an audited call, beside the admin key that made the others.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').addColumn('admin_scopes', 'text', (c) => c.notNull().defaultTo('[]')).execute();
  await db.schema.alterTable('audit_events').addColumn('actor_user_id', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('audit_events').dropColumn('actor_user_id').execute();
  await db.schema.alterTable('users').dropColumn('admin_scopes').execute();
}
