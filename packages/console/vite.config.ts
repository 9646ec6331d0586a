import { defineConfig } from 'vite';

/**
 * The console is served by Gatehouse at <issuer path>/console/, which the server names in index.html's
 * <base href>: asset URLs are relative ('./'), so the same build works under any issuer path.
 */
export default defineConfig({
  base: './',
  // Preact's automatic JSX runtime (no React, no Babel).
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    // Built into the server package, which serves it and ships it (an installed gatehouse-server carries its console).
    outDir: '../server/dist-console',
    emptyOutDir: true,
    target: 'es2022',
    // No inline polyfill script and no data: URIs: the CSP allows only 'self'.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
  },
});
