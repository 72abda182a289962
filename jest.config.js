// Two suites, one config: `unit` (unit and process-level tests, `npm run test:unit`) and `e2e` (the
// real engine, the local cloud, the rehearsal: `npm run test:e2e`), told apart by where a file is:
// tests/e2e/, or a name ending in .e2e.test.ts. `npm test` runs both (tools/test.ts).
const transform = {
  "^.+\\.ts$": ["@swc/jest", { jsc: { target: "es2022", parser: { syntax: "typescript" } }, module: { type: "commonjs" } }],
};
const E2E = ["<rootDir>/tests/e2e/", "\\.e2e\\.test\\.ts$"];

/** @type {import('jest').Config} */
module.exports = {
  // Both cores (Jest's default leaves one to itself on a 2-core machine): the test files are independent.
  maxWorkers: 2,
  projects: [
    {
      displayName: "unit",
      testEnvironment: "node",
      roots: ["<rootDir>/tests"],
      testMatch: ["**/*.test.ts"],
      testPathIgnorePatterns: ["/node_modules/", ...E2E],
      transform,
      testTimeout: 30000,
    },
    {
      displayName: "e2e",
      testEnvironment: "node",
      roots: ["<rootDir>/tests"],
      testMatch: ["<rootDir>/tests/e2e/**/*.test.ts", "**/*.e2e.test.ts"],
      transform,
      // A deployment through the real engine takes tens of seconds: a hang still fails, in minutes.
      testTimeout: 180000,
    },
  ],
};
