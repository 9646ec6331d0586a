// The baseline: the cheapest useful Fastify JSON route, in its own process, on loopback.
// Same Fastify as the server, no logger, default JSON body parser, no schemas, no hooks.
//
//   node bench/lib/hello-server.js        prints "hello listening on http://127.0.0.1:<port>"
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.post('/hello', async () => ({ ok: true }));

const address = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`hello listening on ${address}\n`);

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
