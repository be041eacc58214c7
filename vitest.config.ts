import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const sim = (file: string): string => fileURLToPath(new URL(`./hosts/sim/${file}`, import.meta.url));

export default defineConfig({
  resolve: {
    // The device's module specifiers, implemented over node:net by the simulator host.
    alias: [
      { find: /^embedded:io\/socket\/tcp$/, replacement: sim('tcp.ts') },
      { find: /^embedded:io\/socket\/listener$/, replacement: sim('listener.ts') },
      { find: /^timer$/, replacement: sim('timer.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // These need the echo app running in the Moddable simulator: npm run test:moddable.
    exclude: ['test/moddable/**', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
