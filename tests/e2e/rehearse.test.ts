/**
 * `npm run rehearse` as operators run it: a process, on a copy of the project, against the local
 * cloud, with the real CLI. Each scenario must end as its runbook says (exit 0) with a report that
 * shows it; the repository's own stack files are never written. Strategy-agnostic: nothing here
 * assumes how many calls fail during a rotation, only that the report counts them consistently.
 */
import { spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { RehearsalReport } from "../../rehearsal/report";
import { documentedShapeMismatches } from "../support/json-shape";
import { requirePulumiCli } from "../support/pulumi-cli";
import { ROOT } from "../support/stack";

const cli = requirePulumiCli();
const describeWithCli = cli === undefined ? describe.skip : describe;
jest.setTimeout(1_200_000);

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly out: string;
}

function rehearse(args: readonly string[]): Promise<Run> {
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

const report = (run: Run): RehearsalReport => JSON.parse(fs.readFileSync(path.join(run.out, "report.json"), "utf8")) as RehearsalReport;
const failing = (r: RehearsalReport): string[] => r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
const hashStackFiles = (): string =>
  fs
    .readdirSync(ROOT)
    .filter((f) => /^Pulumi\..+\.yaml$/.test(f))
    .sort()
    .map((f) =>
      crypto
        .createHash("sha256")
        .update(fs.readFileSync(path.join(ROOT, f)))
        .digest("hex"),
    )
    .join(",");

const runs: Run[] = [];
afterAll(() => {
  for (const run of runs) fs.rmSync(run.out, { recursive: true, force: true });
});

test("bad input exits 2 with the allowed values, before anything runs", async () => {
  const bad = await rehearse(["--scenario", "sideways"]);
  runs.push(bad);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain("--scenario sideways is not allowed; allowed: rotate, emergency");
  expect(fs.existsSync(path.join(bad.out, "project"))).toBe(false);
});

describeWithCli("npm run rehearse", () => {
  test("rotate (the default): rotation, then revocation, under live traffic; the report says what happened", async () => {
    const before = hashStackFiles();
    const run = await rehearse(["--load", "10"]);
    runs.push(run);
    const r = report(run);
    expect(failing(r)).toEqual([]);
    expect(run.code).toBe(0);
    expect(hashStackFiles()).toBe(before);
    expect(fs.readFileSync(path.join(run.out, "report.md"), "utf8")).toContain("# Rehearsal: rotate on staging");
    // Three applies (baseline, rotation, revocation), each a passing preview then an up.
    expect(r.applies.map((a) => a.outcome)).toEqual(["applied", "applied", "applied"]);
    const phases = r.applies[1].attempts[0].phases.map((p) => p.phase);
    expect(phases).toEqual(expect.arrayContaining(["stage-secret", "deploy-executor", "deploy-control", "verify"]));
    expect(r.applies[2].attempts[0].phases.map((p) => p.phase)).toEqual(expect.arrayContaining(["verify", "revoke"]));
    // Traffic flowed, from both control revisions; the failure count and window agree with each other.
    expect(r.traffic.total.calls).toBeGreaterThan(50);
    expect(new Set(r.cloud.filter((e) => e.type === "revision-ready").map((e) => e.service)).size).toBe(2);
    if (r.traffic.failureWindow) expect(r.traffic.failureWindow.failed).toBe(r.traffic.total.failed);
    else expect(r.traffic.total.failed).toBe(0);
    expect(r.traffic.perPhase.reduce((sum, s) => sum + s.failed, 0)).toBeLessThanOrEqual(r.traffic.total.failed);
    // The old token: refused everywhere, after it was last accepted; generation 4 revoked.
    expect(r.oldToken.stillAcceptedAt).toEqual([]);
    expect(r.oldToken.refusedEverywhereFromMs).toBeGreaterThan(r.oldToken.lastAcceptedAtMs ?? -1);
    expect(r.revoked).toEqual([expect.objectContaining({ credential: "authToken", generation: 4 })]);
    expect(r.verification.checks.length).toBeGreaterThan(3);
    expect(r.verification.checks.every((c) => c.ok)).toBe(true);
    expect(r.drill?.verdict.status).toBe("completed");
    // The document has the shape docs/reference/cli.md documents for its schema, the drill inside it too.
    expect(documentedShapeMismatches(ROOT, r)).toEqual([]);
    expect(documentedShapeMismatches(ROOT, r.drill)).toEqual([]);
    // No secret value reaches the report: the throwaway values start with rehearsal- or are words.
    expect(fs.readFileSync(path.join(run.out, "report.json"), "utf8")).not.toMatch(/rehearsal-[0-9a-f]{48}/);
  });

  test("an outside executor (--executor-command, a separate program from the contract alone) works unchanged: emergency", async () => {
    const tiny = path.join(ROOT, "tests", "fixtures", "executor", "tiny-executor.js");
    const run = await rehearse(["--scenario", "emergency", "--executor-command", `${process.execPath} ${tiny}`]);
    runs.push(run);
    const r = report(run);
    expect(failing(r)).toEqual([]);
    expect(run.code).toBe(0);
    expect(r.settings.executorCommand).toContain("tiny-executor.js");
    // The executor's instances ran the outside program.
    const logs = fs
      .readdirSync(path.join(run.out, "instances"), { recursive: true })
      .map(String)
      .filter((f) => f.endsWith(".log"));
    const executorLogs = logs
      .filter((f) => f.includes("wallet-executor"))
      .map((f) => fs.readFileSync(path.join(run.out, "instances", f), "utf8"));
    expect(executorLogs.length).toBeGreaterThan(0);
    expect(executorLogs.every((text) => text.includes("tiny executor on"))).toBe(true);
    expect(r.revoked).toEqual([expect.objectContaining({ credential: "authToken", generation: 4 })]);
  });

  test.each(["failed-verification", "missing-grant", "interrupted", "rollback", "spark-key", "mnemonic"])(
    "%s ends as the runbook says",
    async (scenario) => {
      const run = await rehearse(["--scenario", scenario, "--load", "5"]);
      runs.push(run);
      const r = report(run);
      expect(failing(r)).toEqual([]);
      expect(run.code).toBe(0);
      if (scenario === "failed-verification" || scenario === "missing-grant") expect(r.revoked).toEqual([]);
      if (scenario === "failed-verification") expect(r.verification.failures.join(" ")).toMatch(/authTokenVersion|generation/);
      if (scenario === "interrupted") expect(r.applies[1].attempts.map((a) => a.up)).toEqual(["interrupted", "applied"]);
    },
  );
});
