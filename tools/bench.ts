/**
 * `npm run bench [-- --runs N]`: medians over several runs, as a table.
 *
 * - plan (cold): the plan command for staging as a fresh process (what `npm run plan` runs,
 *   without npm's own start-up), start to exit;
 * - evaluation (warm): the real program evaluated under the recording monitor, in one process
 *   that has already loaded the SDK (what a test or a repeated plan pays);
 * - verification: a full verification (no payment) against a healthy local stand-in executor.
 *
 * - with `--rehearsal`: a rotate-then-revoke rehearsal with the defaults (`npm run rehearse`: the
 *   baseline apply, the rotation, the revocation, each a gated preview then an up, on the local
 *   cloud), start to report, and each apply's preview + up. Needs the Pulumi CLI; takes minutes.
 *
 * Targets on the 2-core reference machine: plan cold < 2500 ms, evaluation warm < 150 ms,
 * verification < 100 ms, rehearsal < 30000 ms. Exit 1 when a median misses its target.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT } from "../lib/config";
import { asError } from "../lib/errors";
import { readStackFile, withUnsetSecrets } from "../lib/stack-file";
import { buildRehearsalReport } from "../rehearsal/report";
import { rehearse } from "../rehearsal/rehearse";
import { benchVerify } from "./bench-verify";
import { findPulumiCli } from "./pulumi-setup";
import { evaluateProgram, stackMocks } from "./recording-monitor";

const ROOT = path.resolve(__dirname, "..");

export function median(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

interface Row {
  readonly name: string;
  readonly samples: number[];
  readonly targetMs: number;
}

function benchPlanCold(runs: number): number[] {
  const samples: number[] = [];
  const register = path.join(ROOT, "tools", "register.js");
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, ["--require", register, path.join(ROOT, "tools", "plan.ts"), "--stack", "staging"], {
      cwd: ROOT,
      encoding: "utf8",
    });
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (result.status !== 0) throw new Error(`plan exited ${result.status}: ${result.stderr}`);
  }
  return samples;
}

async function benchEvaluationWarm(runs: number): Promise<number[]> {
  // The staging file's secrets are not set in the repository: placeholders stand in, as in the plan.
  const { config, secretKeys } = withUnsetSecrets(readStackFile(fs.readFileSync(path.join(ROOT, "Pulumi.staging.yaml"), "utf8"), PROJECT));
  const evaluate = () =>
    evaluateProgram({ program: path.join(ROOT, "index.ts"), project: PROJECT, stack: "staging", config, secretKeys, mocks: stackMocks() });
  // Warm-up: the first evaluation loads the SDK, the providers and the program's modules.
  const first = await evaluate();
  if (first.error !== undefined) throw asError(first.error);
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    const result = await evaluate();
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (result.error !== undefined) throw asError(result.error);
  }
  return samples;
}

/** Wall time of whole rotate-then-revoke rehearsals, and of each apply (preview + up) in them. */
async function benchRehearsal(runs: number): Promise<{ samples: number[]; applies: number[][] }> {
  const cli = findPulumiCli();
  if (cli === undefined) throw new Error("--rehearsal needs the Pulumi CLI: run `npm run pulumi:setup` first");
  const samples: number[] = [];
  const applies: number[][] = [];
  for (let i = 0; i < runs; i++) {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "bench-rehearsal-"));
    try {
      const started = process.hrtime.bigint();
      const run = await rehearse({ cli, stack: "staging", scenario: "rotate", out, load: 10, rolloutMs: 500 });
      const report = buildRehearsalReport(run);
      samples.push(Number(process.hrtime.bigint() - started) / 1e6);
      if (!report.ok) throw new Error(`the rehearsal did not end as the runbook says: ${report.headline}`);
      run.applies.forEach((apply, j) => {
        const ms = apply.attempts.reduce((sum, a) => sum + a.preview.ms + (a.up?.ms ?? 0), 0);
        (applies[j] ??= []).push(ms);
      });
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  }
  return { samples, applies };
}

function renderTable(rows: readonly Row[]): string {
  const lines = [
    `${"benchmark".padEnd(34)} ${"runs".padStart(4)} ${"median ms".padStart(10)} ${"min".padStart(8)} ${"max".padStart(8)} ${"target".padStart(8)}  ok`,
  ];
  for (const row of rows) {
    const m = median(row.samples);
    lines.push(
      `${row.name.padEnd(34)} ${String(row.samples.length).padStart(4)} ${m.toFixed(1).padStart(10)} ${Math.min(...row.samples)
        .toFixed(1)
        .padStart(8)} ${Math.max(...row.samples)
        .toFixed(1)
        .padStart(8)} ${`< ${row.targetMs}`.padStart(8)}  ${m < row.targetMs ? "yes" : "NO"}`,
    );
  }
  return lines.join("\n");
}

export async function main(argv: readonly string[]): Promise<number> {
  const runsFlag = argv.indexOf("--runs");
  // `npm run bench [-- --runs N] [--rehearsal]`
  const runs = runsFlag >= 0 ? Number(argv[runsFlag + 1]) : 7;
  if (!Number.isInteger(runs) || runs < 1) {
    console.error("error: --runs needs a positive integer");
    return 2;
  }
  const rows: Row[] = [];
  let applyLine = "";
  if (argv.includes("--rehearsal")) {
    const rehearsal = await benchRehearsal(Math.min(runs, 3));
    rows.push({ name: "rehearsal rotate+revoke (defaults)", samples: rehearsal.samples, targetMs: 30_000 });
    applyLine = `rehearsal applies, median preview+up ms: ${rehearsal.applies
      .map((samples, i) => `${["baseline", "rotation", "revocation"][i] ?? `apply ${i}`} ${median(samples).toFixed(0)}`)
      .join(", ")}`;
  }
  rows.push({ name: "plan --stack staging (cold process)", samples: benchPlanCold(runs), targetMs: 2500 });
  rows.push({ name: "program evaluation (warm, mocks)", samples: await benchEvaluationWarm(Math.max(runs, 10)), targetMs: 150 });
  rows.push({ name: "full verification (local stand-in)", samples: (await benchVerify(Math.max(runs, 15))).samples, targetMs: 100 });
  console.log(`${new Date().toISOString().slice(0, 10)}  node ${process.version}  ${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}`);
  console.log(renderTable(rows));
  if (applyLine) console.log(applyLine);
  return rows.every((row) => median(row.samples) < row.targetMs) ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(2);
    },
  );
}
