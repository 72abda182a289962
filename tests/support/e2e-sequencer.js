// The end-to-end suite's order: longest file first, so that the suite's workers finish together
// (the longest-processing-time rule). Jest orders by the durations it cached in an earlier run, and a
// fresh clone (CI) has none: Jest then goes by file size, which put a 2-minute file last and cost
// the suite 10 to 25 s. Each file's cost below is what it took on the 2-core reference machine beside
// two other files (CONTRIBUTING.md#benchmarks); a file not listed runs first, in Jest's own order (as
// Jest runs a file it has no time for), and tests/tools/e2e-sequencer.test.ts asks for its figure.
// Costs only decide the order: a stale figure makes the suite slower, never wrong.
"use strict";
const path = require("path");
const Sequencer = require("@jest/test-sequencer").default;

/** Seconds per file, relative to the repository. */
const COST_S = {
  "tests/e2e/rehearse-credentials.test.ts": 145,
  "tests/e2e/rehearse.test.ts": 133,
  "tests/e2e/real-engine.test.ts": 89,
  "tests/e2e/rehearse-rollback.test.ts": 77,
  "tests/e2e/rehearse-interrupted.test.ts": 75,
  "tests/e2e/rehearse-failed-verification.test.ts": 46,
  "tests/e2e/rehearse-missing-grant.test.ts": 45,
  "tests/e2e/rehearse-ctrl-c.test.ts": 38,
  "tests/pulumi-cli/cli.e2e.test.ts": 25,
  "tests/e2e/verify-stack.test.ts": 7,
};

const ROOT = path.resolve(__dirname, "..", "..");

function costOf(test) {
  return COST_S[path.relative(ROOT, test.path).split(path.sep).join("/")];
}

class CostSequencer extends Sequencer {
  sort(tests) {
    const known = tests.filter((test) => costOf(test) !== undefined).sort((a, b) => costOf(b) - costOf(a));
    const unknown = super.sort(tests.filter((test) => costOf(test) === undefined));
    return [...unknown, ...known];
  }
}

module.exports = CostSequencer;
module.exports.COST_S = COST_S;
