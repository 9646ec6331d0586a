import type { Socket } from 'node:net';
import { ERROR_CATALOG, type ErrorCode } from '../core/errors.js';

/**
 * Errors Node's HTTP parser raises before Fastify sees a request (oversized headers, garbage on the wire)
 * still get the one error shape.
 */
export function writeClientError(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const code: ErrorCode = error.code === 'HPE_HEADER_OVERFLOW' ? 'request_header_too_large' : 'invalid_request';
  const { status, description } = ERROR_CATALOG[code];
  const body = JSON.stringify({ error: code, error_description: description, request_id: null });
  socket.end(
    `HTTP/1.1 ${status} ${code === 'invalid_request' ? 'Bad Request' : 'Request Header Fields Too Large'}\r\n` +
      'Connection: close\r\nContent-Type: application/json; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\n' +
      `Cache-Control: no-store\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
