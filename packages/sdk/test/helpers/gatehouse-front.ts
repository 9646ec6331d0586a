import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback HTTP front for a real Gatehouse server, for SDK tests: it forwards every request to Gatehouse
 * (counting the verify calls, so caching and single flight are observed on the wire) except
 * `GET /v1/revocations/stream`, which it answers itself in the stream's fixed format (see
 * /work/briefs/sdk-common.md) with events the test pushes: the server side of the stream is built elsewhere.
 */
export interface GatehouseFront {
  url: string;
  /** POST /v1/keys/verify requests forwarded so far. */
  verifyCalls: number;
  /** Stream connections accepted so far. */
  streamConnections: number;
  /** The `deniedTokens` sent in the `ready` event of each new stream connection. */
  deniedTokens: { jti: string; exp: number }[];
  /** When set, answers of the verify endpoint are held until this promise settles. */
  holdVerify: Promise<void> | undefined;
  /** Answer stream requests with this status instead (e.g. 401), or undefined for the stream. */
  streamStatus: number | undefined;
  /** Writes raw text to every open stream. */
  write(text: string): void;
  /** Sends one event to every open stream. */
  push(event: string, data: unknown): void;
  /** Ends every open stream (as a server restart would). */
  dropStreams(): void;
  close(): Promise<void>;
}

export async function startGatehouseFront(target: string): Promise<GatehouseFront> {
  const upstream = new URL(target);
  const streams = new Set<ServerResponse>();

  const front: GatehouseFront = {
    url: '',
    verifyCalls: 0,
    streamConnections: 0,
    deniedTokens: [],
    streamStatus: undefined,
    holdVerify: undefined,
    write(text) {
      for (const stream of streams) stream.write(text);
    },
    push(event, data) {
      front.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    dropStreams() {
      for (const stream of streams) stream.destroy();
      streams.clear();
    },
    async close() {
      front.dropStreams();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const serveStream = (req: IncomingMessage, res: ServerResponse) => {
    if (front.streamStatus !== undefined) {
      res.writeHead(front.streamStatus, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'invalid_token', error_description: 'no' }));
      return;
    }
    if (!/^Bearer [a-z][a-z0-9]{1,15}_(live|test)_/.test(req.headers.authorization ?? '')) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_token"}');
      return;
    }
    front.streamConnections++;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store' });
    res.write(`event: ready\ndata: ${JSON.stringify({ deniedTokens: front.deniedTokens })}\n\n`);
    streams.add(res);
    res.on('close', () => streams.delete(res));
  };

  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/v1/revocations/stream') return serveStream(req, res);
    const isVerify = req.method === 'POST' && req.url === '/v1/keys/verify';
    if (isVerify) front.verifyCalls++;
    const hold = isVerify ? front.holdVerify : undefined;
    const forwarded = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        void Promise.resolve(hold).then(() => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
      },
    );
    forwarded.on('error', () => res.destroy());
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  front.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return front;
}

/** A loopback URL on which nothing listens (connections are refused). */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** A minimal OpenID issuer (metadata + JWKS) for tokens the test signs itself with its own key. */
export async function startFakeIssuer(jwks: { keys: unknown[] }): Promise<{ issuer: string; close(): Promise<void> }> {
  let issuer = '';
  const server = createServer((req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks.json` }));
    } else if (req.url === '/jwks.json') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
