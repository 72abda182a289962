/**
 * executor-exposure (policy/exposure.ts): who may invoke the executor, and whether its bearer auth is wired.
 */
import { executorExposure } from "../../policy/policies";
import { checkStack, resourceView } from "../../harness/policy-harness";
import { UNKNOWN } from "../../harness/recording-monitor";
import { Env, T, U, cloudRun, messages, plainEnv, secretEnv, skipNote } from "../support/policy-builders";
import * as pulumi from "@pulumi/pulumi";

afterAll(() => pulumi.runtime.disconnect());

/** The advisory note the pack adds when a check met a value unknown during preview. */
const advisorySkip = (policy: string, checks: string[]): string => `advisory: ${skipNote(policy, checks)}`;

describe("executor-exposure, edges", () => {
  const executor = (envs: Env[] | typeof UNKNOWN, props?: Record<string, unknown>) =>
    cloudRun("executor-service", envs === UNKNOWN ? UNKNOWN : [plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_MODE", "mock"), ...envs], {
      props,
    });
  const grant = (type: string, props: Record<string, unknown>, name = "public", propertyDependencies?: Record<string, string[]>) =>
    resourceView({
      type,
      name,
      props: { name: "executor-service", location: "us-central1", project: "p", role: "roles/run.invoker", ...props },
      propertyDependencies,
    });
  const exposed = (hows: string, token = "not set"): string =>
    `advisory: executor-service can be invoked by ${hows}, but its bearer auth is not wired (OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN is ` +
    `${token}), so it runs with authMode=disabled and anyone can call /status and /pay-bolt11. Wire OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN ` +
    "from Secret Manager (secretKeyRef), or remove the public invoker.";

  test("every way of exposing it is listed, on a token that is not set", async () => {
    const found = await checkStack(executorExposure, [
      executor([], { invokerIamDisabled: true }),
      grant(T.serviceIamMember, { member: "allUsers" }, "a-member"),
      grant(T.serviceIamPolicy, {
        policyData: JSON.stringify({
          bindings: [
            { role: "roles/run.invoker", members: ["allUsers", "allAuthenticatedUsers", "user:x@example.com"] },
            { role: "roles/run.admin", members: ["allUsers"] },
          ],
        }),
      }),
    ]);
    expect(messages(found)).toEqual([
      exposed("allUsers through a-member; allUsers and allAuthenticatedUsers through public; anyone (invokerIamDisabled: true)"),
    ]);
    expect(found[0].urn).toBe(U(T.cloudRunService, "executor-service"));
  });

  test("grants that expose nothing: another role, private members, bad or empty policy data, another service", async () => {
    const quiet = [
      grant(T.serviceIamMember, { role: "roles/run.admin", member: "allUsers" }, "admin"),
      grant(T.serviceIamMember, { member: "user:x@example.com" }, "private"),
      grant(T.serviceIamPolicy, { policyData: "{not json" }, "bad-json"),
      grant(T.serviceIamPolicy, { policyData: JSON.stringify({ bindings: "x" }) }, "no-bindings"),
      grant(T.serviceIamPolicy, {}, "no-policy"),
      grant(T.serviceIamMember, { member: "allUsers", name: "control-service" }, "other-service"),
      grant(T.serviceIamMember, { member: "allUsers", location: "europe-west1" }, "other-region"),
      grant(T.serviceIamMember, { member: "allUsers", project: "q" }, "other-project"),
      grant(T.serviceIamMember, { member: "allUsers", name: undefined }, "no-name"),
      grant(T.v1IamMember, { member: "allUsers", name: undefined, service: "control-service" }, "v1-other"),
    ];
    expect(await checkStack(executorExposure, [executor([]), ...quiet])).toEqual([]);
    expect(await checkStack(executorExposure, [executor([], { invokerIamDisabled: false }), cloudRun("control-service", [])])).toEqual([]);
  });

  test("a grant finds its service by full name, by the v1 `service` key, or by dependency", async () => {
    const byPath = grant(T.serviceIamMember, { member: "allUsers", name: "projects/p/locations/us-central1/services/executor-service" });
    expect(messages(await checkStack(executorExposure, [executor([]), byPath]))).toEqual([exposed("allUsers through public")]);
    const v1 = grant(T.v1IamMember, { member: "allAuthenticatedUsers", name: undefined, service: "executor-service", location: undefined });
    expect(messages(await checkStack(executorExposure, [executor([]), v1]))).toEqual([exposed("allAuthenticatedUsers through public")]);
    const byDependency = grant(T.serviceIamMember, { member: "allUsers", name: UNKNOWN }, "public", {
      name: [U(T.cloudRunService, "executor-service")],
    });
    expect(messages(await checkStack(executorExposure, [executor([]), byDependency]))).toEqual([exposed("allUsers through public")]);
    const locationUnknown = grant(T.serviceIamMember, { member: "allUsers", location: UNKNOWN, project: undefined });
    expect(messages(await checkStack(executorExposure, [executor([]), locationUnknown]))).toEqual([exposed("allUsers through public")]);
  });

  test("the token: wired, a non-empty literal, a literal unknown in preview, unknown env parts", async () => {
    const publicGrant = grant(T.serviceIamMember, { member: "allUsers" });
    const run = (envs: Env[] | typeof UNKNOWN) => checkStack(executorExposure, [executor(envs), publicGrant]);
    expect(await run([secretEnv("OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN", "t", "1")])).toEqual([]);
    expect(await run([plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN", "s3cret")])).toEqual([]);
    expect(messages(await run([{ ...secretEnv("OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN", "t", "1"), value: "" }]))).toEqual([
      exposed("allUsers through public", "empty"),
    ]);
    expect(messages(await run([plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN", UNKNOWN)]))).toEqual([
      advisorySkip("executor-exposure", ["executor-service container 0 env OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN: whether it is empty"]),
    ]);
    const partlyUnknown = cloudRun("executor-service", [plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_MODE", "mock")], {
      props: { template: { containers: [{ envs: [plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_MODE", "mock")] }, { envs: UNKNOWN }] } },
    });
    expect(messages(await checkStack(executorExposure, [partlyUnknown, publicGrant]))).toEqual([
      advisorySkip("executor-exposure", ["executor-service: template.containers[1].envs"]),
    ]);
  });

  test("preview: unknown role, policy data, service name, invokerIamDisabled are notes; no executor means nothing to check", async () => {
    const found = await checkStack(executorExposure, [
      executor([], { invokerIamDisabled: UNKNOWN }),
      grant(T.serviceIamMember, { member: "allUsers", role: UNKNOWN }, "g1"),
      grant(T.serviceIamPolicy, { policyData: UNKNOWN }, "g2"),
      grant(T.serviceIamMember, { member: "allUsers", name: UNKNOWN }, "g3"),
      grant("gcp:cloudrunv2/serviceIamBinding:ServiceIamBinding", { members: ["allUsers", UNKNOWN] }, "g4"),
      grant("gcp:cloudrunv2/serviceIamBinding:ServiceIamBinding", { members: UNKNOWN }, "g5"),
    ]);
    expect(messages(found)).toEqual([
      advisorySkip("executor-exposure", [
        "g1: its role or members",
        "g2: its role or members",
        "g3: which service it is on",
        "g4: its role or members",
        "g5: its role or members",
        "executor-service: invokerIamDisabled",
      ]),
    ]);
    expect(
      await checkStack(executorExposure, [
        cloudRun("control-service", [], { props: { invokerIamDisabled: true } }),
        grant(T.serviceIamMember, { member: UNKNOWN, name: "control-service" }),
      ]),
    ).toEqual([]);
  });
});
