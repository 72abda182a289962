/**
 * The offline plan: its pure logic (waves, critical path, redaction) on hand-made and random
 * graphs, the real stacks' plans (stable, ordered, secret-free), and the CLI as a process.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as fc from "fast-check";
import * as pulumi from "@pulumi/pulumi";
import {
  PlanDocument,
  PlanResourceInput,
  SECRET_MARK,
  computeWaves,
  criticalPath,
  redactInputs,
  renderPlan,
  stepDependencies,
} from "../lib/plan";
import { Phase } from "../lib/phases";
import { REDACTED_PLACEHOLDER_PREFIX } from "../lib/stack-file";
import { MOCK_SECRET_PREFIX } from "../tools/recording-monitor";
import { defineStack } from "../program";
import { makePlan, parsePlanArgs } from "../tools/plan";
import { ROOT } from "./support/stack";
import { withoutStackTraces } from "./support/without-stack-traces";

afterAll(() => pulumi.runtime.disconnect());

const register = path.join(ROOT, "tools", "register.js");
// Refuses any outbound connection: the plan must never touch the network.
const noNetwork = path.join(ROOT, "tests", "support", "no-network.js");
interface PlanRun {
  status: number | null;
  stdout: string;
  stderr: string;
}
/** The plan CLI as a process; never rejects (a failure to run shows in `status` and `stderr`). */
const plan = (args: string[]): Promise<PlanRun> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--require", noNetwork, "--require", register, path.join(ROOT, "tools", "plan.ts"), ...args],
      { cwd: ROOT, encoding: "utf8", timeout: 120_000 },
      (error, stdout, stderr) => {
        const status = error === null ? 0 : typeof error.code === "number" ? error.code : null;
        // A process that could not run or was stopped says why in stderr.
        resolve({ status, stdout, stderr: status === null ? `${stderr}${error?.message ?? ""}` : stderr });
      },
    );
  });
/** A stack file for a test, in a directory of its own. */
const stackFile = (name: string, text: string): string => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "plan-")), name);
  fs.writeFileSync(file, text);
  return file;
};
const brokenConfig = (): string =>
  stackFile(
    "Pulumi.broken.yaml",
    fs
      .readFileSync(path.join(ROOT, "Pulumi.staging.yaml"), "utf8")
      .replace("    current: 4\n    previous: 3", "    current: 3\n    previous: 3"),
  );
const unverifiedMnemonicRotation = (): string => {
  const rotation = [
    "  wallet-executor:mnemonic:",
    "    current: 2",
    "    previous: 1",
    "    approval:",
    "      ticket: CHG-2041",
    "      approver: cfo@openagents.com",
    '      windowStart: "2026-01-01T00:00:00Z"',
    '      windowEnd: "2099-01-01T00:00:00Z"',
    "  wallet-executor:mnemonicG2:",
    "    secure: v1:placeholder",
    "",
  ].join("\n");
  const prod = fs
    .readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8")
    .replace("  wallet-executor:mnemonic:\n    current: 1\n", rotation);
  expect(prod).toContain("previous: 1\n    approval:");
  return stackFile("Pulumi.prod.yaml", prod);
};

// The CLI as a process (the last describe): every cold plan starts when the file does, each paying
// the SDK's load in parallel with the others and with the in-process tests (the file's longest
// stretch otherwise); each test awaits its own.
const POLICY_FIXTURE = "tests/fixtures/policy/latest-secret-reference.ts";
let runs: Record<"staging" | "json" | "policyJson" | "policyHuman" | "broken" | "unverified", Promise<PlanRun>>;
beforeAll(() => {
  runs = {
    staging: plan(["--stack", "staging"]),
    json: plan(["--stack", "prod", "--json"]),
    policyJson: plan(["--stack", "staging", "--json", "--program", POLICY_FIXTURE]),
    policyHuman: plan(["--stack", "staging", "--program", POLICY_FIXTURE]),
    broken: plan(["--stack", "broken", "--config-file", brokenConfig()]),
    unverified: plan(["--stack", "prod", "--config-file", unverifiedMnemonicRotation()]),
  };
});

