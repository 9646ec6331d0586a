// Runs one autocannon load and reduces it to the numbers the report needs. Any failed request (connection
// error, timeout, non-2xx status, unexpected body) makes the run throw: a benchmark of errors measures nothing.
import autocannon from 'autocannon';
import { startCpuMeter } from './cpu.js';

export const DEFAULTS = {
  connections: 50,
  pipelining: 1,
};

/**
 * @param {object} options
 * @param {string} options.url          origin, e.g. http://127.0.0.1:1234
 * @param {Array<{method:string,path:string,headers:object,body:string}>} options.requests
 *        prepared requests, dealt out round-robin to the connections, each of which cycles through its share
 *        (given the whole list, all connections would walk it in step and only its first entries be sent)
 * @param {(body: string) => boolean} options.verifyBody  cheap check of each response body
 * @param {number} options.duration     seconds
 * @param {string} options.title
 * @param {number} [options.serverPid]  the process under load, for CPU accounting
 * @param {object} [options.tlsOptions] for https URLs: e.g. { cert, key } to present a client certificate
 */
export async function runLoad({ url, requests, verifyBody, duration, title, serverPid, connections = DEFAULTS.connections, tlsOptions }) {
  // autocannon's own latency histogram has 1 ms resolution; every response time (hrtime-based, fractional ms)
  // is also kept here so that p50/p99 can be reported to the microsecond.
  let latencies = new Float64Array(1 << 18);
  let recorded = 0;
  let clients = 0;
  const instance = autocannon({
    url,
    title,
    connections,
    pipelining: DEFAULTS.pipelining,
    duration,
    timeout: 10,
    ...(tlsOptions ? { tlsOptions } : {}),
    // Static requests only (no setupRequest): autocannon encodes each of a connection's requests once, when
    // the connection is set up, and spends nothing per request on building them.
    requests: [requests[0]],
    setupClient(client) {
      const index = clients++ % connections;
      const share = requests.filter((_, j) => j % connections === index);
      client.setRequests((share.length ? share : [requests[index % requests.length]]).map((request) => ({ ...request })));
    },
    verifyBody,
  });
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    if (recorded === latencies.length) {
      const bigger = new Float64Array(latencies.length * 2);
      bigger.set(latencies);
      latencies = bigger;
    }
    latencies[recorded++] = responseTime;
  });
  const stopCpuMeter = startCpuMeter(serverPid ? [serverPid] : []);
  const result = await instance;
  const cpu = stopCpuMeter();

  const problems = [];
  if (result.errors) problems.push(`${result.errors} connection errors`);
  if (result.timeouts) problems.push(`${result.timeouts} timeouts`);
  if (result.non2xx) problems.push(`${result.non2xx} non-2xx responses ${JSON.stringify(result.statusCodeStats)}`);
  if (result.mismatches) problems.push(`${result.mismatches} responses with an unexpected body`);
  if (result.requests.total === 0) problems.push('no responses at all');
  if (problems.length) {
    const error = new Error(`${title}: ${problems.join(', ')}`);
    error.result = result;
    throw error;
  }

  const sorted = latencies.subarray(0, recorded).sort();
  const percentile = (p) => sorted[Math.min(recorded - 1, Math.max(0, Math.ceil((p / 100) * recorded) - 1))];
  return {
    title,
    requests: result.requests.total,
    // always 0 here (any non-2xx response makes the run throw above); kept so reports can show it
    non2xx: result.non2xx,
    seconds: result.duration,
    reqPerSec: result.requests.total / result.duration,
    p50: percentile(50),
    p90: percentile(90),
    p99: percentile(99),
    max: sorted[recorded - 1],
    // cores used on average during the run: the server, the load generator, every other process
    cpu: cpu && { server: cpu.watched[0] ?? null, loadgen: cpu.loadgen, other: cpu.other },
    // autocannon's own summary, for comparison with its CLI
    autocannon: { average: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 },
  };
}
