/**
 * The pack against whole programs, through the plan's entry point (`makePlan`, what
 * `npm run plan -- --program <file>` runs): each unsafe program under tests/fixtures/policy/ (named
 * after the rule it breaks: a small standalone program, or the real wiring with one seam turned) is
 * refused by that rule, with a message naming the policy's resources; the shipped stacks and the
 * emergency path (rotate and revoke in one apply) pass, after the update, in a first preview and
 * in the preview of the emergency itself; and the standard program, with one edge the runbook
 * needs cut from its graph, is refused by the policy that guards that edge.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { PROJECT } from "../../stack/config";
import { asError } from "../../lib/errors";
import { PlanDocument } from "../../ops/plan/plan";
import { defineStack } from "../../stack/program";
import { makePlan, parsePlanArgs } from "../../ops/plan/cli";
import { PolicyEvaluation, evaluateWithPolicies, runPolicies } from "../../harness/policy-harness";
import { RecordedResource } from "../../harness/recording-monitor";
import { ROOT, stackConfig } from "../support/project";

afterAll(() => pulumi.runtime.disconnect());

// Whole programs take seconds; the Mocha harness of mutation runs defaults to 5 s per test.
const SLOW = 60_000;
const FIXTURES = path.join(ROOT, "tests", "fixtures", "policy");

/**
 * The plan's findings as [policy, level, resource name, message]. The advisory on in-place rotation
 * (these small programs route by the main URL) is tested with the tagged strategy, not here.
 */
const findings = (plan: PlanDocument): [string, string, string | undefined, string][] =>
  plan.violations
    .filter((v) => v.policy !== "in-place-rotation-window")
    .map((v) => [v.policy, v.enforcementLevel, v.urn?.split("::").pop(), v.message]);

const planOf = async (fixture: string): Promise<PlanDocument> =>
  makePlan(parsePlanArgs(["--program", path.join(FIXTURES, `${fixture}.ts`)], ROOT));

