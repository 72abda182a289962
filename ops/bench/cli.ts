/**
 * `npm run bench [-- --runs N] [--suites]`: each figure's median next to its floor (measured in the
 * same run) and its target, as a table (ops/bench/report.ts). Exit 1 when a figure misses its
 * target, 2 on a usage error or a benchmark that could not run.
 *
 * - plan (cold): the plan command for staging as a fresh process, start to exit (what `npm run plan`
 *   runs, without npm's own start-up), against its floor, a process that only loads the Pulumi SDK
 *   and `@pulumi/gcp` (what the program itself needs); runs alternate, so load drifts hit both alike;
 * - evaluation (warm): the real program under the recording monitor, in a process that has already
 *   loaded the SDK, against an empty program under the same monitor;
 * - verification: a full verification (no payment) against a healthy local stand-in executor,
 *   against one `/status` request to it;
 * - with `--suites` (minutes): `npm run test:unit` and `npm run test:e2e` once each, against their
 *   slowest file (two workers never finish before it), and `npm ci` on a fresh clone of the last
 *   commit with the npm cache as it is (warm on a developer's machine).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { performance } from "perf_hooks";
import { asError } from "../../lib/errors";
import { BENCH_COMMAND, benchDocument, formatMs, median, meetsTarget, parseBenchArgs, renderTable, type Figure } from "./report";
import { errorLine, runAsMain, usage } from "../../lib/cli";

// What the figures run loads after the arguments are checked: --help and a usage error answer at once.
// (Each call is a `require`: the module loads on the first, later ones answer from Node's cache.)
function onFirstUse<T>(id: string): () => T {
  return () => require(id) as T;
}
const lazy = {
  pulumi: onFirstUse<typeof import("@pulumi/pulumi")>("@pulumi/pulumi"),
  config: onFirstUse<typeof import("../../stack/config")>("../../stack/config"),
  stackFile: onFirstUse<typeof import("../../stack/stack-file")>("../../stack/stack-file"),
  rehearsalReport: onFirstUse<typeof import("../../rehearsal/report")>("../../rehearsal/report"),
  rehearsal: onFirstUse<typeof import("../../rehearsal/rehearse")>("../../rehearsal/rehearse"),
  verification: onFirstUse<typeof import("./verification")>("./verification"),
  setup: onFirstUse<typeof import("../../pulumi-cli/setup")>("../../pulumi-cli/setup"),
  monitor: onFirstUse<typeof import("../../harness/recording-monitor")>("../../harness/recording-monitor"),
};

const ROOT = path.resolve(__dirname, "../..");

/**
 * CPU seconds of this process's waited-for children so far (Linux: /proc/self/stat), undefined
 * elsewhere. A suite's CPU time barely depends on the machine's load, unlike its wall time.
 */
function childCpuSeconds(): number | undefined {
  try {
    // Fields after the command name (which may hold spaces): cutime and cstime are the 14th and 15th.
    const fields = fs.readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return undefined;
  }
}

function timedSpawn(command: string, args: readonly string[], cwd = ROOT): { ms: number; status: number | null; output: string } {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { ms, status: result.status, output: `${result.stdout ?? ""}${result.stderr ?? ""}` };
}

/**
 * The cold plan's command line, after `node`: what `npm run plan -- --stack staging` runs, without
 * npm's own start-up. (When the package has a bin entry, point this at it.)
 */
export const PLAN_COLD_ARGS: readonly string[] = [
  "--require",
  path.join(ROOT, "tools", "register.js"),
  path.join(ROOT, "ops", "plan", "cli.ts"),
  "--stack",
  "staging",
];
/** The floor: a process that only loads what the program itself needs. */
export const SDK_LOAD_ARGS: readonly string[] = ["-e", "require('@pulumi/pulumi'); require('@pulumi/gcp')"];

/** The plan for staging as a fresh process, alternating with its floor; CPU seconds of both in the note. */
function benchPlanCold(runs: number): Figure {
  const samples: number[] = [];
  const floorSamples: number[] = [];
  const cpu = { plan: [] as number[], floor: [] as number[] };
  const timedCpu = (args: readonly string[], into: number[]) => {
    const before = childCpuSeconds();
    const run = timedSpawn(process.execPath, args);
    const after = childCpuSeconds();
    if (before !== undefined && after !== undefined) into.push((after - before) * 1000);
    return run;
  };
  // One run of each first, unmeasured: the compile caches (tools/register.js) are then as after any earlier run.
  timedSpawn(process.execPath, [...PLAN_COLD_ARGS]);
  for (let i = 0; i < runs; i++) {
    const sdk = timedCpu(SDK_LOAD_ARGS, cpu.floor);
    if (sdk.status !== 0) throw new Error(`loading the SDK exited ${sdk.status}: ${sdk.output}`);
    floorSamples.push(sdk.ms);
    const run = timedCpu(PLAN_COLD_ARGS, cpu.plan);
    if (run.status !== 0) throw new Error(`plan exited ${run.status}: ${run.output}`);
    samples.push(run.ms);
  }
  const cpuNote =
    cpu.plan.length === runs && cpu.floor.length === runs
      ? `CPU time, median: ${formatMs(median(cpu.plan))} against ${formatMs(median(cpu.floor))} for the floor (${(median(cpu.plan) / median(cpu.floor)).toFixed(2)}x)`
      : undefined;
  return {
    name: "plan --stack staging (cold process)",
    samples,
    floor: { what: "SDK + gcp load", samples: floorSamples },
    target: { kind: "ratio", maxRatio: 1.4 },
    ...(cpuNote === undefined ? {} : { note: cpuNote }),
  };
}

