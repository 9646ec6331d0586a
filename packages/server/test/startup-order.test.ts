/**
 * Start-up order, observed from outside a real `gatehouse start` process: polled as hard as possible from the
 * moment the process is spawned, the very first answers the server gives must already come from the final
 * configuration (mTLS fields in the discovery documents, which are cached for five minutes), readiness must not
 * be reported earlier, and a generated root key must be on stdout before the server answers anything.
 */
import { request } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/databases.js';
import { killSpawned, spawnProcess, waitForExit, withFreePorts } from './helpers/spawn-server.js';

interface FirstAnswer {
  status: number;
  body: any;
  cacheControl: string | undefined;
  /** The server's stdout as received when this answer was complete. */
  stdoutThen: string;
}

/** GET over a fresh connection; undefined while nothing listens (ECONNREFUSED). */
function probe(url: string): Promise<{ status: number; text: string; cacheControl: string | undefined } | undefined> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (response) => {
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

describe('gatehouse start: nothing is answered before the configuration is final', () => {
  const dirs: Array<ReturnType<typeof tempDir>> = [];
  afterAll(() => dirs.forEach((dir) => dir.remove()));

  it('the first discovery documents already carry the mTLS fields, /readyz waits for them, the root key is printed first', async () => {
    const { port, tlsPort, child, answers } = await withFreePorts(2, async ([port, tlsPort]) => {
      // A data dir of its own per attempt: an empty store, so a root key is generated each time.
      const dir = tempDir('startup-order');
      dirs.push(dir);
      const child = spawnProcess(['start'], {
        env: {
          GATEHOUSE_DATA_DIR: dir.path,
          GATEHOUSE_PORT: String(port),
          GATEHOUSE_TLS_PORT: String(tlsPort),
          GATEHOUSE_LOG_LEVEL: 'warn',
        },
      });
      let gone = false;
      void child.exited.then(() => (gone = true));
      const poll = (path: string) => firstAnswer(`http://127.0.0.1:${port}${path}`, child.stdout, () => gone);
      const answers = await Promise.all([
        poll('/.well-known/oauth-authorization-server'),
        poll('/.well-known/openid-configuration'),
        poll('/readyz'),
        poll('/healthz'),
      ]).catch(async (error: Error) => {
        // A port taken by another process in between: the server says EADDRINUSE (withFreePorts tries again).
        await waitForExit(child, 'the failed start');
        throw new Error(`${error.message}\n${child.stderr()}`);
      });
      return { port, tlsPort, child, answers };
    });
    const [oauthMetadata, oidcMetadata, ready, health] = answers;
    const base = `http://127.0.0.1:${port}`;
    await child.waitForStdout(/Gatehouse listening on/, 'the listening line');

    // The generated root key was on stdout before the first answer of any of them.
    const keyLine = /Root admin key \(shown once[^\n]*\n\n {2}(sk_live_\S+)/;
    const key = child.stdout().match(keyLine)?.[1];
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
});
