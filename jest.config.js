/** Two projects: unit tests beside the code, e2e tests in test/ against real PostgreSQL and S3. */
const swcTs = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];
// NestJS 12 and a few of its dependencies ship only ES modules; Jest on Node 20 cannot
// require() them, so they are compiled to CommonJS like our own sources.
const swcJs = ['@swc/jest', { jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022', keepClassNames: true }, module: { type: 'commonjs' } }];
const esmPackages = ['@nestjs', 'file-type', 'strtok3', 'token-types', '@tokenizer', 'uint8array-extras', '@borewit', 'canonicalize', 'fast-check', 'uid', 'ansis'];
const libs = ['access', 'audit', 'common', 'config', 'crypto', 'database', 'documents', 'embedded', 'identity', 'jobs', 'retention', 'signing', 'storage'];

const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': swcTs, '^.+\\.m?js$': swcJs },
  transformIgnorePatterns: [`/node_modules/(?!(${esmPackages.join('|')})/)`],
  moduleNameMapper: Object.fromEntries(libs.map((l) => [`^@kura/${l}$`, `<rootDir>/libs/${l}/src`])),
  rootDir: __dirname,
};

module.exports = {
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  maxWorkers: 2,
  testTimeout: 120_000,
  slowTestThreshold: 30,
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/*.spec.ts'] },
    { ...shared, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'] },
  ],
};
