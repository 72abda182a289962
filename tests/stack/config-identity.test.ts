/**
 * Config identity: the environment is the stack's, every key is one the project or its providers
 * declare (typos refused with a suggestion), a key is given once, a secret-holding key is a secret
 * whether or not it is in use, and the stack file's oddities (.inf, .nan, empty, a directory) get a
 * clear message. Also what the stack last applied: a mnemonic change is a rotation, a compromised
 * generation stays listed. Pure parsing, the real program under mocks, and the plan's entry point.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { RotatingSecret, RotatingSecretArgs } from "../../stack/components/rotating-secret";
import { ConfigError, PROJECT, RawConfig, StackConfig, decodeConfigMap, parseStackConfig } from "../../stack/config";
import {
  NEVER_APPLIED,
  appliedOutputsFromConfig,
  appliedStateFrom,
  checkAgainstApplied,
  mnemonicRotationReason,
  neverApplied,
} from "../../stack/last-applied";
import { closest, editDistance, providerConfigKeys } from "../../stack/provider-config";
import { readStackFile } from "../../stack/stack-file";
import { lastAppliedAt, main as planMain, parsePlanArgs, stackParts } from "../../ops/plan/cli";
import { RecordedResource, evaluateProgram, stackMocks } from "../../harness/recording-monitor";
import { runStack } from "../support/stack";
import { ROOT, stackConfig } from "../support/project";

afterAll(() => pulumi.runtime.disconnect());

const NOW = new Date("2026-06-01T12:00:00Z");
const APPROVAL = {
  ticket: "CHG-2041",
  approver: "cfo@openagents.com",
  windowStart: "2026-06-01T11:00:00Z",
  windowEnd: "2026-06-01T13:00:00Z",
};

/** The shipped staging (or prod) config as parsed raw values, and its secret keys. */
function base(stack: "staging" | "prod" = "staging"): { raw: Record<string, unknown>; secretKeys: Set<string> } {
  const { config, secretKeys } = stackConfig(stack);
  // Decoded as the program decodes the engine's config map (secret keys' values are left out).
  const decoded = decodeConfigMap(config, (key) => secretKeys.includes(key));
  return { raw: { ...decoded.raw }, secretKeys: decoded.secretKeys };
}

/** The problems parsing reports, or [] when it parses. */
function problemsOf(raw: RawConfig, options: Parameters<typeof parseStackConfig>[2] = {}): string[] {
  try {
    parseStackConfig(raw, NOW, options);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return [...err.problems];
  }
}

describe("the environment is the stack's", () => {
  test.each([
    [
      "prod",
      "staging",
      'wallet-executor:environment: "staging" does not match the stack "prod"; allowed: prod (a stack\'s environment is its name)',
    ],
    ["org/prod", "staging", 'wallet-executor:environment: "staging" does not match the stack "org/prod"; allowed: prod'],
    ["org/wallet-executor/staging", "prod", 'wallet-executor:environment: "prod" does not match the stack "org/wallet-executor/staging"'],
    ["qa", "staging", 'wallet-executor:environment: the stack "qa" names no environment; allowed stack names: staging, prod'],
  ])("stack %s saying %s is refused", (stack, environment, message) => {
    const { raw, secretKeys } = base();
    const problems = problemsOf({ ...raw, "wallet-executor:environment": environment }, { stack, secretKeys });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(message);
  });

  test.each(["staging", "org/staging", "org/wallet-executor/staging"])("stack %s saying staging parses", (stack) => {
    const { raw, secretKeys } = base();
    expect(problemsOf(raw, { stack, secretKeys })).toEqual([]);
  });
});

