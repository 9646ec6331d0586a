import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { randomBase62 } from '../../src/core/random.js';
import { openDatabase, type Database } from '../../src/storage/sql/database.js';
import { testDatabaseUrl } from './env.js';

export type TestDialect = 'sqlite' | 'postgres';

/** The dialects this run can test: SQLite always, PostgreSQL when configured. */
export const dialects: TestDialect[] = testDatabaseUrl ? ['sqlite', 'postgres'] : ['sqlite'];

export function tempDir(label = 'test'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `gatehouse-${label}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

async function withAdminClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh PostgreSQL schema for one test file; dropped by `drop()`. */
export async function createPgSchema(): Promise<{ url: string; schema: string; drop(): Promise<void> }> {
  if (!testDatabaseUrl) throw new Error('GATEHOUSE_TEST_DATABASE_URL is not set');
  const url = testDatabaseUrl;
  const schema = `gh_test_${randomBase62(12).toLowerCase()}`;
  await withAdminClient(url, (c) => c.query(`create schema ${schema}`));
  return { url, schema, drop: () => withAdminClient(url, (c) => c.query(`drop schema if exists ${schema} cascade`)).then(() => {}) };
}

/** A fresh PostgreSQL database (for tests that start whole server processes); dropped by `drop()`. */
export async function createPgDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  if (!testDatabaseUrl) throw new Error('GATEHOUSE_TEST_DATABASE_URL is not set');
  const name = `gh_test_${randomBase62(12).toLowerCase()}`;
  await withAdminClient(testDatabaseUrl, (c) => c.query(`create database ${name}`));
  const url = new URL(testDatabaseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => withAdminClient(testDatabaseUrl!, (c) => c.query(`drop database if exists ${name} with (force)`)).then(() => {}),
  };
}

/**
 * A fresh, empty database of the dialect (SQLite in a temp dir, or a fresh PostgreSQL schema), not migrated. Each
 * cleanup it needs is pushed onto `cleanups` as soon as it is needed; run them in reverse order.
 */
export async function openTestDatabase(dialect: TestDialect, label: string, cleanups: Array<() => unknown>): Promise<Database> {
  const dir = tempDir(label);
  cleanups.push(() => dir.remove());
  let database: Database;
  if (dialect === 'postgres') {
    const pg = await createPgSchema();
    cleanups.push(() => pg.drop());
    database = openDatabase({ url: pg.url, dataDir: dir.path, schema: pg.schema });
  } else {
    database = openDatabase({ dataDir: dir.path });
  }
  cleanups.push(() => database.close());
  return database;
}