const urn = (name: string, type = "test:index:Step"): string => `urn:pulumi:s::p::${type}::${name}`;

describe("waves and the critical path", () => {
  test("every step lands after all of its dependencies, in the earliest possible wave", () => {
    const deps = new Map<string, string[]>([
      [urn("a"), []],
      [urn("b"), [urn("a")]],
      [urn("c"), [urn("a")]],
      [urn("d"), [urn("b"), urn("c")]],
      [urn("e"), []],
    ]);
    expect(computeWaves(deps)).toEqual([[urn("a"), urn("e")], [urn("b"), urn("c")], [urn("d")]]);
  });

  test("a cycle is reported with its members, not looped on", () => {
    const deps = new Map([
      [urn("a"), [urn("b")]],
      [urn("b"), [urn("a")]],
      [urn("c"), []],
    ]);
    expect(() => computeWaves(deps)).toThrow(`dependency cycle among: ${urn("a")}, ${urn("b")}`);
  });

  test("a dependency on a component stands for every custom resource below it", () => {
    const resources: PlanResourceInput[] = [
      {
        urn: urn("comp", "x:index:Comp"),
        type: "x:index:Comp",
        name: "comp",
        custom: false,
        dependencies: [],
        inputs: {},
        secretPaths: [],
      },
      {
        urn: urn("child1"),
        type: "t",
        name: "child1",
        custom: true,
        parent: urn("comp", "x:index:Comp"),
        dependencies: [],
        inputs: {},
        secretPaths: [],
      },
      {
        urn: urn("child2"),
        type: "t",
        name: "child2",
        custom: true,
        parent: urn("comp", "x:index:Comp"),
        dependencies: [],
        inputs: {},
        secretPaths: [],
      },
      {
        urn: urn("after"),
        type: "t",
        name: "after",
        custom: true,
        dependencies: [urn("comp", "x:index:Comp")],
        inputs: {},
        secretPaths: [],
      },
    ];
    expect(stepDependencies(resources).get(urn("after"))).toEqual([urn("child1"), urn("child2")]);
    expect(stepDependencies(resources).has(urn("comp", "x:index:Comp"))).toBe(false);
  });

  test("the critical path is the longest chain, preferring the one with more slow steps", () => {
    const deps = new Map<string, string[]>([
      [urn("a"), []],
      [urn("fast"), [urn("a")]],
      [urn("slow"), [urn("a")]],
      [urn("end"), [urn("fast"), urn("slow")]],
      [urn("alone"), []],
    ]);
    const phases = new Map<string, Phase>([[urn("slow"), "deploy-executor"]]);
    expect(criticalPath(deps, phases)).toEqual([urn("a"), urn("slow"), urn("end")]);
  });

  test("property: in any acyclic graph every edge goes forward, and the critical path is a real chain", () => {
    const graph = fc.integer({ min: 1, max: 25 }).chain((n) =>
      fc.array(fc.array(fc.nat({ max: n - 1 }), { maxLength: 4 }), { minLength: n, maxLength: n }).map(
        (edges) =>
          // Only edges to lower indexes: acyclic by construction; shuffled names hide the order.
          new Map(
            edges.map((targets, i) => [
              urn(`n${(i * 7919) % 1000}-${i}`),
              targets.filter((t) => t < i).map((t) => urn(`n${(t * 7919) % 1000}-${t}`)),
            ]),
          ),
      ),
    );
    fc.assert(
      fc.property(graph, (deps) => {
        const waves = computeWaves(deps);
        const waveOf = new Map(waves.flatMap((wave, i) => wave.map((u) => [u, i] as const)));
        expect(waveOf.size).toBe(deps.size);
        for (const [from, targets] of deps) {
          for (const to of targets) expect(waveOf.get(to) as number).toBeLessThan(waveOf.get(from) as number);
          // Earliest wave: one wave after its latest dependency.
          const expected = targets.length === 0 ? 0 : Math.max(...targets.map((t) => waveOf.get(t) as number)) + 1;
          expect(waveOf.get(from)).toBe(expected);
        }
        const path = criticalPath(deps, new Map());
        expect(path.length).toBe(waves.length);
        for (let i = 1; i < path.length; i++) expect(deps.get(path[i])).toContain(path[i - 1]);
      }),
      { numRuns: 200 },
    );
  });
});

