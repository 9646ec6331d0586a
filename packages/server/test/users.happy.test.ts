import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from './helpers/databases.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

describe.each(dialects)('users over HTTP (%s)', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ dialect });
  });
  afterAll(() => t.close());

  it('creates a user with a normalised email; the password and its hash are never answered', async () => {
    const created = await t.api('POST', '/v1/users', {
      body: { email: '  Ada.Lovelace@Example.COM ', password: 'analytical engine', name: 'Ada Lovelace', tenantId: 'acme' },
    });
    expect(created.status).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const now = new Date(t.clock.now()).toISOString();
    expect(created.body).toStrictEqual({
      id: expect.stringMatching(/^usr_[0-9A-Za-z]{22}$/),
      object: 'user',
      email: 'ada.lovelace@example.com',
      name: 'Ada Lovelace',
      tenantId: 'acme',
      disabled: false,
      adminScopes: [],
      createdAt: now,
      updatedAt: now,
    });
    const fetched = await t.api('GET', `/v1/users/${created.body.id}`);
    expect(fetched.status).toBe(200);
    expect(fetched.body).toStrictEqual(created.body);

    // The stored hash is a scrypt hash at the configured cost, and the password verifies through the service.
    const stored = await t.services.stores.users.findById(created.body.id);
    expect(stored!.passwordHash).toMatch(/^\$scrypt\$ln=14,r=8,p=1\$/);
    const login = await t.services.users.authenticate('ADA.LOVELACE@example.com', 'analytical engine');
    expect(login.ok && login.user.id).toBe(created.body.id);

    const events = await t.api('GET', '/v1/audit-events?type=user.created');
    expect(events.body.data[0]).toMatchObject({ type: 'user.created', outcome: 'success', tenantId: 'acme', details: { userId: created.body.id } });
  });

  it('name and tenant are optional', async () => {
    const created = await t.api('POST', '/v1/users', { body: { email: 'grace@example.com', password: 'cobol compiler' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ email: 'grace@example.com', name: null, tenantId: null });
  });

  it('lists newest first with cursor pagination and a tenant filter', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      t.clock.advance(1000);
      const r = await t.api('POST', '/v1/users', { body: { email: `page${i}@example.com`, password: 'password123', tenantId: i % 2 ? 'globex' : 'initech' } });
      ids.push(r.body.id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/v1/users?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const r = await t.api('GET', url);
      expect(r.status).toBe(200);
      expect(r.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...r.body.data.map((u: any) => u.id));
      cursor = r.body.nextCursor;
    } while (cursor);
    expect(seen.slice(0, 5)).toStrictEqual([...ids].reverse());
    expect(new Set(seen).size).toBe(seen.length);
    const globex = await t.api('GET', '/v1/users?tenantId=globex');
    expect(globex.body.data.map((u: any) => u.id)).toStrictEqual([ids[3], ids[1]]);
    expect(JSON.stringify(globex.body)).not.toMatch(/password|scrypt/i);
  });

  it('deletes a user: 204, gone from get and list, cannot log in, audited; the email is free again', async () => {
    const created = await t.api('POST', '/v1/users', { body: { email: 'leaving@example.com', password: 'so long and thanks' } });
    const deleted = await t.api('DELETE', `/v1/users/${created.body.id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBe('');
    expect((await t.api('GET', `/v1/users/${created.body.id}`)).status).toBe(404);
    expect((await t.api('DELETE', `/v1/users/${created.body.id}`)).status).toBe(404);
    const listed = await t.api('GET', '/v1/users?limit=100');
    expect(listed.body.data.map((u: any) => u.id)).not.toContain(created.body.id);
    expect(await t.services.users.authenticate('leaving@example.com', 'so long and thanks')).toEqual({ ok: false, reason: 'unknown_email' });
    const events = await t.api('GET', '/v1/audit-events?type=user.deleted');
    expect(events.body.data.map((e: any) => e.details.userId)).toContain(created.body.id);
    const again = await t.api('POST', '/v1/users', { body: { email: 'leaving@example.com', password: 'back again, hello' } });
    expect(again.status).toBe(201);
  });

  it('updates email, name and password: the email normalised, the password hashed as at creation; audited by field names only', async () => {
    const created = await t.api('POST', '/v1/users', { body: { email: 'mary@example.com', password: 'first passphrase', name: 'Mary', tenantId: 'acme' } });
    t.clock.advance(5000);
    const updated = await t.api('PATCH', `/v1/users/${created.body.id}`, {
      body: { email: '  Mary.Shelley@Example.COM ', name: 'Mary Shelley', password: 'frankenstein 1818' },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toStrictEqual({
      ...created.body,
      email: 'mary.shelley@example.com',
      name: 'Mary Shelley',
      updatedAt: new Date(t.clock.now()).toISOString(),
    });
    expect((await t.api('GET', `/v1/users/${created.body.id}`)).body).toStrictEqual(updated.body);
    const stored = await t.services.stores.users.findById(created.body.id);
    expect(stored!.passwordHash).toMatch(/^\$scrypt\$ln=14,r=8,p=1\$/);
    expect(await t.services.users.authenticate('mary.shelley@example.com', 'first passphrase')).toEqual({ ok: false, reason: 'wrong_password' });
    expect(await t.services.users.authenticate('mary@example.com', 'frankenstein 1818')).toEqual({ ok: false, reason: 'unknown_email' });
    const login = await t.services.users.authenticate('MARY.SHELLEY@example.com', 'frankenstein 1818');
    expect(login.ok && login.user.id).toBe(created.body.id);

    // The name can be cleared; an unchanged value is not a change.
    const cleared = await t.api('PATCH', `/v1/users/${created.body.id}`, { body: { name: null, email: 'mary.shelley@example.com' } });
    expect(cleared.body.name).toBeNull();

    const events = await t.api('GET', '/v1/audit-events?type=user.updated');
    const mine = events.body.data.filter((e: any) => e.details.userId === created.body.id).map((e: any) => e.details);
    expect(mine).toStrictEqual([
      { userId: created.body.id, fields: ['name'] },
      { userId: created.body.id, fields: ['email', 'name', 'password'] },
    ]);
    expect(JSON.stringify(events.body)).not.toContain('frankenstein');
    expect(JSON.stringify(events.body)).not.toContain('mary.shelley');
    // The old email is free again.
    expect((await t.api('POST', '/v1/users', { body: { email: 'mary@example.com', password: 'another passphrase' } })).status).toBe(201);
  });
});
