/**
 * Whatever reads a credential is held to the rules, on hand-built resources: Cloud Functions (1st
 * and 2nd gen) and Cloud Run worker pools are read like services and jobs (pinning, credentials
 * from Secret Manager, least privilege); a credential's value never sits in plain configuration
 * (credentials-not-in-plain-config); any random source feeding a credential is held to the
 * entropy rule whatever its type or name (token-entropy).
 */
import * as pulumi from "@pulumi/pulumi";
import { entropyOf, keptEntropy } from "../../policy/entropy";
import { UNKNOWN as GRAPH_UNKNOWN } from "../../policy/graph";
import {
  credentialsFromSecretManager,
  credentialsNotInPlainConfig,
  leastPrivilegeSecretAccess,
  revocationRequiresVerification,
  secretReferencesPinned,
  secretVersionsRecoverable,
  tokenEntropy,
} from "../../policy/policies";
import { looksLikeCredential } from "../../policy/secret-references";
import {
  CONTROL_BASE_URL_ENV_NAMES,
  DEFAULT_CONTROL_TOKEN_ENV_NAMES,
  ENV,
  readWorkload,
  secretRefsOf,
  isExecutor,
} from "../../policy/workloads";
import { EXECUTOR_ENV } from "../../stack/contract";
import { CANONICAL_CONTROL_ENV_NAMES } from "../../stack/config";
import { AnalyzerResourceView, checkResource, checkStack, resourceView } from "../../harness/policy-harness";
import { UNKNOWN } from "../../harness/recording-monitor";
import {
  T,
  U,
  accountNode,
  cloudRun,
  grantNode,
  messages,
  plainEnv,
  rotationStack,
  secretEnv,
  secretNode,
  skipNote,
  verificationResource,
  versionNode,
} from "../support/policy-builders";

afterAll(() => pulumi.runtime.disconnect());

/** A 1st-gen Cloud Function. */
const functionV1 = (name: string, props: Record<string, unknown>, extra: Partial<Parameters<typeof resourceView>[0]> = {}) =>
  resourceView({ type: T.cloudFunction, name, urn: U(T.cloudFunction, name), props: { name, runtime: "nodejs20", ...props }, ...extra });

/** A 2nd-gen Cloud Function. */
const functionV2 = (name: string, serviceConfig: unknown, extra: Partial<Parameters<typeof resourceView>[0]> = {}, buildConfig?: unknown) =>
  resourceView({ type: T.cloudFunctionV2, name, urn: U(T.cloudFunctionV2, name), props: { name, serviceConfig, buildConfig }, ...extra });