describe("every key is one the project or its providers declare", () => {
  test.each([
    ["gcp:projct", "gcp:projct: unknown key of the gcp provider (did you mean gcp:project?); allowed: the keys @pulumi/gcp declares"],
    ["gcp:regoin", "gcp:regoin: unknown key of the gcp provider (did you mean gcp:region?)"],
    ["gcp:nothingLikeIt", "gcp:nothingLikeIt: unknown key of the gcp provider; allowed: the keys @pulumi/gcp declares"],
    ["random:seed", "random:seed: unknown key of the random provider; allowed: none (the random provider takes no config)"],
    [
      "gpc:project",
      'gpc:project: unknown namespace "gpc" (did you mean gcp:project?); allowed namespaces: wallet-executor, gcp, random, pulumi',
    ],
    ["wallet-executr:authToken", 'wallet-executr:authToken: unknown namespace "wallet-executr" (did you mean wallet-executor:authToken?)'],
    [
      "wallet-executor:authTokn",
      "wallet-executor:authTokn: unknown key (did you mean wallet-executor:authToken?); allowed: wallet-executor:environment",
    ],
    ["wallet-executor:mnemnicG2", "wallet-executor:mnemnicG2: unknown key (did you mean wallet-executor:mnemonicG2?)"],
    ["wallet-executor:Environment", "wallet-executor:Environment: unknown key (did you mean wallet-executor:environment?)"],
  ])("%s is refused, with a suggestion when one is close", (key, message) => {
    const { raw, secretKeys } = base();
    const problems = problemsOf({ ...raw, [key]: "x" }, { stack: "staging", secretKeys });
    expect(problems).toEqual([expect.stringContaining(message)]);
    // The value of a mistyped key may be a secret: it is never quoted.
    expect(problems[0]).not.toContain('"x"');
  });

  test.each(["gcp:zone", "gcp:userProjectOverride", "gcp:secretManagerCustomEndpoint", "pulumi:disable-default-providers"])(
    "%s (declared by its provider, or the engine's) is accepted",
    (key) => {
      const { raw, secretKeys } = base();
      expect(problemsOf({ ...raw, [key]: "true" }, { stack: "staging", secretKeys })).toEqual([]);
    },
  );

  test("the gcp provider's keys are read from the installed provider", () => {
    const keys = providerConfigKeys("gcp");
    for (const key of ["project", "region", "zone", "accessToken", "credentials", "impersonateServiceAccount"])
      expect(keys.has(key)).toBe(true);
    expect(keys.size).toBeGreaterThan(100);
    expect(providerConfigKeys("random").size).toBe(0);
    expect(providerConfigKeys("no-such-provider").size).toBe(0);
  });

  test("suggestions: close enough for a typo, never a guess", () => {
    expect(editDistance("projct", "project")).toBe(1);
    expect(editDistance("porject", "project")).toBe(1);
    expect(editDistance("REGION", "region")).toBe(0);
    expect(closest("projct", ["region", "project"])).toBe("project");
    expect(closest("zz", ["project", "region"])).toBeUndefined();
  });
});

describe("a key that holds a secret must be one, in use or not", () => {
  const plaintext = (key: string): string =>
    `${key}: is stored in plaintext; allowed: an encrypted value, set with: pulumi config set --secret ${key.replace(/^wallet-executor:/, "")} < <file holding the value>`;

  test.each([
    ["a mnemonic generation not in use", "wallet-executor:mnemonicG7", "staging"],
    ["a Spark key generation not in use", "wallet-executor:sparkApiKeyG9", "staging"],
    ["the smoke invoice, with the payment probe off (prod)", "wallet-executor:smokeInvoice", "prod"],
    ["a provider credential", "gcp:credentials", "staging"],
    ["a provider access token", "gcp:accessToken", "staging"],
  ] as const)("%s in plaintext is refused, its value never shown", (_label, key, stack) => {
    const { raw, secretKeys } = base(stack);
    const problems = problemsOf({ ...raw, [key]: "sk_live_do_not_print_me" }, { stack, secretKeys });
    expect(problems).toEqual([plaintext(key)]);
    expect(problems.join("\n")).not.toContain("do_not_print_me");
  });

  test("a configured invoice key in plaintext is refused, even with the probe disabled", () => {
    const { raw, secretKeys } = base("prod");
    const verification = { payment: { enabled: false, invoiceConfigKey: "prodInvoice" } };
    const problems = problemsOf(
      { ...raw, "wallet-executor:verification": verification, "wallet-executor:prodInvoice": "lnbc1" },
      { stack: "prod", secretKeys },
    );
    expect(problems).toEqual([plaintext("wallet-executor:prodInvoice")]);
  });

  test("the same keys stored as secrets pass; plain keys stored as secrets are refused", () => {
    const { raw, secretKeys } = base();
    const secrets = new Set([...secretKeys, "wallet-executor:mnemonicG7", "gcp:credentials"]);
    expect(problemsOf(raw, { stack: "staging", secretKeys: secrets })).toEqual([]);
    const { "wallet-executor:environment": _environment, "gcp:project": _project, ...rest } = raw;
    expect(
      problemsOf(rest, { stack: "staging", secretKeys: new Set([...secretKeys, "wallet-executor:environment", "gcp:project"]) }),
    ).toEqual([
      "gcp:project: is stored as a secret; allowed: plain config (it holds no secret, and must be reviewable in PRs)",
      "wallet-executor:environment: is stored as a secret; allowed: plain config (it holds no secret, and must be reviewable in PRs)",
    ]);
  });
});