async function benchEvaluationWarm(runs: number): Promise<Figure> {
  // The staging file's secrets are not set in the repository: placeholders stand in, as in the plan.
  const { PROJECT } = lazy.config();
  const { readStackFile, withUnsetSecrets } = lazy.stackFile();
  const { evaluateProgram, stackMocks } = lazy.monitor();
  const { config, secretKeys } = withUnsetSecrets(readStackFile(fs.readFileSync(path.join(ROOT, "Pulumi.staging.yaml"), "utf8"), PROJECT));
  const evaluate = (program: string | (() => unknown)) =>
    evaluateProgram({ program, project: PROJECT, stack: "staging", config, secretKeys, mocks: stackMocks() });
  const time = async (program: string | (() => unknown)): Promise<number> => {
    const started = performance.now();
    const result = await evaluate(program);
    const ms = performance.now() - started;
    if (result.error !== undefined) throw asError(result.error);
    return ms;
  };
  const program = path.join(ROOT, "index.ts");
  // Warm-up: the first evaluation loads the SDK, the providers and the program's modules.
  const first = await evaluate(program);
  if (first.error !== undefined) throw asError(first.error);
  // The floor: the SDK's own bookkeeping for as many resources, with no inputs and no program logic.
  const count = first.resources.length;
  class Bare extends lazy.pulumi().CustomResource {
    constructor(name: string) {
      super("bench:index:Bare", name, {});
    }
  }
  const bare = (): Record<string, never> => {
    for (let i = 0; i < count; i++) new Bare(`bare-${i}`);
    return {};
  };
  await time(bare);
  const samples: number[] = [];
  const floorSamples: number[] = [];
  for (let i = 0; i < runs; i++) {
    floorSamples.push(await time(bare));
    samples.push(await time(program));
  }
  return {
    name: "program evaluation (warm, mocks)",
    samples,
    floor: { what: "as many bare resources", samples: floorSamples },
    target: { kind: "ms", maxMs: 100 },
  };
}

async function benchVerification(runs: number): Promise<Figure> {
  const { samples, floorSamples } = await lazy.verification().benchVerify(runs);
  return {
    name: "full verification (local stand-in)",
    samples,
    floor: { what: "one /status request", samples: floorSamples },
    target: { kind: "ms", maxMs: 100 },
  };
}

/** Whole rotate-then-revoke rehearsals with the defaults, and each apply (preview + up) in them. */
async function benchRehearsal(runs: number): Promise<Figure> {
  const cli = lazy.setup().findPulumiCli();
  const { rehearse } = lazy.rehearsal();
  const { buildRehearsalReport } = lazy.rehearsalReport();
  if (cli === undefined) throw new Error("--rehearsal needs the Pulumi CLI: run `npm run pulumi:setup` first");
  const samples: number[] = [];
  const applies: number[][] = [];
  for (let i = 0; i < runs; i++) {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "bench-rehearsal-"));
    try {
      const started = performance.now();
      const run = await rehearse({ cli, stack: "staging", scenario: "rotate", out, load: 10, rolloutMs: 500 });
      const report = buildRehearsalReport(run);
      samples.push(performance.now() - started);
      if (!report.ok) throw new Error(`the rehearsal did not end as the runbook says: ${report.headline}`);
      run.applies.forEach((apply, j) => {
        (applies[j] ??= []).push(apply.attempts.reduce((sum, a) => sum + (a.preview?.ms ?? 0) + (a.up?.ms ?? 0), 0));
      });
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  }
  const perApply = applies.map((ms, j) => `${["baseline", "rotation", "revocation"][j] ?? `apply ${j + 1}`} ${formatMs(median(ms))}`);
  return {
    name: "rehearsal rotate+revoke (defaults)",
    samples,
    target: { kind: "ms", maxMs: 30_000 },
    note: `each apply (the baseline's up; a scenario apply's gated preview + up), median: ${perApply.join(", ")}`,
  };
}

interface JestSummary {
  numTotalTests: number;
  numFailedTests: number;
  testResults: { name: string; startTime: number; endTime: number }[];
}

const npm = (args: readonly string[], cwd = ROOT) => {
  const npmCli = process.env.npm_execpath;
  return npmCli ? timedSpawn(process.execPath, [npmCli, ...args], cwd) : timedSpawn("npm", args, cwd);
};

