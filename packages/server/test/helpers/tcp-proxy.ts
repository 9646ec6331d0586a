import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a real service, so a test can cut the connection (a real outage: refused and
 * reset connections), stall it (a hung service: connections accepted, never answered) and restore it.
 */
export async function startTcpProxy(target: { host: string; port: number }): Promise<{
  port: number;
  cut(): Promise<void>;
  /** Drops every connection, then accepts new ones and holds them without a byte in either direction. */
  stall(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;

  const listen = (stalled = false) =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        if (stalled) {
          sockets.add(client);
          client.on('error', () => client.destroy()).on('close', () => sockets.delete(client));
          return;
        }
        const upstream = connect(target.port, target.host);
        sockets.add(client).add(upstream);
        client.pipe(upstream).pipe(client);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as { port: number }).port;
        resolve();
      });
    });

  const cut = async () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  };

  await listen();
  return {
    port,
    cut,
    async stall() {
      await cut();
      await listen(true);
    },
    async restore() {
      await cut();
      await listen();
    },
    close: cut,
  };
}
