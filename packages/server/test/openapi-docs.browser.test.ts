import { type Browser } from 'playwright-core';
import { launchChromium } from './helpers/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/test-app.js';

/** /docs (Swagger UI) in a real Chromium: branded as Gatehouse, and nothing refused by its own CSP. */
describe('API docs at /docs in a real browser (Chromium)', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    t = await createTestApp();
    base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('loads the API description with no CSP violation and no console error, titled and branded Gatehouse', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    await page.exposeFunction('reportViolation', (text: string) => problems.push(`CSP: ${text}`));
    // Run in the page (the test's TypeScript has no DOM types, so as source text).
    await page.addInitScript(
      "document.addEventListener('securitypolicyviolation', (e) => window.reportViolation(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`));",
    );
    const response = await page.goto(`${base}/docs`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toBeTruthy();
    // The operations are rendered from /openapi.json.
    await page.locator('.opblock-summary-path', { hasText: '/v1/keys/verify' }).first().waitFor();
    // No other project's logo: the top bar shows Gatehouse's own (served by Gatehouse), or none.
    await page.locator('.topbar a img').waitFor();
    const logos = await page.locator('.topbar a img, .topbar a svg').evaluateAll((nodes) =>
      nodes.map((node) => (node.tagName === 'IMG' ? (node as unknown as { src: string }).src : node.outerHTML.slice(0, 200))),
    );
    expect(logos).toHaveLength(1);
    expect(logos[0]).toMatch(/^data:image\/svg\+xml;base64,/);
    const svg = Buffer.from(logos[0]!.slice(logos[0]!.indexOf(',') + 1), 'base64').toString();
    expect(svg).toContain('<title>Gatehouse</title>');
    expect(svg).not.toMatch(/fastify|swagger|smartbear/i);
    // Late violations (styles applied after render) are reported asynchronously: let the page settle.
    await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)))');
    expect(problems).toEqual([]);
    expect(await page.title()).toBe('Gatehouse API');
    await page.close();
  });
});

describe('the browser tests without Chromium', () => {
  it('say what to install rather than failing obscurely', async () => {
    await expect(launchChromium('/nonexistent/chromium')).rejects.toThrow(
      'The browser tests need Chromium, not found at /nonexistent/chromium. Install it (Debian/Ubuntu: apt-get install chromium)',
    );
  });
});
