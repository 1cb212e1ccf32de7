import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Separate processes: each test file gets its own addon instance and thread pool.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
