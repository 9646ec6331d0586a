/**
 * Start-up order, observed from outside a real `gatehouse start` process: polled as hard as possible from the
 * moment the process is spawned, the very first answers the server gives must already come from the final
 * configuration (mTLS fields in the discovery documents, which are cached for five minutes), readiness must not
 * be reported earlier, and a generated root key must be on stdout before the server answers anything.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { afterAll, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import { holdRequests } from '../src/http/build-app.js';
import { tempDir } from './helpers/databases.js';
import { createTestApp } from './helpers/test-app.js';
import { killSpawned, spawnProcess, waitForExit, withFreePorts } from './helpers/spawn-server.js';

interface FirstAnswer {
  status: number;
  body: any;
  cacheControl: string | undefined;
  /** The server's stdout as received when this answer was complete. */
  stdoutThen: string;
}

/**
 * GET over a fresh connection; undefined while nothing listens (ECONNREFUSED). Over https the server certificate
 * is not checked: the CA that issues it is created by the very start being observed.
 */
function probe(url: string): Promise<{ status: number; text: string; cacheControl: string | undefined } | undefined> {
  return new Promise((resolve, reject) => {
    const request = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = request(url, { agent: false, rejectUnauthorized: false }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, text, cacheControl: response.headers['cache-control'] }));
      response.on('error', reject);
    });
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNREFUSED' ? resolve(undefined) : reject(error)));
    req.end();
  });
}

/** Polls `url` back to back until the first answer (bounded by a deadline, which only turns a hang into a failure). */
async function firstAnswer(url: string, output: () => string, exited: () => boolean): Promise<FirstAnswer> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const answer = await probe(url);
    if (answer) {
      let body: unknown = answer.text;
      try {
        body = JSON.parse(answer.text);
      } catch {
        /* not JSON */
      }
      return { status: answer.status, body, cacheControl: answer.cacheControl, stdoutThen: output() };
    }
    if (exited() || Date.now() > deadline) throw new Error(`${url} never answered\n${output()}`);
  }
}

afterAll(() => killSpawned());

const dirs: Array<ReturnType<typeof tempDir>> = [];
afterAll(() => dirs.forEach((dir) => dir.remove()));

/**
 * Starts `gatehouse start` on an empty store (a root key is generated) with the ports `env(ports)` names, and polls
 * every `urls(ports)` back to back from the moment the process is spawned until each has answered once.
 */
async function startAndPoll(portCount: number, env: (ports: number[]) => Record<string, string>, urls: (ports: number[]) => string[]) {
  return withFreePorts(portCount, async (ports) => {
    const dir = tempDir('startup-order');
    dirs.push(dir);
    const child = spawnProcess(['start'], { env: { GATEHOUSE_DATA_DIR: dir.path, GATEHOUSE_LOG_LEVEL: 'warn', ...env(ports) } });
    let gone = false;
    void child.exited.then(() => (gone = true));
    const answers = await Promise.all(urls(ports).map((url) => firstAnswer(url, child.stdout, () => gone))).catch(async (error: Error) => {
      // A port taken by another process in between: the server says EADDRINUSE (withFreePorts tries again).
      await waitForExit(child, 'the failed start');
      throw new Error(`${error.message}\n${child.stderr()}`);
    });
    return { ports, child, answers };
  });
}

