// The unit suite (`npm run test:unit`, and `npx jest <file>`): unit and process-level tests. The
// end-to-end suite (the real engine, the local cloud, the rehearsal) is every file under tests/e2e/
// or named *.e2e.test.ts, run by `npm run test:e2e` (jest.e2e.config.js). `npm test` runs both.
const os = require("os");

const E2E = ["<rootDir>/tests/e2e/", "\\.e2e\\.test\\.ts$"];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/tests"],
  testMatch: ["**/*.test.ts"],
  testPathIgnorePatterns: ["/node_modules/", ...E2E],
  transform: {
    "^.+\\.ts$": ["@swc/jest", { jsc: { target: "es2022", parser: { syntax: "typescript" } }, module: { type: "commonjs" } }],
  },
  // The policy pack's dependencies resolve to the project's copies when they are the same version
  // (tools/pack-resolution.js): a file that loads the pack loads one Pulumi SDK, not two.
  resolver: "<rootDir>/tools/jest-resolver.js",
  // One worker more than the cores (Jest's default is one fewer): the test files are independent,
  // and some spend seconds waiting (real deadlines, child processes), which a third worker fills
  // on the 2-core reference machine (unit suite 51 s -> 42-45 s; a fourth only contends).
  maxWorkers: os.cpus().length + 1,
  // A hang fails; far above what any unit test needs on a busy machine.
  testTimeout: 60000,
};
