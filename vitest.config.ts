import { defineConfig } from 'vitest/config';

// Integration tests share the machine's one Redis and one Postgres; each test file isolates itself with a fresh
// queue prefix and a fresh database, so files may run in parallel, but two cores do not gain from more than two.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globals: false,
    testTimeout: 20_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
    fileParallelism: true,
    reporters: ['default'],
  },
});
