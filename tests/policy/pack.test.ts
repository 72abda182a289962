/**
 * The policy pack, through the offline harness: the shipped stacks pass; each fixture program
 * breaks exactly one rule and gets exactly that violation; cutting the revocation -> verification
 * edge out of the real program fails the pack; and each policy's edge cases, with hand-built
 * resources, including values unknown during preview (skipped with a note, never a violation).
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { PROJECT } from "../../stack/config";
import { asError } from "../../lib/errors";
import {
  credentialsFromSecretManager,
  executorExposure,
  leastPrivilegeSecretAccess,
  revocationRequiresVerification,
  secretReferencesPinned,
  secretVersionsRecoverable,
  servicesShareTokenVersion,
  tokenEntropy,
  ALL_POLICIES,
  WalletPolicy,
} from "../../policy/policies";
import { defineStack } from "../../stack/program";
import {
  AnalyzerResourceView,
  PolicyConfig,
  PolicyEvaluation,
  Violation,
  analyzerViews,
  checkResource,
  checkStack,
  evaluateWithPolicies,
  resourceView,
  runPolicies,
} from "../../harness/policy-harness";
import { MockOptions, RecordedResource, UNKNOWN, stackMocks } from "../../harness/recording-monitor";
import {
  Env,
  RotationOptions,
  T,
  U,
  cloudRun,
  messages,
  plainEnv,
  rotationStack,
  secretEnv,
  secretNode,
  versionNode,
  skipNote,
  unprovable,
  replaceResource,
} from "../support/policy-builders";
import { ROOT, stackConfig } from "../support/project";
import { skipDynamicProviderCode } from "../../lib/sdk-internals/dynamic-provider";

afterAll(() => pulumi.runtime.disconnect());
// No policy reads a dynamic provider's code: the program registers the marker instead (tests/support/stack.ts says why).
skipDynamicProviderCode();

const resourceName = (urn: string | undefined): string | undefined => urn?.split("::").pop();

/** Violations as [policy, level, resource name]: what a test compares first. */
const summary = (violations: readonly Violation[]): [string, string, string | undefined][] =>
  violations.map((v) => [v.policy, v.enforcementLevel, resourceName(v.urn)]);

const mandatory = (violations: readonly Violation[]): Violation[] => violations.filter((v) => v.enforcementLevel === "mandatory");

/** Matches the URN of the resource with this logical name. */
const urnNamed = (name: string): string => {
  const matcher: unknown = expect.stringMatching(new RegExp(`::${name}$`));
  return matcher as string;
};

/** Rethrows what a program threw, as an Error. */
function fail(error: unknown): never {
  throw asError(error);
}

