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
  hasMandatoryViolation,
  criticalPath,
  redactInputs,
  renderPlan,
  stepDependencies,
} from "../../ops/plan/plan";
import { Phase } from "../../stack/phases";
import { REDACTED_PLACEHOLDER_PREFIX } from "../../stack/stack-file";
import { MOCK_SECRET_PREFIX, evaluateProgram, stackMocks } from "../../harness/recording-monitor";
import { defineStack } from "../../stack/program";
import { main, makePlan, parsePlanArgs, withoutApplyOnlyValues } from "../../ops/plan/cli";
import { documentedShapeMismatches } from "../support/json-shape";
import { ROOT, stackConfig } from "../support/project";
import { PROJECT } from "../../stack/config";

afterAll(() => pulumi.runtime.disconnect());

// The process tests run the CLI (each evaluation twice: after the update and as a preview); their
// own deadline is the process's (a hang is killed and fails the test), not the suite's default.
jest.setTimeout(180_000);

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
    for (const stack of ["staging", "prod"]) plans[stack] = await makePlan(parsePlanArgs(["--stack", stack], ROOT), defineStack);
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
    expect(plan.unsetSecrets).toEqual(["wallet-executor:mnemonicG1", "wallet-executor:smokeInvoice", "wallet-executor:sparkApiKeyG2"]);
  });

  test("the same input gives the same document, byte for byte", async () => {
    const again = await makePlan(parsePlanArgs(["--stack", "staging"], ROOT), defineStack);
    expect(JSON.stringify(again)).toBe(JSON.stringify(plans.staging));
    const urns = plans.staging.resources.map((r) => r.urn);
    expect(urns).toEqual([...urns].sort());
  });

  test.each(["staging", "prod"])("%s: no secret, placeholder or generated value appears anywhere", (stack) => {
    const text = JSON.stringify(plans[stack]) + renderPlan(plans[stack]);
    expect(text).not.toContain(REDACTED_PLACEHOLDER_PREFIX);
    expect(text).not.toContain(MOCK_SECRET_PREFIX);
    const versions = plans[stack].resources.filter((r) => r.type === "gcp:secretmanager/secretVersion:SecretVersion");
    // A generated token is not known before apply; a value from config is known, and secret.
    for (const v of versions) expect(v.inputs.secretData).toBe(v.name.startsWith("auth-token-") ? "[unknown until apply]" : SECRET_MARK);
  });
});

/** String leaves of a value (numbers as their text: a version number travels as a string). */
function leaves(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (typeof value === "number") out.push(String(value));
  else if (Array.isArray(value)) for (const item of value) leaves(item, out);
  else if (value !== null && typeof value === "object") for (const item of Object.values(value)) leaves(item, out);
  return out;
}

/**
 * Every value the mocks invent for a stack: ids, and each output that is not an input (URIs,
 * revision names, version numbers, account emails, the verification's report), plus what invokes
 * return. A value that also appears in the stack's config, or is a logical name, is not invented.
 */
