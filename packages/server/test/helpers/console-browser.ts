import { mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './chromium.js';
import { sinkCredential } from './log-sink.js';
import { createOAuthTestApp, type OAuthTestApp } from './oauth.js';
import type { TestAppOptions } from './test-app.js';

export const CONSOLE_PASSWORD = 'correct horse battery staple';

/** Where the console's screenshots go (docs/console/), written only when GATEHOUSE_CONSOLE_SCREENSHOTS=1. */
const SCREENSHOT_DIR = fileURLToPath(new URL('../../../../docs/console/', import.meta.url));

/** A page of the console in its own browser context (own cookies), recording everything that went wrong. */
export interface ConsolePage {
  page: Page;
  context: BrowserContext;
  /** Console errors, page errors, failed requests and error answers, except those `expect` allows. */
  problems: string[];
  /** Allows error answers whose method and URL match (a test that provokes a 404 on purpose). */
  expect(pattern: RegExp): void;
}

export interface ConsoleBrowser {
  t: OAuthTestApp;
  browser: Browser;
  open(): Promise<ConsolePage>;
  /** Creates a user with admin roles through the admin API (as the root key); returns its email. */
  createAdmin(body?: Record<string, unknown>): Promise<{ id: string; email: string }>;
  close(): Promise<void>;
}

/** A Gatehouse on a loopback port (its issuer that address) and a real Chromium to drive its console. */
export async function startConsoleBrowser(options: TestAppOptions = {}): Promise<ConsoleBrowser> {
  const t = await createOAuthTestApp(options);
  const browser = await launchChromium();
  const contexts: BrowserContext[] = [];
  return {
    t,
    browser,
    async open() {
      const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      contexts.push(context);
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(t.issuer).origin });
      const page = await context.newPage();
      // A step that cannot happen fails with its own message, well before the test's timeout.
      page.setDefaultTimeout(10_000);
      const problems: string[] = [];
      const allowed: RegExp[] = [];
      const isAllowed = (text: string) => allowed.some((pattern) => pattern.test(text));
      page.on('console', (message) => {
        // Chromium logs every error answer as "Failed to load resource"; those are judged by the response below.
        if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(`console: ${message.text()}`);
      });
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      page.on('requestfailed', (request) => {
        // A navigation away cancels what the page was still loading: not a failure of the page.
        if (request.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`request failed: ${request.method()} ${request.url()} ${request.failure()?.errorText}`);
      });
      page.on('response', (response) => {
        const text = `${response.request().method()} ${response.url()} ${response.status()}`;
        if (response.status() >= 400 && !isAllowed(text)) problems.push(`error answer: ${text}`);
      });
      await page.addInitScript(
        "document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP: ${e.violatedDirective} ${e.blockedURI} ${e.sample}`));",
      );
      return { page, context, problems, expect: (pattern) => allowed.push(pattern) };
    },
    async createAdmin(body = {}) {
      const email = `admin-${randomBytes(4).toString('hex')}@example.com`;
      sinkCredential(CONSOLE_PASSWORD);
      const response = await t.api('POST', '/v1/users', {
        body: { email, password: CONSOLE_PASSWORD, name: 'Grace Hopper', adminScopes: ['admin'], ...body },
      });
      if (response.status !== 201) throw new Error(`createAdmin: ${response.status} ${JSON.stringify(response.body)}`);
      return { id: response.body.id, email };
    },
    async close() {
      for (const context of contexts) await context.close();
      await browser.close();
      await t.close();
    },
  };
}

/** Signs in to the console through Gatehouse's own login page, as a person would; ends on the console. */
export async function signIn(page: Page, issuer: string, email: string, path = '/console/'): Promise<void> {
  await page.goto(`${issuer}${path}`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${issuer}/oauth/**`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(CONSOLE_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/**
 * Opens a console page after a reload forgot the tokens: one click on Sign in, and the live login session signs
 * in again without the login form.
 */
export async function signInAgain(page: Page, issuer: string, path: string): Promise<void> {
  await page.goto(`${issuer}${path}`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** Lets the page settle (late CSP reports and console errors arrive asynchronously). */
export async function settle(page: Page): Promise<void> {
  await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 50)))');
}

/** Writes docs/console/<name>.png when GATEHOUSE_CONSOLE_SCREENSHOTS=1 (see docs/console/README.md). */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.GATEHOUSE_CONSOLE_SCREENSHOTS !== '1') return;
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await settle(page);
  await page.screenshot({ path: `${SCREENSHOT_DIR}${name}.png`, fullPage: false });
}
