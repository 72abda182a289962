/**
 * The failed-verification scenario ends as the runbook says (docs/runbooks/rehearsal.md): the
 * executor misreports its token generation, the update fails at verification, and nothing is
 * revoked. One `npm run rehearse` process, asserted by each test.
 */
import { checkNamed, endedAsTheRunbookSays, reportOf, scenarioFile } from "../support/rehearse-process";

const { describeWithCli, rehearsal: failedVerification } = scenarioFile("failed-verification");

describeWithCli("failed-verification", () => {
  test("ends as the runbook says (exit 0): the update fails at verification", async () => {
    const run = await failedVerification();
    const r = endedAsTheRunbookSays(run);
    expect(r.applies[1].outcome).toBe("update-failed");
    expect(r.verification.failures.join(" ")).toMatch(/authTokenVersion|generation/);
  });

  test("no revocation: nothing revoked, the old version still enabled, the report says so", async () => {
    const r = reportOf(await failedVerification());
    expect(r.revoked).toEqual([]);
    expect(checkNamed(r, "authToken generation 4 still enabled").ok).toBe(true);
    expect(checkNamed(r, "nothing revoked").ok).toBe(true);
    expect(r.applies[1].attempts[0].phases.map((p) => p.phase)).not.toContain("revoke");
    expect(checkNamed(r, "the last passing verification vouched for authToken generation 4").ok).toBe(true);
  });
});