async function mockInventions(stack: "staging" | "prod"): Promise<Set<string>> {
  const base = stackMocks();
  const invented: string[] = [];
  const { config, secretKeys } = stackConfig(stack);
  const evaluation = await evaluateProgram({
    program: defineStack,
    project: PROJECT,
    stack,
    config,
    secretKeys,
    mocks: {
      newResource: (args) => {
        const result = base.newResource(args) as { id: string; state: Record<string, unknown> };
        const inputs = args.inputs as Record<string, unknown>;
        invented.push(result.id);
        for (const [key, value] of Object.entries(result.state)) {
          if (JSON.stringify(value) !== JSON.stringify(inputs[key])) leaves(value, invented);
        }
        return result;
      },
      call: (args) => {
        const result = base.call(args) as Record<string, unknown>;
        leaves(result, invented);
        return result;
      },
    },
  });
  if (evaluation.error) throw evaluation.error as Error;
  // Known before anything is applied: the config, and names the program chose (a mock may reuse one as an id).
  const known = new Set([
    ...leaves(Object.values(config).map((v) => (/^[[{]/.test(v) ? (JSON.parse(v) as unknown) : v))),
    ...evaluation.resources.map((r) => r.name),
    // Tags the program names after the configured token generations (`g4`), not the cloud.
    ...Object.values(config)
      .filter((v) => /^\{/.test(v))
      .flatMap((v) => {
        const parsed = JSON.parse(v) as { current?: unknown; previous?: unknown };
        return [parsed.current, parsed.previous].filter((g) => typeof g === "number").map((g) => `g${String(g)}`);
      }),
  ]);
  return new Set(invented.filter((v) => v !== "" && !known.has(v)));
}

describe("no value the mocks invent is shown as real", () => {
  test.each(["staging", "prod"] as const)(
    "%s: the plan's JSON and text hold no mock value; they say [unknown until apply]",
    async (stack) => {
      const inventions = await mockInventions(stack);
      // The mocks do invent what the cloud would: URIs, revisions, version numbers, emails.
      const all = [...inventions];
      expect(all.some((v) => v.includes(".a.run.app"))).toBe(true);
      expect(all.some((v) => /^[0-9]+$/.test(v))).toBe(true);
      expect(all.some((v) => v.endsWith(".iam.gserviceaccount.com"))).toBe(true);
      const plan = await makePlan(parsePlanArgs(["--stack", stack], ROOT), defineStack);
      const shown = leaves(plan);
      expect(shown.filter((v) => inventions.has(v))).toEqual([]);
      const long = all.filter((v) => v.length >= 8);
      const text = renderPlan(plan);
      expect(long.filter((v) => text.includes(v) || shown.some((s) => s.includes(v)))).toEqual([]);
      expect(shown).toContain("[unknown until apply]");
    },
  );

  test("a verdict quoting a made-up value shows the marker instead; short values only as whole tokens", () => {
    const madeUp = ["projects/p/secrets/s/versions/14", "projects/p/secrets/s", "14"];
    expect(withoutApplyOnlyValues("pins projects/p/secrets/s/versions/14, reads projects/p/secrets/s at 14", madeUp)).toBe(
      "pins [unknown until apply], reads [unknown until apply] at [unknown until apply]",
    );
    expect(withoutApplyOnlyValues("length 140 of 1400 (a14b)", madeUp)).toBe("length 140 of 1400 (a14b)");
    expect(withoutApplyOnlyValues("a.b+c", ["a.b+c"])).toBe("[unknown until apply]");
    expect(withoutApplyOnlyValues("axb+c", ["a.b+c"])).toBe("axb+c");
  });

  test("what only the cloud knows at apply time is marked, in the inputs where it is used", async () => {
    const plan = await makePlan(parsePlanArgs(["--stack", "staging"], ROOT), defineStack);
    const byName = (name: string) => plan.resources.find((r) => r.name === name) as PlanDocument["resources"][number];
    const control = byName("control-service").inputs as {
      template: {
        containers: { envs: { name: string; value?: unknown; valueSource?: { secretKeyRef: { secret: unknown; version: unknown } } }[] }[];
      };
    };
    const envs = control.template.containers[0].envs;
    // The executor's URI (its base URL) and the token's version number (created in this update).
    expect(envs.find((e) => e.name === "OA_LIGHTNING_WALLET_EXECUTOR_BASE_URL")?.value).toBe("[unknown until apply]");
    expect(envs.find((e) => e.name === "OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN")?.valueSource?.secretKeyRef).toEqual({
      secret: "[unknown until apply]",
      version: "[unknown until apply]",
    });
    // Config-given values stay known.
    expect(byName("executor-service").inputs.location).toBe(stackConfig("staging").config["gcp:region"]);
  });
});

describe("npm run plan, as a process", () => {
  const register = path.join(ROOT, "tools", "register.js");
  // Refuses any outbound connection: the plan must never touch the network.
  const noNetwork = path.join(ROOT, "tests", "support", "no-network.js");
  interface PlanRun {
    readonly status: number | null;
    readonly stdout: string;
    readonly stderr: string;
  }
  // Each cold plan is a fresh process (about a second of loading, and the stalled-program fixture
  // waits out the watchdog): they all start in beforeAll, a few at a time, and each test awaits
  // its own. A hang is killed after 60 s (the status is then null, and the test fails).
  const plan = (args: readonly string[]): Promise<PlanRun> =>
    new Promise((resolve, reject) => {
      execFile(
        process.execPath,
        ["--require", noNetwork, "--require", register, path.join(ROOT, "ops", "plan", "cli.ts"), ...args],
        { cwd: ROOT, encoding: "utf8", timeout: 60_000, maxBuffer: 64 << 20 },
        (error, stdout, stderr) => {
          if (error === null) resolve({ status: 0, stdout, stderr });
          else if (error.killed) resolve({ status: null, stdout, stderr });
          else if (typeof error.code === "number") resolve({ status: error.code, stdout, stderr });
          else reject(new Error(`the plan could not start: ${error.message}`));
        },
      );
    });

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "plan-"));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const stackFile = (name: string, text: string): string => {
    const dir = fs.mkdtempSync(path.join(tmp, "stack-"));
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };
  const stagingText = () => fs.readFileSync(path.join(ROOT, "Pulumi.staging.yaml"), "utf8");
  const ciphertext = "v1:c2FsdA==:Y2lwaGVydGV4dA==";
  const prodRotation = [
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
  const prodRotated = () =>
    fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8").replace("  wallet-executor:mnemonic:\n    current: 1\n", prodRotation);
  const outsideProgram = () => {
    const dir = fs.mkdtempSync(path.join(tmp, "program-"));
    const program = path.join(dir, "index.ts");
    fs.writeFileSync(
      program,
      [
        'import * as gcp from "@pulumi/gcp";',
        "export = () => {",
        '  new gcp.cloudrunv2.Job("payouts", { location: "us-central1", template: { template: { serviceAccount: "payouts@p.iam.gserviceaccount.com",',
        '    containers: [{ image: "i", envs: [{ name: "OA_LIGHTNING_SPARK_API_KEY", value: "a-literal-key" }] }] } } });',
        "  return {};",
        "};",
        "",
      ].join("\n"),
    );
    return program;
  };

  /** Every process this block runs, by name: its arguments (files are written before any starts). */
  const scenarios = (): Record<string, readonly string[]> => ({
    staging: ["--stack", "staging"],
    prodUnverifiedRotation: ["--stack", "prod", "--config-file", stackFile("Pulumi.prod.yaml", prodRotated())],
    outsideProgram: ["--json", "--program", outsideProgram()],
    "program-error-dependency-cycle": ["--program", "tests/fixtures/policy/program-error-dependency-cycle.ts"],
    "program-error-gate-never-released": ["--program", "tests/fixtures/policy/program-error-gate-never-released.ts"],
  });
  /**
   * What the CLI would print with these arguments, built in this process (the CLI's own code path,
   * `makePlan`, with the shipped program as a function: under Jest a module runs once): the process
   * tests above and below keep what only a process shows (exit codes, stderr, the network refused).
   */
  const inProcess = (args: readonly string[]): Promise<PlanDocument> => {
    const options = parsePlanArgs(args, ROOT);
    return makePlan(options, options.program === path.join(ROOT, "index.ts") ? defineStack : undefined);
  };
  /**
   * The CLI's `main` in this process, its stdout and stderr captured: what the process would print
   * and the code it would exit with. The processes above prove the wiring (exit codes 0 and 2,
   * stdout, stderr, the network refused): each further case as a process is a cold start.
   */
  const mainInProcess = async (args: readonly string[]): Promise<PlanRun> => {
    let stdout = "";
    let stderr = "";
    const status = await main(args, { stdout: (text) => void (stdout += text), stderr: (text) => void (stderr += text) });
    return { status, stdout, stderr };
  };
  const runs = new Map<string, Promise<PlanRun>>();
  const run = (name: string): Promise<PlanRun> => {
    const started = runs.get(name);
    if (started === undefined) throw new Error(`no plan scenario ${name}`);
    return started;
  };
  beforeAll(() => {
    // At most three at a time: enough to overlap loading and the watchdog's wait on two cores.
    const queue: (() => void)[] = [];
    let active = 0;
    const acquire = (): Promise<void> =>
      active < 3 ? (active++, Promise.resolve()) : new Promise<void>((resolve) => queue.push(() => resolve()));
    const release = (): void => {
      const next = queue.shift();
      if (next) next();
      else active--;
    };
    for (const [name, args] of Object.entries(scenarios())) {
      const result = acquire().then(() => plan(args).finally(release));
      // Observed at once, so a failure is reported by the test that awaits it, never as unhandled.
      result.catch(() => undefined);
      runs.set(name, result);
    }
  });

  test("staging: exit 0, the human plan, offline", async () => {
    const result = await run("staging");
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("Plan for wallet-executor/staging (offline");
    expect(result.stdout).toContain("authToken    current g4   previous g3: REVOKED after verification");
    expect(result.stdout).toMatch(/Critical path \(6 steps, 3 slow\)/);
    expect(result.stdout).toContain("Result: OK");
    expect(result.stdout).not.toContain(REDACTED_PLACEHOLDER_PREFIX);
  });

  test("a fresh clone: the secrets not set yet are findings (exit 0), each with how to set it from a file", async () => {
    const result = await run("staging");
    expect(result.status).toBe(0);
    const section = result.stdout.slice(result.stdout.indexOf("Secrets not set yet"));
    expect(section.split("\n").slice(0, 4)).toEqual([
      "Secrets not set yet (pulumi up stops until each is set: docs/runbooks/secrets-provider.md)",
      "  NOT SET  wallet-executor:mnemonicG1: pulumi config set --secret mnemonicG1 --stack staging < <file holding the value>",
      "  NOT SET  wallet-executor:smokeInvoice: pulumi config set --secret smokeInvoice --stack staging < <file holding the value>",
      "  NOT SET  wallet-executor:sparkApiKeyG2: pulumi config set --secret sparkApiKeyG2 --stack staging < <file holding the value>",
    ]);
    expect(result.stdout).toContain("Result: OK, once 3 secret value(s) are set\n");
  });

  test("a secret set in the stack file (encrypted) is no longer a finding", async () => {
    const file = stackFile("Pulumi.staging.yaml", stagingText() + `  wallet-executor:sparkApiKeyG2:\n    secure: ${ciphertext}\n`);
    const doc = await inProcess(["--stack", "staging", "--json", "--config-file", file]);
    expect(doc.unsetSecrets).toEqual(["wallet-executor:mnemonicG1", "wallet-executor:smokeInvoice"]);
    expect(JSON.stringify(doc) + renderPlan(doc)).not.toContain(ciphertext);
  });

  test("--json prints the documented shape", async () => {
    const result = await mainInProcess(["--stack", "prod", "--json"]);
    expect(result.status).toBe(0);
    const doc = JSON.parse(result.stdout) as PlanDocument & { change: unknown };
    expect(hasMandatoryViolation(doc)).toBe(false);
    // The example docs/reference/cli.md documents for the schema, held to this real output.
    expect(documentedShapeMismatches(ROOT, doc)).toEqual([]);
    expect(Object.keys(doc)).toEqual([
      "schema",
      "project",
      "stack",
      "credentials",
      "resources",
      "waves",
      "criticalPath",
      "violations",
      "unsetSecrets",
      "routing",
      "change",
    ]);
    expect(doc.change).toBeNull();
    expect(doc.routing).toMatchObject({ strategy: "tagged", fromGeneration: 2, toGeneration: 3 });
    expect(Object.keys(doc.resources[0])).toEqual(["urn", "type", "name", "phase", "dependsOn", "inputs"]);
    expect(doc.stack).toBe("prod");
  });

  test("a program that breaks a mandatory policy exits 1 and lists the violation", async () => {
    const doc = await inProcess(["--stack", "staging", "--json", "--program", "tests/fixtures/policy/latest-secret-reference.ts"]);
    expect(hasMandatoryViolation(doc)).toBe(true);
    expect(doc.violations).toEqual([
      {
        policy: "secret-references-pinned",
        enforcementLevel: "mandatory",
        urn: "urn:pulumi:staging::wallet-executor::wallet:service:ExecutorService$gcp:cloudrunv2/service:Service::executor-service",
        message:
          'executor-service container 0 env OA_LIGHTNING_SPARK_API_KEY reads [unknown until apply] at "latest"; pin a version number.',
      },
    ]);
    const human = await mainInProcess(["--stack", "staging", "--program", "tests/fixtures/policy/latest-secret-reference.ts"]);
    expect(human.status).toBe(1);
    expect(human.stdout).toContain("  FAIL  [mandatory] secret-references-pinned (executor-service)");
    expect(human.stdout).toContain("Result: BLOCKED by a mandatory policy");
  });

  test("a broken config exits 2 with the config message", async () => {
    const broken = stackFile(
      "Pulumi.broken.yaml",
      stagingText().replace("    current: 4\n    previous: 3", "    current: 3\n    previous: 3"),
    );
    const result = await mainInProcess(["--stack", "staging", "--config-file", broken]);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      "plan: error: invalid stack configuration: wallet-executor:authToken.previous: 3 is not allowed; allowed: an integer < current (3)\n",
    );
    expect(result.stdout).toBe("");
  });

  test("a prod mnemonic rotation that staging has not verified exits 2 and says so", async () => {
    expect(prodRotated()).toContain("previous: 1\n    approval:");
    const result = await run("prodUnverifiedRotation");
    expect(result.stderr).toBe(
      "plan: error: invalid stack configuration: wallet-executor:mnemonic.current: generation 2 has not been verified in staging " +
        "(organization/wallet-executor/staging verified mnemonic generation 1); allowed: a generation staging has verified: rotate and verify staging first\n",
    );
    expect(result.status).toBe(2);
  });

  test("--program without --stack runs a program of its own with staging's config; a standalone unsafe one exits 1", async () => {
    const doc = await inProcess(["--json", "--program", "tests/fixtures/policy/revocation-requires-verification-renamed-versions.ts"]);
    expect(hasMandatoryViolation(doc)).toBe(true);
    expect(doc.stack).toBe("staging");
    expect(doc.violations.map((v) => [v.policy, v.enforcementLevel, v.urn?.split("::").pop()])).toEqual([
      ["revocation-requires-verification", "mandatory", "credential-old"],
    ]);
  });

  test("a program outside the repository finds its packages in the repository's node_modules", async () => {
    const result = await run("outsideProgram");
    expect(result.stderr).toBe("");
    expect(result.status).toBe(1);
    expect((JSON.parse(result.stdout) as PlanDocument).violations.map((v) => [v.policy, v.urn?.split("::").pop()])).toEqual([
      ["credentials-from-secret-manager", "payouts"],
    ]);
  });

  test("what only the preview cannot prove blocks the plan too (exit 1)", async () => {
    const doc = await inProcess(["--program", "tests/fixtures/policy/revocation-requires-verification-unprovable-in-preview.ts"]);
    expect(hasMandatoryViolation(doc)).toBe(true);
    const result = { stdout: renderPlan(doc) };
    expect(result.stdout).toContain("  FAIL  [mandatory] revocation-requires-verification (credential-old)");
    expect(result.stdout).toContain("it cannot be proven safe during preview");
  });

  test.each([
    [
      "program-error-dependency-cycle",
      "dependency cycle: api-credential-g1 (gcp:secretmanager/secretVersion:SecretVersion) waits on worker",
    ],
    [
      "program-error-gate-never-released",
      "1 resource was never registered: api-credential-g1 (gcp:secretmanager/secretVersion:SecretVersion)",
    ],
  ])("%s: exits 2 (a program error, not a policy verdict), naming the resources, instead of hanging", async (fixture, message) => {
    const result = await run(fixture);
    // The timeout kills a hang: the status is then null, not 2.
    expect(result.status).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("plan: error: the program failed while being evaluated: the program ");
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toContain("promises were still active");
  });

  test("rotating and revoking the token in one apply (the emergency path) exits 0", async () => {
    const file = stackFile(
      "Pulumi.staging.yaml",
      stagingText().replace("    current: 4\n    previous: 3\n", "    current: 5\n    previous: 4\n"),
    );
    const doc = await inProcess(["--stack", "staging", "--config-file", file]);
    const result = { stdout: renderPlan(doc), status: hasMandatoryViolation(doc) ? 1 : 0 };
    expect(result.stdout).toContain("authToken    current g5   previous g4: REVOKED after verification");
    expect(result.stdout).toContain("Result: OK");
    expect(result.status).toBe(0);
  });

  test.each([
    [["--stack"], "plan: error: --stack needs a value"],
    [["--stacks", "staging"], "plan: error: unknown flag --stacks: did you mean --stack? (see --help)\n"],
    [[], "plan: error: --stack is required"],
    [["--stack", "qa"], 'plan: error: no stack "qa" here (no Pulumi.qa.yaml); stacks: prod, staging (see --help)\n'],
  ])("usage error %j exits 2", async (args, message) => {
    const result = await mainInProcess(args);
    expect(result.status).toBe(2);
    expect(result.stderr.startsWith(message)).toBe(true);
  });
});
