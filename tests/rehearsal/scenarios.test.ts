/** The scenarios as the runbooks' pull requests: which config each apply sets, and how each ends. */
import { SCENARIOS, scenarioFor } from "../../rehearsal/scenarios";
import { parseRehearseArgs } from "../../rehearsal/cli";

const staging = {
  authToken: { current: 4, previous: 3, revokePrevious: true },
  sparkApiKey: { current: 2, published: { "2": 7 } },
  mnemonic: { current: 1 },
};

describe("scenarioFor", () => {
  test("the baseline closes any open rotation: only current generations (a published current version kept)", () => {
    const s = scenarioFor("rotate", staging);
    expect(s.baseline).toEqual({ authToken: { current: 4 }, sparkApiKey: { current: 2, published: { "2": 7 } }, mnemonic: { current: 1 } });
  });

  test("rotate: bump with previous, then revokePrevious; ends with the old generation disabled and refused", () => {
    const s = scenarioFor("rotate", staging);
    expect(s.applies.map((a) => a.changes)).toEqual([
      { authToken: { current: 5, previous: 4 } },
      { authToken: { current: 5, previous: 4, revokePrevious: true } },
    ]);
    expect(s.end).toEqual({ credential: "authToken", current: 5, disabled: [4], enabled: [5], oldTokenRefused: true, serving: 5 });
  });

  test("emergency and interrupted: one apply that rotates and revokes; interrupted is interrupted", () => {
    expect(scenarioFor("emergency", staging).applies).toEqual([
      expect.objectContaining({ changes: { authToken: { current: 5, previous: 4, revokePrevious: true } } }),
    ]);
    expect(scenarioFor("interrupted", staging).applies[0].interrupt).toBe(true);
    expect(scenarioFor("emergency", staging).applies[0].interrupt).toBeUndefined();
  });

  test("failure scenarios: the apply fails, nothing is disabled, the old generation stays enabled", () => {
    const failed = scenarioFor("failed-verification", staging);
    expect(failed.fault).toBe("executor-misreports-generation");
    expect(failed.applies.map((a) => a.expect)).toEqual(["update-failed"]);
    expect(failed.end).toMatchObject({ current: 4, disabled: [], oldTokenRefused: false, serving: 5 });
    expect(failed.end.enabled).toContain(4);
    const grant = scenarioFor("missing-grant", staging);
    expect(grant.fault).toBe("executor-grant-removed");
    expect(grant.end).toMatchObject({ current: 4, disabled: [], executorRevisionFails: true, serving: 4 });
  });

  test("rollback points current back before revocation; the new generation ends disabled", () => {
    const s = scenarioFor("rollback", staging);
    expect(s.applies.map((a) => a.changes)).toEqual([{ authToken: { current: 5, previous: 4 } }, { authToken: { current: 4 } }]);
    expect(s.end).toMatchObject({ current: 4, disabled: [5], enabled: [4] });
  });

  test("spark-key and mnemonic rotate their own credential; the mnemonic carries an open window and a sign-off", () => {
    expect(scenarioFor("spark-key", staging).applies[0].changes).toEqual({ sparkApiKey: { current: 3, previous: 2 } });
    const now = new Date("2026-12-01T12:00:00Z");
    const m = scenarioFor("mnemonic", staging, now);
    expect(m.applies[0].changes).toEqual({
      mnemonic: {
        current: 2,
        previous: 1,
        approval: {
          ticket: "REHEARSAL",
          approver: "rehearsal@localhost",
          windowStart: "2026-12-01T11:00:00Z",
          windowEnd: "2026-12-01T13:00:00Z",
        },
      },
    });
    expect(m.applies[1].changes.mnemonic).toMatchObject({ revokePrevious: true, reconciliationSignoff: { at: "2026-12-01T12:00:00Z" } });
    expect(m.end).toMatchObject({ credential: "mnemonic", disabled: [1], oldTokenRefused: false, serving: 4 });
  });

  test("a stack file without a current generation is an error naming the key", () => {
    expect(() => scenarioFor("rotate", { ...staging, authToken: {} })).toThrow("wallet-executor:authToken.current: is required");
  });

  test("every scenario name has a scenario", () => {
    for (const name of SCENARIOS) expect(scenarioFor(name, staging).name).toBe(name);
  });
});

describe("parseRehearseArgs", () => {
  test("defaults: staging, rotate, load 10, rollout 500 ms", () => {
    expect(parseRehearseArgs([])).toEqual({ stack: "staging", scenario: "rotate", load: 10, rolloutMs: 500, json: false });
  });

  test("every flag", () => {
    expect(
      parseRehearseArgs([
        "--stack",
        "prod",
        "--scenario",
        "missing-grant",
        "--executor-command",
        "node x.js",
        "--load",
        "20",
        "--rollout-ms",
        "0",
        "--out",
        "o",
        "--rotation",
        "in-place",
        "--json",
      ]),
    ).toEqual({
      stack: "prod",
      scenario: "missing-grant",
      executorCommand: "node x.js",
      load: 20,
      rolloutMs: 0,
      rotation: "in-place",
      out: "o",
      json: true,
    });
  });

  test("--rotation takes the strategies only", () => {
    expect(parseRehearseArgs(["--rotation", "tagged"]).rotation).toBe("tagged");
    expect(() => parseRehearseArgs(["--rotation", "blue-green"])).toThrow(
      "--rotation blue-green is not allowed; allowed: tagged, in-place",
    );
  });

  test.each([
    [["--stack", "dev"], 'no stack "dev" here (no Pulumi.dev.yaml); stacks: prod, staging'],
    [["--stack", "org/wallet-executor/staging", "--stack=prod"], "--stack is given twice"],
    [
      ["--scenario", "x"],
      "--scenario x is not allowed; allowed: rotate, emergency, spark-key, mnemonic, failed-verification, missing-grant, rollback, interrupted",
    ],
    [["--load", "0"], "--load 0 is not allowed; allowed: a number 0.5..200"],
    [["--load", "ten"], "--load ten is not allowed"],
    [["--rollout-ms"], "--rollout-ms needs a value"],
    [["--out", "--json"], "--out needs a value"],
    [["--fast"], "unknown flag --fast"],
    [["--scenerio=rotate"], "unknown flag --scenerio: did you mean --scenario?"],
  ])("%j is refused: %s", (argv, message) => {
    expect(() => parseRehearseArgs(argv)).toThrow(message);
  });
});
