import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/test-app.js';

/** Bad input gets a clear 4xx in the one error shape, and nothing is stored. */
describe('users: bad input', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
    await t.api('POST', '/v1/users', { body: { email: 'taken@example.com', password: 'first password' } });
  });
  afterAll(() => t.close());

  const countUsers = async () => (await t.services.stores.users.list({ limit: 10_000 })).length;

  async function expectRejected(body: unknown, status: number, error: string, description?: RegExp) {
    const before = await countUsers();
    const r = await t.api('POST', '/v1/users', { body });
    expect(r.status, JSON.stringify(r.body)).toBe(status);
    expect(r.body.error).toBe(error);
    expect(r.body.request_id).toBe(r.headers['x-request-id']);
    if (description) expect(r.body.error_description).toMatch(description);
    expect(await countUsers()).toBe(before);
    return r;
  }

  it('409 conflict for an email that exists, in any spelling', async () => {
    await expectRejected({ email: 'taken@example.com', password: 'another password' }, 409, 'conflict', /already exists/);
    await expectRejected({ email: ' TAKEN@Example.com', password: 'another password' }, 409, 'conflict');
  });

  it('400 for passwords outside the policy, with the reason', async () => {
    await expectRejected({ email: 'a@example.com', password: 'short' }, 400, 'invalid_request', /at least 8/);
    await expectRejected({ email: 'a@example.com', password: 'x'.repeat(1025) }, 400, 'invalid_request', /at most 1024/);
    await expectRejected({ email: 'a@example.com', password: 'x'.repeat(5000) }, 400, 'invalid_request', /password/);
    await expectRejected({ email: 'a@example.com', password: 'tab\there1' }, 400, 'invalid_request', /control/);
    await expectRejected({ email: 'a@example.com', password: '' }, 400, 'invalid_request');
    await expectRejected({ email: 'a@example.com', password: 12345678 }, 400, 'invalid_request');
  });

  it('400 for bad emails, names, tenants, missing or unknown fields', async () => {
    await expectRejected({ email: 'not-an-email', password: 'password123' }, 400, 'invalid_request', /email/);
    await expectRejected({ email: 'a b@example.com', password: 'password123' }, 400, 'invalid_request', /email/);
    await expectRejected({ email: 'a\u0000@example.com', password: 'password123' }, 400, 'invalid_request');
    await expectRejected({ password: 'password123' }, 400, 'invalid_request', /email/);
    await expectRejected({ email: 'a@example.com' }, 400, 'invalid_request', /password/);
    await expectRejected({ email: 'a@example.com', password: 'password123', name: '' }, 400, 'invalid_request', /name/);
    await expectRejected({ email: 'a@example.com', password: 'password123', tenantId: 'bad tenant' }, 400, 'invalid_request', /tenantId/);
    await expectRejected({ email: 'a@example.com', password: 'password123', role: 'admin' }, 400, 'invalid_request', /unknown field "role"/);
    await expectRejected('{"email":', 400, 'invalid_json');
  });

  it('400 for malformed ids and cursors, 404 for unknown ids', async () => {
    expect((await t.api('GET', '/v1/users/key_abc')).status).toBe(400);
    expect((await t.api('DELETE', '/v1/users/usr_with-dash')).status).toBe(400);
    expect((await t.api('GET', '/v1/users?cursor=nonsense')).body.error).toBe('invalid_request');
    expect((await t.api('GET', '/v1/users?limit=0')).status).toBe(400);
    const unknown = await t.api('GET', '/v1/users/usr_0000000000000000000000');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toBe('not_found');
    expect((await t.api('DELETE', '/v1/users/usr_0000000000000000000000')).status).toBe(404);
  });

  it('PATCH: 409 for an email another user has, 400 for bad fields or an empty body, 404 for unknown ids; nothing changes', async () => {
    const mine = (await t.api('POST', '/v1/users', { body: { email: 'patched@example.com', password: 'first password', name: 'Kept' } })).body;
    const patch = (body: unknown) => t.api('PATCH', `/v1/users/${mine.id}`, { body });
    const cases: Array<[unknown, number, string, RegExp?]> = [
      [{ email: ' TAKEN@example.com' }, 409, 'conflict', /already exists/],
      [{ email: 'not-an-email' }, 400, 'invalid_request', /email/],
      [{ password: 'short' }, 400, 'invalid_request', /at least 8/],
      [{ password: 'has\u0007bell in it' }, 400, 'invalid_request', /control characters/],
      [{ name: '' }, 400, 'invalid_request', /name/],
      [{ disabled: 'yes' }, 400, 'invalid_request', /disabled/],
      [{ tenantId: 'other' }, 400, 'invalid_request', /unknown field "tenantId"/],
      [{}, 400, 'invalid_request'],
      [{ name: 'Changed', email: 'taken@example.com' }, 409, 'conflict'],
    ];
    for (const [body, status, error, description] of cases) {
      const r = await patch(body);
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect(r.body.error).toBe(error);
      if (description) expect(r.body.error_description).toMatch(description);
    }
    expect((await t.api('GET', `/v1/users/${mine.id}`)).body).toStrictEqual(mine);
    expect((await t.services.users.authenticate('patched@example.com', 'first password')).ok).toBe(true);
    expect((await t.api('PATCH', '/v1/users/usr_0000000000000000000000', { body: { name: 'x' } })).status).toBe(404);
    expect((await t.api('PATCH', '/v1/users/key_abc', { body: { name: 'x' } })).status).toBe(400);
    expect((await t.api('GET', '/v1/users/usr_0000000000000000000000/sessions')).status).toBe(404);
    expect((await t.api('DELETE', '/v1/users/usr_0000000000000000000000/sessions')).status).toBe(404);
    expect((await t.api('DELETE', `/v1/users/${mine.id}/sessions/ses_0000000000000000000000`)).status).toBe(404);
    expect((await t.api('DELETE', `/v1/users/${mine.id}/sessions/not-a-session`)).status).toBe(400);
  });
});
