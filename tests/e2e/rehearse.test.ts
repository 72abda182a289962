/**
 * `npm run rehearse` as operators run it: a process, on a copy of the project, against the local
 * cloud, with the real CLI. The default scenario (rotate) and the emergency with an outside
 * executor, both at 20 calls per second per control revision; each run is asserted by several
 * tests. Then zero failed calls during a token rotation, proven on the same two runs
 * (docs/design/zero-downtime.md): with the `tagged` strategy (staging's), rotate-then-revoke and
 * the emergency (rotate and revoke in one apply) fail no call (401, 403, 404, refused connections;
 * timeouts are counted apart), the offline plan predicted exactly that, and at the end the old
 * token is refused at every URL of the executor. Other scenarios: rehearse-*.test.ts.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseEventLog } from "../../ops/drill/timeline";
import { documentedShapeMismatches } from "../support/json-shape";
import { requirePulumiCli } from "../support/pulumi-cli";
import { endedAsTheRunbookSays, rehearsals, reportOf, runRehearsal } from "../support/rehearse-process";
import { ROOT } from "../support/project";

const cli = requirePulumiCli();
const describeWithCli = cli === undefined ? describe.skip : describe;
// A hang still fails, in minutes; waits inside the rehearsal are on events.
jest.setTimeout(900_000);

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

const TINY = path.join(ROOT, "tests", "fixtures", "executor", "tiny-executor.js");
const stackFilesBefore = hashStackFiles();
const LOAD = 20;
const runs = rehearsals(cli, {
  rotate: ["--load", String(LOAD)],
  outside: ["--scenario", "emergency", "--load", String(LOAD), "--executor-command", `${process.execPath} ${TINY}`],
});
afterAll(() => runs.cleanup());

test("bad input exits 2 with the allowed values, before anything runs", async () => {
  const bad = await runRehearsal(cli, ["--scenario", "sideways"]);
  try {
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--scenario sideways is not allowed; allowed: rotate, emergency");
    expect(fs.existsSync(path.join(bad.out, "project"))).toBe(false);
  } finally {
    fs.rmSync(bad.out, { recursive: true, force: true });
  }
});

describeWithCli("npm run rehearse (rotate, the default)", () => {
  test("ends as the runbook says (exit 0), on a copy: the repository's stack files are not written", async () => {
    const run = await runs.get("rotate");
    endedAsTheRunbookSays(run);
    expect(hashStackFiles()).toBe(stackFilesBefore);
    expect(fs.readFileSync(path.join(run.out, "report.md"), "utf8")).toContain("# Rehearsal: rotate on staging");
  });

  test("three applies: the baseline one up with the pack, then the rotation and the revocation each a passing gated preview then an up, the runbook's phases in order", async () => {
    const run = await runs.get("rotate");
    const r = reportOf(run);
    expect(r.applies.map((a) => a.outcome)).toEqual(["applied", "applied", "applied"]);
    const [baseline, ...scenario] = r.applies;
    expect(baseline.attempts).toEqual([expect.objectContaining({ preview: "not run", previewMs: null, up: "applied" })]);
    expect(fs.readFileSync(path.join(run.out, "report.md"), "utf8")).toContain(
      "- preview: none (the baseline is one `pulumi up` with the policy pack",
    );
    // The engine ran the pack in the baseline's update: its summary names it (the CLI writes the
    // field as `PolicyPacks`, which the SDK's type calls `policyPacks`).
    const summaries = parseEventLog(fs.readFileSync(path.join(run.out, "events", "00-baseline-1.up.jsonl"), "utf8"))
      .events.map((e) => e.summaryEvent as { PolicyPacks?: Record<string, string> } | undefined)
      .filter((summary) => summary !== undefined);
    expect(summaries.flatMap((summary) => Object.keys(summary.PolicyPacks ?? {}))).toEqual([
      expect.stringMatching(/^wallet-executor-policy\|local\|/),
    ]);
    expect(scenario.every((a) => a.attempts.every((t) => t.preview === "passed" && t.previewMs !== null && t.up === "applied"))).toBe(true);
    expect(r.applies.flatMap((a) => a.attempts.flatMap((t) => t.verdicts.filter((v) => v.level === "mandatory")))).toEqual([]);
    const phases = r.applies[1].attempts[0].phases.map((p) => p.phase);
    expect(phases).toEqual(expect.arrayContaining(["stage-secret", "deploy-executor", "deploy-control", "verify"]));
    expect(phases).not.toContain("revoke");
    expect(r.applies[2].attempts[0].phases.map((p) => p.phase)).toEqual(expect.arrayContaining(["verify", "revoke"]));
    expect(r.checks.filter((c) => /finished before/.test(c.name)).length).toBeGreaterThanOrEqual(3);
  });

  test("live traffic from both control revisions; failures, their window and per-phase counts agree", async () => {
    const r = reportOf(await runs.get("rotate"));
    expect(r.traffic.total.calls).toBeGreaterThan(50);
    expect(new Set(r.cloud.filter((e) => e.type === "revision-ready").map((e) => e.service)).size).toBe(2);
    if (r.traffic.failureWindow) expect(r.traffic.failureWindow.failed).toBe(r.traffic.total.failed);
    else expect(r.traffic.total.failed).toBe(0);
    expect(r.traffic.perPhase.reduce((sum, s) => sum + s.failed, 0)).toBeLessThanOrEqual(r.traffic.total.failed);
  });

  test("the old token is refused everywhere after it was last accepted; generation 4 revoked after a passing verification", async () => {
    const r = reportOf(await runs.get("rotate"));
    expect(r.oldToken.stillAcceptedAt).toEqual([]);
    expect(r.oldToken.refusedEverywhereFromMs).toBeGreaterThan(r.oldToken.lastAcceptedAtMs ?? -1);
    expect(r.revoked).toEqual([expect.objectContaining({ credential: "authToken", generation: 4 })]);
    expect(r.verification.checks.length).toBeGreaterThan(3);
    expect(r.verification.checks.every((c) => c.ok)).toBe(true);
    expect(r.drill?.verdict.status).toBe("completed");
    // The document has the shape docs/reference/cli.md documents for its schema, the drill inside it too.
    expect(documentedShapeMismatches(ROOT, r)).toEqual([]);
    expect(documentedShapeMismatches(ROOT, r.drill)).toEqual([]);
  });

  test("no secret value reaches the report (the throwaway values start with rehearsal-)", async () => {
    const run = await runs.get("rotate");
    for (const file of ["report.json", "report.md"])
      expect(fs.readFileSync(path.join(run.out, file), "utf8")).not.toMatch(/rehearsal-[0-9a-f]{48}/);
  });
});

describeWithCli("npm run rehearse --executor-command (an outside executor, written from the contract alone)", () => {
  test("emergency with it ends as the runbook says: rotated and revoked in one apply", async () => {
    const run = await runs.get("outside");
    const r = endedAsTheRunbookSays(run);
    expect(r.settings.executorCommand).toContain("tiny-executor.js");
    expect(r.applies.filter((a) => !a.baseline).map((a) => a.outcome)).toEqual(["applied"]);
    expect(r.revoked).toEqual([expect.objectContaining({ credential: "authToken", generation: 4 })]);
  });

  test("every executor instance ran the outside program", async () => {
    const run = await runs.get("outside");
    const logs = fs
      .readdirSync(path.join(run.out, "instances"), { recursive: true })
      .map(String)
      .filter((f) => f.endsWith(".log") && f.includes("wallet-executor"))
      .map((f) => fs.readFileSync(path.join(run.out, "instances", f), "utf8"));
    expect(logs.length).toBeGreaterThan(1);
    expect(logs.every((text) => text.includes("tiny executor on"))).toBe(true);
  });
});

describeWithCli("zero failed calls with the tagged strategy, at --load 20", () => {
  describe.each([
    ["rotate", "rotate"],
    ["emergency (the outside executor)", "outside"],
  ] as const)("%s", (_title, key) => {
    test("ends as the runbook says, with the old generation revoked, under live traffic across the control's rollout", async () => {
      const run = await runs.get(key);
      const r = endedAsTheRunbookSays(run);
      expect(r.settings).toMatchObject({ load: LOAD, rotation: "tagged" });
      expect(r.revoked).toEqual([expect.objectContaining({ credential: "authToken", generation: 4 })]);
      // Traffic flowed all along, and the control rolled out once (a new revision for the new token).
      expect(r.traffic.total.calls).toBeGreaterThan(LOAD * 10);
      expect(
        new Set(r.cloud.filter((e) => e.type === "revision-ready" && e.service === "wallet-control").map((e) => e.revision)).size,
      ).toBe(1);
    });

    test("no call failed (401, 403, 404, refused); timeouts are counted apart", async () => {
      const { total, failureWindow, perPhase } = reportOf(await runs.get(key)).traffic;
      expect(total.failed).toBe(0);
      expect(total.failedRoutes).toEqual([]);
      expect(failureWindow).toBeNull();
      expect(perPhase.every((span) => span.failed === 0)).toBe(true);
      expect(total.ok + total.timeouts + total.other).toBe(total.calls);
    });

    test("the plan predicted a window of 0 for the apply that moves the token, and 0 was measured", async () => {
      expect(reportOf(await runs.get(key)).prediction).toMatchObject({
        apply: 1,
        strategy: "tagged",
        predictedRollouts: 0,
        predicted: "0",
        measuredFailed: 0,
        measuredWindowMs: 0,
        matches: true,
      });
    });

    test("at the end the old token is refused at every URL of the executor: the main URL and every tag URL left", async () => {
      const { oldToken } = reportOf(await runs.get(key));
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
