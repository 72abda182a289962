/**
 * services-share-token-version (policy/token.ts): the control sends the very token version the executor accepts.
 */
import * as pulumi from "@pulumi/pulumi";
import { servicesShareTokenVersion } from "../../policy/policies";
import { AnalyzerResourceView, checkStack, resourceView } from "../../harness/policy-harness";
import { UNKNOWN } from "../../harness/recording-monitor";
import { Env, RotationOptions, T, U, cloudRun, messages, plainEnv, rotationStack, secretEnv, skipNote } from "../support/policy-builders";

afterAll(() => pulumi.runtime.disconnect());

/** The advisory note the pack adds when a check met a value unknown during preview. */
const advisorySkip = (policy: string, checks: string[]): string => `advisory: ${skipNote(policy, checks)}`;

const replace = (stack: AnalyzerResourceView[], name: string, by: AnalyzerResourceView): AnalyzerResourceView[] =>
  stack.map((r) => (r.name === name ? by : r));

describe("services-share-token-version, edges", () => {
  const check = (options: RotationOptions) => checkStack(servicesShareTokenVersion, rotationStack(options));

  test("a version mismatch names both versions", async () => {
    expect(messages(await check({ controlTokenVersion: "13" }))).toEqual([
      "mandatory: control-service container 0 env OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN sends the token at version 13 of projects/p/secrets/tok, " +
        "but executor-service accepts version 14: every call from control-service would get 401. Pin both to the same version.",
    ]);
    expect((await check({ controlTokenVersion: "13" }))[0].urn).toBe(U(T.cloudRunService, "control-service"));
    // Unpinned on either side is secret-references-pinned's finding.
    expect(await check({ controlTokenVersion: undefined })).toEqual([]);
  });

  test("executor tokens that give nothing to compare with: a literal, a secret that names nothing, an unknown secret", async () => {
    const literal = replace(
      rotationStack({ controlTokenVersion: "13" }),
      "executor-service",
      cloudRun("executor-service", [
        plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_MODE", "spark"),
        plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN", "x"),
      ]),
    );
    expect(await checkStack(servicesShareTokenVersion, literal)).toEqual([]);
    expect(await check({ executorTokenSecret: "projects/p/secrets/a/b", controlTokenVersion: "13" })).toEqual([]);
    expect(messages(await check({ executorTokenSecret: UNKNOWN, controlTokenVersion: "13" }))).toEqual([
      advisorySkip("services-share-token-version", ["executor-service: which secret its token is"]),
    ]);
  });

  test("the control found by its base URL name; a named token that is a literal or an unknown secret", async () => {
    const control = (envs: Env[]) =>
      checkStack(servicesShareTokenVersion, replace(rotationStack(), "control-service", cloudRun("control-service", envs)));
    expect(await control([plainEnv("SPARK_EXECUTOR_BASE_URL", "https://x"), plainEnv("SPARK_EXECUTOR_AUTH_TOKEN", "literal")])).toEqual([]);
    expect(
      messages(await control([plainEnv("SPARK_EXECUTOR_BASE_URL", "https://x"), secretEnv("SPARK_EXECUTOR_AUTH_TOKEN", UNKNOWN, "1")])),
    ).toEqual([
      advisorySkip("services-share-token-version", ["control-service container 0 env SPARK_EXECUTOR_AUTH_TOKEN: which secret it reads"]),
    ]);
    expect(
      messages(await control([plainEnv("SPARK_EXECUTOR_BASE_URL", "https://x"), secretEnv("SPARK_EXECUTOR_AUTH_TOKEN", 5, "1")])),
    ).toEqual([
      "mandatory: control-service container 0 env SPARK_EXECUTOR_AUTH_TOKEN reads its outbound token from no secret, not from the executor's " +
        "token secret projects/p/secrets/tok: a mirror secret drifts from the executor's. Point it at projects/p/secrets/tok at the version " +
        "executor-service pins.",
    ]);
    // A workload that neither reads the token secret nor sets a control name is not a control service.
    expect(await control([plainEnv("OTHER", "x")])).toEqual([]);
    // With unknown envs, a control without a token found is a note.
    const partly = resourceView({
      type: T.cloudRunService,
      name: "control-service",
      urn: U(T.cloudRunService, "control-service"),
      props: { template: { containers: [{ envs: [plainEnv("SPARK_EXECUTOR_BASE_URL", "https://x")] }, { envs: UNKNOWN }] } },
    });
    expect(messages(await checkStack(servicesShareTokenVersion, replace(rotationStack(), "control-service", partly)))).toEqual([
      advisorySkip("services-share-token-version", ["control-service: which env var carries its outbound token"]),
    ]);
    expect(messages(await control([plainEnv("SPARK_EXECUTOR_BASE_URL", "https://x"), secretEnv("X", UNKNOWN, "1")]))).toEqual([
      advisorySkip("services-share-token-version", ["control-service: which env var carries its outbound token"]),
    ]);
  });

  test("a control under a ControlService component, with the configured token names", async () => {
    const urn = "urn:pulumi:s::wallet-executor::wallet:service:ControlService$gcp:cloudrunv2/service:Service::control-service";
    const stack = replace(
      rotationStack(),
      "control-service",
      cloudRun("control-service", [secretEnv("MY_TOKEN", "projects/p/secrets/copy", "1")], { urn }),
    );
    expect(await checkStack(servicesShareTokenVersion, stack)).toHaveLength(1);
    const configured = await checkStack(servicesShareTokenVersion, stack, {
      policyConfig: { "services-share-token-version": { controlTokenEnvNames: ["MY_TOKEN"] } },
    });
    expect(messages(configured)[0]).toContain(
      "control-service container 0 env MY_TOKEN reads its outbound token from projects/p/secrets/copy",
    );
  });
});
