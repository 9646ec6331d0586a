/**
 * Where the real PostgreSQL and Redis for tests are. Locally, a suite whose service is not configured is
 * skipped; under CI (CI set) a missing variable is a failure, never a silent skip.
 */
function required(name: 'GATEHOUSE_TEST_DATABASE_URL' | 'GATEHOUSE_TEST_REDIS_URL'): string | undefined {
  const value = process.env[name];
  if (!value && process.env.CI) throw new Error(`${name} must be set when CI is set`);
  return value || undefined;
}

export const testDatabaseUrl = required('GATEHOUSE_TEST_DATABASE_URL');
export const testRedisUrl = required('GATEHOUSE_TEST_REDIS_URL');
