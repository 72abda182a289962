/**
 * The missing-grant scenario ends as the runbook says (docs/runbooks/rehearsal.md): the executor's
 * access to the token's secret is removed out of band, its new revision never starts, the rotation
 * stops before the control moves, traffic keeps flowing and nothing is revoked. One
 * `npm run rehearse` process, asserted by each test.
 */
import { checkNamed, endedAsTheRunbookSays, reportOf, scenarioFile } from "../support/rehearse-process";

const { describeWithCli, rehearsal: missingGrant } = scenarioFile("missing-grant");

describeWithCli("missing-grant", () => {
  test("ends as the runbook says (exit 0): the new executor revision never starts", async () => {
    const run = await missingGrant();
    const r = endedAsTheRunbookSays(run);
    expect(checkNamed(r, "the new executor revision never started").ok).toBe(true);
    expect(r.cloud.some((e) => e.type === "revision-failed" && e.service === "wallet-executor")).toBe(true);
  });

  test("the apply stops before the control rollout; traffic keeps flowing to the old revision; nothing revoked", async () => {
    const r = reportOf(await missingGrant());
    expect(checkNamed(r, "the apply stopped before the control rollout").ok).toBe(true);
    expect(r.cloud.filter((e) => e.service === "wallet-control" && e.type === "revision-created")).toEqual([]);
    expect(checkNamed(r, "traffic keeps flowing to the old executor revision").ok).toBe(true);
    expect(r.revoked).toEqual([]);
    expect(r.traffic.total.failed).toBe(0);
  });
});
