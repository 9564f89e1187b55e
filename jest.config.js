/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  setupFiles: ['<rootDir>/test/setup/polyfills.ts', '<rootDir>/test/setup/quiet-logs.ts'],
  setupFilesAfterEnv: ['<rootDir>/test/setup/matchers.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { isolatedModules: true, tsconfig: { module: 'commonjs', moduleResolution: 'node10', ignoreDeprecations: '6.0' } }],
  },
  testTimeout: 120000,
  // test/local/faults.test.ts runs its faults' jobs this many at a time (it.concurrent), as the soak does.
  maxConcurrency: 8,
};
