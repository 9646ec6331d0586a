/**
 * The console's key lifecycle in a real Chromium, signed in through Gatehouse's login page as an admin user:
 * create (the plaintext shown once, copied), search, rotate, revoke with confirmation; POST /v1/keys/verify
 * agrees at every step.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshot, settle, signIn, startConsoleBrowser, type ConsoleBrowser } from './helpers/console-browser.js';
import { sinkCredential } from './helpers/log-sink.js';

describe('console: API keys (Chromium)', () => {
  let c: ConsoleBrowser;
  beforeAll(async () => {
    c = await startConsoleBrowser();
  });
  afterAll(async () => {
    await c?.close();
  });

  const verify = async (key: string) => (await c.t.api('POST', '/v1/keys/verify', { body: { key } })).body;

  it('creates a key, shows it once with a copy button, rotates it and revokes it; the verify endpoint agrees', async () => {
    const admin = await c.createAdmin();
    const { page, problems } = await c.open();
    await signIn(page, c.t.issuer, admin.email, '/console/keys');
    await page.getByRole('heading', { name: 'API keys' }).waitFor();
    // The root admin key is the one key so far.
    await page.getByRole('table').waitFor();

    // Create.
    await page.getByRole('button', { name: 'Create key' }).click();
    const form = page.getByRole('form', { name: 'Create an API key' });
    await form.getByLabel('Name', { exact: true }).fill('billing-service');
    await form.getByLabel('Environment').selectOption('test');
    await form.getByLabel("Your API's scopes").fill('read:orders write:orders');
    await form.getByLabel('Rate limit (requests, optional)').fill('100');
    await form.getByLabel('per seconds').fill('60');
    await form.getByLabel('Metadata (optional)').fill('team=billing');
    await screenshot(page, 'key-create');
    await form.getByRole('button', { name: 'Create key' }).click();
    const secret = page.getByTestId('secret');
    await secret.waitFor();
    const plaintext = (await secret.textContent())!;
    sinkCredential(plaintext);
    expect(plaintext).toMatch(/^[a-z]+_test_/);
    await page.getByText('will never show it again').waitFor();
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.getByText('Copied to the clipboard.').waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(plaintext);
    expect(await verify(plaintext)).toMatchObject({ valid: true, code: 'VALID', name: 'billing-service', scopes: ['read:orders', 'write:orders'] });
    await screenshot(page, 'key-created');

    // Once: gone from the page when dismissed, and on the key's page.
    await page.getByRole('button', { name: 'I have stored it' }).click();
    await page.getByRole('heading', { name: 'billing-service' }).waitFor();
    expect(await page.getByTestId('key-status').textContent()).toBe('active');
    await page.getByText('100 per 60 s').waitFor();
    expect(await page.content()).not.toContain(plaintext);
    await page.getByRole('heading', { name: 'Audit trail' }).waitFor();
    await page.locator('tr[data-event-type="key.created"]').first().waitFor();
    // Its usage (GET /v1/keys/{id}/usage): the verification above, charted by outcome.
    await page.locator('.chart-canvas canvas').waitFor();
    expect(await page.getByRole('table', { name: 'Verifications per hour by outcome' }).locator('tbody td').allTextContents()).toEqual(['1']);
    await screenshot(page, 'key');

    // Search by name and by prefix.
    await page.getByRole('link', { name: 'Keys', exact: true }).click();
    const search = page.getByRole('search', { name: 'Filter keys' });
    await page.getByLabel('Name or prefix').fill('no-such-key');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('No key matches these filters.').waitFor();
    await page.getByLabel('Name or prefix').fill(plaintext.slice(0, 12));
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'billing-service' }).waitFor();
    await page.getByLabel('Name or prefix').fill('');
    await search.getByLabel('Status').selectOption('revoked');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('No key matches these filters.').waitFor();
    await search.getByLabel('Status').selectOption('active');
    await page.getByRole('button', { name: 'Search' }).click();
    await screenshot(page, 'keys');
    await page.getByRole('link', { name: 'billing-service' }).click();

    // Rotate with no grace: the old key stops at once, the new one is shown once.
    await page.getByLabel('Old key keeps working for (hours)').fill('0');
    await page.getByRole('button', { name: 'Rotate key' }).click();
    await page.getByText('The replacement key').waitFor();
    const replacement = (await page.getByTestId('secret').textContent())!;
    sinkCredential(replacement);
    expect(replacement).not.toBe(plaintext);
    expect(await verify(plaintext)).toMatchObject({ valid: false, code: 'REVOKED' });
    expect(await verify(replacement)).toMatchObject({ valid: true });
    await page.getByRole('button', { name: 'I have stored it' }).click();
    await page.getByText('Replaces').waitFor();

    // Revoke, after a confirmation that can be cancelled.
    await page.getByRole('button', { name: 'Revoke key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Revoke billing-service?' });
    await dialog.getByText('stops working at once').waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await verify(replacement)).toMatchObject({ valid: true });
    await page.getByRole('button', { name: 'Revoke key' }).click();
    await screenshot(page, 'key-revoke');
    await dialog.getByRole('button', { name: 'Revoke now' }).click();
    await page.getByTestId('key-status').filter({ hasText: 'revoked' }).waitFor();
    expect(await verify(replacement)).toMatchObject({ valid: false, code: 'REVOKED' });
    await page.locator('tr[data-event-type="key.revoked"]').first().waitFor();

    await settle(page);
    expect(problems).toEqual([]);
  }, 90_000);

  it('shows the error_description and request id of a refused action', async () => {
    // A keys:write admin cannot give a key a management scope it does not hold itself.
    const admin = await c.createAdmin({ adminScopes: ['keys:read', 'keys:write', 'audit:read'] });
    const { page, problems, expect: allow } = await c.open();
    allow(/POST \S+\/v1\/keys 403$/);
    await signIn(page, c.t.issuer, admin.email, '/console/keys');
    await page.getByRole('button', { name: 'Create key' }).click();
    const form = page.getByRole('form', { name: 'Create an API key' });
    await form.getByLabel('Name', { exact: true }).fill('too powerful');
    await form.getByText('Gatehouse management scopes (admin keys)').click();
    await form.getByLabel('users:write').check();
    await form.getByRole('button', { name: 'Create key' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/forbidden|insufficient_scope/);
    expect(await alert.textContent()).toMatch(/Request id req[-_]?\S+|Request id \S+/);
    await settle(page);
    expect(problems).toEqual([]);
  });
});