describe("reading Cloud Functions and worker pools", () => {
  test("1st gen: plain env maps (runtime and build), secret env vars by secret id, secret volumes by versions, its account", () => {
    const workload = readWorkload(T.cloudFunction, {
      environmentVariables: { A: "1", B: null },
      buildEnvironmentVariables: { C: "2" },
      secretEnvironmentVariables: [
        { key: "TOKEN", secret: "tok", version: "3", projectId: "123" },
        { secret: "x", version: "1" },
      ],
      secretVolumes: [
        { mountPath: "/etc/a", secret: "a", versions: [{ path: "/a", version: "4" }] },
        { mountPath: "/etc/b", secret: "b" },
        { secret: "c", versions: [] },
      ],
      serviceAccountEmail: "fn@p",
    });
    expect(workload).toEqual({
      type: T.cloudFunction,
      envs: [
        { where: "env A", name: "A", literal: true, value: "1" },
        { where: "env B", name: "B", literal: false, value: undefined },
        {
          where: "secret env TOKEN",
          name: "TOKEN",
          literal: false,
          value: undefined,
          secretKeyRef: { secret: "tok", version: "3" },
        },
        { where: "secret env (name unknown)", name: "", literal: false, value: undefined, secretKeyRef: { secret: "x", version: "1" } },
        { where: "build env C", name: "C", literal: true, value: "2" },
      ],
      volumes: [
        { where: "volume /etc/a", secret: "a", items: [{ where: "volume /etc/a version 0", version: "4" }] },
        { where: "volume /etc/b", secret: "b", items: undefined },
        { where: "volume (path unknown)", secret: "c", items: undefined },
      ],
      serviceAccount: "fn@p",
      unknownParts: [],
      configProperties: ["environmentVariables", "buildEnvironmentVariables", "secretEnvironmentVariables", "secretVolumes"],
    });
    expect(secretRefsOf(workload as NonNullable<typeof workload>).map((ref) => [ref.where, ref.secret, ref.version])).toEqual([
      ["secret env TOKEN", "tok", "3"],
      ["secret env (name unknown)", "x", "1"],
      ["volume /etc/a version 0", "a", "4"],
      ["volume /etc/b", "b", undefined],
      ["volume (path unknown)", "c", undefined],
    ]);
  });

  test("2nd gen: everything under serviceConfig, build env under buildConfig; unknown parts are listed", () => {
    const workload = readWorkload(T.cloudFunctionV2, {
      serviceConfig: {
        environmentVariables: { A: "1" },
        secretEnvironmentVariables: [{ key: "K", secret: "s", version: "latest" }],
        secretVolumes: [{ mountPath: "/m", secret: "v", versions: GRAPH_UNKNOWN }],
        serviceAccountEmail: "fn2@p",
      },
      buildConfig: { environmentVariables: { B: "2" } },
    });
    expect(workload?.envs.map((env) => env.where)).toEqual(["env A", "secret env K", "build env B"]);
    expect(workload?.volumes).toEqual([{ where: "volume /m", secret: "v", items: GRAPH_UNKNOWN }]);
    expect(workload?.serviceAccount).toBe("fn2@p");
    expect(workload?.configProperties).toEqual(["serviceConfig", "buildConfig"]);
    expect(readWorkload(T.cloudFunctionV2, { serviceConfig: GRAPH_UNKNOWN })).toMatchObject({
      serviceAccount: GRAPH_UNKNOWN,
      unknownParts: ["serviceConfig"],
    });
    expect(
      readWorkload(T.cloudFunctionV2, {
        serviceConfig: { environmentVariables: GRAPH_UNKNOWN, secretEnvironmentVariables: [GRAPH_UNKNOWN], secretVolumes: GRAPH_UNKNOWN },
        buildConfig: { environmentVariables: GRAPH_UNKNOWN },
      })?.unknownParts,
    ).toEqual([
      "serviceConfig.environmentVariables",
      "serviceConfig.secretEnvironmentVariables[]",
      "serviceConfig.secretVolumes",
      "buildConfig.environmentVariables",
    ]);
    expect(readWorkload(T.cloudFunction, { secretEnvironmentVariables: GRAPH_UNKNOWN })?.unknownParts).toEqual([
      "secretEnvironmentVariables",
    ]);
  });

  test("a worker pool is read like a service", () => {
    const pool = readWorkload(T.cloudRunWorkerPool, {
      template: { serviceAccount: "pool@p", containers: [{ envs: [secretEnv("K", "s", "1")] }] },
    });
    expect(pool).toMatchObject({ serviceAccount: "pool@p", configProperties: ["template"] });
    expect(pool?.envs[0].secretKeyRef).toEqual({ secret: "s", version: "1" });
  });

  test("pinning and credentials from Secret Manager hold for functions", async () => {
    expect(
      messages(
        await checkResource(
          secretReferencesPinned,
          functionV1("fn", {
            secretEnvironmentVariables: [{ key: "K", secret: "s", version: "latest" }],
            secretVolumes: [{ mountPath: "/m", secret: "v" }],
          }),
        ),
      ),
    ).toEqual([
      'mandatory: fn secret env K reads s at "latest"; pin a version number.',
      "mandatory: fn volume /m mounts v without items, i.e. its latest version; list an item with a version number.",
    ]);
    expect(
      messages(
        await checkResource(
          credentialsFromSecretManager,
          functionV2("fn2", { environmentVariables: { OA_LIGHTNING_SPARK_API_KEY: "literal" } }),
        ),
      ),
    ).toEqual([
      "mandatory: fn2 env OA_LIGHTNING_SPARK_API_KEY is a literal value: the Spark API key must come from Secret Manager " +
        "(valueSource.secretKeyRef with a version number), never a plain env value, which anyone who can read the service's configuration " +
        "or revisions can read.",
    ]);
  });
});