describe("clear messages for empty config and non-numbers", () => {
  test("an empty config is one problem that says so", () => {
    expect(problemsOf({}, { stack: "staging", secretKeys: new Set() })).toEqual([
      expect.stringMatching(/^config: is empty; allowed: a config: section in Pulumi.<stack>.yaml with at least gcp:project, gcp:region/),
    ]);
  });

  test.each([
    [Infinity, ".inf"],
    [-Infinity, "-.inf"],
    [NaN, ".nan"],
  ])("%s is shown as YAML writes it", (value, written) => {
    const { raw } = base();
    expect(problemsOf({ ...raw, "wallet-executor:authToken": { current: value } })).toEqual([
      `wallet-executor:authToken.current: ${written} is not allowed; allowed: an integer from 1 to 1000000`,
    ]);
  });
});

describe("the stack file as the CLI reads it", () => {
  const file = (config: string): string => `config:\n${config}`;

  test.each([
    [
      "bare and namespaced",
      "  wallet-executor:authToken:\n    current: 4\n  authToken:\n    current: 9\n",
      'wallet-executor:authToken: is given twice in f.yaml, as "wallet-executor:authToken" and "authToken"; allowed: one of them',
    ],
    [
      "the old <ns>:config:<name> form",
      "  gcp:project: a-project\n  gcp:config:project: b-project\n",
      'gcp:project: is given twice in f.yaml, as "gcp:project" and "gcp:config:project"',
    ],
    ["a key with too many parts", "  a:b:c:d: 1\n", "a:b:c:d: is not a config key; allowed: <namespace>:<name>"],
    [
      ".nan deep in an object",
      "  wallet-executor:executor:\n    requestCapMsats: .nan\n",
      "wallet-executor:executor.requestCapMsats: .nan is not allowed; allowed: a finite number (YAML .inf, -.inf and .nan are not numbers config accepts)",
    ],
    [
      "-.inf in a list",
      "  wallet-executor:authToken:\n    compromised: [1, -.inf]\n",
      "wallet-executor:authToken.compromised[1]: -.inf is not allowed",
    ],
  ])("%s is refused", (_label, config, message) => {
    expect(() => readStackFile(file(config), PROJECT, "f.yaml")).toThrow(ConfigError);
    expect(() => readStackFile(file(config), PROJECT, "f.yaml")).toThrow(message);
  });

  test.each([
    ["an empty file", "", "f.yaml: is empty; allowed: a YAML mapping with a config: section"],
    ["a file with only a comment", "# nothing\n", "f.yaml: is empty"],
    ["no config section", "secretsprovider: passphrase\n", "f.yaml: has no config (the config: section is missing or empty)"],
    ["an empty config section", "config: {}\n", "f.yaml: has no config (the config: section is empty)"],
  ])("%s gets a clear message", (_label, text, message) => {
    expect(() => readStackFile(text, PROJECT, "f.yaml")).toThrow(message);
  });

  test("the old form is read as the CLI reads it", () => {
    expect(readStackFile(file("  gcp:config:project: a-project\n  environment: staging\n"), PROJECT).config).toEqual({
      "gcp:project": "a-project",
      "wallet-executor:environment": "staging",
    });
  });
});

