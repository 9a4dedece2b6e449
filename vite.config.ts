import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';
import { META_CONTENT_SECURITY_POLICY } from './shared/csp.ts';

export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [
    svelte(),
    {
      name: 'icbd-csp',
      transformIndexHtml: (html) => html.replace('%ICBD_CSP%', META_CONTENT_SECURITY_POLICY),
    },
  ],
  build: {
    outDir: '../out/renderer',
    emptyOutDir: true,
    // No inline <script> or data: modules: the CSP allows only 'self'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'chrome120',
  },
});
