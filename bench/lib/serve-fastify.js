// How every Fastify server of the bench runs: on 127.0.0.1, a port the OS picks, announced on stdout as
// "<label> listening on <url>" (what lib/servers.js waits for), closed gracefully on SIGTERM or SIGINT.
export async function serveFastify(app, label) {
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`${label} listening on ${address}\n`);
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.on(signal, () => app.close().then(() => process.exit(0), () => process.exit(1)));
  }
}
