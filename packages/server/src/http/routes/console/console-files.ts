import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** One file of the built console, held in memory (the whole build is some 150 KB). */
export interface ConsoleFile {
  body: Buffer;
  /** The same bytes gzipped, where that is smaller (text files). */
  gzip: Buffer | null;
  contentType: string;
  /** Vite names the files under assets/ by their content hash: cacheable forever. */
  immutable: boolean;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.svg', '.json', '.txt']);

/**
 * Where the built console is: dist-console/ at the root of this package, where packages/console builds it.
 * This module sits as deep in src/ (run by the tests) as in dist/ (run by `gatehouse start`), and the package
 * ships dist-console/ beside dist/, so the same path serves this repository and an installed gatehouse-server.
 */
export function resolveConsoleDir(): string {
  return fileURLToPath(new URL('../../../../dist-console/', import.meta.url));
}

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.isFile()) yield path;
  }
}

/**
 * Reads the built console into memory once, keyed by its path under dist/ ('index.html',
 * 'assets/index-3f2a.js'). Null when there is no build (no dist/index.html): the server then answers /console
 * with a page that says how to build it. Only these files are ever served, so no request path can reach
 * anything else on the disk.
 */
export function loadConsoleFiles(dir: string | null): ReadonlyMap<string, ConsoleFile> | null {
  if (dir === null || !existsSync(join(dir, 'index.html')) || !statSync(dir).isDirectory()) return null;
  const files = new Map<string, ConsoleFile>();
  for (const path of walk(dir)) {
    const name = relative(dir, path).split(sep).join('/');
    const extension = extname(name).toLowerCase();
    const body = readFileSync(path);
    const gzip = COMPRESSIBLE.has(extension) && body.length > 1024 ? gzipSync(body, { level: 9 }) : null;
    files.set(name, {
      body,
      gzip: gzip && gzip.length < body.length ? gzip : null,
      contentType: CONTENT_TYPES[extension] ?? 'application/octet-stream',
      immutable: name.startsWith('assets/'),
    });
  }
  return files;
}
