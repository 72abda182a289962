// The jest config Stryker runs: the same suites, minus what cannot run on instrumented code.
// - policy-pack-process: launches the pack as a separate process (Stryker cannot see coverage there);
// - the serialized-provider test: serializing instrumented code captures Stryker's own globals.
const base = require("./jest.config.js");

module.exports = {
  ...base,
  testPathIgnorePatterns: ["/node_modules/", "/tests/policy-pack-process\\.test\\.ts$"],
  testNamePattern: "^(?!.*serialized as the engine serializes it).*$",
};