describe("compromised generations in config", () => {
  const withToken = (token: Record<string, unknown>): RawConfig => ({ ...base().raw, "wallet-executor:authToken": token });

  test.each([
    [{ current: 4, compromised: [4] }, "wallet-executor:authToken.compromised: generation 4 is the current one; allowed:"],
    [{ current: 4, compromised: 3 }, "wallet-executor:authToken.compromised: must be a list of distinct generations"],
    [{ current: 4, compromised: [3, 3] }, "wallet-executor:authToken.compromised: generation 3 is listed twice"],
    [{ current: 4, compromised: [0] }, "wallet-executor:authToken.compromised: 0 is not allowed"],
  ])("%j is refused", (token, message) => {
    expect(problemsOf(withToken(token))).toEqual([expect.stringContaining(message)]);
  });

  test("a compromised previous generation is revoked whatever revokePrevious says; the list is kept sorted", () => {
    const config = parseStackConfig(withToken({ current: 4, previous: 3, compromised: [3, 1] }), NOW);
    expect(config.authToken).toEqual({ current: 4, previous: 3, revokePrevious: true, compromised: [1, 3] });
  });

  test("a compromised previous mnemonic is revoked without waiting for the reconciliation sign-off", () => {
    const mnemonic = { current: 2, previous: 1, compromised: [1], approval: APPROVAL };
    const config = parseStackConfig({ ...base().raw, "wallet-executor:mnemonic": mnemonic }, NOW);
    expect(config.mnemonic.revokePrevious).toBe(true);
  });
});

