/**
 * The console's Resources page in a real Chromium, signed in as an admin user: the empty list, registering a
 * resource (the API sees it as registered), a refused registration (a taken identifier) shown with its error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshot, settle, signIn, startConsoleBrowser, type ConsoleBrowser } from './helpers/console-browser.js';

describe('console: resources (Chromium)', () => {
  let c: ConsoleBrowser;
  beforeAll(async () => {
    c = await startConsoleBrowser();
  });
  afterAll(async () => {
    await c?.close();
  });

  it('lists resources and registers one; a taken identifier is refused with its error', async () => {
    const admin = await c.createAdmin();
    const { page, problems, expect: allow } = await c.open();
    allow(/POST \S+\/v1\/resources 409$/);
    await signIn(page, c.t.issuer, admin.email);
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Resources', exact: true }).click();
    await page.getByRole('heading', { name: 'Resources', exact: true }).waitFor();
    await page.getByText('No resources yet.').waitFor();

    await page.getByRole('button', { name: 'Register resource' }).click();
    const form = page.getByRole('form', { name: 'Register a resource' });
    await form.getByLabel('Identifier').fill('https://mcp.example.com/mcp');
    await form.getByLabel('Name').fill('MCP tools');
    await form.getByLabel('Scopes').fill('tools:call tools:list');
    await form.getByLabel(/Self-registered clients/).check();
    await form.getByLabel('Token lifetime cap in seconds (optional)').fill('600');
    await screenshot(page, 'resource-create');
    await form.getByRole('button', { name: 'Register resource' }).click();
    const row = page.getByRole('table', { name: 'Resources' }).locator('tbody tr');
    await row.first().waitFor();
    expect(await row.first().locator('td').allTextContents()).toEqual(
      expect.arrayContaining(['https://mcp.example.com/mcp', 'MCP tools', 'tools:call tools:list', 'allowed']),
    );
    const registered = (await c.t.api('GET', '/v1/resources')).body.data;
    expect(registered).toHaveLength(1);
    expect(registered[0]).toMatchObject({
      identifier: 'https://mcp.example.com/mcp',
      name: 'MCP tools',
      scopes: ['tools:call', 'tools:list'],
      dynamicClients: true,
      accessTokenTtlSeconds: 600,
    });
    await screenshot(page, 'resources');

    // The same identifier again: refused, the error shown, nothing registered.
    await page.getByRole('button', { name: 'Register resource' }).click();
    await form.getByLabel('Identifier').fill('https://mcp.example.com/mcp');
    await form.getByLabel('Name').fill('again');
    await form.getByRole('button', { name: 'Register resource' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/already registered/);
    expect((await c.t.api('GET', '/v1/resources')).body.data).toHaveLength(1);

    await settle(page);
    expect(problems).toEqual([]);
  }, 90_000);
});