describe("credentials-from-secret-manager, under any env var name", () => {
  const check = (envs: Parameters<typeof cloudRun>[1]) => checkResource(credentialsFromSecretManager, cloudRun("svc", envs));

  test("a literal named like a credential is refused without showing it; names about a credential, paths and empties are not", async () => {
    expect(messages(await check([plainEnv("LEDGER_API_KEY", "k-123"), plainEnv("PAYOUT_TOKEN", UNKNOWN)]))).toEqual(
      ["LEDGER_API_KEY", "PAYOUT_TOKEN"].map(
        (name) =>
          `mandatory: svc container 0 env ${name} is named like a credential but is a plain value (not shown here): a credential must ` +
          "come from Secret Manager, never a plain env value, which anyone who can read the workload's configuration can read. To fix: " +
          "store it as a secret version and reference it (valueSource.secretKeyRef, or secretEnvironmentVariables for a Cloud Function) " +
          "at its version number; if it holds no secret, name it for what it is (..._ID, ..._URL, ..._PATH).",
      ),
    );
    expect(JSON.stringify(await check([plainEnv("LEDGER_API_KEY", "k-123")]))).not.toContain("k-123");
    expect(
      await check([
        plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN_VERSION", "4"),
        plainEnv("GOOGLE_APPLICATION_CREDENTIALS", "/var/secrets/key.json"),
        plainEnv("SIGNING_KEY_SECRET", "projects/p/secrets/k/versions/1"),
        plainEnv("EMPTY_TOKEN", ""),
        secretEnv("LEDGER_PASSWORD", "projects/p/secrets/l", "1"),
        plainEnv("MODE", "spark"),
      ]),
    ).toEqual([]);
  });

  test("looksLikeCredential: credential words anywhere, unless the name ends with what it is about", () => {
    for (const name of [
      "TOKEN",
      "x_secret",
      "DB_PASSWORD",
      "PASSWD",
      "PASSPHRASE",
      "APIKEY",
      "API_KEY",
      "ACCESS_KEY",
      "PRIVATE_KEY",
      "CREDENTIALS",
      "MNEMONIC",
      "SEED_PHRASE",
      "BEARER",
    ]) {
      expect([name, looksLikeCredential(name)]).toEqual([name, true]);
    }
    for (const name of [
      "TOKEN_VERSION",
      "SECRET_NAME",
      "API_KEY_ID",
      "TOKEN_URL",
      "PASSWORD_FILE",
      "MNEMONIC_PROVIDER",
      "TOKEN_HEADER",
      "TOKEN_TTL",
      "MODE",
      "KEYRING",
    ]) {
      expect([name, looksLikeCredential(name)]).toEqual([name, false]);
    }
  });
});

describe("secret-versions-recoverable: no secret expires", () => {
  test("a ttl or expireTime deletes every version: refused; unknown is a note", async () => {
    const secret = (props: Record<string, unknown>, type: string = T.secret) =>
      checkResource(secretVersionsRecoverable, resourceView({ type, name: "s", props: { secretId: "s", ...props } }));
    expect(await secret({})).toEqual([]);
    expect(await secret({ ttl: "" })).toEqual([]);
    expect(messages(await secret({ ttl: "86400s" }))).toEqual([
      'mandatory: s sets ttl "86400s": when it expires, Secret Manager deletes the secret and every version in it, the current generation ' +
        "included, with no verification and no way back. To fix: remove ttl; retire a generation by disabling its version after verification.",
    ]);
    expect(messages(await secret({ expireTime: "2027-01-01T00:00:00Z" }, T.regionalSecret))[0]).toContain(
      's sets expireTime "2027-01-01T00:00:00Z"',
    );
    expect(messages(await secret({ ttl: UNKNOWN }))).toEqual([`advisory: ${skipNote("secret-versions-recoverable", ["s: its ttl"])}`]);
  });
});

describe("least-privilege-secret-access, for every workload", () => {
  const token = secretNode("tok", "auth-token");
  const check = (...resources: AnalyzerResourceView[]) => checkStack(leastPrivilegeSecretAccess, [token, ...resources]);

  test("a workload that reads a secret as the default compute account is named, by secret or by a name outside the stack", async () => {
    const job = resourceView({
      type: T.cloudRunJob,
      name: "job",
      urn: U(T.cloudRunJob, "job"),
      props: { template: { template: { containers: [{ envs: [secretEnv("K", "projects/p/secrets/tok", "1")] }] } } },
    });
    const found = await check(job);
    expect(messages(found)).toEqual([
      "mandatory: job reads auth-token-secret but sets no service account, so it runs as the project's default compute account, which other " +
        "workloads share and which holds roles/editor by default. To fix: give job a service account of its own (template.serviceAccount, " +
        "or serviceAccountEmail for a Cloud Function) and grant it only the secrets it reads.",
    ]);
    expect(found[0].urn).toBe(U(T.cloudRunJob, "job"));
    const fn = functionV1("fn", { secretEnvironmentVariables: [{ key: "K", secret: "elsewhere", version: "1" }] });
    expect(messages(await check(fn))[0]).toContain("mandatory: fn reads a secret but sets no service account");
    // Reading no secret at all, on the default account, is nothing to this policy.
    expect(await check(cloudRun("web", [plainEnv("MODE", "x")]))).toEqual([]);
    expect(await check(cloudRun("web", [secretEnv("K", "not a secret name!", "1")]))).toEqual([]);
  });

  test("an account shared by a workload that does not read the granted secret is named", async () => {
    const sa = accountNode("shared-sa", "shared");
    const reader = cloudRun("reader", [secretEnv("K", "projects/p/secrets/tok", "1")], {
      serviceAccount: "shared@p.iam.gserviceaccount.com",
    });
    const grant = grantNode("grant", token, sa);
    expect(await check(sa, reader, grant)).toEqual([]);
    const others = ["a", "b"].map((name) =>
      cloudRun(name, [plainEnv("MODE", "x")], { serviceAccount: "shared@p.iam.gserviceaccount.com" }),
    );
    expect(messages(await check(sa, reader, grant, others[0]))).toEqual([
      "mandatory: grant grants roles/secretmanager.secretAccessor on projects/p/secrets/tok to serviceAccount:shared@p.iam.gserviceaccount.com, " +
        "an account shared by a, which does not read that secret: it could read it too. To fix: give each workload its own service account, " +
        "and grant the secret only to the account of the workload that reads it.",
    ]);
    expect(messages(await check(sa, reader, grant, ...others))[0]).toContain(
      "an account shared by a, b, which do not read that secret: they could",
    );
  });
});

