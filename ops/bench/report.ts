/**
 * The benchmark table (`npm run bench`): each figure's median next to its floor (what the same
 * work costs at the least: the SDK's own load, an empty program, one request) and its target, and
 * whether the target is met. Pure: no measuring here (ops/bench/cli.ts measures).
 */

/** A target is an absolute bound on the median, or a bound on the median's ratio to its floor. */
export type Target = { readonly kind: "ms"; readonly maxMs: number } | { readonly kind: "ratio"; readonly maxRatio: number };

export interface Figure {
  readonly name: string;
  /** Milliseconds, one per run. */
  readonly samples: readonly number[];
  /** What the same work costs at the least, measured in the same run. */
  readonly floor?: { readonly what: string; readonly samples: readonly number[] };
  readonly target: Target;
  /** Shown after the table (what was measured, sizes). */
  readonly note?: string;
}

export function median(samples: readonly number[]): number {
  if (samples.length === 0) throw new RangeError("median of no samples");
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The median's multiple of the floor's median; undefined without a floor. */
export function ratioToFloor(figure: Figure): number | undefined {
  return figure.floor === undefined ? undefined : median(figure.samples) / median(figure.floor.samples);
}

export function meetsTarget(figure: Figure): boolean {
  if (figure.target.kind === "ms") return median(figure.samples) <= figure.target.maxMs;
  const ratio = ratioToFloor(figure);
  if (ratio === undefined) throw new Error(`${figure.name}: a ratio target needs a floor`);
  return ratio <= figure.target.maxRatio;
}

/** "812 ms", "5.9 ms", "45.2 s": milliseconds to a short human figure. */
export function formatMs(ms: number): string {
  if (ms >= 9_950) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 99.95) return `${Math.round(ms)} ms`;
  return `${ms.toFixed(1)} ms`;
}

function formatTarget(target: Target): string {
  return target.kind === "ms" ? `<= ${formatMs(target.maxMs)}` : `<= ${target.maxRatio}x floor`;
}

export function renderTable(figures: readonly Figure[]): string {
  const header = ["benchmark", "runs", "median", "floor", "x floor", "target", "ok"];
  const rows = figures.map((figure) => {
    const ratio = ratioToFloor(figure);
    return [
      figure.name,
      String(figure.samples.length),
      formatMs(median(figure.samples)),
      figure.floor === undefined ? "-" : `${formatMs(median(figure.floor.samples))} (${figure.floor.what})`,
      ratio === undefined ? "-" : `${ratio.toFixed(2)}x`,
      formatTarget(figure.target),
      meetsTarget(figure) ? "yes" : "NO",
    ];
  });
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i].length)));
  const numeric = new Set([1, 2, 4]);
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (numeric.has(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  const notes = figures.filter((figure) => figure.note !== undefined).map((figure) => `- ${figure.name}: ${figure.note}`);
  return [line(header), ...rows.map(line), ...(notes.length > 0 ? ["", ...notes] : [])].join("\n");
}

export interface BenchArgs {
  readonly runs: number;
  /** Also the test suites (one run each) and a fresh install: minutes, not seconds. */
  readonly suites: boolean;
  /** Also whole rotate-then-revoke rehearsals on the local cloud (needs the Pulumi CLI; minutes). */
  readonly rehearsal: boolean;
}

export const BENCH_USAGE = "usage: npm run bench [-- --runs N] [--suites] [--rehearsal]";

/** Parses the flags; throws an Error naming the flag and what it takes. */
export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  let runs = 7;
  let suites = false;
  let rehearsal = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--suites") suites = true;
    else if (argv[i] === "--rehearsal") rehearsal = true;
    else if (argv[i] === "--runs") {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value < 1) throw new Error(`--runs takes a positive integer\n${BENCH_USAGE}`);
      runs = value;
    } else throw new Error(`unknown argument ${argv[i]}\n${BENCH_USAGE}`);
  }
  return { runs, suites, rehearsal };
}