/** The generated root key, as printed. */
function rootKeyIn(stdout: string): string | undefined {
  return /Root admin key \(shown once[^\n]*\n\n {2}(sk_live_\S+)/.exec(stdout)?.[1];
}

describe('gatehouse start: nothing is answered before the configuration is final', () => {
  it('the first discovery documents already carry the mTLS fields, /readyz waits for them, the root key is printed first', async () => {
    const paths = ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration', '/readyz', '/healthz'];
    const {
      ports: [port, tlsPort],
      child,
      answers,
    } = await startAndPoll(
      2,
      ([port, tlsPort]) => ({ GATEHOUSE_PORT: String(port), GATEHOUSE_TLS_PORT: String(tlsPort) }),
      ([port]) => paths.map((path) => `http://127.0.0.1:${port}${path}`),
    );
    const [oauthMetadata, oidcMetadata, ready, health] = answers as [FirstAnswer, FirstAnswer, FirstAnswer, FirstAnswer];
    const base = `http://127.0.0.1:${port}`;
    await child.waitForStdout(/Gatehouse listening on/, 'the listening line');

    // The generated root key was on stdout before the first answer of any of them.
    const key = rootKeyIn(child.stdout());
    expect(key, child.stdout()).toBeDefined();
    for (const first of [oauthMetadata, oidcMetadata, ready, health]) expect.soft(first.stdoutThen).toContain(key);

    const mtls = `https://127.0.0.1:${tlsPort}`;
    for (const first of [oauthMetadata, oidcMetadata]) {
      expect(first.status).toBe(200);
      expect(first.cacheControl).toBe('public, max-age=300');
      expect(first.body.issuer).toBe(base);
      expect(first.body.tls_client_certificate_bound_access_tokens).toBe(true);
      expect(first.body.mtls_endpoint_aliases).toEqual({
        token_endpoint: `${mtls}/oauth/token`,
        revocation_endpoint: `${mtls}/oauth/revoke`,
        introspection_endpoint: `${mtls}/oauth/introspect`,
        userinfo_endpoint: `${mtls}/oauth/userinfo`,
      });
      expect(first.body.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['tls_client_auth', 'self_signed_tls_client_auth']));
    }
    expect(ready.status).toBe(200);
    expect(health.status).toBe(200);

    child.process.kill('SIGTERM');
    expect((await waitForExit(child, 'SIGTERM')).code).toBe(0);
  });

  it('with GATEHOUSE_PORT=0, the TLS listener (bound first) answers nothing before the issuer names the port the API got', async () => {
    const {
      ports: [tlsPort],
      child,
      answers,
    } = await startAndPoll(
      1,
      ([tlsPort]) => ({ GATEHOUSE_PORT: '0', GATEHOUSE_TLS_PORT: String(tlsPort) }),
      ([tlsPort]) => [`https://127.0.0.1:${tlsPort}/.well-known/openid-configuration`],
    );
    const first = answers[0]!;
    const listening = (await child.waitForStdout(/Gatehouse listening on (http:\/\/\S+)/, 'the listening line'))[1]!;
    expect(first.status).toBe(200);
    expect(first.body.issuer).toBe(listening);
    expect(first.body.token_endpoint).toBe(`${listening}/oauth/token`);
    expect(first.body.mtls_endpoint_aliases.token_endpoint).toBe(`https://127.0.0.1:${tlsPort}/oauth/token`);
    expect(first.stdoutThen).toContain(rootKeyIn(child.stdout()));

    child.process.kill('SIGTERM');
    expect((await waitForExit(child, 'SIGTERM')).code).toBe(0);
  });
});

describe('holdRequests (what startServer holds requests with while its listeners bind)', () => {
  /** An app listening on a loopback port with its requests held; `arrived()` resolves once a request has reached it. */
  async function heldApp() {
    const t = await createTestApp();
    const release = holdRequests(t.app);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}/.well-known/openid-configuration`;
    // Registered after the app's own request listener, so it runs once that listener has taken the request.
    const arrived = () => new Promise<void>((resolve) => t.app.server.once('request', () => resolve()));
    return { t, release, url, arrived };
  }

  it('answers a request that arrived while held from the configuration as it is at release', async () => {
    const { t, release, url, arrived } = await heldApp();
    try {
      const reached = arrived();
      const answer = fetch(url).then(async (response) => ({ status: response.status, body: (await response.json()) as any }));
      await reached;
      t.config.mtlsUrl = 'https://mtls.example.com';
      release();
      const { status, body } = await answer;
      expect(status).toBe(200);
      expect(body.mtls_endpoint_aliases.token_endpoint).toBe('https://mtls.example.com/oauth/token');
    } finally {
      await t.close();
    }
  });

  it('a failed start drops held requests unanswered: their connections close without a response', async () => {
    const { t, release, url, arrived } = await heldApp();
    try {
      const reached = arrived();
      const answer = fetch(url).then(
        (response) => `answered ${response.status}`,
        (error: Error) => `failed: ${String((error.cause as Error | undefined)?.message ?? error.message)}`,
      );
      await reached;
      release({ drop: true });
      expect(await answer).toMatch(/^failed: /);
      // Released: later requests flow.
      expect((await fetch(url)).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});
