// The Mocha spec Stryker runs (npm run mutate): the Jest suites that exercise the mutated code
// (stack/components/, policy/, the verification module), each wrapped in a describe named after its file so
// that its top-level hooks stay its own, as they are under Jest. Left out:
// - policy-pack-process, plan, drill: they spawn processes, which carry no coverage back (drill also
//   covers none of the mutated files);
// - policy-programs: whole programs through the plan, seconds each, for every mutant they cover (the
//   policies' unit suites pin the same behaviour in milliseconds); policy-harness and
//   evaluation-watchdog: they cover none of the mutated files;
// - the serialized-provider test: serializing instrumented code captures Stryker's own globals;
// - verification/verify-progress: the CLI's display of progress and Ctrl-C, as processes (no coverage
//   back); verify-events holds the verifier's progress events and abort signal in process instead.
// stack/tagged-routing is in: it holds verifyRefusedEverywhere (verification/verify.ts) to its contract,
// as verification/verify-refused-everywhere does in detail.
"use strict";
const path = require("path");
const jestOnMocha = require("./jest-on-mocha");

jestOnMocha.install();
jestOnMocha.skip(/serialized as the engine serializes it/);

for (const suite of [
  "stack/program",
  "stack/rotation-controls",
  "stack/config-identity",
  "verification/verify",
  "verification/verify-events",
  "verification/verify-refused-everywhere",
  "stack/tagged-routing",
  "policy/pack",
  "policy/graph",
  "policy/recoverability",
  "policy/entropy",
  "policy/secret-references",
  "policy/exposure",
  "policy/access",
  "policy/token",
  "policy/revocation",
  "policy/compromised-generations",
  "policy/ordering",
  "policy/workloads",
  "policy/rotation",
]) {
  describe(`${suite}.test.ts`, function () {
    require(path.join(__dirname, "..", "tests", `${suite}.test.ts`));
  });
}
