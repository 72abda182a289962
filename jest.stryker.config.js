// The jest config Stryker runs: the in-process suites that exercise the mutated code
// (components/, policy/, the verification module), without what cannot run on instrumented code
// or only costs time there:
// - policy-pack-process, plan: they spawn processes (Stryker sees no coverage in a child process);
// - drill: it covers none of the mutated files;
// - the serialized-provider test: serializing instrumented code captures Stryker's own globals.
const base = require("./jest.config.js");

module.exports = {
  ...base,
  testPathIgnorePatterns: [
    "/node_modules/",
    "/tests/policy-pack-process\\.test\\.ts$",
    "/tests/plan\\.test\\.ts$",
    "/tests/drill\\.test\\.ts$",
  ],
  testNamePattern: "^(?!.*serialized as the engine serializes it).*$",
};
