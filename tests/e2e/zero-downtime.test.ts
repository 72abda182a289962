/**
 * Zero failed calls during a token rotation, proven on the rehearsal (docs/design/zero-downtime.md):
 * with the `tagged` strategy, rotate-then-revoke and the emergency path (rotate and revoke in one
 * apply), each under live traffic at 20 calls per second per control revision, fail no call
 * (401, 403, 404, refused connections; timeouts are counted apart), the offline plan predicted
 * exactly that, and at the end the old token is refused at every URL of the executor: its main URL
 * and every tag URL it has left. One rehearsal per scenario, both at once, shared by the assertions.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { RehearsalReport } from "../../rehearsal/report";
import { requirePulumiCli } from "../support/pulumi-cli";
import { ROOT } from "../support/project";

const cli = requirePulumiCli();
const describeWithCli = cli === undefined ? describe.skip : describe;
jest.setTimeout(1_200_000);

const LOAD = 20;

interface Run {
  readonly code: number | null;
  readonly stderr: string;
  readonly out: string;
  readonly report: RehearsalReport | undefined;
}

function rehearse(scenario: string): Promise<Run> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), `zero-downtime-${scenario}-`));
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        "--require",
        path.join(ROOT, "tools", "register.js"),
        path.join(ROOT, "rehearsal", "cli.ts"),
        "--scenario",
        scenario,
        "--rotation",
        "tagged",
        "--load",
        String(LOAD),
        "--out",
        out,
      ],
      {
        cwd: ROOT,
        env: { ...process.env, PATH: cli ? `${cli.binDir}${path.delimiter}${process.env.PATH ?? ""}` : process.env.PATH },
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code) => {
      const file = path.join(out, "report.json");
      const report = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as RehearsalReport) : undefined;
      resolve({ code, stderr, out, report });
    });
  });
}

describeWithCli("zero failed calls with the tagged strategy, at --load 20", () => {
  const runs = new Map<string, Run>();
  beforeAll(async () => {
    const [rotate, emergency] = await Promise.all([rehearse("rotate"), rehearse("emergency")]);
    runs.set("rotate", rotate);
    runs.set("emergency", emergency);
  });
  afterAll(() => {
    for (const run of runs.values()) fs.rmSync(run.out, { recursive: true, force: true });
  });

  const reportOf = (scenario: string): RehearsalReport => {
    const run = runs.get(scenario);
    if (!run?.report)
      throw new Error(`the ${scenario} rehearsal wrote no report (exit ${String(run?.code)}): ${run?.stderr.slice(-2000) ?? ""}`);
    return run.report;
  };

  describe.each(["rotate", "emergency"])("%s", (scenario) => {
    test("ends as the runbook says, with the old generation revoked, under live traffic across the control's rollout", () => {
      const r = reportOf(scenario);
      expect(r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`)).toEqual([]);
      expect(runs.get(scenario)?.code).toBe(0);
      expect(r.settings).toMatchObject({ load: LOAD, rotation: "tagged" });
      expect(r.revoked).toEqual([expect.objectContaining({ credential: "authToken", generation: 4 })]);
      // Traffic flowed all along, and the control rolled out once (a new revision for the new token).
      expect(r.traffic.total.calls).toBeGreaterThan(LOAD * 10);
      expect(
        new Set(r.cloud.filter((e) => e.type === "revision-ready" && e.service === "wallet-control").map((e) => e.revision)).size,
      ).toBe(1);
    });

    test("no call failed (401, 403, 404, refused); timeouts are counted apart", () => {
      const { total, failureWindow, perPhase } = reportOf(scenario).traffic;
      expect(total.failed).toBe(0);
      expect(total.failedRoutes).toEqual([]);
      expect(failureWindow).toBeNull();
      expect(perPhase.every((span) => span.failed === 0)).toBe(true);
      expect(total.ok + total.timeouts + total.other).toBe(total.calls);
    });

    test("the plan predicted a window of 0 for the apply that moves the token, and 0 was measured", () => {
      expect(reportOf(scenario).prediction).toMatchObject({
        apply: 1,
        strategy: "tagged",
        predictedRollouts: 0,
        predicted: "0",
        measuredFailed: 0,
        measuredWindowMs: 0,
        matches: true,
      });
    });

    test("at the end the old token is refused at every URL of the executor: the main URL and every tag URL left", () => {
      const { oldToken } = reportOf(scenario);
      expect(oldToken.generation).toBe(4);
      expect(oldToken.stillAcceptedAt).toEqual([]);
      // It was accepted during the rotation (on its own tag), and refused everywhere after.
      expect(oldToken.lastAcceptedAtMs).not.toBeNull();
      expect(oldToken.refusedEverywhereFromMs).toBeGreaterThan(oldToken.lastAcceptedAtMs ?? Infinity);
      // The last probe round: 401 at the main URL and at the new generation's tag; the old tag's URL
      // (if the service still lists it) routes nowhere; no URL of the executor accepts the old token.
      const answers = oldToken.lastAnswers;
      expect(answers.main).toBe("401");
      expect(answers["tag:g5"]).toBe("401");
      if ("tag:g4" in answers) expect(["404", "refused"]).toContain(answers["tag:g4"]);
      expect(Object.entries(answers).filter(([, answer]) => !["401", "404", "refused"].includes(answer))).toEqual([]);
    });
  });
});
