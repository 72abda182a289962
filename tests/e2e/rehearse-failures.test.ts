/**
 * The rehearsal's failure scenarios end as the runbook says (docs/runbooks/rehearsal.md): a failed
 * verification revokes nothing; a missing grant stops the rotation before the control moves while
 * traffic keeps flowing; an interrupted apply, run again, finishes the rotation in order. Each
 * `npm run rehearse` process runs once and is asserted by several tests.
 */
import { requirePulumiCli } from "../support/pulumi-cli";
import { checkNamed, endedAsTheRunbookSays, rehearsals, reportOf } from "../support/rehearse-process";

const cli = requirePulumiCli();
const describeWithCli = cli === undefined ? describe.skip : describe;
jest.setTimeout(900_000);

const runs = rehearsals(cli, {
  "failed-verification": ["--scenario", "failed-verification", "--load", "5"],
  "missing-grant": ["--scenario", "missing-grant", "--load", "5"],
  interrupted: ["--scenario", "interrupted", "--load", "5"],
});
afterAll(() => runs.cleanup());

describeWithCli("failed-verification", () => {
  test("ends as the runbook says (exit 0): the update fails at verification", async () => {
    const run = await runs.get("failed-verification");
    const r = endedAsTheRunbookSays(run);
    expect(r.applies[1].outcome).toBe("update-failed");
    expect(r.verification.failures.join(" ")).toMatch(/authTokenVersion|generation/);
  });

  test("no revocation: nothing revoked, the old version still enabled, the report says so", async () => {
    const r = reportOf(await runs.get("failed-verification"));
    expect(r.revoked).toEqual([]);
    expect(checkNamed(r, "authToken generation 4 still enabled").ok).toBe(true);
    expect(checkNamed(r, "nothing revoked").ok).toBe(true);
    expect(r.applies[1].attempts[0].phases.map((p) => p.phase)).not.toContain("revoke");
    expect(checkNamed(r, "the last passing verification vouched for authToken generation 4").ok).toBe(true);
  });
});

describeWithCli("missing-grant", () => {
  test("ends as the runbook says (exit 0): the new executor revision never starts", async () => {
    const run = await runs.get("missing-grant");
    const r = endedAsTheRunbookSays(run);
    expect(checkNamed(r, "the new executor revision never started").ok).toBe(true);
    expect(r.cloud.some((e) => e.type === "revision-failed" && e.service === "wallet-executor")).toBe(true);
  });

  test("the apply stops before the control rollout; traffic keeps flowing to the old revision; nothing revoked", async () => {
    const r = reportOf(await runs.get("missing-grant"));
    expect(checkNamed(r, "the apply stopped before the control rollout").ok).toBe(true);
    expect(r.cloud.filter((e) => e.service === "wallet-control" && e.type === "revision-created")).toEqual([]);
    expect(checkNamed(r, "traffic keeps flowing to the old executor revision").ok).toBe(true);
    expect(r.revoked).toEqual([]);
    expect(r.traffic.total.failed).toBe(0);
  });
});

describeWithCli("interrupted", () => {
  test("ends as the runbook says (exit 0): the first up interrupted, the second applied", async () => {
    const run = await runs.get("interrupted");
    const r = endedAsTheRunbookSays(run);
    expect(r.applies[1].attempts.map((a) => a.up)).toEqual(["interrupted", "applied"]);
  });

  test("the second run finishes the rotation in order: verification before revocation, generation 4 revoked", async () => {
    const r = reportOf(await runs.get("interrupted"));
    const second = r.applies[1].attempts[1].phases;
    const verify = second.find((p) => p.phase === "verify");
    const revoke = second.find((p) => p.phase === "revoke");
    expect(verify?.status).toBe("succeeded");
    expect(revoke?.status).toBe("succeeded");
    expect(verify!.endMs!).toBeLessThanOrEqual(revoke!.startMs);
    expect(r.revoked).toEqual([expect.objectContaining({ credential: "authToken", generation: 4 })]);
    expect(r.oldToken.stillAcceptedAt).toEqual([]);
  });
});
