import { defineConfig } from 'vitest/config';
import base from './vitest.config';

// npm run test:moddable: only the suites that target the echo app in the Moddable simulator.
export default defineConfig({
  resolve: base.resolve,
  test: { ...base.test, include: ['test/moddable/**/*.test.ts'], exclude: ['node_modules/**'] },
});