describe("credentials-not-in-plain-config", () => {
  const check = (resources: AnalyzerResourceView[]) => checkStack(credentialsNotInPlainConfig, resources);
  const password = (name: string, props: Record<string, unknown> = {}) =>
    resourceView({ type: T.randomPassword, name, urn: U(T.randomPassword, name), props: { length: 48, ...props } });

  test("in preview: a workload's configuration built from a random source is named, per property", async () => {
    const random = password("ledger-credential");
    const job = resourceView({
      type: T.cloudRunJob,
      name: "job",
      urn: U(T.cloudRunJob, "job"),
      props: { template: UNKNOWN },
      propertyDependencies: { template: [random.urn] },
    });
    const found = await check([random, job]);
    expect(messages(found)).toEqual([
      "mandatory: job template is built from ledger-credential's output: a generated credential in plain configuration, readable by anyone " +
        "who can read the workload. To fix: store it as a secret version and reference it with a secretKeyRef pinned to its version number.",
    ]);
    expect(found[0].urn).toBe(U(T.cloudRunJob, "job"));
    // Another property (a name suffix, say) is not its configuration; a dependency on a secret version is how pins are built.
    const named = cloudRun("svc", [], { propertyDependencies: { name: [random.urn] } });
    const token = secretNode("tok", "auth-token");
    const pinned = cloudRun("pinned", [], { propertyDependencies: { template: [U(T.secretVersion, "tok-g1")] } });
    expect(await check([random, named, token, versionNode(token, "tok-g1", { version: "1" }), pinned])).toEqual([]);
  });

  test("once values are known: any plain string holding a secret version's or a random source's value, under any name", async () => {
    const token = secretNode("tok", "auth-token");
    const secretValue = "s3cr3t-value-of-the-token";
    const version = versionNode(token, "tok-g1", { version: "1", secretData: secretValue });
    const random = password("other-credential", { result: "generated-value-0123456789" });
    const svc = cloudRun("svc", [plainEnv("ANY_NAME", `Bearer ${secretValue}`), plainEnv("MODE", "short")], {
      props: {
        template: { containers: [{ envs: [plainEnv("ANY_NAME", `Bearer ${secretValue}`)], args: ["--key=generated-value-0123456789"] }] },
      },
    });
    const fn = functionV2("fn", { environmentVariables: { X: "generated-value-0123456789" } });
    const found = await check([token, version, random, svc, fn]);
    expect(messages(found)).toEqual([
      "mandatory: fn serviceConfig.environmentVariables.X holds the value of other-credential (a credential) in plain configuration, " +
        "readable by anyone who can read the workload (the value is not shown here). To fix: reference other-credential with a secretKeyRef " +
        "pinned to its version number instead of copying its value.",
      "mandatory: svc template.containers[0].args[0] holds the value of other-credential (a credential) in plain configuration, readable by " +
        "anyone who can read the workload (the value is not shown here). To fix: reference other-credential with a secretKeyRef pinned to " +
        "its version number instead of copying its value.",
      "mandatory: svc template.containers[0].envs[0].value holds the value of tok-g1 (a credential) in plain configuration, readable by " +
        "anyone who can read the workload (the value is not shown here). To fix: reference tok-g1 with a secretKeyRef pinned to its version " +
        "number instead of copying its value.",
    ]);
    expect(JSON.stringify(found)).not.toContain(secretValue);
    // Short values are no credential to match (a flag, a port); a value only similar is no match.
    const shortVersion = versionNode(token, "tok-g2", { version: "2", secretData: "8080" });
    const port = cloudRun("port", [plainEnv("PORT", "8080"), plainEnv("NEAR", "s3cr3t-value-of-the-toke")]);
    expect(await check([token, version, shortVersion, port])).toEqual([]);
  });
});

