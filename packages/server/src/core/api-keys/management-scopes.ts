/**
 * Scopes of the management API. Admin keys are ordinary keys holding some of these; `admin` implies all.
 * Any other scope string is the caller's own business and means nothing to Gatehouse.
 */
export const MANAGEMENT_SCOPES = [
  'admin',
  'keys:read',
  'keys:write',
  'keys:verify',
  'keys:report_leaked',
  'audit:read',
  'clients:read',
  'clients:write',
  'users:read',
  'users:write',
  'tokens:introspect',
  'signing-keys:read',
  'signing-keys:write',
  'blocks:read',
  'blocks:write',
  'metrics:read',
  'webhooks:read',
  'webhooks:write',
  'certificates:read',
  'certificates:write',
  'resources:read',
  'resources:write',
] as const;
export type ManagementScope = (typeof MANAGEMENT_SCOPES)[number];

const MANAGEMENT_SCOPE_SET: ReadonlySet<string> = new Set(MANAGEMENT_SCOPES);

export function isManagementScope(scope: string): boolean {
  return MANAGEMENT_SCOPE_SET.has(scope);
}

/** Whether a key holding `granted` may perform an operation that needs `required`. */
export function allowsManagementScope(granted: readonly string[], required: ManagementScope): boolean {
  return granted.includes('admin') || granted.includes(required);
}

