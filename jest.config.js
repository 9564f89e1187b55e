/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  setupFiles: ['<rootDir>/test/setup/polyfills.ts', '<rootDir>/test/setup/quiet-logs.ts', '<rootDir>/test/setup/synth.ts'],
  setupFilesAfterEnv: ['<rootDir>/test/setup/matchers.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { isolatedModules: true, tsconfig: { module: 'commonjs', moduleResolution: 'node10', ignoreDeprecations: '6.0' } }],
  },
  testTimeout: 120000,
  // test/local/faults.test.ts runs its faults' jobs this many at a time (it.concurrent), as the soak does.
  maxConcurrency: 8,
  // Three test files at a time: the local tests mostly wait on simulated time (test/local/faults.test.ts alone: 75 s of
  // wall time for 31 s of CPU), so on 2 cores more workers than cores shorten the suite (jest's default here is
  // cores - 1 = 1 worker). Measured on a quiet 2-core machine, a fresh clone's .ci/run: 1 worker 735 s of jest against
  // 441 s with 2 (when the suite was smaller); on 2026-12-03, 890 s with 2 workers against 774 s with 3.
  maxWorkers: 3,
};