describe("token-entropy, whatever the random source's type or name", () => {
  const check = (resources: AnalyzerResourceView[], policyConfig?: Record<string, unknown>) =>
    checkStack(tokenEntropy, resources, policyConfig ? { policyConfig: { "token-entropy": policyConfig } } : undefined);
  const random = (type: string, name: string, props: Record<string, unknown>) => resourceView({ type, name, urn: U(type, name), props });
  const token = secretNode("tok", "auth-token");
  const feeding = (source: AnalyzerResourceView, props: Record<string, unknown> = {}) =>
    resourceView({
      ...versionNode(token, "tok-g1", { version: "1", ...props }),
      propertyDependencies: { secret: [token.urn], secretData: [source.urn] },
    });

  test("a source feeding a secret version, a workload or the verification's token is held to 256 bits", async () => {
    const short = random(T.randomString, "api-credential", { length: 24, upper: false, numeric: false, special: false });
    expect(messages(await check([token, short, feeding(short)]))).toEqual([
      "mandatory: api-credential (it becomes the value of tok-g1) yields 112.8 bits of entropy (24 characters from a 26-character alphabet); " +
        "a credential needs at least 256 bits (32 bytes): set length to at least 55 with the same character classes.",
    ]);
    const id = random(T.randomId, "suffix", { byteLength: 8 });
    const svc = cloudRun("svc", [], { propertyDependencies: { template: [id.urn] } });
    expect(messages(await check([id, svc]))[0]).toContain("suffix (it becomes the configuration of svc) yields 64.0 bits");
    const uuid = random(T.randomUuid, "nonce", {});
    const verification = resourceView({ ...verificationResource({}), propertyDependencies: { token: [uuid.urn] } });
    expect(messages(await check([uuid, verification]))[0]).toContain(
      "nonce (it becomes the token verification presents) yields 122.0 bits",
    );
    const previous = resourceView({ ...verificationResource({}), propertyDependencies: { previousToken: [uuid.urn] } });
    expect(messages(await check([uuid, previous]))).toHaveLength(1);
    // Through another resource's outputs too.
    const hop = resourceView({ type: "test:index:Hop", name: "hop", props: {}, propertyDependencies: { value: [short.urn] } });
    expect(messages(await check([token, short, hop, feeding(hop)]))[0]).toContain("api-credential (it becomes the value of tok-g1) yields");
  });

  test("a source that feeds nothing secret, or feeds a version's other properties, is left alone unless named like a token", async () => {
    const id = random(T.randomId, "bucket-suffix", { byteLength: 4 });
    const named = resourceView({ ...versionNode(token, "tok-g1", { version: "1" }), propertyDependencies: { secret: [id.urn] } });
    const verification = resourceView({ ...verificationResource({}), propertyDependencies: { baseUrl: [id.urn] } });
    expect(await check([token, id, named, verification])).toEqual([]);
    expect(messages(await check([random(T.randomId, "api-token", { byteLength: 4 })]))).toHaveLength(1);
  });

  test("integers and pet names count too; a value cut shorter keeps only what is left", async () => {
    const pin = random(T.randomInteger, "pin", { min: 0, max: 9999 });
    expect(messages(await check([token, pin, feeding(pin)]))[0]).toContain(
      "pin (it becomes the value of tok-g1) yields 13.3 bits of entropy (an integer from 0 to 9999)",
    );
    const pet = random(T.randomPet, "pet", {});
    expect(messages(await check([token, pet, feeding(pet)]))[0]).toContain(
      "pet (it becomes the value of tok-g1) yields 22.0 bits of entropy (2 words from pet-name word lists (at most ~11 bits each))",
    );
    const long = random(T.randomPassword, "long", { length: 48, special: false });
    expect(await check([token, long, feeding(long, { secretData: "x".repeat(48) })])).toEqual([]);
    expect(messages(await check([token, long, feeding(long, { secretData: "x".repeat(8) })]))).toEqual([
      "mandatory: long (it becomes the value of tok-g1) yields 47.6 bits of entropy (8 of its 48 characters from a 62-character alphabet " +
        "reach the credential); a credential needs at least 256 bits (32 bytes): set length to at least 43 with the same character classes.",
    ]);
  });

  test("entropyOf for integers and pet names; keptEntropy only shortens character-based values", () => {
    expect(entropyOf(T.randomInteger, { min: 1, max: 1 })).toEqual({ bits: 0, explanation: "an integer from 1 to 1" });
    expect(entropyOf(T.randomInteger, { min: 0, max: 255 })).toEqual({ bits: 8, explanation: "an integer from 0 to 255" });
    expect(entropyOf(T.randomInteger, { min: 0 })).toBeUndefined();
    expect(entropyOf(T.randomInteger, { max: 3 })).toBeUndefined();
    expect(entropyOf(T.randomInteger, { min: GRAPH_UNKNOWN, max: 3 })).toBe("unknown");
    expect(entropyOf(T.randomInteger, { min: 0, max: GRAPH_UNKNOWN })).toBe("unknown");
    expect(entropyOf(T.randomPet, { length: 4 })).toEqual({
      bits: 44,
      explanation: "4 words from pet-name word lists (at most ~11 bits each)",
    });
    expect(entropyOf(T.randomPet, { length: GRAPH_UNKNOWN })).toBe("unknown");
    const chars = { bits: 100, alphabet: 62, explanation: "e" };
    expect(keptEntropy(chars, 48, "x".repeat(47))).toEqual({
      bits: 47 * Math.log2(62),
      alphabet: 62,
      explanation: "47 of its 48 characters from a 62-character alphabet reach the credential",
    });
    expect(keptEntropy(chars, 48, "x".repeat(48))).toBe(chars);
    expect(keptEntropy(chars, 48, undefined)).toBe(chars);
    expect(keptEntropy(chars, "48", "x")).toBe(chars);
    expect(keptEntropy({ bits: 0, alphabet: 1, explanation: "e" }, 48, "x")).toMatchObject({ bits: 0 });
    const bytes = { bits: 256, explanation: "32 random bytes" };
    expect(keptEntropy(bytes, 32, "x")).toBe(bytes);
    expect(keptEntropy("unknown", 32, "x")).toBe("unknown");
    expect(keptEntropy(undefined, 32, "x")).toBeUndefined();
  });

  test("an unknown length is a note naming the source", async () => {
    const unknownLength = random(T.randomString, "value", { length: UNKNOWN });
    expect(messages(await check([token, unknownLength, feeding(unknownLength)]))).toEqual([
      `advisory: ${skipNote("token-entropy", ["value: its length or character classes"])}`,
    ]);
  });
});