describe("redaction", () => {
  test("secret paths, the provider's code and unknowns are hidden; the rest stays", () => {
    expect(
      redactInputs(
        {
          secretData: "s3cr3t",
          enabled: true,
          __provider: "exports.handler = ...",
          nested: { payment: { invoice: "lnbc" }, host: "h" },
          list: ["a", "b"],
          later: Symbol.for("x"),
        },
        ["secretData", "nested.payment"],
      ),
    ).toEqual({
      __provider: "[dynamic provider code]",
      enabled: true,
      later: "[unknown until apply]",
      list: ["a", "b"],
      nested: { host: "h", payment: SECRET_MARK },
      secretData: SECRET_MARK,
    });
  });

  test("a value carrying a forbidden placeholder is hidden even when not marked secret", () => {
    expect(redactInputs({ a: `x ${MOCK_SECRET_PREFIX}_y`, b: "fine" }, [], [MOCK_SECRET_PREFIX])).toEqual({ a: SECRET_MARK, b: "fine" });
  });
});

describe("the plans of the shipped stacks", () => {
  const plans: Record<string, PlanDocument> = {};
  beforeAll(async () => {
    for (const stack of ["staging", "prod"])
      plans[stack] = await withoutStackTraces(() => makePlan(parsePlanArgs(["--stack", stack], ROOT), defineStack));
  });

  test.each(["staging", "prod"])("%s: every dependency of every step is in an earlier wave", (stack) => {
    const plan = plans[stack];
    const waveOf = new Map(plan.waves.flatMap((wave, i) => wave.map((u) => [u, i] as const)));
    const steps = plan.resources.filter((r) => waveOf.has(r.urn));
    expect(steps.length).toBeGreaterThan(15);
    for (const r of steps) {
      for (const dep of r.dependsOn) if (waveOf.has(dep)) expect(waveOf.get(dep) as number).toBeLessThan(waveOf.get(r.urn) as number);
    }
  });

  test("staging: the phases come in the runbook's order, revocation last", () => {
    const plan = plans.staging;
    const firstWave = (phase: Phase): number =>
      plan.waves.findIndex((wave) => wave.some((u) => plan.resources.find((r) => r.urn === u)?.phase === phase));
    const order = ["stage-secret", "deploy-executor", "deploy-control", "verify", "revoke"].map((p) => firstWave(p as Phase));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(new Set(order).size).toBe(order.length);
    expect(plan.waves[plan.waves.length - 1].map((u) => u.split("::").pop())).toEqual(["auth-token-g3"]);
    expect(plan.criticalPath.map((u) => u.split("::").pop())).toEqual([
      "auth-token-secret",
      "auth-token-g4",
      "executor-service",
      "control-service",
      "verification",
      "auth-token-g3",
    ]);
    expect(plan.credentials).toEqual([
      { name: "authToken", current: 4, previous: 3, revokePrevious: true },
      { name: "sparkApiKey", current: 2, previous: null, revokePrevious: false },
      { name: "mnemonic", current: 1, previous: null, revokePrevious: false },
    ]);
    expect(plan.violations).toEqual([]);
  });

  test("the same input gives the same document, byte for byte", async () => {
    const again = await withoutStackTraces(() => makePlan(parsePlanArgs(["--stack", "staging"], ROOT), defineStack));
    expect(JSON.stringify(again)).toBe(JSON.stringify(plans.staging));
    const urns = plans.staging.resources.map((r) => r.urn);
    expect(urns).toEqual([...urns].sort());
  });

  test.each(["staging", "prod"])("%s: no secret, placeholder or generated value appears anywhere", (stack) => {
    const text = JSON.stringify(plans[stack]) + renderPlan(plans[stack]);
    expect(text).not.toContain(REDACTED_PLACEHOLDER_PREFIX);
    expect(text).not.toContain(MOCK_SECRET_PREFIX);
    const versions = plans[stack].resources.filter((r) => r.type === "gcp:secretmanager/secretVersion:SecretVersion");
    for (const v of versions) expect(v.inputs.secretData).toBe(SECRET_MARK);
  });
});

