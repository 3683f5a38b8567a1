// Shared jest setup: ESM (NestJS 12 ships ESM only), ts-jest transpiling only (typecheck is its own target),
// and the `@llmops/source` export condition so workspace packages resolve to their TypeScript sources.
export function jestProject(displayName, overrides = {}) {
  return {
    displayName,
    testEnvironment: 'node',
    testEnvironmentOptions: { customExportConditions: ['@llmops/source', 'node', 'node-addons'] },
    extensionsToTreatAsEsm: ['.ts'],
    moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
    testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/src/**/*.int-spec.ts', '<rootDir>/src/**/*.e2e-spec.ts'],
    moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
    transform: {
      '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.json', diagnostics: false }],
    },
    testTimeout: 60_000,
    ...overrides,
  };
}
