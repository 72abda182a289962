/**
 * `npm run rehearse` as operators run it, for the end-to-end tests: a process from this checkout,
 * with the real CLI on PATH, writing into a temporary `--out`. One run is asserted by several tests
 * (each file starts its runs once, in `beforeAll`, and its tests read the reports).
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { RehearsalReport } from "../../rehearsal/report";
import type { PulumiCli } from "../../pulumi-cli/setup";
import { ROOT } from "./project";
import { requirePulumiCli } from "./pulumi-cli";

export interface RehearsalProcess {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly out: string;
}

export function runRehearsal(cli: PulumiCli | undefined, args: readonly string[]): Promise<RehearsalProcess> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "rehearse-e2e-"));
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--require", path.join(ROOT, "tools", "register.js"), path.join(ROOT, "rehearsal", "cli.ts"), "--out", out, ...args],
      {
        cwd: ROOT,
        env: { ...process.env, PATH: cli ? `${cli.binDir}${path.delimiter}${process.env.PATH ?? ""}` : process.env.PATH },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr, out }));
  });
}

export const reportOf = (run: RehearsalProcess): RehearsalReport =>
  JSON.parse(fs.readFileSync(path.join(run.out, "report.json"), "utf8")) as RehearsalReport;

/** The report's failing checks, one line each (an empty list when the scenario ended as the runbook says). */
const failingChecks = (r: RehearsalReport): string[] => r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);

/**
 * Asserts that a run ended as its runbook says: no failing check in its report, then exit 0 (the
 * checks first, so a failure names what went wrong rather than the exit code). Returns the report.
 */
export function endedAsTheRunbookSays(run: RehearsalProcess): RehearsalReport {
  const r = reportOf(run);
  expect(failingChecks(r)).toEqual([]);
  expect(run.code).toBe(0);
  return r;
}

/** A check of the report by the start of its name; fails the test when the report has no such check. */
export function checkNamed(r: RehearsalReport, prefix: string): { ok: boolean; detail: string } {
  const check = r.checks.find((c) => c.name.startsWith(prefix));
  if (!check) throw new Error(`no check named "${prefix}..." in the report: ${r.checks.map((c) => c.name).join("; ")}`);
  return { ok: check.ok, detail: check.detail };
}

/**
 * The rehearsals of one test file, each started when a test first asks for it and shared by every
 * test that asks again (one after the other: Jest already runs two files side by side on two cores);
 * `cleanup` removes their folders.
 */
export function rehearsals<K extends string>(
  cli: PulumiCli | undefined,
  runs: Readonly<Record<K, readonly string[]>>,
): { get(key: K): Promise<RehearsalProcess>; cleanup(): void } {
  const started = new Map<K, Promise<RehearsalProcess>>();
  const get = (key: K): Promise<RehearsalProcess> => {
    let run = started.get(key);
    if (!run) {
      run = runRehearsal(cli, runs[key]);
      started.set(key, run);
    }
    return run;
  };
  return {
    get,
    cleanup() {
      for (const run of started.values()) void run.then((r) => fs.rmSync(r.out, { recursive: true, force: true }));
    },
  };
}

/**
 * The set-up of a test file about one scenario: the Pulumi CLI (without one, `describeWithCli`
 * skips), a timeout far above a rehearsal's (a hang still fails, in minutes), and the scenario's
 * one rehearsal (`npm run rehearse --scenario <name> --load 5`), started when a test first asks for
 * it and shared by every test that asks again; its folder is removed after the file. Call it at the
 * top of the file.
 */
export function scenarioFile(scenario: string): { describeWithCli: jest.Describe; rehearsal: () => Promise<RehearsalProcess> } {
  const cli = requirePulumiCli();
  jest.setTimeout(900_000);
  const runs = rehearsals(cli, { [scenario]: ["--scenario", scenario, "--load", "5"] });
  afterAll(() => runs.cleanup());
  return { describeWithCli: cli === undefined ? describe.skip : describe, rehearsal: () => runs.get(scenario) };
}
