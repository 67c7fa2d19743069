// The VM suite (`npm run test:vm`): boots QEMU guests, so it runs apart from `npm test`, one scenario at a time.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: import.meta.dirname,
    include: ['vm.test.ts'],
    // building the Debian guest on a cold cache takes minutes; each scenario boots several times
    testTimeout: 30 * 60_000,
    hookTimeout: 30 * 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
