/**
 * The rehearsal's rollback ends as its runbook says: a rollback before revocation points both
 * services back at the previous generation before the rolled-back one is disabled. (A file of its
 * own, as each scenario: the end-to-end suite's files run side by side.)
 */
import { checkNamed, endedAsTheRunbookSays, reportOf, scenarioFile } from "../support/rehearse-process";

const { describeWithCli, rehearsal: rollback } = scenarioFile("rollback");

describeWithCli("rollback", () => {
  test("ends as the runbook says (exit 0): generation 5 disabled, 4 enabled, verified and accepted again", async () => {
    const run = await rollback();
    const r = endedAsTheRunbookSays(run);
    expect(r.revoked).toEqual([expect.objectContaining({ credential: "authToken", generation: 5 })]);
    expect(checkNamed(r, "the last passing verification vouched for authToken generation 4").ok).toBe(true);
  });

  test("the control points back at the previous generation before the rolled-back one is disabled", async () => {
    const r = reportOf(await rollback());
    expect(checkNamed(r, "the control points back at generation 4 before generation 5 is disabled").ok).toBe(true);
    // The executor went back to generation 4's own revision (named by generation), not a new one.
    expect(r.cloud.some((e) => e.type === "revision-created" && e.service === "wallet-executor" && /-g4-/.test(e.revision ?? ""))).toBe(
      false,
    );
  });
});