describe("npm run plan, as a process", () => {
  // However busy the machine: six cold processes at once.
  const PROCESS_TEST_TIMEOUT_MS = 150_000;

  test(
    "staging: exit 0, the human plan, offline",
    async () => {
      const result = await runs.staging;
      expect(result.stderr).toBe("");
      expect(result.status).toBe(0);
      expect(result.stdout).toContain("Plan for wallet-executor/staging (offline");
      expect(result.stdout).toContain("authToken    current g4   previous g3: REVOKED after verification");
      expect(result.stdout).toMatch(/Critical path \(6 steps, 3 slow\)/);
      expect(result.stdout).toContain("Result: OK");
      expect(result.stdout).not.toContain(REDACTED_PLACEHOLDER_PREFIX);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  test(
    "--json prints the documented shape",
    async () => {
      const result = await runs.json;
      expect(result.status).toBe(0);
      const doc = JSON.parse(result.stdout) as PlanDocument;
      expect(Object.keys(doc)).toEqual(["project", "stack", "credentials", "resources", "waves", "criticalPath", "violations"]);
      expect(Object.keys(doc.resources[0])).toEqual(["urn", "type", "name", "phase", "dependsOn", "inputs"]);
      expect(doc.stack).toBe("prod");
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  test(
    "a program that breaks a mandatory policy exits 1 and lists the violation",
    async () => {
      const result = await runs.policyJson;
      expect(result.status).toBe(1);
      const doc = JSON.parse(result.stdout) as PlanDocument;
      expect(doc.violations).toEqual([
        {
          policy: "secret-references-pinned",
          enforcementLevel: "mandatory",
          urn: "urn:pulumi:staging::wallet-executor::wallet:service:ExecutorService$gcp:cloudrunv2/service:Service::executor-service",
          message:
            'executor-service container 0 env OA_LIGHTNING_SPARK_API_KEY reads projects/oa-wallet-staging/secrets/wallet-executor-spark-api-key at "latest"; pin a version number.',
        },
      ]);
      const human = await runs.policyHuman;
      expect(human.status).toBe(1);
      expect(human.stdout).toContain("  FAIL  [mandatory] secret-references-pinned (executor-service)");
      expect(human.stdout).toContain("Result: BLOCKED by a mandatory policy");
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  test(
    "a broken config exits 2 with the config message",
    async () => {
      const result = await runs.broken;
      expect(result.status).toBe(2);
      expect(result.stderr).toBe(
        "error: invalid stack configuration: wallet-executor:authToken.previous: 3 is not allowed; allowed: an integer < current (3)\n",
      );
      expect(result.stdout).toBe("");
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  test(
    "a prod mnemonic rotation that staging has not verified exits 2 and says so",
    async () => {
      const result = await runs.unverified;
      expect(result.stderr).toBe(
        "error: invalid stack configuration: wallet-executor:mnemonic.current: generation 2 has not been verified in staging " +
          "(organization/wallet-executor/staging verified mnemonic generation 1); allowed: a generation staging has verified: rotate and verify staging first\n",
      );
      expect(result.status).toBe(2);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  test.each([
    [["--stack"], "error: --stack needs a value"],
    [["--stacks", "staging"], 'error: unknown argument "--stacks"'],
    [[], "error: --stack is required"],
    [["--stack", "qa"], "error: --stack: no stack file at Pulumi.qa.yaml"],
  ])(
    "usage error %j exits 2",
    async (args, message) => {
      const result = await plan(args);
      expect(result.status).toBe(2);
      expect(result.stderr.startsWith(message)).toBe(true);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
