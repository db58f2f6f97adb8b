import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**', '.tools/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // the JSON report lets .ci/run print one plain "N passed, N failed" line at the end
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
  },
});