describe("what the stack last applied", () => {
  const parsed = (mnemonic: Record<string, unknown>, extra: RawConfig = {}): StackConfig =>
    parseStackConfig({ ...base().raw, "wallet-executor:mnemonic": mnemonic, ...extra }, NOW);
  const applied = (mnemonic: Record<string, unknown>) => appliedStateFrom({ mnemonic });

  test("the stack file's config stands for the outputs the program exports", () => {
    expect(appliedOutputsFromConfig(stackConfig("staging").config)).toEqual({
      credentials: {
        authToken: { currentGeneration: 4 },
        sparkApiKey: { currentGeneration: 2, currentSource: "config" },
        mnemonic: { currentGeneration: 1, currentSource: "config" },
      },
    });
    const published = { "wallet-executor:mnemonic": JSON.stringify({ current: 2, published: { 2: 7 }, compromised: [1] }) };
    expect(appliedOutputsFromConfig(published)).toEqual({
      credentials: { mnemonic: { currentGeneration: 2, currentSource: "published", currentVersion: "7", compromisedGenerations: [1] } },
    });
    expect(appliedOutputsFromConfig({ "wallet-executor:mnemonic": "not json" })).toEqual({ credentials: {} });
  });

  test.each([
    ["nothing applied", { current: 1 }, undefined, "what the stack last applied is unknown, so generation 1 counts as a change"],
    ["another generation", { current: 2 }, { currentGeneration: 1 }, "current 2 differs from generation 1, which the stack last applied"],
    [
      "another published version of the same generation",
      { current: 1, published: { 1: 9 } },
      { currentGeneration: 1, currentSource: "published", currentVersion: "7" },
      "generation 1 now reads published version 9, not the version 7 the stack last applied",
    ],
    [
      "a published version where config was",
      { current: 1, published: { 1: 9 } },
      { currentGeneration: 1, currentSource: "config", currentVersion: "11" },
      "generation 1 now reads published version 9, not the value the stack last applied",
    ],
    [
      "config where a published version was",
      { current: 1 },
      { currentGeneration: 1, currentSource: "published", currentVersion: "7" },
      "generation 1 now comes from config, not from published version 7 the stack last applied",
    ],
    ["the same generation and source", { current: 1 }, { currentGeneration: 1, currentSource: "config" }, undefined],
    ["outputs from before sources were recorded", { current: 1 }, { currentGeneration: 1 }, undefined],
  ])("%s", (_label, mnemonic, last, reason) => {
    expect(mnemonicRotationReason(parsed(mnemonic), last === undefined ? undefined : applied(last))).toBe(reason);
  });

  test("a mnemonic change without previous needs the approval and the window", () => {
    const change = (mnemonic: Record<string, unknown>): string[] => {
      try {
        checkAgainstApplied(parsed(mnemonic), applied({ currentGeneration: 1 }), NOW);
        return [];
      } catch (err) {
        return [...(err as ConfigError).problems];
      }
    };
    expect(change({ current: 2 })).toEqual([
      "wallet-executor:mnemonic.approval: is required while a mnemonic rotation is in progress (a mnemonic change: current 2 differs " +
        "from generation 1, which the stack last applied); allowed: { ticket, approver, windowStart, windowEnd, overrideReason? }",
    ]);
    expect(change({ current: 2, approval: { ...APPROVAL, windowEnd: "2026-06-01T11:30:00Z" } })).toEqual([
      "wallet-executor:mnemonic.approval.windowStart: now (2026-06-01T12:00:00.000Z) is outside the approved maintenance window " +
        "2026-06-01T11:00:00Z .. 2026-06-01T11:30:00Z; allowed: run inside the window, or record why in approval.overrideReason",
    ]);
    expect(change({ current: 2, approval: { ...APPROVAL, windowEnd: "2026-06-01T11:30:00Z", overrideReason: "INC-1" } })).toEqual([]);
    expect(change({ current: 2, approval: APPROVAL })).toEqual([]);
  });

  test("prod: a mnemonic change needs staging's verification even at generation 1", () => {
    const prod = parseStackConfig(base("prod").raw, NOW);
    expect(checkAgainstApplied(prod, appliedStateFrom({ mnemonic: { currentGeneration: 1 } }), NOW).needsStagingVerification).toBe(false);
    expect(() => checkAgainstApplied(prod, undefined, NOW)).toThrow("wallet-executor:mnemonic.approval: is required");
    const approved = parseStackConfig({ ...base("prod").raw, "wallet-executor:mnemonic": { current: 1, approval: APPROVAL } }, NOW);
    expect(checkAgainstApplied(approved, undefined, NOW)).toEqual({
      mnemonicRotation: "what the stack last applied is unknown, so generation 1 counts as a change",
      needsStagingVerification: true,
    });
  });

  test("a stack never applied (no outputs at all) creates its wallet: not a mnemonic change", () => {
    expect(neverApplied(undefined, undefined)).toBe(true);
    expect(neverApplied("staging", undefined)).toBe(false);
    expect(neverApplied(undefined, { mnemonic: { currentGeneration: 1 } })).toBe(false);
    expect(mnemonicRotationReason(parsed({ current: 1 }), NEVER_APPLIED)).toBeUndefined();
    expect(mnemonicRotationReason(parsed({ current: 3 }), NEVER_APPLIED)).toBeUndefined();
    expect(checkAgainstApplied(parsed({ current: 1 }), NEVER_APPLIED, NOW).mnemonicRotation).toBeUndefined();
    // Applied, but its outputs unreadable: unknown still counts as a change.
    expect(mnemonicRotationReason(parsed({ current: 1 }), appliedStateFrom("not an object"))).toBe(
      "what the stack last applied is unknown, so generation 1 counts as a change",
    );
  });

  test("a generation applied as compromised stays listed", () => {
    const config = parseStackConfig({ ...base().raw, "wallet-executor:authToken": { current: 5 } }, NOW);
    const last = appliedStateFrom({ authToken: { currentGeneration: 4, compromisedGenerations: [3] }, mnemonic: { currentGeneration: 1 } });
    expect(() => checkAgainstApplied(config, last, NOW)).toThrow(
      "wallet-executor:authToken.compromised: generation 3 was marked compromised when the stack was last applied; " +
        "allowed: a list that still includes 3 (a compromised generation stays dead)",
    );
    const kept = parseStackConfig({ ...base().raw, "wallet-executor:authToken": { current: 5, compromised: [3] } }, NOW);
    expect(checkAgainstApplied(kept, last, NOW).mnemonicRotation).toBeUndefined();
  });

  test("outputs that are not this program's count as unknown, field by field", () => {
    expect(appliedStateFrom(undefined)).toBeUndefined();
    expect(appliedStateFrom("[secret]")).toBeUndefined();
    expect(
      appliedStateFrom({
        mnemonic: { currentGeneration: "1", currentSource: "elsewhere", currentVersion: 7, compromisedGenerations: [0, 2, "3"] },
      }),
    ).toEqual({ mnemonic: { compromisedGenerations: [2] } });
  });
});

