import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds dist/ once: integration tests spawn the CLI as `node bin/state-overlay.js`.
    globalSetup: ['test/global-setup.ts', 'test/hardening/summary-setup.ts'],
    // Integration tests mount real overlays and spawn the CLI: give them room.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
