import { defineConfig } from 'vitest/config';

// .ci/run sets ZT4AI_TEST_REPORT to get a machine-readable summary besides the usual output.
const report = process.env.ZT4AI_TEST_REPORT;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: report ? ['default', ['json', { outputFile: report }]] : ['default'],
  },
});