describe("the real program reads what it last applied", () => {
  const MNEMONIC_G2 = "mnemonicG2";

  test("a mnemonic change without previous is refused without an approval, registering only its read", async () => {
    const run = await runStack({
      stack: "staging",
      set: { mnemonic: { current: 2 }, [MNEMONIC_G2]: "abandon abandon ability" },
      secret: [MNEMONIC_G2],
      lastApplied: { credentials: { mnemonic: { currentGeneration: 1, currentSource: "config" } } },
    });
    expect((run.error as Error).message).toContain(
      "wallet-executor:mnemonic.approval: is required while a mnemonic rotation is in progress (a mnemonic change: current 2 differs from generation 1",
    );
    expect(run.resources.map((r) => `${r.type}::${r.name}`)).toEqual(["pulumi:pulumi:StackReference::last-applied"]);
    expect(run.resources[0].inputs.name).toBe("organization/wallet-executor/staging");
  });

  test("a stack never applied (its first deployment creates the wallet) is not a mnemonic change", async () => {
    const run = await runStack({ stack: "staging", lastApplied: null });
    expect(run.error).toBeUndefined();
    expect(run.byName("mnemonic-g1").inputs.enabled).toBe(true);
  });

  test("a stack applied before, whose credentials output is unreadable, counts as a mnemonic change", async () => {
    const run = await runStack({ stack: "staging", lastApplied: { environment: "staging", credentials: "garbled" } });
    expect((run.error as Error).message).toContain("(a mnemonic change: what the stack last applied is unknown");
  });

  test("with an approval inside its window, the changed mnemonic is deployed", async () => {
    const approval = {
      ...APPROVAL,
      windowStart: new Date(Date.now() - 3_600_000).toISOString(),
      windowEnd: new Date(Date.now() + 3_600_000).toISOString(),
    };
    const run = await runStack({
      stack: "staging",
      set: { mnemonic: { current: 2, approval }, [MNEMONIC_G2]: "abandon abandon ability" },
      secret: [MNEMONIC_G2],
      lastApplied: { credentials: { mnemonic: { currentGeneration: 1 } } },
    });
    expect(run.error).toBeUndefined();
    expect(run.byName("mnemonic-g2").inputs.enabled).toBe(true);
  });

  test("a prod stack calling itself staging is refused before anything is registered", async () => {
    const run = await runStack({ stack: "prod", set: { environment: "staging" } });
    expect((run.error as Error).message).toContain('wallet-executor:environment: "staging" does not match the stack "prod"');
    expect(run.resources).toEqual([]);
  });

  test("a compromised previous token is disabled after verification, and recorded on its secret", async () => {
    const run = await runStack({ stack: "prod", set: { authToken: { current: 3, previous: 2, compromised: [2] } } });
    expect(run.error).toBeUndefined();
    const g2 = run.byName("auth-token-g2");
    expect(g2.inputs).toMatchObject({ enabled: false, deletionPolicy: "DISABLE" });
    expect(g2.dependencies).toContain(run.byName("verification").urn);
    expect(run.byName("verification").inputs.revoking).toEqual(["auth-token-g2"]);
    expect(run.byName("auth-token-secret").inputs.annotations).toEqual({ "compromised-generations": "2" });
    expect(run.byName("auth-token-g3").inputs.enabled).toBe(true);
    expect(run.outputs.credentials).toMatchObject({ authToken: { previousRevoked: true, compromisedGenerations: [2] } });
  });

  test("without compromised generations, no annotation is added (the shipped graph is unchanged)", async () => {
    const run = await runStack({ stack: "staging" });
    expect(run.byName("auth-token-secret").inputs.annotations).toBeUndefined();
  });

  test("dropping a generation applied as compromised is refused", async () => {
    const run = await runStack({
      stack: "prod",
      set: { authToken: { current: 4, previous: 3 } },
      lastApplied: {
        credentials: { authToken: { compromisedGenerations: [2] }, mnemonic: { currentGeneration: 1, currentSource: "config" } },
      },
    });
    expect((run.error as Error).message).toContain("wallet-executor:authToken.compromised: generation 2 was marked compromised");
  });

  test("a key written twice in the stack file on disk is refused by the program itself", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-file-"));
    const text = fs.readFileSync(path.join(ROOT, "Pulumi.staging.yaml"), "utf8");
    fs.writeFileSync(path.join(dir, "Pulumi.staging.yaml"), `${text}  authToken:\n    current: 9\n`);
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const run = await runStack({ stack: "staging" });
      expect((run.error as Error).message).toContain("wallet-executor:authToken: is given twice in Pulumi.staging.yaml");
      expect(run.resources).toEqual([]);
    } finally {
      process.chdir(cwd);
    }
  });
});

