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
  // Two test files at a time: the local tests mostly wait on simulated time, so on 2 cores two workers halve the suite's
  // wall time (jest's default here is cores - 1 = 1 worker). Measured on a quiet 2-core machine: 441 s against 735 s.
  maxWorkers: 2,
};
