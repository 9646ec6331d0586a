import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ERROR_CATALOG } from '../../core/errors.js';

export const ErrorResponse = Type.Object(
  {
    error: Type.String({ description: 'Stable error code; see docs/errors.md.', examples: Object.keys(ERROR_CATALOG) }),
    error_description: Type.String(),
    request_id: Type.String(),
  },
  { description: 'The one error shape of every Gatehouse endpoint.' },
);

/**
 * `T | null` as a JSON Schema type array (`"type": ["string", "null"]`) rather than `anyOf`: fast-json-stringify
 * resolves an `anyOf` by running a validator on every value it serializes, a type array it serializes directly.
 * Type arrays are plain JSON Schema 2020-12, so OpenAPI 3.1 documents them as they are.
 */
export const Nullable = <T extends TSchema>(schema: T) => {
  const type = (schema as { type?: unknown }).type;
  if (typeof type !== 'string') return Type.Union([schema, Type.Null()]);
  return Type.Unsafe<Static<T> | null>({ ...schema, type: [type, 'null'] });
};

export const Timestamp = Type.String({ format: 'date-time', description: 'RFC 3339 time, UTC.' });

/** Printable text without control characters. */
export const Text = (options: { minLength?: number; maxLength: number; description?: string }) =>
  Type.String({ pattern: '^[^\\u0000-\\u001f\\u007f]*$', minLength: options.minLength ?? 0, ...options });

export const TenantId = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'Tenant identifier.' });

export const Cursor = Type.String({ maxLength: 512, description: 'Opaque cursor from a previous page.' });

export const PageLimit = (max: number, def: number) => Type.Integer({ minimum: 1, maximum: max, default: def });

/** The error responses a route may give, for the OpenAPI document. */
export function errorResponses(...statuses: number[]): Record<number, typeof ErrorResponse> {
  return Object.fromEntries(statuses.map((status) => [status, ErrorResponse]));
}

export const toIso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
