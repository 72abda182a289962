/**
 * secret-references-pinned and credentials-from-secret-manager (policy/secret-references.ts): every secret reference pinned to a version number, every credential from Secret Manager, with exact messages and unknown-value skips.
 */
import { credentialsFromSecretManager, secretReferencesPinned } from "../../policy/policies";
import { controlTokenEnvNames } from "../../policy/secret-references";
import { checkResource, resourceView } from "../../harness/policy-harness";
import { UNKNOWN } from "../../harness/recording-monitor";
import { Env, T, cloudRun, messages, plainEnv, secretEnv, skipNote } from "../support/policy-builders";
import * as pulumi from "@pulumi/pulumi";

afterAll(() => pulumi.runtime.disconnect());

/** The advisory note the pack adds when a check met a value unknown during preview. */
const advisorySkip = (policy: string, checks: string[]): string => `advisory: ${skipNote(policy, checks)}`;

describe("secret-references-pinned, edges", () => {
  const check = (envs: Env[] | typeof UNKNOWN, extra?: Parameters<typeof cloudRun>[2]) =>
    checkResource(secretReferencesPinned, cloudRun("svc", envs, extra));

  test("empty, alias-like and unknown-secret references, each with its exact message", async () => {
    expect(
      messages(
        await check([
          secretEnv("A", "a", ""),
          secretEnv("B", "b", "latest-1"),
          secretEnv("C", UNKNOWN, "latest"),
          secretEnv("D", "d", "12a"),
          secretEnv("E", "e", "007"),
        ]),
      ),
    ).toEqual([
      "mandatory: svc container 0 env A reads a at no version (Cloud Run then reads the latest version); pin a version number.",
      'mandatory: svc container 0 env B reads b at the alias "latest-1" (an alias moves without a deploy); pin a version number.',
      'mandatory: svc container 0 env C reads a secret at "latest"; pin a version number.',
      'mandatory: svc container 0 env D reads d at the alias "12a" (an alias moves without a deploy); pin a version number.',
    ]);
  });

  test("the mnemonic's version path: an alias is reported, a non-path is not this policy's finding, unknown is a note", async () => {
    const mnemonic = (value: unknown) => check([plainEnv("OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION", value)]);
    expect(messages(await mnemonic("projects/p/secrets/m/versions/stable"))).toEqual([
      'mandatory: svc container 0 env OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION names projects/p/secrets/m at the alias "stable" ' +
        "(an alias moves without a deploy); the executor would read whatever that resolves to at its next start: pin the version number.",
    ]);
    expect(await mnemonic("abandon abandon ability")).toEqual([]);
    expect(await mnemonic("x/projects/p/secrets/m/versions/latest")).toEqual([]);
    expect(messages(await mnemonic(UNKNOWN))).toEqual([
      advisorySkip("secret-references-pinned", [
        "svc container 0 env OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION: the mnemonic's version path",
      ]),
    ]);
    // Another env name holding a version path is not the mnemonic reference.
    expect(await check([plainEnv("OTHER", "projects/p/secrets/m/versions/latest")])).toEqual([]);
    // Set from a secretKeyRef, it is a secret reference like any other.
    expect(await check([secretEnv("OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION", "m", "3")])).toEqual([]);
  });

  test("volumes: unknown items, an unknown item version, empty items, an unknown secret", async () => {
    const volumes = [
      { name: "u", secret: { secret: "s1", items: UNKNOWN } },
      { name: "i", secret: { secret: "s2", items: [{ path: "a", version: UNKNOWN }] } },
      { name: "e", secret: { secret: UNKNOWN, items: [] } },
      { name: "n", secret: { secret: "s4", items: [{ path: "a" }] } },
      { name: "ok", secret: { secret: "s5", items: [{ path: "a", version: "2" }] } },
      { name: "plain-dir", emptyDir: {} },
      { name: "null-secret", secret: null },
      { secret: { secret: "s6" } },
    ];
    expect(messages(await check([], { volumes }))).toEqual([
      advisorySkip("secret-references-pinned", ["svc volume u: items", "svc volume i item 0: version"]),
      "mandatory: svc volume (name unknown) mounts s6 without items, i.e. its latest version; list an item with a version number.",
      "mandatory: svc volume e mounts a secret without items, i.e. its latest version; list an item with a version number.",
      "mandatory: svc volume n item 0 mounts s4 at no version (Cloud Run then reads the latest version); pin a version number.",
    ]);
  });

  test("parts of the template unknown as a whole: containers, one container's envs, one env, the volumes", async () => {
    const service = (template: Record<string, unknown>) =>
      checkResource(secretReferencesPinned, resourceView({ type: T.cloudRunService, name: "svc", props: { template } }));
    expect(messages(await service({ containers: UNKNOWN, volumes: UNKNOWN }))).toEqual([
      advisorySkip("secret-references-pinned", [
        "svc: template.containers (its secret references cannot be listed)",
        "svc: template.volumes (its secret references cannot be listed)",
      ]),
    ]);
    expect(messages(await service({ containers: [{ envs: [] }, { envs: UNKNOWN }] }))).toEqual([
      advisorySkip("secret-references-pinned", ["svc: template.containers[1].envs (its secret references cannot be listed)"]),
    ]);
    expect(messages(await service({ containers: [{ envs: [UNKNOWN, secretEnv("A", "a", "latest")] }] }))).toEqual([
      advisorySkip("secret-references-pinned", ["svc: template.containers[0].envs[] (its secret references cannot be listed)"]),
      'mandatory: svc container 0 env A reads a at "latest"; pin a version number.',
    ]);
  });

  test("jobs and v1 services: their own template paths, v1 volume keys; other types are not read", async () => {
    const job = resourceView({ type: T.cloudRunJob, name: "job", props: { template: { template: UNKNOWN } } });
    expect(messages(await checkResource(secretReferencesPinned, job))).toEqual([
      advisorySkip("secret-references-pinned", ["job: template.template (its secret references cannot be listed)"]),
    ]);
    const v1 = resourceView({
      type: T.cloudRunV1Service,
      name: "v1",
      props: {
        template: {
          spec: {
            containers: [{ envs: [{ name: "K", valueFrom: { secretKeyRef: { name: "s", key: "4" } } }] }],
            volumes: [{ name: "vol", secret: { secretName: "sv", items: [{ key: "latest", path: "p" }] } }],
          },
        },
      },
    });
    expect(messages(await checkResource(secretReferencesPinned, v1))).toEqual([
      'mandatory: v1 volume vol item 0 mounts sv at "latest"; pin a version number.',
    ]);
    const v1Unknown = resourceView({ type: T.cloudRunV1Service, name: "v1", props: { template: { spec: UNKNOWN } } });
    expect(messages(await checkResource(secretReferencesPinned, v1Unknown))).toEqual([
      advisorySkip("secret-references-pinned", ["v1: template.spec (its secret references cannot be listed)"]),
    ]);
    const other = resourceView({ type: T.secret, name: "s", props: { template: { containers: [{ envs: [secretEnv("A", "a")] }] } } });
    expect(await checkResource(secretReferencesPinned, other)).toEqual([]);
  });

  test("a whole unknown secretKeyRef leaves its version unknown", async () => {
    expect(messages(await check([{ name: "A", valueSource: { secretKeyRef: UNKNOWN } }]))).toEqual([
      advisorySkip("secret-references-pinned", ["svc container 0 env A: secretKeyRef version"]),
    ]);
  });
});

