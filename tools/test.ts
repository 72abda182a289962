/**
 * `npm test [-- <jest options or files>]`: both test budgets, one after the other, each part's
 * time printed at the end.
 *
 * - `npm run test:unit`: unit and process-level tests (budget: 45 s on the 2-core reference machine);
 * - `npm run test:e2e`: the real engine, the local cloud, the rehearsal (budget: 4 minutes).
 *
 * The end-to-end part runs even when the unit part failed, so one run shows every failure. Exit 0
 * when both passed, else 1 (2 for a part that could not start).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface PartResult {
  readonly name: string;
  readonly status: number;
  readonly seconds: number;
  /** From Jest's JSON summary; undefined when Jest wrote none (it could not start). */
  readonly passed?: number;
  readonly failed?: number;
}

interface JestSummary {
  numPassedTests: number;
  numFailedTests: number;
}

/** Runs `npm run <script>` with Jest's JSON summary written to a file, timing it. */
export function runPart(script: string, args: readonly string[]): PartResult {
  const summaryFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "wallet-tests-")), "summary.json");
  const npmArgs = ["run", "--silent", script, "--", "--json", `--outputFile=${summaryFile}`, ...args];
  // Under `npm test`, npm_execpath is the npm that runs us: use the same one.
  const npmCli = process.env.npm_execpath;
  const started = process.hrtime.bigint();
  const result = npmCli
    ? spawnSync(process.execPath, [npmCli, ...npmArgs], { stdio: "inherit" })
    : spawnSync("npm", npmArgs, { stdio: "inherit" });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  let summary: JestSummary | undefined;
  try {
    summary = JSON.parse(fs.readFileSync(summaryFile, "utf8")) as JestSummary;
  } catch {
    summary = undefined;
  } finally {
    fs.rmSync(path.dirname(summaryFile), { recursive: true, force: true });
  }
  return {
    name: script,
    status: result.status ?? 2,
    seconds,
    passed: summary?.numPassedTests,
    failed: summary?.numFailedTests,
  };
}

export function renderParts(parts: readonly PartResult[]): string {
  const lines = parts.map((part) => {
    const counts = part.passed === undefined ? "did not run" : `${part.passed} passed, ${part.failed ?? 0} failed`;
    return `${part.name.padEnd(9)} ${part.seconds.toFixed(1).padStart(6)} s  ${counts}${part.status === 0 ? "" : `  (exit ${part.status})`}`;
  });
  const passed = parts.reduce((sum, part) => sum + (part.passed ?? 0), 0);
  const failed = parts.reduce((sum, part) => sum + (part.failed ?? 0), 0);
  // A closing line of its own, "N passed, N failed", that any CI log reader understands.
  return [...lines, `${passed} passed, ${failed} failed`].join("\n");
}

export function main(argv: readonly string[]): number {
  const parts = [runPart("test:unit", argv), runPart("test:e2e", argv)];
  console.log(`\n${renderParts(parts)}`);
  if (parts.some((part) => part.passed === undefined)) return 2;
  return parts.every((part) => part.status === 0) ? 0 : 1;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