/** One run of a test suite, against its slowest file; undefined when the suite has no test yet. */
function benchSuite(script: string, maxMs: number): Figure | undefined {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wallet-bench-"));
  try {
    const summaryFile = path.join(dir, "summary.json");
    const cpuBefore = childCpuSeconds();
    const run = npm(["run", "--silent", script, "--", "--json", `--outputFile=${summaryFile}`]);
    const cpuAfter = childCpuSeconds();
    const cpu =
      cpuBefore === undefined || cpuAfter === undefined
        ? ""
        : `; ${(cpuAfter - cpuBefore).toFixed(1)} s of CPU (on ${os.cpus().length} idle cores, no less than ${((cpuAfter - cpuBefore) / os.cpus().length).toFixed(1)} s)`;
    const summary = JSON.parse(fs.readFileSync(summaryFile, "utf8")) as JestSummary;
    if (run.status !== 0 || summary.numFailedTests > 0) throw new Error(`npm run ${script} failed (exit ${run.status})`);
    if (summary.numTotalTests === 0) return undefined;
    const files = summary.testResults.map((file) => ({ name: path.basename(file.name), ms: file.endTime - file.startTime }));
    const slowest = files.reduce((a, b) => (b.ms > a.ms ? b : a));
    return {
      name: `npm run ${script} (one run)`,
      samples: [run.ms],
      floor: { what: `slowest file, ${slowest.name}`, samples: [slowest.ms] },
      target: { kind: "ms", maxMs },
      note: `${summary.numTotalTests} tests in ${files.length} files${cpu}`,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** `npm ci` of the root package on a fresh clone of the last commit, with the npm cache as it is. */
function benchInstall(): Figure {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wallet-bench-clone-"));
  try {
    const clone = timedSpawn("git", ["clone", "--quiet", ROOT, dir], os.tmpdir());
    if (clone.status !== 0) throw new Error(`git clone failed: ${clone.output}`);
    const install = npm(["ci", "--no-audit", "--no-fund", "--prefix", dir], dir);
    if (install.status !== 0) throw new Error(`npm ci failed: ${install.output}`);
    const du = spawnSync("du", ["-sm", path.join(dir, "node_modules")], { encoding: "utf8" });
    const size = du.status === 0 ? `node_modules ${du.stdout.split(/\s/)[0]} MB` : "node_modules size unknown";
    return {
      name: "npm ci (fresh clone, npm cache warm)",
      samples: [install.ms],
      target: { kind: "ms", maxMs: 30_000 },
      note: `${size}; the policy pack (npm ci --prefix policy) and mutation testing (mutation/) install apart`,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  let args;
  try {
    args = parseBenchArgs(argv);
  } catch (error) {
    process.stderr.write(errorLine("bench", error));
    return 2;
  }
  if (args === "help") {
    process.stdout.write(usage(BENCH_COMMAND));
    return 0;
  }
  const { runs } = args;
  const figures: Figure[] = [
    benchPlanCold(runs),
    await benchEvaluationWarm(Math.max(runs, 10)),
    await benchVerification(Math.max(runs, 15)),
  ];
  const notes: string[] = [];
  if (args.rehearsal) figures.push(await benchRehearsal(Math.min(runs, 3)));
  if (args.suites) {
    for (const [script, maxMs] of [
      ["test:unit", 45_000],
      ["test:e2e", 240_000],
    ] as const) {
      const figure = benchSuite(script, maxMs);
      if (figure) figures.push(figure);
      else notes.push(`npm run ${script}: no tests yet`);
    }
    figures.push(benchInstall());
  }
  const cpus = os.cpus();
  const machine = {
    date: new Date().toISOString().slice(0, 10),
    node: process.version,
    cpus: cpus.length,
    cpu: cpus[0]?.model ?? "cpu",
    load: os.loadavg().map((l) => Math.round(l * 10) / 10),
  };
  if (args.json) {
    process.stdout.write(`${JSON.stringify(benchDocument(figures, machine), null, 2)}\n`);
    for (const note of notes) process.stderr.write(`bench: note: ${note}\n`);
    return figures.every(meetsTarget) ? 0 : 1;
  }
  console.log(
    `${machine.date}  node ${machine.node}  ${machine.cpus} x ${machine.cpu}  load ${machine.load.map((l) => l.toFixed(1)).join(" ")}`,
  );
  console.log(renderTable(figures));
  for (const note of notes) console.log(`- ${note}`);
  if (!args.suites) console.log("(--suites adds the test suites and a fresh install: minutes)");
  return figures.every(meetsTarget) ? 0 : 1;
}

/** The command as the process runs it: a benchmark that could not run exits 2, saying why. */
export function run(argv: readonly string[]): Promise<number> {
  return main(argv).catch((err: unknown) => {
    process.stderr.write(errorLine("bench", err instanceof Error ? err.message : String(err)));
    return 2;
  });
}

if (require.main === module) runAsMain("bench", run, { exit: true });
