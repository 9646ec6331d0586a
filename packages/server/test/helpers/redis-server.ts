import { freePort, spawnProcess, waitForExit, type SpawnedProcess } from './spawn-server.js';

export interface ThrowawayRedis {
  port: number;
  process: SpawnedProcess;
  /** SIGKILL: every key is lost (no persistence). */
  kill(): Promise<void>;
}

/**
 * A private redis-server for outage tests (never the shared one): no persistence, on `port` or a free one.
 * Stop it with kill() in the test's teardown.
 */
export async function startThrowawayRedis(port?: number): Promise<ThrowawayRedis> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const p = port ?? (await freePort());
    const redis = spawnProcess(
      ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
      { command: 'redis-server' },
    );
    try {
      await redis.waitForStdout(/Ready to accept connections/, `redis-server on port ${p}`);
      return {
        port: p,
        process: redis,
        async kill() {
          redis.process.kill('SIGKILL');
          await waitForExit(redis, 'redis-server (kill -9)');
        },
      };
    } catch (error) {
      lastError = error; // most likely the port was taken meanwhile: try another
      redis.process.kill('SIGKILL');
      await redis.exited;
      if (port !== undefined) break;
    }
  }
  throw lastError;
}