describe("revocation-requires-verification, for every reader", () => {
  test("a Cloud Function still pinning the revoked version, by its secret's id, is named", async () => {
    const token = secretNode("tok", "auth-token");
    const g4 = versionNode(token, "auth-token-g4", { version: "14" });
    const fn = functionV1("payouts", {
      secretEnvironmentVariables: [{ key: "EXECUTOR_TOKEN", secret: "tok", version: "13" }],
      serviceAccountEmail: "fn@p",
    });
    const verification = verificationResource({ generations: { authToken: 4 }, revoking: ["auth-token-g3"] }, [fn.urn]);
    const g3 = versionNode(token, "auth-token-g3", { version: "13", enabled: false }, [verification.urn]);
    expect(messages(await checkStack(revocationRequiresVerification, [token, g4, g3, fn, verification]))).toEqual([
      "mandatory: payouts secret env EXECUTOR_TOKEN pins auth-token-g3, the version being revoked, not the current auth-token-g4 " +
        "(generation 4): revoking auth-token-g3 would cut off a service that has not rolled to the new generation. Missing pin: payouts -> " +
        "auth-token-g4.",
    ]);
  });
});

describe("reading workloads and the graph, the cases between the rules", () => {
  test("least privilege: a reader known only through its dependency on the secret; several secrets and several readers are listed", async () => {
    const token = secretNode("tok", "auth-token");
    const spark = secretNode("spark", "spark-api-key");
    const byDependency = cloudRun("opaque", [secretEnv("A", UNKNOWN, UNKNOWN)], { propertyDependencies: { template: [token.urn] } });
    expect(messages(await checkStack(leastPrivilegeSecretAccess, [token, byDependency]))[0]).toContain(
      "opaque reads auth-token-secret but sets no service account",
    );
    const both = cloudRun("both", [secretEnv("A", "projects/p/secrets/tok", "1"), secretEnv("B", "projects/p/secrets/spark", "1")]);
    expect(messages(await checkStack(leastPrivilegeSecretAccess, [token, spark, both]))[0]).toContain(
      "both reads auth-token-secret, spark-api-key-secret but sets no service account",
    );
    const sa = accountNode("shared-sa", "shared");
    const owner = resourceView({
      type: T.projectIamMember,
      name: "owner",
      props: { project: "p", role: "roles/owner", member: "serviceAccount:shared@p.iam.gserviceaccount.com" },
    });
    const runs = ["a", "b"].map((name) => cloudRun(name, [], { serviceAccount: "shared@p.iam.gserviceaccount.com" }));
    expect(messages(await checkStack(leastPrivilegeSecretAccess, [sa, owner, ...runs]))[0]).toContain("(the account of a, b)");
    // An unknown reference on the default account that is not built from a secret of the stack names nothing.
    expect(await checkStack(leastPrivilegeSecretAccess, [token, cloudRun("idle", [secretEnv("A", UNKNOWN, UNKNOWN)])])).toEqual([]);
  });

  test("a template known as a whole only in apply still reads what it is built from; known references that name another secret do not", async () => {
    const token = secretNode("tok", "auth-token");
    const g1 = versionNode(token, "tok-g1", { version: "1" });
    const whole = (from: string) =>
      resourceView({
        type: T.cloudRunService,
        name: "whole",
        urn: U(T.cloudRunService, "whole"),
        props: { template: UNKNOWN },
        propertyDependencies: { template: [from] },
      });
    const verification = verificationResource({ generations: { authToken: 1 }, revoking: ["tok-g0"] }, [U(T.cloudRunService, "whole")]);
    const g0 = versionNode(token, "tok-g0", { version: "0", enabled: false }, [verification.urn]);
    expect(await checkStack(revocationRequiresVerification, [token, g1, g0, whole(g1.urn), verification])).toEqual([]);
    expect(messages(await checkStack(revocationRequiresVerification, [token, g1, g0, whole(g0.urn), verification]))[0]).toContain(
      "whole template pins tok-g0, the version being revoked (its reference is built from that version's outputs)",
    );
    const named = cloudRun("named", [secretEnv("A", "projects/p/secrets/other", "1")], { propertyDependencies: { template: [token.urn] } });
    const verificationOfNamed = verificationResource({ generations: { authToken: 1 }, revoking: ["tok-g0"] }, []);
    const g0Named = versionNode(token, "tok-g0", { version: "0", enabled: false }, [verificationOfNamed.urn]);
    // Its references are known and name another secret: it is no reader, so the verification need not wait for it.
    expect(await checkStack(revocationRequiresVerification, [token, g1, g0Named, named, verificationOfNamed])).toEqual([]);
  });

  test("dangling dependencies (to resources not in the stack) are ignored; a secret whose id is unknown names nothing yet", async () => {
    const stack = rotationStack({ revokedDeps: [U(T.verification, "verification"), "urn:pulumi:s::x::gone:index:Gone::gone"] });
    expect(await checkStack(revocationRequiresVerification, stack)).toEqual([]);
    const unnamed = resourceView({ type: T.secret, name: "unnamed", urn: U(T.secret, "unnamed"), props: { secretId: UNKNOWN } });
    const version = resourceView({ type: T.secretVersion, name: "v", props: { secret: "projects/p/secrets/x", enabled: false } });
    const reader = cloudRun("r", [secretEnv("A", "projects/p/secrets/x", "1")], {
      propertyDependencies: { template: ["urn:pulumi:s::x::gone:index:Gone::gone"] },
    });
    expect(messages(await checkStack(revocationRequiresVerification, [unnamed, version, reader]))[0]).toContain("v is disabled (revoked)");
  });

  test("entropy: an integer range, read the right way round; a value unknown in preview is not taken as cut", async () => {
    expect(entropyOf(T.randomInteger, { min: 10, max: 13 })).toEqual({ bits: 2, explanation: "an integer from 10 to 13" });
    expect(entropyOf(T.randomInteger, { min: 5, max: 1 })).toEqual({ bits: 0, explanation: "an integer from 5 to 1" });
    const token = secretNode("tok", "auth-token");
    const long = resourceView({
      type: T.randomPassword,
      name: "long",
      urn: U(T.randomPassword, "long"),
      props: { length: 48, special: false },
    });
    const version = resourceView({
      ...versionNode(token, "tok-g1", { version: "1", secretData: UNKNOWN }),
      propertyDependencies: { secret: [token.urn], secretData: [long.urn] },
    });
    expect(await checkStack(tokenEntropy, [token, long, version])).toEqual([]);
  });

  test("plain credentials: a value of exactly 8 characters counts; a property reported from the graph is not reported again by value", async () => {
    const token = secretNode("tok", "auth-token");
    const version = versionNode(token, "tok-g1", { version: "1", secretData: "8charsxx" });
    expect(
      messages(await checkStack(credentialsNotInPlainConfig, [token, version, cloudRun("svc", [plainEnv("X", "8charsxx")])])),
    ).toHaveLength(1);
    const random = resourceView({
      type: T.randomPassword,
      name: "r",
      urn: U(T.randomPassword, "r"),
      props: { length: 48, result: "generated-0123456789" },
    });
    const svc = cloudRun("svc", [plainEnv("X", "generated-0123456789")], { propertyDependencies: { template: [random.urn] } });
    expect(messages(await checkStack(credentialsNotInPlainConfig, [random, svc]))).toEqual([
      "mandatory: svc template is built from r's output: a generated credential in plain configuration, readable by anyone who can read " +
        "the workload. To fix: store it as a secret version and reference it with a secretKeyRef pinned to its version number.",
    ]);
  });
});

