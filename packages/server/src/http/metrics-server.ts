import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PrometheusMetrics } from '../core/metrics/prometheus-metrics.js';
import { ERROR_CATALOG, type ErrorCode } from '../core/errors.js';
import { METRICS_PATH } from './routes/metrics.js';
import { newRequestId } from './request-id.js';

export interface MetricsServer {
  /** e.g. http://127.0.0.1:9464/metrics */
  url: string;
  close(): Promise<void>;
}

/**
 * GATEHOUSE_METRICS_PORT: GET /metrics without authentication, on a port of its own (bound to GATEHOUSE_HOST),
 * for a Prometheus that reaches the server over a private network. Anything else is a 404 in the one error shape.
 */
export async function startMetricsServer(metrics: PrometheusMetrics, host: string, port: number): Promise<MetricsServer> {
  const fail = (response: ServerResponse, code: ErrorCode) => {
    const body = JSON.stringify({ error: code, error_description: ERROR_CATALOG[code].description, request_id: newRequestId() });
    response.writeHead(ERROR_CATALOG[code].status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    response.end(body);
  };
  const server = createServer((request, response) => {
    if ((request.method !== 'GET' && request.method !== 'HEAD') || request.url?.split('?')[0] !== METRICS_PATH) {
      return fail(response, 'not_found');
    }
    metrics.render().then(
      (text) => {
        response.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
        response.end(request.method === 'HEAD' ? undefined : text);
      },
      () => fail(response, 'server_error'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const hostInUrl = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    url: `http://${hostInUrl}:${bound.port}${METRICS_PATH}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