describe("unsafe programs, each refused by the rule it breaks", () => {
  const TO_FIX_CHAIN =
    "To fix: set expectTokenVersion and generations from the credential's current generation, the one both services pin.";
  test.each([
    // 1. Revocations, whatever things are named, and what preview cannot prove.
    [
      "revocation-requires-verification-renamed-versions",
      [
        [
          "revocation-requires-verification",
          "credential-old",
          "credential-old is disabled (revoked) while credential-new is current, but it depends on no verification: the old " +
            "[unknown until apply] could be revoked before the new generation is verified on the services. " +
            "Missing edge: credential-old -> the verification (dependsOn, e.g. RotatingSecret's revocationGate).",
        ],
      ],
    ],
    [
      "revocation-requires-verification-unprovable-in-preview",
      [
        [
          "revocation-requires-verification",
          "credential-old",
          "credential-old is disabled (revoked), and it cannot be proven safe during preview: worker container 0 env SPARK_KEY: which " +
            "version of spark-api-key it pins. A revocation that preview cannot check must not pass. To fix: build every reader's secret " +
            "reference from the version resource's own output (secretKeyRef.version: version.version), and the verification's generations " +
            "and revoking list from plain config, so that the graph shows what each reader pins and what is verified before the revocation.",
        ],
      ],
    ],
    // 2. The runbook's edges.
    [
      "secret-access-before-rollout",
      [
        [
          "secret-access-before-rollout",
          "worker",
          "worker reads api-credential as [unknown until apply], but does not depend on " +
            "worker-access-0, which grants that access: its new instances may start before they may read the secret. Missing edge: worker -> " +
            "worker-access-0. To fix: add worker-access-0 to worker's dependsOn.",
        ],
      ],
    ],
    // The real wiring (stack/wire.ts) with one seam turned. Staging revokes generation 3 and routes by
    // tag, so a break of the runbook's order also shows where it matters: the revocation it exposes,
    // the tag URL a literal executor URL misses. Both findings are inherent to the one change.
    [
      "executor-before-control",
      [
        [
          "executor-before-control",
          "control-service",
          "control-service calls the executor executor-service but does not depend on it: its rollout could finish first and send a token " +
            "executor-service does not accept yet (every call gets 401 until the executor rolls out). Missing edge: control-service -> " +
            "executor-service. To fix: add executor-service to control-service's dependsOn (ControlService's executorService).",
        ],
        [
          "tagged-routing",
          "control-service",
          'control-service calls "https://wallet-executor-unwired.a.run.app" (OA_LIGHTNING_WALLET_EXECUTOR_BASE_URL), which is not a ' +
            "generation's tag URL of executor-service: during a rotation its token and the executor revision it reaches can disagree. " +
            "It must call tag [unknown until apply]'s URL.",
        ],
      ],
    ],
    [
      "verification-after-rollouts",
      [
        [
          "revocation-requires-verification",
          "verification",
          "verification verifies auth-token generation 4 but does not depend on control-service, which reads that secret: it could pass " +
            "before that rollout finished, and auth-token-g3 would be revoked under it. Missing edge: verification -> control-service.",
        ],
        [
          "verification-after-rollouts",
          "verification",
          "verification does not depend on control-service (a caller of the executor): it could check the services before that rollout " +
            "finished, and what it vouches for (the revocation after it) would not be what runs. Missing edge: verification -> control-service. " +
            "To fix: add control-service to verification's dependsOn.",
        ],
      ],
    ],
    [
      "verification-expects-pinned-generation",
      [
        [
          "revocation-requires-verification",
          "auth-token-g3",
          "auth-token-g3 is disabled (revoked) after verification (which verifies generation 3), not after a verification of " +
            "auth-token-[unknown until apply] (generation 4): nothing verifies the current auth-token before the revocation. Missing edge: " +
            "auth-token-g3 -> a verification with generations.authToken = [redacted]",
        ],
        [
          "verification-expects-pinned-generation",
          "verification",
          "verification expects token generation 3, but control-service container 0 env OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN pins " +
            `auth-token-[unknown until apply] (generation 4): it would verify a generation the services do not run (or fail every rotation). ${TO_FIX_CHAIN}`,
        ],
        [
          "verification-expects-pinned-generation",
          "verification",
          "verification expects token generation 3, but executor-service advertises generation 4 (OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN_VERSION): " +
            `it would verify a generation the services do not run (or fail every rotation). ${TO_FIX_CHAIN}`,
        ],
        [
          "verification-expects-pinned-generation",
          "verification",
          "verification expects token generation 3, but executor-service container 0 env OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN pins " +
            `auth-token-[unknown until apply] (generation 4): it would verify a generation the services do not run (or fail every rotation). ${TO_FIX_CHAIN}`,
        ],
      ],
    ],
    // 3. Whatever reads a credential: Cloud Functions, jobs, any env var name, any random source.
    [
      "credentials-from-secret-manager-cloud-function",
      [
        [
          "credentials-from-secret-manager",
          "caller",
          "caller env OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN is a literal value: the executor's bearer token must come from Secret Manager " +
            "(valueSource.secretKeyRef with a version number), never a plain env value, which anyone who can read the service's configuration " +
            "or revisions can read.",
        ],
      ],
    ],
    [
      "credentials-not-in-plain-config",
      [
        [
          "credentials-not-in-plain-config",
          "reconcile",
          "reconcile template is built from reconcile-credential's output: a generated credential in plain configuration, readable by " +
            "anyone who can read the workload. To fix: store it as a secret version and reference it with a secretKeyRef pinned to its " +
            "version number.",
        ],
      ],
    ],
    [
      "secret-references-pinned-cloud-function",
      [["secret-references-pinned", "caller", 'caller secret env SPARK_KEY reads spark-api-key at "latest"; pin a version number.']],
    ],
    [
      "least-privilege-secret-access-default-account",
      [
        [
          "least-privilege-secret-access",
          "balance-report",
          "balance-report reads spark-api-key but sets no service account, so it runs as the project's default compute account, which " +
            "other workloads share and which holds roles/editor by default. To fix: give balance-report a service account of its own " +
            "(template.serviceAccount, or serviceAccountEmail for a Cloud Function) and grant it only the secrets it reads.",
        ],
      ],
    ],
    [
      "token-entropy-random-string",
      [
        [
          "token-entropy",
          "api-credential-value",
          "api-credential-value (it becomes the value of api-credential-g1) yields 112.8 bits of entropy (24 characters from a " +
            "26-character alphabet); a credential needs at least 256 bits (32 bytes): set length to at least 55 with the same character classes.",
        ],
      ],
    ],
  ] as const)(
    "%s",
    async (fixture, expected) => {
      expect(findings(await planOf(fixture))).toEqual(
        expected.map(([policy, resource, message]) => [policy, "mandatory", resource, message]),
      );
    },
    SLOW,
  );

  // 4. Wiring that can never finish: a program error naming the resources, in seconds, never a hang.
  test.each([
    [
      "program-error-dependency-cycle",
      "the program can never finish: dependency cycle: api-credential-g1 (gcp:secretmanager/secretVersion:SecretVersion) waits on worker " +
        "(gcp:cloudrunv2/service:Service) through dependsOn; worker (gcp:cloudrunv2/service:Service) waits on api-credential-g1 " +
        "(gcp:secretmanager/secretVersion:SecretVersion) through its input template.",
    ],
  ] as const)(
    "%s: the plan fails with the cycle, not a policy verdict",
    async (fixture, message) => {
      await expect(planOf(fixture)).rejects.toThrow(message);
    },
    SLOW,
  );
});