describe("credentials-from-secret-manager, edges", () => {
  const check = (envs: Env[] | typeof UNKNOWN, policyConfig?: Record<string, unknown>) =>
    checkResource(credentialsFromSecretManager, cloudRun("svc", envs), {
      policyConfig: policyConfig ? { "credentials-from-secret-manager": policyConfig } : undefined,
    });
  const sm = (where: string, how: string, what: string): string =>
    `mandatory: svc container 0 env ${where} ${how}: ${what} must come from Secret Manager (valueSource.secretKeyRef with a ` +
    "version number), never a plain env value, which anyone who can read the service's configuration or revisions can read.";

  test("a credential with neither value nor secretKeyRef, and one with both", async () => {
    expect(
      messages(await check([{ name: "OA_LIGHTNING_SPARK_API_KEY" }, { name: "OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN", value: null }])),
    ).toEqual([
      sm(
        "OA_LIGHTNING_SPARK_API_KEY",
        "has neither a value nor a secretKeyRef (it is empty, which disables what it configures)",
        "the Spark API key",
      ),
      sm(
        "OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN",
        "has neither a value nor a secretKeyRef (it is empty, which disables what it configures)",
        "the executor's bearer token",
      ),
    ]);
    const both = { ...secretEnv("OA_LIGHTNING_SPARK_API_KEY", "s", "1"), value: "x" };
    expect(messages(await check([both]))).toEqual([sm("OA_LIGHTNING_SPARK_API_KEY", "is a literal value", "the Spark API key")]);
  });

  test("the configured names replace the defaults but the executor's own token name always counts", async () => {
    const names = { controlTokenEnvNames: ["CONTROL_TOKEN"] };
    // No longer a control token name: only the rule for any credential-like name applies (once).
    expect(messages(await check([plainEnv("SPARK_EXECUTOR_AUTH_TOKEN", "x")], names))).toEqual([
      "mandatory: svc container 0 env SPARK_EXECUTOR_AUTH_TOKEN is named like a credential but is a plain value (not shown here): a " +
        "credential must come from Secret Manager, never a plain env value, which anyone who can read the workload's configuration can " +
        "read. To fix: store it as a secret version and reference it (valueSource.secretKeyRef, or secretEnvironmentVariables for a Cloud " +
        "Function) at its version number; if it holds no secret, name it for what it is (..._ID, ..._URL, ..._PATH).",
    ]);
    expect(messages(await check([plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN", "x")], names))).toEqual([
      sm("OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN", "is a literal value", "the executor's bearer token"),
    ]);
    expect(controlTokenEnvNames({ controlTokenEnvNames: ["A", "B"] })).toEqual(["A", "B"]);
    expect(controlTokenEnvNames({ controlTokenEnvNames: [] })).toEqual([
      "OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN",
      "SPARK_EXECUTOR_AUTH_TOKEN",
    ]);
    expect(controlTokenEnvNames({ controlTokenEnvNames: ["A", 1 as unknown as string] })).toEqual([
      "OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN",
      "SPARK_EXECUTOR_AUTH_TOKEN",
    ]);
    expect(controlTokenEnvNames({ controlTokenEnvNames: "A" as unknown as string[] })).toEqual([
      "OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN",
      "SPARK_EXECUTOR_AUTH_TOKEN",
    ]);
    expect(controlTokenEnvNames({})).toEqual(["OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN", "SPARK_EXECUTOR_AUTH_TOKEN"]);
  });

  test("unknown names, unknown parts and unknown values are notes", async () => {
    expect(messages(await check([{ name: UNKNOWN, value: "x" }, plainEnv("OA_LIGHTNING_WALLET_MNEMONIC_PROVIDER", UNKNOWN)]))).toEqual([
      advisorySkip("credentials-from-secret-manager", [
        "svc container 0 env (name unknown): its name",
        "svc container 0 env OA_LIGHTNING_WALLET_MNEMONIC_PROVIDER: its value",
      ]),
    ]);
    expect(messages(await check(UNKNOWN))).toEqual([
      advisorySkip("credentials-from-secret-manager", ["svc: template.containers[0].envs (its env vars cannot be listed)"]),
    ]);
    expect(messages(await check([plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_MODE", UNKNOWN)]))).toEqual([
      advisorySkip("credentials-from-secret-manager", ["svc container 0 env OA_LIGHTNING_WALLET_EXECUTOR_MODE: its value"]),
    ]);
  });

  test("the mnemonic provider: from a secret, empty, or gcp; spark mode with a provider set", async () => {
    expect(messages(await check([secretEnv("OA_LIGHTNING_WALLET_MNEMONIC_PROVIDER", "p", "1")]))).toEqual([
      "mandatory: svc container 0 env OA_LIGHTNING_WALLET_MNEMONIC_PROVIDER must be the literal value gcp, so the mnemonic is read from " +
        "Secret Manager at run time.",
    ]);
    expect(messages(await check([plainEnv("OA_LIGHTNING_WALLET_MNEMONIC_PROVIDER", "")]))).toEqual([
      'mandatory: svc container 0 env OA_LIGHTNING_WALLET_MNEMONIC_PROVIDER is "", not gcp: the executor would read the mnemonic from a ' +
        "plain env var. Set it to gcp and OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION to the mnemonic's version name.",
    ]);
    expect(
      await check([
        plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_MODE", "spark"),
        plainEnv("OA_LIGHTNING_WALLET_MNEMONIC_PROVIDER", "gcp"),
        plainEnv("OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION", "projects/p/secrets/m/versions/3"),
      ]),
    ).toEqual([]);
    // A mode from a secret is not a literal `spark`.
    expect(await check([secretEnv("OA_LIGHTNING_WALLET_EXECUTOR_MODE", "m", "1")])).toEqual([]);
    // The mnemonic itself from a secretKeyRef is not a literal.
    expect(await check([secretEnv("OA_LIGHTNING_WALLET_MNEMONIC", "m", "1")])).toEqual([]);
    expect(messages(await check([plainEnv("OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION", UNKNOWN)]))).toEqual([
      advisorySkip("credentials-from-secret-manager", ["svc container 0 env OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION: its value"]),
    ]);
    expect(
      messages(await check([plainEnv("OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION", "projects/p/secrets/m/versions/3/extra")])),
    ).toHaveLength(1);
  });
});
