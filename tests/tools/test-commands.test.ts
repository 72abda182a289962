/**
 * The test commands' own logic: `npm test`'s summary of its two parts (tools/test.ts) and
 * `npm run test:stress`'s flags (tools/test-stress.ts). The commands themselves run Jest: they are
 * exercised by running them, not from here.
 */
import { parseStressArgs } from "../../tools/test-stress";
import { renderParts } from "../../tools/test";

describe("npm test's summary", () => {
  test("each part's time and counts, a part that failed with its exit code, then one closing count", () => {
    expect(
      renderParts([
        { name: "test:unit", status: 1, seconds: 41.26, passed: 520, failed: 1 },
        { name: "test:e2e", status: 0, seconds: 0.84, passed: 0, failed: 0 },
      ]).split("\n"),
    ).toEqual(["test:unit   41.3 s  520 passed, 1 failed  (exit 1)", "test:e2e     0.8 s  0 passed, 0 failed", "520 passed, 1 failed"]);
  });

  test("a part that wrote no summary did not run, and counts nothing", () => {
    expect(renderParts([{ name: "test:e2e", status: 2, seconds: 0.3 }]).split("\n")).toEqual([
      "test:e2e     0.3 s  did not run  (exit 2)",
      "0 passed, 0 failed",
    ]);
  });
});

describe("npm run test:stress's flags", () => {
  test("defaults: 5 runs, one busy process per core, at most 30 minutes", () => {
    expect(parseStressArgs([], 2)).toEqual({ runs: 5, load: 2, maxMinutes: 30 });
    expect(parseStressArgs(["--runs", "2", "--load", "0", "--max-minutes", "1.5"], 2)).toEqual({ runs: 2, load: 0, maxMinutes: 1.5 });
  });

  test.each([
    [["--runs", "0"], "--runs takes an integer >= 1"],
    [["--runs"], "--runs takes an integer >= 1"],
    [["--load", "-1"], "--load takes an integer >= 0"],
    [["--load", "1.5"], "--load takes an integer >= 0"],
    [["--max-minutes", "0"], "--max-minutes takes a number > 0"],
    [["--max-minutes", "soon"], "--max-minutes takes a number > 0"],
    [["--fast"], "unknown argument --fast"],
    [["--constructor", "1"], "unknown argument --constructor"],
  ])("%j is refused: %s", (argv, message) => {
    expect(() => parseStressArgs(argv, 2)).toThrow(
      new Error(`${message}\nusage: npm run test:stress [-- --runs N] [--load K] [--max-minutes M]`),
    );
  });
});