describe("the shipped stacks and the emergency path pass", () => {
  const evaluate = async (
    stack: "staging" | "prod",
    set: Record<string, unknown>,
    mode: { firstPreview?: boolean; previewCreates?: (r: { type: string; name: string }) => boolean } = {},
  ): Promise<PolicyEvaluation> => {
    const { config, secretKeys } = stackConfig(stack);
    for (const [key, value] of Object.entries(set)) config[`${PROJECT}:${key}`] = JSON.stringify(value);
    const result = await evaluateWithPolicies({ program: defineStack, project: PROJECT, stack, config, secretKeys, ...mode });
    if (result.evaluation.error) throw asError(result.evaluation.error);
    return result;
  };
  const mandatory = (result: PolicyEvaluation) => result.violations.filter((v) => v.enforcementLevel === "mandatory");
  // Rotate and revoke in one apply: the new generation is created (its version number unknown in preview) and the old one revoked.
  const emergency = { authToken: { current: 5, previous: 4, revokePrevious: true } };
  const createsG5 = (r: { name: string }): boolean => /^auth-token-g5(-value)?$/.test(r.name);

  test.each([
    ["staging", {}],
    ["prod", {}],
    ["staging", emergency],
    ["prod", { authToken: { current: 4, previous: 3, revokePrevious: true } }],
  ] as const)(
    "%s %j: no violation after the update, none mandatory in a first preview",
    async (stack, set) => {
      expect((await evaluate(stack, set)).violations).toEqual([]);
      expect(mandatory(await evaluate(stack, set, { firstPreview: true }))).toEqual([]);
    },
    SLOW,
  );

  test(
    "the emergency's own preview (generation 5 being created, 4 known): the revocation of 4 is proven safe from the graph",
    async () => {
      const preview = await evaluate("staging", emergency, { previewCreates: createsG5 });
      const g5 = preview.resourceOutputs.get(preview.evaluation.resources.find((r) => r.name === "auth-token-g5")?.urn ?? "");
      const g4 = preview.evaluation.resources.find((r) => r.name === "auth-token-g4");
      // What makes it the emergency: the new number is unknown, the revoked version is known and disabled.
      expect(typeof g5?.version).toBe("symbol");
      expect(g4?.inputs.enabled).toBe(false);
      expect(preview.resourceOutputs.get(g4?.urn ?? "")?.version).toBe("14");
      expect(mandatory(preview)).toEqual([]);
    },
    SLOW,
  );

  test(
    "through the plan: a stack file rotating and revoking the token in one apply passes",
    async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "emergency-"));
      const file = path.join(dir, "Pulumi.staging.yaml");
      const text = fs.readFileSync(path.join(ROOT, "Pulumi.staging.yaml"), "utf8");
      fs.writeFileSync(file, text.replace("    current: 4\n    previous: 3\n", "    current: 5\n    previous: 4\n"));
      const plan = await makePlan(parsePlanArgs(["--stack", "staging", "--config-file", file], ROOT), defineStack);
      expect(plan.credentials[0]).toEqual({ name: "authToken", current: 5, previous: 4, revokePrevious: true });
      expect(plan.violations).toEqual([]);
    },
    SLOW,
  );
});

describe("the standard program with one of the runbook's edges cut is refused by the policy guarding it", () => {
  /** The registrations with one dependency edge removed (and the property dependencies that carry it). */
  const cut = (resources: readonly RecordedResource[], from: string, to: string): RecordedResource[] => {
    const target = resources.find((r) => r.name === to);
    const source = resources.find((r) => r.name === from);
    if (!target || !source?.dependencies.includes(target.urn)) throw new Error(`no edge ${from} -> ${to}`);
    return resources.map((r) =>
      r === source
        ? {
            ...r,
            dependencies: r.dependencies.filter((urn) => urn !== target.urn),
            propertyDependencies: Object.fromEntries(
              Object.entries(r.propertyDependencies).map(([key, urns]) => [key, urns.filter((urn) => urn !== target.urn)]),
            ),
          }
        : r,
    );
  };

  // The standard program's two evaluations (after the update, and as a first preview), shared by
  // the cuts below: each test only reads them.
  const standard = new Map<boolean, ReturnType<typeof evaluateWithPolicies>>();
  const standardEvaluation = (firstPreview: boolean): ReturnType<typeof evaluateWithPolicies> => {
    let evaluation = standard.get(firstPreview);
    if (evaluation === undefined) {
      const { config, secretKeys } = stackConfig("staging");
      evaluation = evaluateWithPolicies({ program: defineStack, project: PROJECT, stack: "staging", config, secretKeys, firstPreview });
      standard.set(firstPreview, evaluation);
    }
    return evaluation;
  };

  test.each([
    ["executor-service", "executor-auth-token-access", "secret-access-before-rollout"],
    ["control-service", "executor-service", "executor-before-control"],
    ["verification", "control-service", "verification-after-rollouts"],
    ["auth-token-g3", "verification", "revocation-requires-verification"],
  ] as const)(
    "%s -> %s: %s",
    async (from, to, policy) => {
      for (const firstPreview of [false, true]) {
        const { evaluation, resourceOutputs } = await standardEvaluation(firstPreview);
        const found = await runPolicies(cut(evaluation.resources, from, to), {
          outputs: resourceOutputs,
          stackOutputs: evaluation.outputs,
        });
        const refused = found.filter((v) => v.enforcementLevel === "mandatory");
        expect(refused.map((v) => v.policy)).toContain(policy);
        expect(refused.find((v) => v.policy === policy)?.message).toContain(`Missing edge: ${from} -> `);
      }
    },
    SLOW,
  );
});
