// Frozen in time: never edit a migration that has shipped, and never import application code here.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // RFC 8705 client authentication: tls_client_auth's registered subject DN or SAN ({field, value} JSON), and
  // self_signed_tls_client_auth's registered certificates (a JWK Set with x5c, JSON).
  await db.schema.alterTable('oauth_clients').addColumn('tls_client_auth', 'text').execute();
  await db.schema.alterTable('oauth_clients').addColumn('jwks', 'text').execute();
  // RFC 8705 section 4: the certificate (x5t#S256) a public client's refresh tokens are bound to.
  await db.schema.alterTable('oauth_grants').addColumn('certificate_thumbprint', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('oauth_grants').dropColumn('certificate_thumbprint').execute();
  await db.schema.alterTable('oauth_clients').dropColumn('jwks').execute();
  await db.schema.alterTable('oauth_clients').dropColumn('tls_client_auth').execute();
}
