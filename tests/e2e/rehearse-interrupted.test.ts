/**
 * The interrupted scenario ends as the runbook says (docs/runbooks/rehearsal.md): the rotation's
 * update is cancelled midway (SIGINT, as CI does), and the same apply run again finishes the
 * rotation in order. One `npm run rehearse` process, asserted by each test (Ctrl-C of the
 * rehearsal itself: rehearse-ctrl-c.test.ts).
 */
import { endedAsTheRunbookSays, reportOf, scenarioFile } from "../support/rehearse-process";

const { describeWithCli, rehearsal: interrupted } = scenarioFile("interrupted");

describeWithCli("interrupted", () => {
  test("ends as the runbook says (exit 0): the first up interrupted, the second applied", async () => {
    const run = await interrupted();
    const r = endedAsTheRunbookSays(run);
    expect(r.applies[1].attempts.map((a) => a.up)).toEqual(["interrupted", "applied"]);
  });

  test("the second run finishes the rotation in order: verification before revocation, generation 4 revoked", async () => {
    const r = reportOf(await interrupted());
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