async function evaluateStack(
  stack: "staging" | "prod",
  options: {
    set?: Record<string, unknown>;
    secret?: string[];
    firstPreview?: boolean;
    mocks?: MockOptions;
    policyConfig?: PolicyConfig;
  } = {},
): Promise<PolicyEvaluation> {
  const { config, secretKeys } = stackConfig(stack);
  for (const [key, value] of Object.entries(options.set ?? {}))
    config[`${PROJECT}:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
  const result = await evaluateWithPolicies({
    program: defineStack,
    project: PROJECT,
    stack,
    config,
    secretKeys: [...secretKeys, ...(options.secret ?? []).map((key) => `${PROJECT}:${key}`)],
    firstPreview: options.firstPreview,
    policyConfig: options.policyConfig,
    mocks: stackMocks(options.mocks),
  });
  if (result.evaluation.error) fail(result.evaluation.error);
  return result;
}

/** The registrations with one dependency edge removed, as if the program no longer declared it. */
function withoutEdge(resources: readonly RecordedResource[], from: string, to: string): RecordedResource[] {
  const target = resources.find((r) => r.name === to);
  if (!target || !resources.some((r) => r.name === from && r.dependencies.includes(target.urn)))
    throw new Error(`no edge ${from} -> ${to}`);
  return resources.map((r) => (r.name === from ? { ...r, dependencies: r.dependencies.filter((urn) => urn !== target.urn) } : r));
}

describe("the shipped stacks", () => {
  test.each(["staging", "prod"] as const)("%s passes every policy with no violation at all", async (stack) => {
    const { violations, evaluation } = await evaluateStack(stack);
    expect(evaluation.resources.length).toBeGreaterThan(20);
    expect(violations).toEqual([]);
  });

  test("the pack config the workflows pass (policy/policy-config.json) is valid and keeps both stacks clean", async () => {
    const policyConfig = JSON.parse(fs.readFileSync(path.join(ROOT, "policy", "policy-config.json"), "utf8")) as PolicyConfig;
    for (const stack of ["staging", "prod"] as const) {
      expect((await evaluateStack(stack, { policyConfig })).violations).toEqual([]);
    }
    // Every policy of the pack is named in it, at its documented level.
    expect(Object.keys(policyConfig).sort()).toEqual(ALL_POLICIES.map((p) => p.name).sort());
  });

  test("mnemonic rotations pass: staging revoking two credentials after one verification, prod after reading staging's", async () => {
    const approval = {
      ticket: "CHG-2041",
      approver: "cfo@openagents.com",
      windowStart: new Date(Date.now() - 3_600_000).toISOString(),
      windowEnd: new Date(Date.now() + 3_600_000).toISOString(),
    };
    const signoff = { by: "finance@openagents.com", at: "2026-11-20T10:00:00Z", reference: "RECON-77" };
    const staging = await evaluateStack("staging", {
      set: {
        mnemonic: { current: 2, previous: 1, approval, revokePrevious: true, reconciliationSignoff: signoff },
        mnemonicG2: "abandon abandon ability",
      },
      secret: ["mnemonicG2"],
    });
    const revoked = staging.evaluation.resources.filter((r) => r.inputs.enabled === false).map((r) => r.name);
    expect(revoked.sort()).toEqual(["auth-token-g3", "mnemonic-g1"]);
    expect(staging.violations).toEqual([]);
    const prod = await evaluateStack("prod", {
      set: { mnemonic: { current: 2, previous: 1, approval }, mnemonicG2: "abandon abandon ability" },
      secret: ["mnemonicG2"],
      mocks: { stackOutputs: { staging: { verifiedGenerations: { authToken: 4, sparkApiKey: 2, mnemonic: 2 } } } },
    });
    expect(prod.evaluation.resources.some((r) => r.read && r.type === "pulumi:pulumi:StackReference")).toBe(true);
    expect(prod.violations).toEqual([]);
  });

  test("staging, as the first preview of a new stack: no violation, only advisory notes naming each skipped check", async () => {
    const { violations } = await evaluateStack("staging", { firstPreview: true });
    expect(mandatory(violations)).toEqual([]);
    expect(violations.map((v) => [v.policy, v.enforcementLevel, resourceName(v.urn), v.message])).toEqual([
      [
        "credentials-from-secret-manager",
        "advisory",
        "executor-service",
        skipNote("credentials-from-secret-manager", [
          "executor-service container 0 env OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION: its value",
        ]),
      ],
      [
        "secret-references-pinned",
        "advisory",
        "control-service",
        skipNote("secret-references-pinned", [
          "control-service container 0 env OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN: secretKeyRef version",
        ]),
      ],
      [
        "secret-references-pinned",
        "advisory",
        "executor-service",
        skipNote("secret-references-pinned", [
          "executor-service container 0 env OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN: secretKeyRef version",
          "executor-service container 0 env OA_LIGHTNING_SPARK_API_KEY: secretKeyRef version",
          "executor-service container 0 env OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION: the mnemonic's version path",
        ]),
      ],
      [
        "services-share-token-version",
        "advisory",
        undefined,
        skipNote("services-share-token-version", ["executor-service: which secret its token is"]),
      ],
      // The revision names are a hash of resolved values: the tagged wiring is checked at apply.
      ["tagged-routing", "advisory", undefined, skipNote("tagged-routing", ["executor-service: its traffics"])],
    ]);
  });

  test("the harness presents the stack as the engine does: root stack, default providers, parents", async () => {
    const { evaluation, resourceOutputs } = await evaluateStack("staging");
    const { config } = stackConfig("staging");
    const views = analyzerViews(evaluation.resources, { outputs: resourceOutputs, stackOutputs: evaluation.outputs, config });
    const root = views.stack[0];
    expect(root).toMatchObject({
      type: "pulumi:pulumi:Stack",
      urn: "urn:pulumi:staging::wallet-executor::pulumi:pulumi:Stack::wallet-executor-staging",
    });
    expect(root.props).toMatchObject({ environment: "staging" });
    const gcpProvider = views.stack.find((r) => r.type === "pulumi:providers:gcp");
    expect(gcpProvider).toMatchObject({
      name: "default_9_37_0",
      props: { project: "oa-wallet-staging", region: "us-central1", version: "9.37.0" },
    });
    const verification = views.stack.find((r) => r.name === "verification") as AnalyzerResourceView;
    expect(verification.parent).toBe(root.urn);
    expect(verification.provider?.type).toBe("pulumi:providers:pulumi-nodejs");
    // Stack policies see OUTPUTS: the version number the mocks assign (generation + 10).
    expect(views.stack.find((r) => r.name === "auth-token-g4")?.props.version).toBe("14");
    expect(views.analyze.find((r) => r.name === "auth-token-g4")?.props.version).toBeUndefined();
  });
});

describe("each fixture program breaks exactly one rule", () => {
  const FIXTURES = path.join(ROOT, "tests", "fixtures", "policy");
  // Each test evaluates the fixtures it reads (at most two), in the test itself: coverage taken in a
  // beforeAll belongs to no test, which would hide from mutation testing what these tests check.
  const evaluateFixture = async (fixture: string): Promise<PolicyEvaluation> => {
    const { config, secretKeys } = stackConfig("staging");
    const result = await evaluateWithPolicies({
      program: path.join(FIXTURES, `${fixture}.ts`),
      project: PROJECT,
      stack: "staging",
      config,
      secretKeys,
    });
    if (result.evaluation.error) fail(result.evaluation.error);
    return result;
  };
  const violationsOf = async (fixture: string): Promise<Violation[]> => (await evaluateFixture(fixture)).violations;

  test.each([
    [
      "revocation-without-verification",
      "revocation-requires-verification",
      "auth-token-g3",
      "auth-token-g3 is disabled (revoked) while auth-token-g4 (generation 4) is current, but it depends on no verification: the old " +
        "auth-token could be revoked before the new generation is verified on the services. Missing edge: auth-token-g3 -> verification " +
        "(dependsOn, e.g. RotatingSecret's revocationGate).",
    ],
    [
      "latest-secret-reference",
      "secret-references-pinned",
      "executor-service",
      'executor-service container 0 env OA_LIGHTNING_SPARK_API_KEY reads projects/oa-wallet-staging/secrets/wallet-executor-spark-api-key at "latest"; pin a version number.',
    ],
    [
      "literal-token-env",
      "credentials-from-secret-manager",
      "executor-service",
      "executor-service container 0 env OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN is a literal value: the executor's bearer token must come from " +
        "Secret Manager (valueSource.secretKeyRef with a version number), never a plain env value, which anyone who can read the service's " +
        "configuration or revisions can read.",
    ],
    [
      "delete-deletion-policy",
      "secret-versions-recoverable",
      "spark-api-key-g1",
      'spark-api-key-g1 has deletionPolicy "DELETE": removing this generation from the program would destroy it. Set deletionPolicy: "DISABLE".',
    ],
    [
      "project-wide-accessor",
      "least-privilege-secret-access",
      "executor-project-secret-access",
      "executor-project-secret-access grants roles/secretmanager.secretAccessor on the whole project oa-wallet-staging to " +
        "serviceAccount:wallet-executor-run@oa-wallet-staging.iam.gserviceaccount.com (the account of executor-service): every secret of the " +
        "project becomes readable. Grant roles/secretmanager.secretAccessor per secret (SecretIamMember) instead.",
    ],
    [
      "short-token",
      "token-entropy",
      "auth-token-g1-value",
      "auth-token-g1-value (it becomes the value of auth-token-g1) yields 95.3 bits of entropy (16 characters from a 62-character alphabet); " +
        "a credential needs at least 256 bits " +
        "(32 bytes): set length to at least 43 with the same character classes.",
    ],
  ])("%s: exactly one violation, of %s, on %s", async (fixture, policy, resource, message) => {
    expect(await violationsOf(fixture)).toEqual([{ policy, enforcementLevel: "mandatory", urn: urnNamed(resource), message }]);
  });

  test("public-executor-without-auth: exactly the advisory executor-exposure finding, no mandatory one", async () => {
    expect(await violationsOf("public-executor-without-auth")).toEqual([
      {
        policy: "executor-exposure",
        enforcementLevel: "advisory",
        urn: urnNamed("executor-service"),
        message:
          "executor-service can be invoked by allUsers through executor-public-invoker, but its bearer auth is not wired " +
          "(OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN is not set), so it runs with authMode=disabled and anyone can call /status and " +
          "/pay-bolt11. Wire OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN from Secret Manager (secretKeyRef), or remove the public invoker.",
      },
    ]);
  });

  test("revocation-services-pin-previous: one revocation violation per service still pinning the revoked version, and the verification of another generation", async () => {
    const pinMessage = (service: string): string =>
      `${service} container 0 env OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN pins auth-token-g3, the version being revoked, not the current ` +
      `auth-token-g4 (generation 4): revoking auth-token-g3 would cut off a service that has not rolled to the new generation. ` +
      `Missing pin: ${service} -> auth-token-g4.`;
    const generationMessage = (service: string): string =>
      `verification expects token generation 4, but ${service} container 0 env OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN pins auth-token-g3 ` +
      "(generation 3): it would verify a generation the services do not run (or fail every rotation). To fix: set expectTokenVersion and " +
      "generations from the credential's current generation, the one both services pin.";
    expect(
      (await violationsOf("revocation-services-pin-previous")).map((v) => [v.policy, v.enforcementLevel, resourceName(v.urn), v.message]),
    ).toEqual([
      ["revocation-requires-verification", "mandatory", "control-service", pinMessage("control-service")],
      ["revocation-requires-verification", "mandatory", "executor-service", pinMessage("executor-service")],
      ["verification-expects-pinned-generation", "mandatory", "verification", generationMessage("control-service")],
      ["verification-expects-pinned-generation", "mandatory", "verification", generationMessage("executor-service")],
    ]);
  });

  test("revocation-control-pins-previous: the missing pin, and (inherent to the change) the executor/control mismatch", async () => {
    const violations = await violationsOf("revocation-control-pins-previous");
    expect(summary(violations)).toEqual([
      ["revocation-requires-verification", "mandatory", "control-service"],
      ["services-share-token-version", "mandatory", "control-service"],
      ["verification-expects-pinned-generation", "mandatory", "verification"],
    ]);
    const [pin, share] = violations;
    expect(pin.message).toContain(
      "control-service container 0 env OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN pins auth-token-g3, the version being revoked",
    );
    expect(pin.message).toContain("Missing pin: control-service -> auth-token-g4.");
    expect(share.message).toBe(
      "control-service container 0 env OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN sends the token at version 13 of " +
        "projects/oa-wallet-staging/secrets/wallet-executor-auth-token, but executor-service accepts version 14: every call from " +
        "control-service would get 401. Pin both to the same version.",
    );
  });

  test("an enforcement override from the pack config changes the level, and `disabled` silences the policy", async () => {
    const fixture = await evaluateFixture("latest-secret-reference");
    const resources = fixture.evaluation.resources;
    const outputs = fixture.resourceOutputs;
    expect(summary(await runPolicies(resources, { outputs, policyConfig: { "secret-references-pinned": "advisory" } }))).toEqual([
      ["secret-references-pinned", "advisory", "executor-service"],
    ]);
    expect(
      await runPolicies(resources, { outputs, policyConfig: { "secret-references-pinned": { enforcementLevel: "disabled" } } }),
    ).toEqual([]);
    // `remediate` validates as mandatory; `all` sets every policy that has no level of its own.
    expect(summary(await runPolicies(resources, { outputs, policyConfig: { "secret-references-pinned": "remediate" } }))[0][1]).toBe(
      "mandatory",
    );
    expect(summary(await runPolicies(resources, { outputs, policyConfig: { all: "advisory" } }))[0][1]).toBe("advisory");
    const exposure = (await evaluateFixture("public-executor-without-auth")).evaluation.resources;
    expect(summary(await runPolicies(exposure, { policyConfig: { "executor-exposure": "mandatory" } }))).toEqual([
      ["executor-exposure", "mandatory", "executor-service"],
    ]);
  });
});

describe("cutting the revocation -> verification edge fails the pack", () => {
  const edgeMessage =
    "auth-token-g3 is disabled (revoked) while auth-token-g4 (generation 4) is current, but it depends on no verification: the old " +
    "auth-token could be revoked before the new generation is verified on the services. Missing edge: auth-token-g3 -> verification " +
    "(dependsOn, e.g. RotatingSecret's revocationGate).";

  test("in the real program's graph (staging), after the update and in its preview", async () => {
    for (const firstPreview of [false, true]) {
      const { evaluation, resourceOutputs, violations } = await evaluateStack("staging", { firstPreview });
      expect(mandatory(violations)).toEqual([]);
      const cut = withoutEdge(evaluation.resources, "auth-token-g3", "verification");
      const after = await runPolicies(cut, { outputs: resourceOutputs, stackOutputs: evaluation.outputs });
      expect(mandatory(after)).toEqual([
        { policy: "revocation-requires-verification", enforcementLevel: "mandatory", urn: urnNamed("auth-token-g3"), message: edgeMessage },
      ]);
    }
  });

  test("verification that does not wait for the control rollout is a missing edge too (and for verification-after-rollouts)", async () => {
    const { evaluation, resourceOutputs } = await evaluateStack("staging");
    // The program links them twice (dependsOn and the control revision input); cut both.
    const cut = withoutEdge(evaluation.resources, "verification", "control-service").map((r) =>
      r.name === "verification" ? { ...r, propertyDependencies: { ...r.propertyDependencies, controlRevision: [] } } : r,
    );
    expect(mandatory(await runPolicies(cut, { outputs: resourceOutputs }))).toEqual([
      {
        policy: "revocation-requires-verification",
        enforcementLevel: "mandatory",
        urn: urnNamed("verification"),
        message:
          "verification verifies auth-token generation 4 but does not depend on control-service, which reads that secret: it could pass " +
          "before that rollout finished, and auth-token-g3 would be revoked under it. Missing edge: verification -> control-service.",
      },
      {
        policy: "verification-after-rollouts",
        enforcementLevel: "mandatory",
        urn: urnNamed("verification"),
        message:
          "verification does not depend on control-service (a caller of the executor): it could check the services before that rollout " +
          "finished, and what it vouches for (the revocation after it) would not be what runs. Missing edge: verification -> control-service. " +
          "To fix: add control-service to verification's dependsOn.",
      },
    ]);
  });

  test("revoking a published (not stack-owned) version: passes when gated, fails without the edge", async () => {
    const { evaluation, resourceOutputs, violations } = await evaluateStack("staging", {
      set: { sparkApiKey: { current: 3, previous: 2, revokePrevious: true, published: { "2": 5, "3": 7 } } },
    });
    expect(violations).toEqual([]);
    const cut = withoutEdge(evaluation.resources, "spark-api-key-g2-revocation", "verification");
    expect(mandatory(await runPolicies(cut, { outputs: resourceOutputs }))).toEqual([
      {
        policy: "revocation-requires-verification",
        enforcementLevel: "mandatory",
        urn: urnNamed("spark-api-key-g2-revocation"),
        message:
          "spark-api-key-g2-revocation revokes the published spark-api-key-g2 (version 5) while generation 3 is current, but it depends on no " +
          "verification: the old spark-api-key could be revoked before the new generation is verified on the services. Missing edge: " +
          "spark-api-key-g2-revocation -> verification (dependsOn, e.g. RotatingSecret's revocationGate).",
      },
    ]);
  });
});

// ------------------------------------------------------------------------------------------------
// Direct unit tests, with hand-built resources
// ------------------------------------------------------------------------------------------------

describe("secret-references-pinned", () => {
  const check = (envs: Env[], extra?: Parameters<typeof cloudRun>[2]) =>
    checkResource(secretReferencesPinned, cloudRun("svc", envs, extra));

  test("a version number passes; missing, latest (any case) and an alias fail, each named", async () => {
    expect(await check([secretEnv("A", "projects/p/secrets/a", "12")])).toEqual([]);
    expect(
      messages(await check([secretEnv("A", "projects/p/secrets/a"), secretEnv("B", "b", "LATEST"), secretEnv("C", "c", "stable")])),
    ).toEqual([
      "mandatory: svc container 0 env A reads projects/p/secrets/a at no version (Cloud Run then reads the latest version); pin a version number.",
      'mandatory: svc container 0 env B reads b at "LATEST"; pin a version number.',
      'mandatory: svc container 0 env C reads c at the alias "stable" (an alias moves without a deploy); pin a version number.',
    ]);
  });

  test("the mnemonic's version path must end in a number", async () => {
    expect(await check([plainEnv("OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION", "projects/p/secrets/m/versions/11")])).toEqual([]);
    expect(
      messages(await check([plainEnv("OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION", "projects/p/secrets/m/versions/latest")])),
    ).toEqual([
      'mandatory: svc container 0 env OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION names projects/p/secrets/m at "latest"; the executor would ' +
        "read whatever that resolves to at its next start: pin the version number.",
    ]);
  });

  test("secret volumes: no items means latest; every item needs a number", async () => {
    const volumes = [
      { name: "all", secret: { secret: "s1" } },
      {
        name: "pinned",
        secret: {
          secret: "s2",
          items: [
            { path: "a", version: "3" },
            { path: "b", version: "latest" },
          ],
        },
      },
    ];
    expect(messages(await check([], { volumes }))).toEqual([
      "mandatory: svc volume all mounts s1 without items, i.e. its latest version; list an item with a version number.",
      'mandatory: svc volume pinned item 1 mounts s2 at "latest"; pin a version number.',
    ]);
  });

  test("Cloud Run v1 (`valueFrom.secretKeyRef.key`) and v2 jobs are read too", async () => {
    const v1 = resourceView({
      type: T.cloudRunV1Service,
      name: "v1",
      props: { template: { spec: { containers: [{ envs: [{ name: "K", valueFrom: { secretKeyRef: { name: "s", key: "latest" } } }] }] } } },
    });
    expect(messages(await checkResource(secretReferencesPinned, v1))).toEqual([
      'mandatory: v1 container 0 env K reads s at "latest"; pin a version number.',
    ]);
    const job = resourceView({
      type: T.cloudRunJob,
      name: "job",
      props: { template: { template: { containers: [{ envs: [secretEnv("K", "s")] }] } } },
    });
    expect(summary(await checkResource(secretReferencesPinned, job))).toEqual([["secret-references-pinned", "mandatory", "job"]]);
  });

  test("an unknown version (preview) is skipped with a note, while a known `latest` next to it is still reported", async () => {
    expect(messages(await check([secretEnv("A", "a", UNKNOWN), secretEnv("B", "b", "latest")]))).toEqual([
      `advisory: ${skipNote("secret-references-pinned", ["svc container 0 env A: secretKeyRef version"])}`,
      'mandatory: svc container 0 env B reads b at "latest"; pin a version number.',
    ]);
    const wholeTemplateUnknown = resourceView({ type: T.cloudRunService, name: "svc", props: { template: UNKNOWN } });
    expect(messages(await checkResource(secretReferencesPinned, wholeTemplateUnknown))).toEqual([
      `advisory: ${skipNote("secret-references-pinned", ["svc: template (its secret references cannot be listed)"])}`,
    ]);
  });
});

describe("credentials-from-secret-manager", () => {
  const check = (envs: Env[], policyConfig?: Record<string, { controlTokenEnvNames: string[] }>) =>
    checkResource(credentialsFromSecretManager, cloudRun("svc", envs), { policyConfig });
  const literal = (where: string, what: string): string =>
    `mandatory: svc container 0 env ${where} is a literal value: ${what} must come from Secret Manager (valueSource.secretKeyRef with a ` +
    "version number), never a plain env value, which anyone who can read the service's configuration or revisions can read.";

  test("token and Spark key from secretKeyRef pass; literals fail without showing the value", async () => {
    expect(
      await check([secretEnv("OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN", "t", "1"), secretEnv("OA_LIGHTNING_SPARK_API_KEY", "s", "1")]),
    ).toEqual([]);
    const found = await check([
      plainEnv("OA_LIGHTNING_SPARK_API_KEY", "sk_live_do_not_echo"),
      plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN", ""),
    ]);
    expect(messages(found)).toEqual([
      literal("OA_LIGHTNING_SPARK_API_KEY", "the Spark API key"),
      literal("OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN", "the executor's bearer token"),
    ]);
    expect(JSON.stringify(found)).not.toContain("sk_live_do_not_echo");
  });

  test("a literal value computed during preview is still a literal (its value is never needed)", async () => {
    expect(messages(await check([plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN", UNKNOWN)]))).toEqual([
      literal("OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN", "the executor's bearer token"),
    ]);
  });

  test("the control's token: legacy name by default, other names by config", async () => {
    expect(messages(await check([plainEnv("SPARK_EXECUTOR_AUTH_TOKEN", "x")]))).toEqual([
      literal("SPARK_EXECUTOR_AUTH_TOKEN", "the executor's bearer token"),
    ]);
    // Not a configured name, but named like a credential: refused all the same, as any credential-like literal.
    expect(messages(await check([plainEnv("CONTROL_TOKEN", "x")]))[0]).toContain(
      "CONTROL_TOKEN is named like a credential but is a plain value",
    );
    expect(await check([plainEnv("CONTROL_TARGET", "x")])).toEqual([]);
    expect(
      messages(
        await check([plainEnv("CONTROL_TOKEN", "x")], { "credentials-from-secret-manager": { controlTokenEnvNames: ["CONTROL_TOKEN"] } }),
      ),
    ).toEqual([literal("CONTROL_TOKEN", "the executor's bearer token")]);
  });

  test("the mnemonic: never words in an env var, provider gcp, a version name as the reference", async () => {
    const words = "abandon ability able about above absent absorb abstract absurd abuse access accident";
    const found = await check([
      plainEnv("OA_LIGHTNING_WALLET_MNEMONIC", words),
      plainEnv("OA_LIGHTNING_WALLET_MNEMONIC_PROVIDER", "env"),
      plainEnv("OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION", words),
    ]);
    expect(messages(found)).toEqual([
      "mandatory: svc container 0 env OA_LIGHTNING_WALLET_MNEMONIC holds the wallet mnemonic as a literal value: the wallet's identity would sit " +
        "in the service's configuration. Set OA_LIGHTNING_WALLET_MNEMONIC_PROVIDER=gcp and OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION to the mnemonic's version name.",
      'mandatory: svc container 0 env OA_LIGHTNING_WALLET_MNEMONIC_PROVIDER is "env", not gcp: the executor would read the mnemonic from a plain ' +
        "env var. Set it to gcp and OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION to the mnemonic's version name.",
      "mandatory: svc container 0 env OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION is not a Secret Manager version name " +
        "(projects/<project>/secrets/<secret>/versions/<number>): with provider gcp it must name the mnemonic's version, never hold the mnemonic itself.",
    ]);
    expect(JSON.stringify(found)).not.toContain("abandon");
  });

  test("spark mode without a mnemonic provider defaults to env: a violation; mock mode needs none", async () => {
    expect(messages(await check([plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_MODE", "spark")]))).toEqual([
      "mandatory: svc runs the executor in spark mode without OA_LIGHTNING_WALLET_MNEMONIC_PROVIDER: the executor then defaults to env, reading the " +
        "mnemonic from a plain env var. Set OA_LIGHTNING_WALLET_MNEMONIC_PROVIDER=gcp and OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION.",
    ]);
    expect(await check([plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_MODE", "mock")])).toEqual([]);
  });
});

describe("token-entropy", () => {
  const random = (type: string, name: string, props: Record<string, unknown>, urn?: string) =>
    checkStack(tokenEntropy, [resourceView({ type, name, props, urn })]);

  test("the boundary: 43 alphanumeric characters are enough (256.1 bits), 42 are not", async () => {
    expect(await random(T.randomPassword, "auth-token-g5-value", { length: 43, special: false })).toEqual([]);
    expect(messages(await random(T.randomPassword, "auth-token-g5-value", { length: 42, special: false }))).toEqual([
      "mandatory: auth-token-g5-value yields 250.1 bits of entropy (42 characters from a 62-character alphabet); a credential needs at least " +
        "256 bits (32 bytes): set length to at least 43 with the same character classes.",
    ]);
  });

  test("character classes count: digits only, default specials, an override", async () => {
    expect(messages(await random(T.randomPassword, "token", { length: 64, upper: false, lower: false, special: false }))[0]).toContain(
      "212.6 bits of entropy (64 characters from a 10-character alphabet)",
    );
    // Defaults: upper, lower, digits and @pulumi/random's 21 specials, 83 characters (6.375 bits each).
    expect(await random(T.randomPassword, "token", { length: 41 })).toEqual([]);
    expect(messages(await random(T.randomPassword, "token", { length: 40 }))[0]).toContain(
      "255.0 bits of entropy (40 characters from a 83-character alphabet)",
    );
    // An override replaces the specials: 26 + 26 + 10 + 2 = 64 characters, 6 bits each.
    expect(await random(T.randomPassword, "token", { length: 43, overrideSpecial: "!-" })).toEqual([]);
    expect(messages(await random(T.randomPassword, "token", { length: 42, overrideSpecial: "!-" }))[0]).toContain(
      "252.0 bits of entropy (42 characters from a 64-character alphabet)",
    );
  });

  test("bytes, ids and UUIDs", async () => {
    expect(await random(T.randomBytes, "token-bytes", { length: 32 })).toEqual([]);
    expect(messages(await random(T.randomId, "token-id", { byteLength: 16 }))).toEqual([
      "mandatory: token-id yields 128.0 bits of entropy (16 random bytes); a credential needs at least 256 bits (32 bytes): use at least 32 random bytes.",
    ]);
    expect(messages(await random(T.randomUuid, "token-uuid", {}))[0]).toContain(
      "122.0 bits of entropy (a version 4 UUID (122 random bits))",
    );
  });

  test("scope: children of a RotatingSecret and names matching the pattern; other random resources are left alone", async () => {
    expect(await random(T.randomPassword, "db-password", { length: 8 })).toEqual([]);
    const child = "urn:pulumi:s::p::wallet:rotation:RotatingSecret$random:index/randomPassword:RandomPassword::credential-value";
    expect(summary(await random(T.randomPassword, "credential-value", { length: 8 }, child))).toEqual([
      ["token-entropy", "mandatory", "credential-value"],
    ]);
    const configured = await checkStack(tokenEntropy, [resourceView({ type: T.randomPassword, name: "bearer", props: { length: 8 } })], {
      policyConfig: { "token-entropy": { tokenSourcePattern: "^bearer$" } },
    });
    expect(summary(configured)).toEqual([["token-entropy", "mandatory", "bearer"]]);
  });

  test("the minimum can be raised, never lowered; an unknown length is a note", async () => {
    const raised = await checkStack(
      tokenEntropy,
      [resourceView({ type: T.randomPassword, name: "token", props: { length: 48, special: false } })],
      {
        policyConfig: { "token-entropy": { minEntropyBits: 384 } },
      },
    );
    expect(messages(raised)[0]).toContain("a credential needs at least 384 bits (48 bytes): set length to at least 65");
    await expect(
      checkStack(tokenEntropy, [resourceView({ type: T.randomPassword, name: "token", props: { length: 48 } })], {
        policyConfig: { "token-entropy": { minEntropyBits: 128 } },
      }),
    ).rejects.toThrow("invalid policy pack config:\n  - token-entropy.minEntropyBits: 128 is below the minimum 256");
    expect(messages(await random(T.randomPassword, "token", { length: UNKNOWN }))).toEqual([
      `advisory: ${skipNote("token-entropy", ["token: its length or character classes"])}`,
    ]);
  });
});

describe("secret-versions-recoverable", () => {
  const version = (props: Record<string, unknown>, type: string = T.secretVersion) =>
    checkResource(secretVersionsRecoverable, resourceView({ type, name: "v-g1", props: { secret: "s", ...props } }));
  const mnemonicSecret = (
    props: Record<string, unknown>,
    protect = true,
    policyConfig?: Record<string, { mnemonicMinDestroyTtlDays: number }>,
  ) =>
    checkResource(
      secretVersionsRecoverable,
      resourceView({ type: T.secret, name: "mnemonic-secret", props: { secretId: "wallet-executor-mnemonic", ...props }, protect }),
      { policyConfig },
    );

  test("DISABLE, ABANDON and PREVENT keep the version; DELETE (any case) and unset destroy it", async () => {
    for (const deletionPolicy of ["DISABLE", "ABANDON", "PREVENT"]) expect(await version({ deletionPolicy })).toEqual([]);
    expect(messages(await version({}))).toEqual([
      "mandatory: v-g1 has deletionPolicy unset (the provider's default is DELETE): removing this generation from the program would destroy it. " +
        'Set deletionPolicy: "DISABLE".',
    ]);
    expect(summary(await version({ deletionPolicy: "delete" }))).toEqual([["secret-versions-recoverable", "mandatory", "v-g1"]]);
    expect(summary(await version({ deletionPolicy: "DELETE" }, T.regionalSecretVersion))).toEqual([
      ["secret-versions-recoverable", "mandatory", "v-g1"],
    ]);
    expect(messages(await version({ deletionPolicy: UNKNOWN }))).toEqual([
      `advisory: ${skipNote("secret-versions-recoverable", ["v-g1: its deletionPolicy"])}`,
    ]);
  });

  test("the mnemonic's secret: a TTL below the minimum, none at all, and no protect are each reported", async () => {
    expect(await mnemonicSecret({ versionDestroyTtl: "2592000s" })).toEqual([]);
    expect(messages(await mnemonicSecret({ versionDestroyTtl: "604800s" }))).toEqual([
      "mandatory: mnemonic-secret holds the wallet mnemonic but keeps destroyed versions restorable for 7 days (versionDestroyTtl 604800s), " +
        "less than 30: set versionDestroyTtl to at least 2592000s.",
    ]);
    expect(messages(await mnemonicSecret({}, false))).toEqual([
      "mandatory: mnemonic-secret holds the wallet mnemonic but has no versionDestroyTtl: a destroyed version is gone at once. Set versionDestroyTtl " +
        "to at least 2592000s (30 days).",
      "mandatory: mnemonic-secret holds the wallet mnemonic but is not protected: set the resource option protect: true, so no update or destroy can delete it.",
    ]);
    expect(
      messages(
        await mnemonicSecret({ versionDestroyTtl: "2592000s" }, true, { "secret-versions-recoverable": { mnemonicMinDestroyTtlDays: 31 } }),
      )[0],
    ).toContain("restorable for 30 days (versionDestroyTtl 2592000s), less than 31");
  });

  test("the mnemonic is recognized by its credential label; other secrets need no TTL", async () => {
    const labelled = resourceView({ type: T.secret, name: "wallet-seed", props: { secretId: "seed", labels: { credential: "mnemonic" } } });
    expect(summary(await checkResource(secretVersionsRecoverable, labelled))).toHaveLength(2);
    expect(
      await checkResource(secretVersionsRecoverable, resourceView({ type: T.secret, name: "token", props: { secretId: "token" } })),
    ).toEqual([]);
  });
});

describe("revocation-requires-verification, by hand", () => {
  const check = (options: RotationOptions) => checkStack(revocationRequiresVerification, rotationStack(options));

  test("the gated rotation passes; a retired secret with nothing newer is not a rotation", async () => {
    expect(await check({})).toEqual([]);
    const lone = secretNode("old", "legacy");
    expect(
      await checkStack(revocationRequiresVerification, [lone, versionNode(lone, "legacy-g1", { version: "1", enabled: false })]),
    ).toEqual([]);
  });

  test("a verification of another generation is not the gate", async () => {
    expect(messages(await check({ generations: { authToken: 3 } }))).toEqual([
      "mandatory: auth-token-g3 is disabled (revoked) after verification (which verifies generation 3), not after a verification of auth-token-g4 " +
        "(generation 4): nothing verifies the current auth-token before the revocation. Missing edge: auth-token-g3 -> a verification with " +
        "generations.authToken = 4.",
    ]);
  });

  test("the verification must list what it releases, and follow every service that reads the secret", async () => {
    expect(messages(await check({ revoking: [], verificationDeps: [U(T.cloudRunService, "control-service")] }))).toEqual([
      "mandatory: verification does not list auth-token-g3 in `revoking`: turning the revocation on would not re-run the verification, so " +
        "auth-token-g3 would be revoked on an earlier one. Add it to the revoking list.",
    ]);
    expect(messages(await check({ verificationDeps: [U(T.cloudRunService, "executor-service")] }))).toEqual([
      "mandatory: verification verifies auth-token generation 4 but does not depend on control-service, which reads that secret: it could pass " +
        "before that rollout finished, and auth-token-g3 would be revoked under it. Missing edge: verification -> control-service.",
    ]);
  });

  test("a service on `latest` does not pin the current generation", async () => {
    const found = await check({ controlTokenVersion: "latest", executorTokenVersion: "latest" });
    expect(summary(found)).toEqual([
      ["revocation-requires-verification", "mandatory", "control-service"],
      ["revocation-requires-verification", "mandatory", "executor-service"],
    ]);
    expect(found[0].message).toContain('pins "latest", not the current auth-token-g4 (generation 4)');
  });

  test("preview: unknown pins confirmed by the template's dependency pass; an unknown `enabled` is checked as a revocation", async () => {
    expect(await check({ executorTokenVersion: UNKNOWN, controlTokenVersion: UNKNOWN })).toEqual([]);
    // Gated as a revocation must be: safe whichever value it takes.
    expect(await check({ g3Enabled: UNKNOWN })).toEqual([]);
    // Not gated: it may be a revocation without verification, which must not pass.
    expect(messages(await check({ g3Enabled: UNKNOWN, revokedDeps: [] }))).toEqual([
      "mandatory: auth-token-g3 may be disabled (its `enabled` is unknown until apply) while auth-token-g4 (generation 4) is current, but it " +
        "depends on no verification: the old auth-token could be revoked before the new generation is verified on the services. Missing " +
        "edge: auth-token-g3 -> verification (dependsOn, e.g. RotatingSecret's revocationGate).",
    ]);
  });

  test("a published current generation: the services must not still pin the revoked published number", async () => {
    const spark = secretNode("spark", "spark-api-key");
    const verification = resourceView({
      type: T.verification,
      name: "verification",
      urn: U(T.verification, "verification"),
      props: { generations: { sparkApiKey: 3 }, revoking: ["spark-api-key-g2"] },
    });
    const revocation = (deps: string[]) =>
      resourceView({
        type: T.publishedRevocation,
        name: "spark-api-key-g2-revocation",
        urn: U(T.publishedRevocation, "spark-api-key-g2-revocation"),
        props: { versionName: "projects/p/secrets/spark/versions/5" },
        dependencies: deps,
        propertyDependencies: { versionName: [spark.urn] },
      });
    const executor = (version: string) =>
      cloudRun("executor-service", [secretEnv("OA_LIGHTNING_SPARK_API_KEY", "projects/p/secrets/spark", version)], {
        urn: U(T.cloudRunService, "executor-service"),
      });
    const gated = (version: string) => {
      const service = executor(version);
      return [spark, service, resourceView({ ...verification, dependencies: [service.urn] }), revocation([verification.urn])];
    };
    expect(await checkStack(revocationRequiresVerification, gated("7"))).toEqual([]);
    expect(messages(await checkStack(revocationRequiresVerification, gated("5")))).toEqual([
      "mandatory: executor-service container 0 env OA_LIGHTNING_SPARK_API_KEY pins spark-api-key-g2 (version 5), the version being revoked, not the " +
        "current generation 3: revoking spark-api-key-g2 would cut off a service that has not rolled to the new generation. Missing pin: " +
        "executor-service -> generation 3.",
    ]);
  });
});

describe("services-share-token-version, by hand", () => {
  const check = (options: RotationOptions) => checkStack(servicesShareTokenVersion, rotationStack(options));

  test("a mirror secret under the control's token name is reported; a custom env name is found by its secret", async () => {
    expect(messages(await check({ controlTokenSecret: "projects/p/secrets/tok-copy" }))).toEqual([
      "mandatory: control-service container 0 env OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN reads its outbound token from projects/p/secrets/tok-copy, " +
        "not from the executor's token secret projects/p/secrets/tok: a mirror secret drifts from the executor's. Point it at projects/p/secrets/tok " +
        "at the version executor-service pins.",
    ]);
    expect(await check({ controlEnvName: "MY_EXECUTOR_TOKEN" })).toEqual([]);
    expect(summary(await check({ controlEnvName: "MY_EXECUTOR_TOKEN", controlTokenVersion: "13" }))).toEqual([
      ["services-share-token-version", "mandatory", "control-service"],
    ]);
  });

  test("a control service with no outbound token at all is named", async () => {
    const stack = rotationStack().map((r) =>
      r.name === "control-service"
        ? cloudRun("control-service", [plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_BASE_URL", "https://x")], { urn: r.urn })
        : r,
    );
    expect(messages(await checkStack(servicesShareTokenVersion, stack))).toEqual([
      "mandatory: control-service has no outbound token: no env var references the executor's token secret projects/p/secrets/tok, and none is named " +
        "OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN or SPARK_EXECUTOR_AUTH_TOKEN. Add one with secretKeyRef { secret: projects/p/secrets/tok, version: " +
        "<the executor's version> }.",
    ]);
  });

  test("preview: both versions unknown but built from the same version resource pass; one known, one unknown is a note", async () => {
    expect(await check({ executorTokenVersion: UNKNOWN, controlTokenVersion: UNKNOWN })).toEqual([]);
    const stack = rotationStack({ controlTokenVersion: UNKNOWN }).map((r) =>
      r.name === "control-service" ? resourceView({ ...r, propertyDependencies: { template: [] } }) : r,
    );
    expect(messages(await checkStack(servicesShareTokenVersion, stack))).toEqual([
      `advisory: ${skipNote("services-share-token-version", ["control-service container 0 env OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN: which token version it sends, compared with executor-service's"])}`,
    ]);
  });
});

describe("least-privilege-secret-access, by hand", () => {
  const base = rotationStack();
  const with_ = (...extra: AnalyzerResourceView[]) => checkStack(leastPrivilegeSecretAccess, [...base, ...extra]);
  const executorSa = base.find((r) => r.name === "executor-sa") as AnalyzerResourceView;

  test("per-secret grants to the reading services pass; a grant on a secret the service does not read fails", async () => {
    expect(await with_()).toEqual([]);
    const other = secretNode("other", "other");
    const grant = resourceView({
      type: T.secretIamMember,
      name: "control-other-access",
      props: {
        secretId: "projects/p/secrets/other",
        role: "roles/secretmanager.secretAccessor",
        member: "serviceAccount:ctl@p.iam.gserviceaccount.com",
      },
      propertyDependencies: { secretId: [other.urn] },
    });
    expect(messages(await with_(other, grant))).toEqual([
      "mandatory: control-other-access grants roles/secretmanager.secretAccessor on projects/p/secrets/other to serviceAccount:ctl@p.iam.gserviceaccount.com, " +
        "the account of control-service, which does not read that secret: remove the grant.",
    ]);
  });

  test("secret access for a person, or an account that runs no service, is reported", async () => {
    const grant = (name: string, member: string) =>
      resourceView({
        type: T.secretIamMember,
        name,
        props: { secretId: "projects/p/secrets/tok", role: "roles/secretmanager.secretAccessor", member },
      });
    expect(
      messages(await with_(grant("alice", "user:alice@example.com"), grant("ci", "serviceAccount:ci@p.iam.gserviceaccount.com"))),
    ).toEqual([
      "mandatory: alice grants roles/secretmanager.secretAccessor on projects/p/secrets/tok to user:alice@example.com, which is not the service account " +
        "of a service that reads it: grant secret access only to the reading service's own account.",
      "mandatory: ci grants roles/secretmanager.secretAccessor on projects/p/secrets/tok to serviceAccount:ci@p.iam.gserviceaccount.com, which runs no " +
        "Cloud Run service of this stack: remove the grant, or grant it to the account of the service that reads the secret.",
    ]);
  });

  test("editor and owner on the project for a service's account, by member, binding or policy (sorted by resource)", async () => {
    const member = resourceView({
      type: T.projectIamMember,
      name: "exec-editor",
      props: { project: "p", role: "roles/editor", member: "serviceAccount:exec@p.iam.gserviceaccount.com" },
    });
    const binding = resourceView({
      type: T.projectIamBinding,
      name: "owners",
      props: { project: "p", role: "roles/owner", members: ["user:root@example.com", "serviceAccount:ctl@p.iam.gserviceaccount.com"] },
    });
    const policy = resourceView({
      type: T.projectIamPolicy,
      name: "policy",
      props: {
        project: "p",
        policyData: JSON.stringify({ bindings: [{ role: "roles/secretmanager.secretAccessor", members: ["group:ops@example.com"] }] }),
      },
    });
    expect(messages(await with_(member, binding, policy))).toEqual([
      "mandatory: owners grants roles/owner on the whole project p to serviceAccount:ctl@p.iam.gserviceaccount.com (the account of control-service): " +
        "a compromised service could read and change everything. Remove it; grant only per-secret access.",
      "mandatory: exec-editor grants roles/editor on the whole project p to serviceAccount:exec@p.iam.gserviceaccount.com (the account of executor-service): " +
        "a compromised service could read and change everything. Remove it; grant only per-secret access.",
      "mandatory: policy grants roles/secretmanager.secretAccessor on the whole project p to group:ops@example.com: every secret of the project " +
        "becomes readable. Grant roles/secretmanager.secretAccessor per secret (SecretIamMember) instead.",
    ]);
  });

  test("preview: an unknown member is placed by its dependency on the account; otherwise a note", async () => {
    const byDependency = resourceView({
      type: T.projectIamMember,
      name: "exec-owner",
      props: { project: "p", role: "roles/owner", member: UNKNOWN },
      propertyDependencies: { member: [executorSa.urn] },
    });
    expect(summary(await with_(byDependency))).toEqual([["least-privilege-secret-access", "mandatory", "exec-owner"]]);
    const unplaced = resourceView({
      type: T.projectIamMember,
      name: "someone-owner",
      props: { project: "p", role: "roles/owner", member: UNKNOWN },
    });
    expect(messages(await with_(unplaced))).toEqual([
      `advisory: ${skipNote("least-privilege-secret-access", ["someone-owner: who it grants roles/owner to"])}`,
    ]);
  });
});

describe("executor-exposure, by hand", () => {
  const executor = (envs: Env[], props?: Record<string, unknown>) =>
    cloudRun("executor-service", [plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_MODE", "mock"), ...envs], {
      urn: U(T.cloudRunService, "executor-service"),
      props,
    });
  const invoker = (type: string, props: Record<string, unknown>) =>
    resourceView({
      type,
      name: "public",
      props: { name: "executor-service", location: "us-central1", project: "p", role: "roles/run.invoker", ...props },
    });

  test("public with the token wired passes; public with an empty token is flagged (advisory)", async () => {
    expect(
      await checkStack(executorExposure, [
        executor([secretEnv("OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN", "t", "1")]),
        invoker(T.serviceIamMember, { member: "allUsers" }),
      ]),
    ).toEqual([]);
    expect(
      messages(
        await checkStack(executorExposure, [
          executor([plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN", "")]),
          invoker(T.serviceIamBinding, { members: ["allAuthenticatedUsers"] }),
        ]),
      ),
    ).toEqual([
      "advisory: executor-service can be invoked by allAuthenticatedUsers through public, but its bearer auth is not wired (OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN " +
        "is empty), so it runs with authMode=disabled and anyone can call /status and /pay-bolt11. Wire OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN from Secret " +
        "Manager (secretKeyRef), or remove the public invoker.",
    ]);
  });

  test("invokerIamDisabled makes it public; a private executor without a token is not this policy's concern", async () => {
    expect(messages(await checkStack(executorExposure, [executor([], { invokerIamDisabled: true })]))[0]).toContain(
      "executor-service can be invoked by anyone (invokerIamDisabled: true), but its bearer auth is not wired",
    );
    expect(
      await checkStack(executorExposure, [
        executor([]),
        invoker(T.serviceIamMember, { member: "serviceAccount:ctl@p.iam.gserviceaccount.com" }),
      ]),
    ).toEqual([]);
  });

  test("preview: an unknown invoker member is a note", async () => {
    expect(messages(await checkStack(executorExposure, [executor([]), invoker(T.serviceIamMember, { member: UNKNOWN })]))).toEqual([
      `advisory: ${skipNote("executor-exposure", ["public: its role or members"])}`,
    ]);
  });
});

describe("the harness itself", () => {
  test("config the CLI would refuse is refused: an unknown policy, an unknown setting, a bad level", async () => {
    const resource = cloudRun("svc", []);
    await expect(checkResource(secretReferencesPinned, resource, { policyConfig: { "no-such-policy": "advisory" } })).rejects.toThrow(
      "invalid policy pack config:\n  - no-such-policy: no such policy in wallet-executor-policy",
    );
    await expect(
      checkResource(secretReferencesPinned, resource, { policyConfig: { "secret-references-pinned": { pinned: true } } }),
    ).rejects.toThrow("secret-references-pinned.pinned: not a setting of this policy");
    await expect(
      checkResource(secretReferencesPinned, resource, { policyConfig: { "secret-references-pinned": "strict" as unknown as "advisory" } }),
    ).rejects.toThrow('secret-references-pinned.enforcementLevel: "strict" is not one of advisory, mandatory, remediate, disabled');
  });

  test("a policy that throws fails the run, as the pack's server fails the RPC", async () => {
    const broken: WalletPolicy = {
      name: "broken",
      description: "throws",
      validateResource: () => {
        throw new Error("boom");
      },
    };
    await expect(checkResource(broken, cloudRun("svc", []))).rejects.toThrow(
      "Error validating resource urn:pulumi:s::wallet-executor::gcp:cloudrunv2/service:Service::svc with policy 'broken'",
    );
  });

  test("violations come sorted by policy, resource and message", async () => {
    const found = await checkStack(
      revocationRequiresVerification,
      rotationStack({ controlTokenVersion: "latest", executorTokenVersion: "latest", revoking: [] }),
    );
    const keys = found.map((v) => `${v.policy} ${v.urn} ${v.message}`);
    expect(keys).toEqual([...keys].sort());
    expect(found).toHaveLength(3);
  });
});

describe("the pack as a whole: the stack graph through the stack policies, and the config schemas", () => {
  describe("the stack graph, through the stack policies", () => {
    test("a dependency cycle that never reaches a verification ends, and is reported as no verification", async () => {
      const stack = rotationStack();
      const a = resourceView({ type: "test:index:Hop", name: "a", dependencies: [U("test:index:Hop", "b")], props: {} });
      const b = resourceView({ type: "test:index:Hop", name: "b", dependencies: [a.urn], props: {} });
      const g3 = stack.find((r) => r.name === "auth-token-g3") as AnalyzerResourceView;
      const found = await checkStack(revocationRequiresVerification, [
        ...replaceResource(stack, "auth-token-g3", { ...g3, dependencies: [a.urn] }),
        a,
        b,
      ]);
      expect(messages(found)[0]).toContain(
        "auth-token-g3 is disabled (revoked) while auth-token-g4 (generation 4) is current, but it depends on no verification",
      );
    });

    test("versions placed by name when they have no property dependency; an ambiguous name still finds the readers by name", async () => {
      const byName = rotationStack().map((r) => (r.type === T.secretVersion ? resourceView({ ...r, propertyDependencies: {} }) : r));
      expect(await checkStack(revocationRequiresVerification, byName)).toEqual([]);
      const stale = rotationStack({ controlTokenVersion: "13" }).map((r) =>
        r.type === T.secretVersion ? resourceView({ ...r, propertyDependencies: {} }) : r,
      );
      expect(await checkStack(revocationRequiresVerification, stale)).toHaveLength(1);
      // A second Secret with the same id and project: the name no longer tells which resource, but the readers still name it.
      const twin = resourceView({ type: T.secret, name: "twin", props: { secretId: "tok", project: "p" } });
      expect(messages(await checkStack(revocationRequiresVerification, [...stale, twin]))).toEqual([
        "mandatory: control-service container 0 env OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN pins auth-token-g3 (version 13), the version " +
          "being revoked, not the current generation 4: revoking auth-token-g3 would cut off a service that has not rolled to the new " +
          "generation. Missing pin: control-service -> generation 4.",
      ]);
      // With the readers on the other version, what preview cannot tell (which of the two secrets) remains: not provable.
      const twinOk = rotationStack().map((r) => (r.type === T.secretVersion ? resourceView({ ...r, propertyDependencies: {} }) : r));
      expect(messages(await checkStack(revocationRequiresVerification, [...twinOk, twin]))).toEqual([
        unprovable("auth-token-g3 is disabled (revoked)", [
          "auth-token-g3: which secret it belongs to (several Secrets of this stack are named projects/p/secrets/tok)",
        ]),
      ]);
    });

    test("pins while the numbers are unknown: built from both versions cannot be proven; an unpinned reference is named", async () => {
      const stack = rotationStack({ controlTokenVersion: UNKNOWN });
      const control = stack.find((r) => r.name === "control-service") as AnalyzerResourceView;
      const both = replaceResource(
        stack,
        "control-service",
        resourceView({
          ...control,
          propertyDependencies: { template: [U(T.secretVersion, "auth-token-g4"), U(T.secretVersion, "auth-token-g3")] },
        }),
      );
      expect(messages(await checkStack(revocationRequiresVerification, both))).toEqual([
        unprovable("auth-token-g3 is disabled (revoked)", [
          "control-service container 0 env OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN: which version of auth-token it pins",
        ]),
      ]);
      const unpinned = rotationStack({ controlTokenVersion: "" });
      expect(messages(await checkStack(revocationRequiresVerification, unpinned))[0]).toContain(
        'control-service container 0 env OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN pins "latest (no version)", not the current auth-token-g4',
      );
      // A number written by hand while a version's number is unknown: it may be any version's, whatever the template is built from.
      const newVersion = rotationStack({ controlTokenVersion: "15" }).map((r) =>
        r.name === "auth-token-g4" ? resourceView({ ...r, props: { ...r.props, version: UNKNOWN } }) : r,
      );
      expect(messages(await checkStack(revocationRequiresVerification, newVersion))).toEqual([
        unprovable("auth-token-g3 is disabled (revoked)", [
          "executor-service container 0 env OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN: which version of auth-token it pins",
          "control-service container 0 env OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN: which version of auth-token it pins",
        ]),
      ]);
    });

    test("a service account unknown in preview is found through the template's dependency on it", async () => {
      const stack = rotationStack();
      const worker = cloudRun("worker", [], {
        serviceAccount: UNKNOWN,
        propertyDependencies: { template: [U(T.account, "executor-sa")] },
      });
      const other = secretNode("other", "other");
      const grant = resourceView({
        type: T.secretIamMember,
        name: "worker-other-access",
        props: {
          secretId: "projects/p/secrets/other",
          role: "roles/secretmanager.secretAccessor",
          member: "serviceAccount:exec@p.iam.gserviceaccount.com",
        },
      });
      expect(messages(await checkStack(leastPrivilegeSecretAccess, [...stack, worker, other, grant]))).toEqual([
        // The worker shares the executor's account: it could read the executor's token too.
        "mandatory: executor-token-access grants roles/secretmanager.secretAccessor on projects/p/secrets/tok to " +
          "serviceAccount:exec@p.iam.gserviceaccount.com, an account shared by worker, which does not read that secret: it could read it " +
          "too. To fix: give each workload its own service account, and grant the secret only to the account of the workload that reads it.",
        "mandatory: worker-other-access grants roles/secretmanager.secretAccessor on projects/p/secrets/other to serviceAccount:exec@p.iam.gserviceaccount.com, " +
          "the account of executor-service, worker, which does not read that secret: remove the grant.",
      ]);
    });
  });

  describe("config schemas, as the CLI validates them", () => {
    const svc = cloudRun("svc", []);
    test("each setting's type, minimum, length, pattern and item count", async () => {
      await expect(
        checkResource(secretVersionsRecoverable, svc, {
          policyConfig: { "secret-versions-recoverable": { mnemonicMinDestroyTtlDays: 0 } },
        }),
      ).rejects.toThrow("invalid policy pack config:\n  - secret-versions-recoverable.mnemonicMinDestroyTtlDays: 0 is below the minimum 1");
      await expect(
        checkResource(secretVersionsRecoverable, svc, {
          policyConfig: { "secret-versions-recoverable": { mnemonicMinDestroyTtlDays: 1.5 } },
        }),
      ).rejects.toThrow("secret-versions-recoverable.mnemonicMinDestroyTtlDays: 1.5 is not an integer");
      await expect(checkStack(tokenEntropy, [svc], { policyConfig: { "token-entropy": { tokenSourcePattern: "" } } })).rejects.toThrow(
        'token-entropy.tokenSourcePattern: "" is shorter than 1',
      );
      await expect(checkStack(tokenEntropy, [svc], { policyConfig: { "token-entropy": { minEntropyBits: 255 } } })).rejects.toThrow(
        "token-entropy.minEntropyBits: 255 is below the minimum 256",
      );
      for (const target of [credentialsFromSecretManager, servicesShareTokenVersion]) {
        const policy = target.name;
        await expect(checkResource(target, svc, { policyConfig: { [policy]: { controlTokenEnvNames: [] } } })).rejects.toThrow(
          `${policy}.controlTokenEnvNames: has fewer than 1 items`,
        );
        await expect(
          checkResource(target, svc, { policyConfig: { [policy]: { controlTokenEnvNames: ["OK_1", "1BAD"] } } }),
        ).rejects.toThrow(`${policy}.controlTokenEnvNames[1]: "1BAD" does not match ^[A-Za-z_][A-Za-z0-9_]*$`);
        await expect(checkResource(target, svc, { policyConfig: { [policy]: { controlTokenEnvNames: ["BAD-NAME"] } } })).rejects.toThrow(
          `${policy}.controlTokenEnvNames[0]: "BAD-NAME" does not match`,
        );
      }
      await expect(
        checkResource(credentialsFromSecretManager, svc, {
          policyConfig: {
            "credentials-from-secret-manager": { controlTokenEnvNames: ["_A", "b9"] },
          },
        }),
      ).resolves.toEqual([]);
    });

    test("the defaults: 30 days for the mnemonic, 256 bits and `token` for token sources", async () => {
      const seed = resourceView({
        type: T.secret,
        name: "seed",
        props: { secretId: "mnemonic", versionDestroyTtl: "2591999s" },
        protect: true,
      });
      expect(messages(await checkResource(secretVersionsRecoverable, seed))[0]).toContain(
        "less than 30: set versionDestroyTtl to at least 2592000s.",
      );
      expect(await checkStack(tokenEntropy, [resourceView({ type: T.randomBytes, name: "a-token", props: { length: 32 } })])).toEqual([]);
      expect(
        messages(await checkStack(tokenEntropy, [resourceView({ type: T.randomBytes, name: "a-token", props: { length: 31 } })])),
      ).toHaveLength(1);
    });
  });
});
