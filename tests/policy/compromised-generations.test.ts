/**
 * The compromised-generations policy: on hand-built graphs (enabled, pinned, declared by annotation
 * or by the pack's config, unknown in preview, malformed) and on the real program's graph.
 */
import * as pulumi from "@pulumi/pulumi";
import { COMPROMISED_ANNOTATION, compromisedGenerations, parseGenerationList } from "../../policy/compromised-generations";
import { PROJECT } from "../../stack/config";
import { AnalyzerResourceView, checkStack, evaluateWithPolicies } from "../../harness/policy-harness";
import { UNKNOWN, stackMocks } from "../../harness/recording-monitor";
import { cloudRun, messages, rotationStack, secretEnv, secretNode, skipNote, versionNode } from "../support/policy-builders";
import { stackConfig } from "../support/project";
import { defineStack } from "../../stack/program";
import { skipDynamicProviderCode } from "../../lib/sdk-internals/dynamic-provider";
import { COMPROMISED_ANNOTATION as PROGRAM_ANNOTATION } from "../../stack/components/rotating-secret";

afterAll(() => pulumi.runtime.disconnect());
// No policy reads a dynamic provider's code: the program registers the marker instead (tests/support/stack.ts says why).
skipDynamicProviderCode();

const NAME = "compromised-generations";

/** The rotation stack (g4 current, g3 revoked after verification), its token secret annotated. */
function annotated(annotation: unknown, options: Parameters<typeof rotationStack>[0] = {}): AnalyzerResourceView[] {
  return rotationStack(options).map((resource) =>
    resource.name === "auth-token-secret"
      ? { ...resource, props: { ...resource.props, annotations: { [COMPROMISED_ANNOTATION]: annotation } } }
      : resource,
  );
}

