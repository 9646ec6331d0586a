// Webhook delivery throughput from the SQLite outbox to a local receiver.
//
// 1. A fresh embedded server (SQLite) starts, an endpoint subscribed to key.created is registered through the
//    API (pointing at lib/webhook-receiver.js, a separate process answering 204), and the server is stopped.
// 2. lib/seed-webhook-events.js writes BENCH_WEBHOOK_EVENTS (20,000) key.created events through the server's
//    own transactional path (AuditStore.insertNow -> insertAuditEvents -> audit row + outbox row).
// 3. The server is started again, as users start it; its dispatcher finds the outbox and delivers: fan-out into
//    deliveries, leased claims, signing (Standard Webhooks), HTTP POST over keep-alive, attempt and status writes.
// 4. The receiver's count of distinct webhook-ids reaches the number seeded; deliveries per second are counted
//    between the first and the last request the receiver saw.
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { generateApiKey } from '../../packages/server/dist/core/api-keys/key-format.js';
import { cleanEnv, makeTempDir, runNode, startNode } from '../lib/processes.js';
import { REPO_ROOT, startGatehouse } from '../lib/servers.js';

export const name = 'webhook-delivery';
export const description = 'webhook deliveries per second from the SQLite outbox to a local receiver';

const TARGET = 1_000;
const RECEIVER = fileURLToPath(new URL('../lib/webhook-receiver.js', import.meta.url));
const SEED = fileURLToPath(new URL('../lib/seed-webhook-events.js', import.meta.url));

async function stats(receiverUrl) {
  const response = await fetch(`${receiverUrl}/stats`);
  return response.json();
}

export async function run(ctx) {
  const events = Number(process.env.BENCH_WEBHOOK_EVENTS ?? 20_000);
  const dataDir = makeTempDir('gatehouse-bench-webhooks-');
  const adminKey = generateApiKey('live').key;
  const env = { GATEHOUSE_WEBHOOKS_ALLOW_INSECURE: 'true' };

  const receiver = await startNode('webhook-receiver', [RECEIVER], {
    cwd: REPO_ROOT,
    env: cleanEnv({ NODE_ENV: 'production' }),
    ready: /^receiver listening on (http:\/\/127\.0\.0\.1:\d+)/,
  });
  const receiverUrl = receiver.match[1];

  const setup = await startGatehouse({ dataDir, adminKey, env });
  const created = await fetch(`${setup.url}/v1/webhook-endpoints`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url: `${receiverUrl}/hook`, events: ['key.created'] }),
  });
  if (created.status !== 201) throw new Error(`endpoint registration failed: ${created.status} ${await created.text()}`);
  await setup.stop();

  ctx.log(`seeding ${events.toLocaleString('en-US')} key.created events through the outbox`);
  await runNode('seed-webhook-events', [SEED, dataDir, String(events)], { cwd: REPO_ROOT, env: cleanEnv() });

  const server = await startGatehouse({ dataDir, adminKey, env });
  const deadline = Date.now() + Math.max(60_000, (events / 200) * 1000);
  let last;
  while (Date.now() < deadline) {
    last = await stats(receiverUrl);
    if (last.unique >= events) break;
    await sleep(250);
  }
  await server.stop();
  await receiver.stop();
  if (!last || last.unique < events) throw new Error(`only ${last?.unique ?? 0} of ${events} events were delivered in time`);

  const seconds = (last.lastMs - last.firstMs) / 1000;
  const rate = events / seconds;
  const row = {
    scenario: `webhook delivery (SQLite outbox, ${events.toLocaleString('en-US')} events)`,
    reqPerSec: rate,
    target: `>=${TARGET.toLocaleString('en-US')}/s`,
    result: rate >= TARGET ? 'PASS' : 'MISS',
  };
  const notes = [
    `webhook-delivery: ${events.toLocaleString('en-US')} events delivered in ${seconds.toFixed(2)} s ` +
      `(${Math.round(rate).toLocaleString('en-US')}/s; ${last.count - last.unique} duplicate requests), ` +
      `first to last request at the receiver; signing, HTTP keep-alive, SQLite fan-out, claims and outcome writes included.`,
  ];
  return { rows: [row], notes };
}
