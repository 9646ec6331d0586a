/**
 * The console's static serving at /console (http/routes/console/): the built single-page app, index.html for
 * client-side routes, caching, CSP, the issuer's path in <base href>, and a clear page when it is not built.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConsoleDir } from '../src/http/routes/console/console-files.js';
import { tempDir } from './helpers/databases.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const consoleDir = resolveConsoleDir();

describe('the console build', () => {
  it("is found in the server package's dist-console/, where an installed gatehouse-server has it too", () => {
    expect(consoleDir).toMatch(/packages[/\\]server[/\\]dist-console[/\\]?$/);
    expect(readFileSync(join(consoleDir, 'index.html'), 'utf8')).toContain('<base href="/console/" />');
  });

  it('ships under 250 KB of gzipped JavaScript, and no inline script or style in index.html', () => {
    const assets = readdirSync(join(consoleDir, 'assets'));
    const scripts = assets.filter((name) => name.endsWith('.js'));
    expect(scripts.length).toBeGreaterThan(0);
    const gzipped = scripts.reduce((total, name) => total + gzipSync(readFileSync(join(consoleDir, 'assets', name)), { level: 9 }).length, 0);
    expect(gzipped).toBeLessThan(250 * 1024);
    const index = readFileSync(join(consoleDir, 'index.html'), 'utf8');
    expect(index).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(index).not.toMatch(/<style|\sstyle=/);
  });
});

describe('GET /console', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('redirects /console to /console/ (relative, so it stays under an issuer path)', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/console' });
    expect(response.statusCode).toBe(308);
    expect(response.headers.location).toBe('console/');
  });

  it('answers index.html for the app and every client-side route, never cached, under a strict CSP', async () => {
    for (const url of ['/console/', '/console/keys', '/console/keys/key_abc', '/console/callback?code=x&state=y']) {
      const response = await t.app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(response.headers['cache-control']).toBe('no-cache');
      expect(response.body).toContain('<div id="app"></div>');
      expect(response.body).toContain('<base href="/console/" />');
      const csp = String(response.headers['content-security-policy']);
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).toContain("connect-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("default-src 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(response.headers['x-frame-options']).toBe('DENY');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('serves the hashed assets immutable, with their type, gzipped when the browser accepts it', async () => {
    const index = (await t.app.inject({ method: 'GET', url: '/console/' })).body;
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(index)![1]!;
    const style = /href="\.\/(assets\/[^"]+\.css)"/.exec(index)![1]!;
    const plain = await t.app.inject({ method: 'GET', url: `/console/${script}` });
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.rawPayload.equals(readFileSync(join(consoleDir, script)))).toBe(true);
    const gzipped = await t.app.inject({ method: 'GET', url: `/console/${script}`, headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(gzipped.headers.vary).toBe('accept-encoding');
    expect(gunzipSync(gzipped.rawPayload).equals(plain.rawPayload)).toBe(true);
    const css = await t.app.inject({ method: 'GET', url: `/console/${style}` });
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    const icon = await t.app.inject({ method: 'GET', url: '/console/favicon.svg' });
    expect(icon.headers['content-type']).toBe('image/svg+xml');
    expect(icon.headers['cache-control']).toBe('no-cache');
  });

  it('answers a missing file 404 in the API error shape, and nothing outside the build, whatever the path', async () => {
    const missing = await t.app.inject({ method: 'GET', url: '/console/assets/index-gone.js' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: 'not_found', error_description: 'No such file in the console.' });
    expect(missing.json().request_id).toBeTruthy();
    for (const url of ['/console/../package.json', '/console/%2e%2e/%2e%2e/package.json', '/console/..%2fpackage.json', '/console/assets/../../vite.config.ts']) {
      const response = await t.app.inject({ method: 'GET', url });
      expect(response.body, url).not.toContain('"name": "@gatehouse/console"');
      expect(response.body, url).not.toContain('defineConfig');
    }
  });

  it('leaves /console/setup to the first-run page', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/console/setup' });
    expect(response.statusCode).toBe(200);
    expect(response.body).not.toContain('<div id="app"></div>');
  });

  it("leaves the console's files out of the OpenAPI document (they are not API)", async () => {
    const document = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    // /console/setup, the first-run page, is described there as a form endpoint.
    expect(Object.keys(document.paths).filter((path) => path.startsWith('/console') && path !== '/console/setup')).toEqual([]);
  });
});

describe('GET /console under an issuer with a path', () => {
  it('names the path in <base href>, so the assets and the API are found under it', async () => {
    const t = await createTestApp({ env: { GATEHOUSE_ISSUER: 'http://127.0.0.1:4000/realms/acme' } });
    try {
      const response = await t.app.inject({ method: 'GET', url: '/realms/acme/console/keys' });
      expect(response.statusCode).toBe(200);
      expect(response.body).toContain('<base href="/realms/acme/console/" />');
    } finally {
      await t.close();
    }
  });
});

describe('GET /console without a built console', () => {
  it('answers 503 with a page saying how to build it', async () => {
    const empty = tempDir('console');
    const t = await createTestApp({ consoleDir: empty.path });
    try {
      for (const url of ['/console/', '/console/keys']) {
        const response = await t.app.inject({ method: 'GET', url });
        expect(response.statusCode).toBe(503);
        expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
        expect(response.body).toContain('The Gatehouse console is not built');
        expect(response.body).toContain('npm run build');
        expect(response.headers['content-security-policy']).toContain("default-src 'none'");
      }
    } finally {
      await t.close();
      empty.remove();
    }
  });
});