describe("compromised-generations", () => {
  test("a compromised generation that is disabled and pinned by nobody passes", async () => {
    expect(await checkStack(compromisedGenerations, annotated("3"))).toEqual([]);
  });

  test("an enabled version of a compromised generation is refused, naming it", async () => {
    const found = await checkStack(compromisedGenerations, annotated("1,3", { g3Enabled: true }));
    expect(messages(found)).toEqual([
      "mandatory: auth-token-g3 is generation 3 of auth-token-secret, which is compromised, but it is enabled (enabled: true). " +
        "Set enabled: false: a compromised generation stays disabled.",
    ]);
    expect(found[0]).toMatchObject({
      policy: NAME,
      urn: "urn:pulumi:s::wallet-executor::gcp:secretmanager/secretVersion:SecretVersion::auth-token-g3",
    });
  });

  test("a version with enabled unset is enabled", async () => {
    const stack = annotated("3").map((r) => (r.name === "auth-token-g3" ? { ...r, props: { ...r.props, enabled: undefined } } : r));
    expect(messages(await checkStack(compromisedGenerations, stack))).toEqual([
      expect.stringContaining(
        "auth-token-g3 is generation 3 of auth-token-secret, which is compromised, but it is enabled (enabled: unset, i.e. true)",
      ),
    ]);
  });

  test("a workload that pins a compromised generation is refused, by number or by dependency", async () => {
    const byNumber = await checkStack(compromisedGenerations, annotated("4", { controlTokenVersion: "14" }));
    expect(messages(byNumber).sort()).toEqual([
      "mandatory: auth-token-g4 is generation 4 of auth-token-secret, which is compromised, but it is enabled (enabled: true). Set enabled: false: a compromised generation stays disabled.",
      "mandatory: control-service container 0 env OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN pins auth-token-g4, generation 4 of auth-token-secret, which is compromised. Pin a newer generation.",
      "mandatory: executor-service container 0 env OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN pins auth-token-g4, generation 4 of auth-token-secret, which is compromised. Pin a newer generation.",
    ]);
    // In preview the new version's number is unknown: the template's dependency on it is the pin.
    const token = secretNode("tok", "auth-token", { annotations: { [COMPROMISED_ANNOTATION]: "5" } });
    const g5 = versionNode(token, "auth-token-g5", { version: UNKNOWN, enabled: false });
    const service = cloudRun(
      "executor-service",
      [secretEnv("OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN", "projects/p/secrets/tok", UNKNOWN)],
      {
        propertyDependencies: { template: [token.urn, g5.urn] },
      },
    );
    expect(messages(await checkStack(compromisedGenerations, [token, g5, service]))).toEqual([
      expect.stringContaining("executor-service container 0 env OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN pins auth-token-g5, generation 5"),
    ]);
  });

  test("the pack's own config marks generations compromised, by secret id", async () => {
    const policyConfig = { [NAME]: { compromisedGenerations: { tok: [4] } } };
    expect(messages(await checkStack(compromisedGenerations, rotationStack(), { policyConfig }))).toHaveLength(3);
    const otherSecret = { [NAME]: { compromisedGenerations: { other: [4] } } };
    expect(await checkStack(compromisedGenerations, rotationStack(), { policyConfig: otherSecret })).toEqual([]);
  });

  test("an annotation unknown in preview skips the check with a note; a malformed one is refused", async () => {
    expect(messages(await checkStack(compromisedGenerations, annotated(UNKNOWN, { g3Enabled: true })))).toEqual([
      `advisory: ${skipNote(NAME, [`auth-token-secret: its ${COMPROMISED_ANNOTATION} annotation`])}`,
    ]);
    expect(messages(await checkStack(compromisedGenerations, annotated("three")))).toEqual([
      `mandatory: auth-token-secret has the annotation ${COMPROMISED_ANNOTATION}="three", which is not a comma-separated list of ` +
        'generations: fix it (e.g. "3,5") so the compromised generations can be enforced.',
    ]);
  });

  test("a malformed annotation is quoted at most 80 characters long", async () => {
    const long = `x${"9".repeat(200)}`;
    expect(messages(await checkStack(compromisedGenerations, annotated(long)))).toEqual([
      `mandatory: auth-token-secret has the annotation ${COMPROMISED_ANNOTATION}=${JSON.stringify(long.slice(0, 80))}, which is not a ` +
        'comma-separated list of generations: fix it (e.g. "3,5") so the compromised generations can be enforced.',
    ]);
  });

  test("a pin that is not a version of the stack (latest, an alias) is another policy's business", async () => {
    expect(await checkStack(compromisedGenerations, annotated("3", { controlTokenVersion: "latest" }))).toEqual([]);
  });

  test("an enabled flag unknown in preview skips that version with a note", async () => {
    expect(messages(await checkStack(compromisedGenerations, annotated("3", { g3Enabled: UNKNOWN })))).toEqual([
      `advisory: ${skipNote(NAME, ["auth-token-g3: whether it is enabled"])}`,
    ]);
  });

  test("the annotation's list", () => {
    expect(parseGenerationList("3")).toEqual([3]);
    expect(parseGenerationList(" 3, 5 ")).toEqual([3, 5]);
    expect(parseGenerationList("")).toEqual([]);
    expect(parseGenerationList("  ")).toEqual([]);
    expect(parseGenerationList("10,12")).toEqual([10, 12]);
    expect(parseGenerationList("0")).toBeUndefined();
    expect(parseGenerationList("3,,5")).toBeUndefined();
    expect(parseGenerationList("3;5")).toBeUndefined();
  });

  test("the real program with a compromised previous token passes the whole pack", async () => {
    const { config, secretKeys } = stackConfig("prod");
    config[`${PROJECT}:authToken`] = JSON.stringify({ current: 3, previous: 2, compromised: [2] });
    const result = await evaluateWithPolicies({
      program: defineStack,
      project: PROJECT,
      stack: "prod",
      config,
      secretKeys,
      mocks: stackMocks(),
    });
    expect(result.evaluation.error).toBeUndefined();
    expect(result.violations).toEqual([]);
  });
});

describe("the annotation the pack repeats (it ships alone and cannot import the program)", () => {
  test("is the one RotatingSecret writes", () => {
    expect(COMPROMISED_ANNOTATION).toBe(PROGRAM_ANNOTATION);
  });
});
