// The baseline: the cheapest useful Fastify JSON route, in its own process, on loopback.
// Same Fastify as the server, no logger, default JSON body parser, no schemas, no hooks.
//
//   node bench/lib/hello-server.js        prints "hello listening on http://127.0.0.1:<port>"
import Fastify from 'fastify';
import { serveFastify } from './serve-fastify.js';

const app = Fastify({ logger: false });
app.post('/hello', async () => ({ ok: true }));

await serveFastify(app, 'hello');
