import { resolve } from 'node:path'
import { defineConfig } from 'electron-vite'
import react from '@vitejs/plugin-react'

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rollupOptions: {
        input: {
          index: resolve('main/electron/main.ts'), // Electron main process
          engine: resolve('main/engine/main.ts'), // engine process (plain Node, forked by main)
          'job-worker': resolve('main/engine/jobs/worker.ts'), // worker thread of every long job
          'w2v-thread': resolve('main/engine/word2vec/thread.ts'), // one Hogwild thread of a word2vec training
          cli: resolve('main/cli/index.ts'), // the kotoba command line as shipped (bin/kotoba.mjs runs the source)
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      externalizeDeps: false, // a sandboxed preload can require nothing but 'electron'
      rollupOptions: {
        input: { index: resolve('main/electron/preload.ts') },
        // A sandboxed preload cannot be an ES module.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve('renderer'),
    base: './',
    build: {
      outDir: resolve('out/renderer'),
      modulePreload: { polyfill: false }, // no inline script: the CSP forbids it
      rollupOptions: { input: resolve('renderer/index.html') },
    },
    plugins: [react()],
  },
})
