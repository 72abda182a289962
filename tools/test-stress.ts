/**
 * `npm run test:stress [-- --runs N] [--load K] [--max-minutes M]`: the unit suite, N times in a
 * row (default 5), beside a full-CPU load that this command starts and stops itself: K busy
 * processes (default: one per core). A test that fails on a busy machine is a defect; this is how
 * to find one.
 *
 * Bounded in time: each busy process ends by itself after the time bound (default 30 minutes),
 * and a run still going then is stopped and counted as failed. Prints each run's outcome and time,
 * then "N passed, N failed" (runs). Exit 0 when every run passed, 1 otherwise, 2 on a usage error.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface StressArgs {
  readonly runs: number;
  readonly load: number;
  readonly maxMinutes: number;
}

export const USAGE = "usage: npm run test:stress [-- --runs N] [--load K] [--max-minutes M]";

/** Parses the flags; throws an Error naming the flag and what it takes. */
export function parseStressArgs(argv: readonly string[], cores = os.cpus().length): StressArgs {
  const values: Record<string, number> = { runs: 5, load: Math.max(1, cores), "max-minutes": 30 };
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i];
    const name = flag.startsWith("--") ? flag.slice(2) : "";
    if (!Object.hasOwn(values, name)) throw new Error(`unknown argument ${flag}\n${USAGE}`);
    const value = Number(argv[i + 1]);
    const allowed =
      name === "load" ? Number.isInteger(value) && value >= 0 : name === "runs" ? Number.isInteger(value) && value >= 1 : value > 0;
    if (argv[i + 1] === undefined || !allowed)
      throw new Error(
        `${flag} takes ${name === "load" ? "an integer >= 0" : name === "runs" ? "an integer >= 1" : "a number > 0"}\n${USAGE}`,
      );
    values[name] = value;
  }
  return { runs: values.runs, load: values.load, maxMinutes: values["max-minutes"] };
}

/** One busy process: spins a core until `ms` have passed, then exits by itself. */
function startBusyProcess(ms: number): ChildProcess {
  return spawn(process.execPath, ["-e", `const end = Date.now() + ${Math.ceil(ms)}; while (Date.now() < end) {}`], { stdio: "ignore" });
}

interface RunOutcome {
  readonly ok: boolean;
  readonly seconds: number;
  readonly note: string;
}

function runUnitSuite(timeoutMs: number): RunOutcome & { readonly output: string } {
  const npmCli = process.env.npm_execpath;
  const npmArgs = ["run", "--silent", "test:unit"];
  const started = process.hrtime.bigint();
  const result = spawnSync(npmCli ? process.execPath : "npm", npmCli ? [npmCli, ...npmArgs] : npmArgs, {
    encoding: "utf8",
    timeout: Math.max(1, timeoutMs),
    maxBuffer: 64 * 1024 * 1024,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  const tests = /^Tests: +(.*)$/m.exec(output)?.[1] ?? "no Jest summary";
  if (result.error !== undefined || result.signal !== null)
    return { ok: false, seconds, note: `stopped at the time bound (${result.error?.message ?? result.signal})`, output };
  return { ok: result.status === 0, seconds, note: tests, output };
}

export function main(argv: readonly string[]): number {
  let args: StressArgs;
  try {
    args = parseStressArgs(argv);
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return 2;
  }
  const boundMs = args.maxMinutes * 60_000;
  const deadline = Date.now() + boundMs;
  const busy = Array.from({ length: args.load }, () => startBusyProcess(boundMs));
  console.log(`test:stress: ${args.runs} runs of test:unit beside ${args.load} busy processes, at most ${args.maxMinutes} min`);
  const outcomes: RunOutcome[] = [];
  try {
    for (let run = 1; run <= args.runs; run++) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        outcomes.push({ ok: false, seconds: 0, note: "not run: the time bound had passed" });
        console.log(`run ${run}: not run (time bound)`);
        continue;
      }
      const outcome = runUnitSuite(remaining);
      outcomes.push(outcome);
      console.log(`run ${run}: ${outcome.ok ? "passed" : "FAILED"} in ${outcome.seconds.toFixed(1)} s (${outcome.note})`);
      if (!outcome.ok) reportFailure(run, outcome.output);
    }
  } finally {
    for (const child of busy) child.kill();
  }
  const passed = outcomes.filter((o) => o.ok).length;
  console.log(`${passed} passed, ${outcomes.length - passed} failed`);
  return passed === outcomes.length ? 0 : 1;
}

/** Names the failed tests, and keeps the run's whole output in reports/test-stress/ (not committed). */
function reportFailure(run: number, output: string): void {
  const dir = path.join(__dirname, "..", "reports", "test-stress");
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `run-${run}.log`);
  fs.writeFileSync(file, output);
  const failed = output.split("\n").filter((line) => /^\s*● /.test(line) && !line.includes("Console"));
  console.log([...new Set(failed)].map((line) => `  ${line.trim()}`).join("\n"));
  console.log(`  output: ${path.relative(process.cwd(), file)}`);
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
