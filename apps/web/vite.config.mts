import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The console is served by the api at `/` under a strict CSP: no inline script or style,
// so no module-preload polyfill and no inlined assets other than fonts' own files.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: process.env.KURA_WEB_OUT_DIR ?? fileURLToPath(new URL('../../dist/web', import.meta.url)),
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    reportCompressedSize: false,
    sourcemap: false,
    target: 'es2022',
    // Plugin timing hints are noise on a busy shared build machine.
    rolldownOptions: { checks: { pluginTimings: false } },
  },
});