describe("the workload helpers, case by case", () => {
  describe("workload helpers", () => {
    test("readWorkload: literal only for a set value; names, refs and the account of each shape", () => {
      const workload = readWorkload(T.cloudRunService, {
        template: {
          serviceAccount: "sa@p",
          containers: [
            { envs: [{ name: "A", value: null }, { name: "B", value: "" }, { name: "C" }, { value: "x" }, secretEnv("D", "d", "2")] },
          ],
        },
      });
      expect(workload).toEqual({
        type: T.cloudRunService,
        envs: [
          { where: "container 0 env A", name: "A", literal: false, value: undefined, secretKeyRef: undefined },
          { where: "container 0 env B", name: "B", literal: true, value: "", secretKeyRef: undefined },
          { where: "container 0 env C", name: "C", literal: false, value: undefined, secretKeyRef: undefined },
          { where: "container 0 env (name unknown)", name: "", literal: true, value: "x", secretKeyRef: undefined },
          { where: "container 0 env D", name: "D", literal: false, value: undefined, secretKeyRef: { secret: "d", version: "2" } },
        ],
        volumes: [],
        serviceAccount: "sa@p",
        unknownParts: [],
        configProperties: ["template"],
      });
      expect(readWorkload(T.cloudRunV1Service, { template: { spec: { serviceAccountName: "v1@p" } } })?.serviceAccount).toBe("v1@p");
      expect(readWorkload(T.cloudRunJob, { template: { template: { serviceAccount: "job@p" } } })?.serviceAccount).toBe("job@p");
      expect(readWorkload(T.cloudRunService, { template: GRAPH_UNKNOWN })).toEqual({
        type: T.cloudRunService,
        envs: [],
        volumes: [],
        serviceAccount: GRAPH_UNKNOWN,
        unknownParts: ["template"],
        configProperties: ["template"],
      });
      expect(readWorkload(T.secret, {})).toBeUndefined();
    });

    test("secretRefsOf: env refs, the mnemonic's version path (known or not), volumes with and without items", () => {
      const workload = readWorkload(T.cloudRunService, {
        template: {
          containers: [
            {
              envs: [
                secretEnv("A", "a", "1"),
                plainEnv("OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION", "projects/p/secrets/m/versions/9"),
                plainEnv("OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION", GRAPH_UNKNOWN),
                plainEnv("OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION", "words"),
                plainEnv("OTHER", "projects/p/secrets/o/versions/1"),
              ],
            },
          ],
          volumes: [
            { name: "all", secret: { secret: "s1" } },
            { name: "some", secret: { secret: "s2", items: [{ version: "3" }, { version: "4" }] } },
            { name: "unknown", secret: { secret: "s3", items: GRAPH_UNKNOWN } },
          ],
        },
      });
      if (!workload) throw new Error("not a workload");
      expect(secretRefsOf(workload)).toEqual([
        { where: "container 0 env A", secret: "a", version: "1" },
        { where: "container 0 env OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION", secret: "projects/p/secrets/m", version: "9" },
        { where: "container 0 env OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION", secret: GRAPH_UNKNOWN, version: GRAPH_UNKNOWN },
        { where: "volume all", secret: "s1", version: undefined },
        { where: "volume some item 0", secret: "s2", version: "3" },
        { where: "volume some item 1", secret: "s2", version: "4" },
        { where: "volume unknown", secret: "s3", version: GRAPH_UNKNOWN },
      ]);
    });

    test("isExecutor: within an ExecutorService, or setting any executor-only variable", () => {
      const withEnv = (name: string) => {
        const workload = readWorkload(T.cloudRunService, { template: { containers: [{ envs: [plainEnv(name, "x")] }] } });
        if (!workload) throw new Error("not a workload");
        return workload;
      };
      const urn = "urn:pulumi:s::p::gcp:cloudrunv2/service:Service::svc";
      for (const name of [
        "OA_LIGHTNING_WALLET_EXECUTOR_MODE",
        "OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN_VERSION",
        "OA_LIGHTNING_SPARK_API_KEY",
        "OA_LIGHTNING_WALLET_MNEMONIC_PROVIDER",
        "OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION",
        "OA_LIGHTNING_WALLET_MNEMONIC",
        "OA_LIGHTNING_WALLET_ALLOWED_HOSTS",
      ]) {
        expect(isExecutor(urn, withEnv(name))).toBe(true);
      }
      expect(isExecutor(urn, withEnv("OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN"))).toBe(false);
      expect(isExecutor("urn:pulumi:s::p::wallet:service:ExecutorService$gcp:cloudrunv2/service:Service::svc", withEnv("X"))).toBe(true);
    });
  });
});

describe("the env var names the pack repeats (it ships alone and cannot import the program)", () => {
  test("the executor's names are the program's, under the same key", () => {
    const { mnemonic, ...set } = ENV;
    for (const [key, name] of Object.entries(set)) expect([key, name]).toEqual([key, EXECUTOR_ENV[key as keyof typeof EXECUTOR_ENV]]);
    // Never set by the program: where plain mnemonic words would sit, forbidden as a literal.
    expect(Object.values(EXECUTOR_ENV)).not.toContain(mnemonic);
  });

  test("the control's canonical names come first in the pack's lists", () => {
    expect(DEFAULT_CONTROL_TOKEN_ENV_NAMES[0]).toBe(CANONICAL_CONTROL_ENV_NAMES.authToken);
    expect(CONTROL_BASE_URL_ENV_NAMES[0]).toBe(CANONICAL_CONTROL_ENV_NAMES.baseUrl);
  });
});