describe("the plan's entry point", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-identity-"));
  const staging = fs.readFileSync(path.join(ROOT, "Pulumi.staging.yaml"), "utf8");
  const prod = fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8");
  const write = (name: string, text: string): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };
  const plan = async (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    let stdout = "";
    let stderr = "";
    const code = await planMain(args, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
    return { code, stdout, stderr };
  };

  test.each([
    [
      "a prod file that says staging",
      "prod",
      prod.replace("environment: prod", "environment: staging"),
      'wallet-executor:environment: "staging" does not match the stack "prod"',
    ],
    ["a key both bare and namespaced", "staging", `${staging}  authToken:\n    current: 9\n`, "wallet-executor:authToken: is given twice"],
    [
      "a misspelled gcp key",
      "staging",
      staging.replace("  gcp:region: us-central1\n", "  gcp:region: us-central1\n  gcp:projct: x\n"),
      "gcp:projct: unknown key of the gcp provider (did you mean gcp:project?)",
    ],
    [
      "a plaintext mnemonic not in use",
      "staging",
      `${staging}  wallet-executor:mnemonicG7: "abandon ability able"\n`,
      "wallet-executor:mnemonicG7: is stored in plaintext",
    ],
    [
      "a plaintext invoice with the probe off",
      "prod",
      `${prod}  wallet-executor:smokeInvoice: lnbc1plain\n`,
      "wallet-executor:smokeInvoice: is stored in plaintext",
    ],
    [
      "a mnemonic change without previous",
      "staging",
      staging.replace(
        "  wallet-executor:mnemonic:\n    current: 1\n",
        "  wallet-executor:mnemonic:\n    current: 2\n  wallet-executor:mnemonicG2:\n    secure: v1:x\n",
      ),
      "wallet-executor:mnemonic.approval: is required while a mnemonic rotation is in progress (a mnemonic change: ",
    ],
    [
      "a .inf generation",
      "staging",
      staging.replace("    current: 4\n", "    current: .inf\n"),
      "wallet-executor:authToken.current: .inf is not allowed",
    ],
    ["an empty file", "staging", "", "f.yaml: is empty"],
    [
      "a compromised current generation",
      "staging",
      staging.replace("    revokePrevious: true\n", "    revokePrevious: true\n    compromised: [4]\n"),
      "wallet-executor:authToken.compromised: generation 4 is the current one",
    ],
  ])("%s exits 2 naming the key", async (_label, stack, text, message) => {
    const result = await plan(["--stack", stack, "--config-file", write("f.yaml", text)]);
    expect(result.stderr).toContain(message);
    expect(result.stderr.startsWith("plan: error: invalid stack configuration")).toBe(true);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).not.toContain("abandon ability");
    expect(result.stderr).not.toContain("lnbc1plain");
  });

  test("a directory given as the stack file or the program is a usage error", async () => {
    const asDir = fs.mkdtempSync(path.join(dir, "d-"));
    const byFile = await plan(["--stack", "staging", "--config-file", asDir]);
    expect(byFile.code).toBe(2);
    expect(byFile.stderr).toMatch(/^plan: error: --config-file: .* is a directory; allowed: a stack file \(a file\) \(see --help\)\n$/);
    const byProgram = await plan(["--stack", "staging", "--program", asDir]);
    expect(byProgram.stderr).toMatch(/^plan: error: --program: .* is a directory; allowed: a program \(a file\) \(see --help\)\n$/);
  });

  test("stack names: plain, with an organization, fully qualified; another project's is refused", async () => {
    expect(stackParts("org/wallet-executor/prod")).toEqual({ organization: "org", project: "wallet-executor", name: "prod" });
    expect(stackParts("org/prod")).toEqual({ organization: "org", name: "prod" });
    expect(parsePlanArgs(["--stack", "org/wallet-executor/prod"], ROOT).configFile).toBe(path.join(ROOT, "Pulumi.prod.yaml"));
    expect(() => parsePlanArgs(["--stack", "a/b/c/d"], ROOT)).toThrow('--stack "a/b/c/d" has too many parts');
    expect(() => parsePlanArgs(["--stack", "o/wallet-executor/st@ging"], ROOT)).toThrow('the stack name "st@ging" is not allowed');
    expect(() => parsePlanArgs(["--stack=o/prod"], ROOT)).toThrow('the organization "o" is not allowed');
    expect(() => parsePlanArgs(["--stack", "staging", "--base", "--oops"], ROOT)).toThrow("--base needs a value");
    expect(() => parsePlanArgs(["--stack", "staging", "--base=-x"], ROOT)).toThrow('--base "-x" is not a git ref');
    const other = await plan(["--stack", "org/other-project/staging"]);
    expect(other).toMatchObject({
      code: 2,
      stderr:
        'plan: error: --stack "org/other-project/staging": the project part is not this project; allowed: wallet-executor (see --help)\n',
    });
  });

  test("last applied, offline: the stack file at a git ref of a real repository", () => {
    const repo = fs.mkdtempSync(path.join(os.tmpdir(), "plan-base-"));
    const gitIn = (...args: string[]) => spawnSync("git", args, { cwd: repo, encoding: "utf8" });
    gitIn("init", "-q");
    gitIn("config", "user.email", "t@example.com");
    gitIn("config", "user.name", "t");
    expect(lastAppliedAt(undefined, "staging", PROJECT, repo)).toEqual({
      outputs: null,
      source: "unknown (the project is not a git checkout; pass --base <ref>)",
    });
    // Without git, the project's own stack file stands for what was applied, when the plan is of another file.
    fs.writeFileSync(path.join(repo, "Pulumi.staging.yaml"), staging);
    expect(lastAppliedAt(undefined, "staging", PROJECT, repo, path.join(repo, "elsewhere.yaml"))).toMatchObject({
      source: "Pulumi.staging.yaml (no git: the project's own stack file)",
      outputs: { credentials: { mnemonic: { currentGeneration: 1 } } },
    });
    expect(lastAppliedAt(undefined, "staging", PROJECT, repo, path.join(repo, "Pulumi.staging.yaml")).outputs).toBeNull();
    fs.writeFileSync(
      path.join(repo, "Pulumi.staging.yaml"),
      staging.replace("  wallet-executor:mnemonic:\n    current: 1\n", "  wallet-executor:mnemonic:\n    current: 3\n"),
    );
    gitIn("add", ".");
    gitIn("commit", "-qm", "base");
    expect(lastAppliedAt(undefined, "staging", PROJECT, repo)).toMatchObject({
      source: "HEAD:Pulumi.staging.yaml",
      outputs: { credentials: { mnemonic: { currentGeneration: 3 } } },
    });
    expect(lastAppliedAt("HEAD", "prod", PROJECT, repo)).toEqual({
      outputs: null,
      source: "unknown (HEAD has no Pulumi.prod.yaml: a new stack)",
    });
    expect(() => lastAppliedAt("no-such-branch", "staging", PROJECT, repo)).toThrow(
      '--base: "no-such-branch" is not a commit in this repository',
    );
  });
});

