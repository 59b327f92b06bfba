/** Jest runs the TypeScript sources directly through ts-jest. */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json' }],
  },
  testTimeout: 120000,
  // A design imports the library by the package's name, as a user's would.
  moduleNameMapper: { '^vmstate-lab$': '<rootDir>/vmstate/index.ts' },
  // One property-test seed per run, new each run unless VMSTATE_SEED is set (tests/support/seed.ts).
  globalSetup: '<rootDir>/tests/support/seed-setup.ts',
  setupFiles: ['<rootDir>/tests/support/seed-fast-check.ts'],
};
