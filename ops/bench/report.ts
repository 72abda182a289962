/**
 * The benchmark table (`npm run bench`): each figure's median next to its floor (what the same
 * work costs at the least: the SDK's own load, an empty program, one request) and its target, and
 * whether the target is met. Pure: no measuring here (ops/bench/cli.ts measures).
 */
import { type CommandSpec, UsageError, parseCommandLine } from "../../lib/cli";

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

/** The `--json` document's schema name and version. */
export const BENCH_SCHEMA = "wallet-executor/bench/v1";

/** Where the figures were measured. */
export interface BenchMachine {
  /** UTC date, YYYY-MM-DD. */
  readonly date: string;
  readonly node: string;
  readonly cpus: number;
  readonly cpu: string;
  /** 1, 5 and 15 minute load averages. */
  readonly load: readonly number[];
}

export interface BenchDocument {
  readonly schema: typeof BENCH_SCHEMA;
  readonly ok: boolean;
  readonly machine: BenchMachine;
  readonly figures: readonly {
    readonly name: string;
    readonly runs: number;
    readonly medianMs: number;
    readonly floor: { readonly what: string; readonly medianMs: number } | null;
    readonly ratioToFloor: number | null;
    readonly target: Target;
    readonly ok: boolean;
    readonly note: string | null;
  }[];
}

/** The figures as one JSON document (`npm run bench -- --json`): what the table shows, as numbers. */
export function benchDocument(figures: readonly Figure[], machine: BenchMachine): BenchDocument {
  const round = (ms: number): number => Math.round(ms * 10) / 10;
  return {
    schema: BENCH_SCHEMA,
    ok: figures.every(meetsTarget),
    machine,
    figures: figures.map((figure) => {
      const ratio = ratioToFloor(figure);
      return {
        name: figure.name,
        runs: figure.samples.length,
        medianMs: round(median(figure.samples)),
        floor: figure.floor === undefined ? null : { what: figure.floor.what, medianMs: round(median(figure.floor.samples)) },
        ratioToFloor: ratio === undefined ? null : Math.round(ratio * 100) / 100,
        target: figure.target,
        ok: meetsTarget(figure),
        note: figure.note ?? null,
      };
    }),
  };
}

export interface BenchArgs {
  readonly runs: number;
  /** Also the test suites (one run each) and a fresh install: minutes, not seconds. */
  readonly suites: boolean;
  /** Also whole rotate-then-revoke rehearsals on the local cloud (needs the Pulumi CLI; minutes). */
  readonly rehearsal: boolean;
  /** The figures as one JSON document on stdout (BENCH_SCHEMA) instead of the table. */
  readonly json: boolean;
}

export const BENCH_COMMAND = {
  name: "bench",
  synopsis: ["[--runs N] [--suites] [--rehearsal] [--json]"],
  summary: "Each figure's median next to its floor (measured in the same run) and its target.",
  options: {
    runs: { type: "string", value: "N", help: "runs per figure (default 7)" },
    suites: { type: "boolean", help: "also the test suites (one run each) and a fresh install: minutes" },
    rehearsal: { type: "boolean", help: "also whole rotate-then-revoke rehearsals (needs the Pulumi CLI): minutes" },
    json: { type: "boolean", help: `print the figures as one JSON document (${BENCH_SCHEMA}) on stdout` },
  },
  epilogue: ["exit codes: 0 every figure met its target, 1 one missed it, 2 a usage error or a benchmark that could not run"],
} as const satisfies CommandSpec;

/** Parses the flags; throws a UsageError naming the flag and what it takes; `"help"` for --help. */
export function parseBenchArgs(argv: readonly string[]): BenchArgs | "help" {
  const parsed = parseCommandLine(BENCH_COMMAND, argv);
  if (parsed.help) return "help";
  const { values } = parsed;
  let runs = 7;
  if (values.runs !== undefined) {
    runs = /^[0-9]+$/.test(values.runs) ? Number(values.runs) : NaN;
    if (!Number.isSafeInteger(runs) || runs < 1) throw new UsageError("--runs takes a positive integer");
  }
  return { runs, suites: values.suites === true, rehearsal: values.rehearsal === true, json: values.json === true };
}
