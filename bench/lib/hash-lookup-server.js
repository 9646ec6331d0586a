// A reference for the api-key-verify scenario, in its own process: the issue's yardstick, "a bare Fastify route
// that hashes the key and looks it up in a Map". POST /verify-reference takes {"key": ...}, hashes it (SHA-256,
// as Gatehouse stores keys) and answers the entry of a Map built from the sampled keys. No caller
// authentication, no checks, no audit, no last-used, no metrics, no logger, no hooks: what verification would
// cost if all the rest were free.
//
//   node bench/lib/hash-lookup-server.js <keys.json>   prints "hash-lookup listening on http://127.0.0.1:<port>"
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import { serveFastify } from './serve-fastify.js';

const { keys } = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const sha256 = (text) => createHash('sha256').update(text).digest('hex');
const entries = new Map(keys.map((key, i) => [sha256(key), { keyId: `key_${i}`, environment: key.slice(3, 7), scopes: [] }]));

const app = Fastify({ logger: false });
app.post('/verify-reference', async (request) => {
  const entry = entries.get(sha256(request.body.key));
  return entry ? { valid: true, code: 'VALID', ...entry } : { valid: false, code: 'NOT_FOUND' };
});

await serveFastify(app, 'hash-lookup');
