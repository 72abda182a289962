// The end-to-end suite (`npm run test:e2e`): the real engine, the local cloud, the rehearsal. A file
// belongs here by living under tests/e2e/ or by a name ending in .e2e.test.ts (jest.config.js
// leaves those out of the unit suite).
const unit = require("./jest.config");

/** @type {import('jest').Config} */
module.exports = {
  ...unit,
  testMatch: ["<rootDir>/tests/e2e/**/*.test.ts", "<rootDir>/tests/**/*.e2e.test.ts"],
  testPathIgnorePatterns: ["/node_modules/"],
  // Each file drives the real engine and the local cloud's processes. One engine run is a chain of
  // processes started one after another, waiting on each other, on rollouts and on drains: one file
  // more than the cores fills those waits (281 s -> 260 s in the same hour; with a fourth file the
  // cores were busy all along and the suite was slower: CONTRIBUTING.md#benchmarks).
  maxWorkers: require("os").cpus().length + 1,
  // Longest file first, from committed costs: a fresh clone has no timings for Jest to go by.
  testSequencer: "<rootDir>/tests/support/e2e-sequencer.js",
  // A deployment through the real engine takes tens of seconds: a hang still fails, in minutes.
  testTimeout: 180000,
};
