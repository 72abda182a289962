/**
 * The rehearsal's other credentials end as their runbooks say: the Spark key and the mnemonic rotate
 * and revoke their own versions (the rollback: rehearse-rollback.test.ts).
 */
import { requirePulumiCli } from "../support/pulumi-cli";
import { checkNamed, endedAsTheRunbookSays, rehearsals } from "../support/rehearse-process";

const cli = requirePulumiCli();
jest.setTimeout(900_000);

const runs = rehearsals(cli, {
  "spark-key": ["--scenario", "spark-key", "--load", "5"],
  mnemonic: ["--scenario", "mnemonic", "--load", "5"],
});
afterAll(() => runs.cleanup());

describe.each(["spark-key", "mnemonic"] as const)("%s", (scenario) => {
  (cli === undefined ? test.skip : test)("ends as its runbook says (exit 0): rotated, verified, then the old version revoked", async () => {
    const run = await runs.get(scenario);
    const r = endedAsTheRunbookSays(run);
    const credential = scenario === "spark-key" ? "sparkApiKey" : "mnemonic";
    expect(r.revoked).toEqual([expect.objectContaining({ credential })]);
    expect(r.applies.filter((a) => !a.baseline).map((a) => a.outcome)).toEqual(["applied", "applied"]);
    // The token is not rotated: the executor still answers the stack's token generation.
    expect(checkNamed(r, "the executor answers the token of generation 4").ok).toBe(true);
  });
});
