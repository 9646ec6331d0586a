// The webhook receiver of the webhook-delivery scenario: a bare node:http server on loopback that answers
// every POST 204 at once and counts them (distinct webhook-ids too), with the times of the first and last.
//
//   node bench/lib/webhook-receiver.js     prints "receiver listening on http://127.0.0.1:<port>"
//   GET /stats -> {"count":..,"unique":..,"firstMs":..,"lastMs":..}
import { createServer } from 'node:http';

const ids = new Set();
let count = 0;
let firstMs = null;
let lastMs = null;

const server = createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/stats') {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ count, unique: ids.size, firstMs, lastMs }));
    return;
  }
  request.resume();
  request.on('end', () => {
    const now = performance.now();
    firstMs ??= now;
    lastMs = now;
    count++;
    ids.add(request.headers['webhook-id']);
    response.writeHead(204).end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`receiver listening on http://127.0.0.1:${server.address().port}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
