/**
 * The benchmark table (ops/bench/report.ts): medians, ratios to a floor, targets met or missed,
 * the table's cells, and the flags.
 */
import { formatMs, median, meetsTarget, parseBenchArgs, ratioToFloor, renderTable, type Figure } from "../../ops/bench/report";

const figure = (samples: number[], extra: Partial<Figure> = {}): Figure => ({
  name: "thing",
  samples,
  target: { kind: "ms", maxMs: 100 },
  ...extra,
});

describe("medians and targets", () => {
  test("the median of an odd count is the middle sample, of an even count the mean of the two middle ones", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow("median of no samples");
  });

  test("an absolute target is met up to and including its bound", () => {
    expect(meetsTarget(figure([100, 100, 101]))).toBe(true);
    expect(meetsTarget(figure([101, 101, 100]))).toBe(false);
  });

  test("a ratio target compares the median with the floor's median", () => {
    const plan = (samples: number[]) =>
      figure(samples, { target: { kind: "ratio", maxRatio: 1.4 }, floor: { what: "sdk", samples: [1000, 900, 1100] } });
    expect(ratioToFloor(plan([1400, 1500, 1300]))).toBeCloseTo(1.4, 10);
    expect(meetsTarget(plan([1400, 1500, 1300]))).toBe(true);
    expect(meetsTarget(plan([1401, 1500, 1450]))).toBe(false);
    expect(ratioToFloor(figure([1]))).toBeUndefined();
    expect(() => meetsTarget(figure([1], { target: { kind: "ratio", maxRatio: 2 } }))).toThrow("thing: a ratio target needs a floor");
  });
});

describe("the table", () => {
  test("figures in milliseconds or seconds, as fine as they need", () => {
    expect([5.94, 99.94, 99.96, 1641.4, 9949, 9951, 45_210].map(formatMs)).toEqual([
      "5.9 ms",
      "99.9 ms",
      "100 ms",
      "1641 ms",
      "9949 ms",
      "10.0 s",
      "45.2 s",
    ]);
  });

  test("each figure next to its floor, the ratio and its target, with notes after the table", () => {
    const text = renderTable([
      figure([3000, 3200, 3100], { name: "plan", floor: { what: "SDK load", samples: [1000] }, target: { kind: "ratio", maxRatio: 1.4 } }),
      figure([80], { name: "evaluation", note: "warm" }),
    ]);
    expect(text.split("\n")).toEqual([
      "benchmark   runs   median  floor               x floor  target         ok",
      "plan           3  3100 ms  1000 ms (SDK load)    3.10x  <= 1.4x floor  NO",
      "evaluation     1  80.0 ms  -                         -  <= 100 ms      yes",
      "",
      "- evaluation: warm",
    ]);
  });
});

describe("flags", () => {
  test("--runs takes a positive integer, --suites adds the slow figures", () => {
    expect(parseBenchArgs([])).toEqual({ runs: 7, suites: false, rehearsal: false, json: false });
    expect(parseBenchArgs(["--runs", "3", "--suites"])).toEqual({ runs: 3, suites: true, rehearsal: false, json: false });
    expect(parseBenchArgs(["--runs=3", "--json"])).toEqual({ runs: 3, suites: false, rehearsal: false, json: true });
    expect(parseBenchArgs(["--rehearsal"])).toEqual({ runs: 7, suites: false, rehearsal: true, json: false });
    expect(parseBenchArgs(["--suites", "-h"])).toBe("help");
    for (const bad of [
      ["--runs", "0"],
      ["--runs", "2.5"],
      ["--runs", "x"],
    ])
      expect(() => parseBenchArgs(bad)).toThrow(/^--runs takes a positive integer$/);
    expect(() => parseBenchArgs(["--runs"])).toThrow("--runs needs a value");
    expect(() => parseBenchArgs(["--fast"])).toThrow(/^unknown flag --fast$/);
    expect(() => parseBenchArgs(["--suite"])).toThrow("unknown flag --suite: did you mean --suites?");
  });
});
