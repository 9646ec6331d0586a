import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  json: any;
}

/** What the receiver answers; default 200. */
export type Responder = (request: ReceivedWebhook, response: ServerResponse) => void;

/** A real local HTTP receiver (127.0.0.1) that records every request it gets. */
export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** Every TCP connection made to it (requests or not). */
  connections: number;
  respond(responder: Responder): void;
  close(): Promise<void>;
}

export async function startReceiver(responder?: Responder): Promise<WebhookReceiver> {
  let current: Responder = responder ?? ((_request, response) => response.writeHead(200).end('ok'));
  const received: ReceivedWebhook[] = [];
  const state = { connections: 0 };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const webhook = { headers: request.headers, body, json };
      received.push(webhook);
      current(webhook, response);
    });
  });
  server.on('connection', () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    get connections() {
      return state.connections;
    },
    respond(next) {
      current = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
