import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a real service, so a test can cut the connection (a real outage: refused and
 * reset connections) and restore it; stall it (a hung service: connections stay open and are accepted, but
 * nothing is forwarded either way until `resume`); or hang it (every connection dropped, new ones accepted and
 * never answered, until `restore`).
 */
export async function startTcpProxy(target: { host: string; port: number }): Promise<{
  port: number;
  cut(): Promise<void>;
  /** Forwards again after `cut` or `hang` (new connections). */
  restore(): Promise<void>;
  /** Drops every connection, then accepts new ones and holds them without a byte in either direction. */
  hang(): Promise<void>;
  /** Stops forwarding (both ways, existing and new connections); what is sent meanwhile is held, in order. */
  stall(): void;
  /** Forwards what was held, then everything again. */
  resume(): void;
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  let stalled = false;
  const held: Array<{ to: Socket; chunk: Buffer }> = [];

  const forward = (from: Socket, to: Socket) => {
    from.on('data', (chunk: Buffer) => {
      if (stalled) held.push({ to, chunk });
      else to.write(chunk);
    });
    from.on('end', () => to.end());
  };

  const listen = (hung = false) =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        if (hung) {
          sockets.add(client);
          client.on('error', () => client.destroy()).on('close', () => sockets.delete(client));
          return;
        }
        const upstream = connect(target.port, target.host);
        sockets.add(client).add(upstream);
        forward(client, upstream);
        forward(upstream, client);
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
    held.length = 0;
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  };

  await listen();
  return {
    port,
    cut,
    async restore() {
      await cut();
      await listen();
    },
    async hang() {
      await cut();
      await listen(true);
    },
    stall() {
      stalled = true;
    },
    resume() {
      stalled = false;
      for (const { to, chunk } of held.splice(0)) if (!to.destroyed) to.write(chunk);
    },
    close: cut,
  };
}