describe("RotatingSecret keeps compromised generations dead", () => {
  const BASE: RotatingSecretArgs = {
    secretId: "wallet-executor-auth-token",
    project: "p",
    region: "us-central1",
    labels: {},
    current: 3,
    revokePrevious: false,
    values: { kind: "random-token" },
    destroyTtlDays: 30,
  };
  const evaluate = (program: () => unknown) =>
    evaluateProgram({ program, project: PROJECT, stack: "staging", config: {}, mocks: stackMocks() });

  test.each([
    [
      "a compromised current generation",
      { compromised: [3] },
      "auth-token: generation 3 is compromised and cannot be current; rotate to a new generation",
    ],
    [
      "a compromised previous generation without a gate",
      { previous: 2, compromised: [2] },
      "auth-token: disabling compromised generation 2 needs a revocation gate (the verification of generation 3)",
    ],
  ])("refuses %s", async (_label, args, message) => {
    const run = await evaluate(() => new RotatingSecret("auth-token", { ...BASE, ...args }));
    expect((run.error as Error).message).toBe(message);
  });

  test("a compromised previous generation is disabled after the gate, whatever revokePrevious says", async () => {
    const run = await evaluate(() => {
      const gate = new random.RandomId("gate", { byteLength: 4 });
      new RotatingSecret("auth-token", { ...BASE, previous: 2, compromised: [2, 1, 2], revocationGate: gate });
    });
    expect(run.error).toBeUndefined();
    const byName = (name: string) => run.resources.find((r) => r.name === name) as RecordedResource;
    expect(byName("auth-token-g2").inputs.enabled).toBe(false);
    expect(byName("auth-token-g2").dependencies).toContain(byName("gate").urn);
    expect(byName("auth-token-g3").inputs.enabled).toBe(true);
    expect(byName("auth-token-secret").inputs.annotations).toEqual({ "compromised-generations": "1,2" });
    expect(run.registeredOutputs[byName("auth-token").urn]).toMatchObject({ previousEnabled: false, compromisedGenerations: [1, 2] });
  });
});
