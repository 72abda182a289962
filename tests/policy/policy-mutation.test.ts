/**
 * The policy pack's edge cases that the scenario tests (tests/policy/pack.test.ts) pass through without
 * pinning down: boundaries, exact messages, unknown-value skips, config settings, and the shared
 * helpers of policy/graph.ts and policy/workloads.ts. Written against the surviving mutants of a
 * Stryker run on policy/: each test states the behaviour a mutant would change.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  UNKNOWN as GRAPH_UNKNOWN,
  at,
  camelCase,
  isRecord,
  isUnknownValueError,
  isWithin,
  list,
  nameGeneration,
  parseSecretName,
  plain,
  sameSecret,
  showSecret,
  text,
  urnTypes,
  PreviewGaps,
} from "../../policy/graph";
import {
  credentialsFromSecretManager,
  executorExposure,
  leastPrivilegeSecretAccess,
  revocationRequiresVerification,
  secretReferencesPinned,
  secretVersionsRecoverable,
  servicesShareTokenVersion,
  tokenEntropy,
} from "../../policy/policies";
import { controlTokenEnvNames } from "../../policy/secret-references";
import { entropyOf } from "../../policy/entropy";
import { isExecutor, readWorkload, secretRefsOf } from "../../policy/workloads";
import { AnalyzerResourceView, checkResource, checkStack, resourceView } from "../../harness/policy-harness";
import { UNKNOWN } from "../../harness/recording-monitor";
import {
  Env,
  RotationOptions,
  T,
  U,
  accountNode,
  cloudRun,
  messages,
  plainEnv,
  rotationStack,
  secretEnv,
  secretNode,
  skipNote,
  versionNode,
} from "../support/policy-builders";

afterAll(() => pulumi.runtime.disconnect());

const unprovable = (subject: string, reasons: string[]): string =>
  `mandatory: ${subject}, and it cannot be proven safe during preview: ${reasons.join("; ")}. A revocation that preview cannot check ` +
  "must not pass. To fix: build every reader's secret reference from the version resource's own output (secretKeyRef.version: " +
  "version.version), and the verification's generations and revoking list from plain config, so that the graph shows what each " +
  "reader pins and what is verified before the revocation.";

/** The advisory note the pack adds when a check met a value unknown during preview. */
const advisorySkip = (policy: string, checks: string[]): string => `advisory: ${skipNote(policy, checks)}`;

// ------------------------------------------------------------------------------------------------
// policy/graph.ts
// ------------------------------------------------------------------------------------------------

describe("graph helpers", () => {
  test("parseSecretName: a path (with or without a version) or a bare id, anchored at both ends", () => {
    expect(parseSecretName("projects/p/secrets/tok")).toEqual({ project: "p", secretId: "tok" });
    expect(parseSecretName("projects/p/secrets/tok/versions/7")).toEqual({ project: "p", secretId: "tok" });
    expect(parseSecretName("tok_2-a")).toEqual({ secretId: "tok_2-a" });
    expect(parseSecretName("x/projects/p/secrets/tok")).toBeUndefined();
    expect(parseSecretName("projects/p/secrets/tok/other")).toBeUndefined();
    expect(parseSecretName("projects/p/secrets/tok/versions/")).toBeUndefined();
    expect(parseSecretName("tok!")).toBeUndefined();
    expect(parseSecretName("!tok")).toBeUndefined();
    expect(parseSecretName("")).toBeUndefined();
  });

  test("sameSecret: same id, and the same project only when both name one", () => {
    expect(sameSecret({ secretId: "a" }, { secretId: "a", project: "p" })).toBe(true);
    expect(sameSecret({ secretId: "a", project: "p" }, { secretId: "a" })).toBe(true);
    expect(sameSecret({ secretId: "a", project: "p" }, { secretId: "a", project: "p" })).toBe(true);
    expect(sameSecret({ secretId: "a", project: "p" }, { secretId: "a", project: "q" })).toBe(false);
    expect(sameSecret({ secretId: "a" }, { secretId: "b" })).toBe(false);
    expect(sameSecret({ secretId: "a", project: "p" }, { secretId: "b", project: "p" })).toBe(false);
    expect(showSecret({ secretId: "a" })).toBe("a");
    expect(showSecret({ secretId: "a", project: "p" })).toBe("projects/p/secrets/a");
  });

  test("urnTypes and isWithin read the parent type chain", () => {
    expect(urnTypes("urn:pulumi:s::p::a:b:C$d:e:F$g:h:I::name")).toEqual({ type: "g:h:I", parentTypes: ["a:b:C", "d:e:F"] });
    expect(urnTypes("urn:pulumi:s::p::g:h:I::name")).toEqual({ type: "g:h:I", parentTypes: [] });
    expect(urnTypes("nonsense")).toEqual({ type: "", parentTypes: [] });
    expect(isWithin("urn:pulumi:s::p::a:b:C$g:h:I::name", "a:b:C")).toBe(true);
    expect(isWithin("urn:pulumi:s::p::a:b:C$g:h:I::name", "g:h:I")).toBe(false);
  });

  test("camelCase: any run of - or _ before a letter or digit, either case", () => {
    expect(camelCase("auth-token")).toBe("authToken");
    expect(camelCase("spark_api-key")).toBe("sparkApiKey");
    expect(camelCase("wallet--seed__2")).toBe("walletSeed2");
    expect(camelCase("auth-Token")).toBe("authToken");
    expect(camelCase("plain")).toBe("plain");
  });

  test("at, text, list and isRecord on plain data with unknowns", () => {
    const data = { a: { b: [10, { c: "x" }] }, u: GRAPH_UNKNOWN };
    expect(at(data, "a", "b", 1, "c")).toBe("x");
    expect(at(data, "a", "b", 0)).toBe(10);
    expect(at(data, "a", "b", "0")).toBeUndefined();
    expect(at(data, "a", 0)).toBeUndefined();
    expect(at(data, "u", "deeper", 3)).toBe(GRAPH_UNKNOWN);
    expect(at(data, "missing", "x")).toBeUndefined();
    expect(at(null, "x")).toBeUndefined();
    expect(text("s")).toBe("s");
    expect(text(GRAPH_UNKNOWN)).toBe(GRAPH_UNKNOWN);
    expect(text(3)).toBeUndefined();
    expect(text(null)).toBeUndefined();
    expect(list([1])).toEqual([1]);
    expect(list(GRAPH_UNKNOWN)).toBe(GRAPH_UNKNOWN);
    expect(list(undefined)).toEqual([]);
    expect(list("a")).toEqual([]);
    expect(isRecord({})).toBe(true);
    expect(isRecord([])).toBe(false);
    expect(isRecord(null)).toBe(false);
    expect(isRecord("x")).toBe(false);
  });

  test("plain copies values out, turning the engine's unknown marker into UNKNOWN", () => {
    const wire = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
    expect(plain({ a: [wire, 1, { b: wire }], c: null, d: "x" })).toEqual({ a: [GRAPH_UNKNOWN, 1, { b: GRAPH_UNKNOWN }], c: null, d: "x" });
    const unknownError = Object.assign(new Error("unknown"), { unknownTypeSentinel: wire, props: ["x"] });
    const throwing = Object.defineProperty({}, "x", {
      enumerable: true,
      get: () => {
        throw unknownError;
      },
    });
    expect(plain(throwing)).toEqual({ x: GRAPH_UNKNOWN });
    const failing = Object.defineProperty({}, "x", {
      enumerable: true,
      get: () => {
        throw new Error("real failure");
      },
    });
    expect(() => plain(failing)).toThrow("real failure");
    expect(isUnknownValueError(unknownError)).toBe(true);
    expect(isUnknownValueError(new Error("x"))).toBe(false);
    expect(isUnknownValueError(Object.assign(new Error("x"), { unknownTypeSentinel: wire }))).toBe(false);
    expect(isUnknownValueError(Object.assign(new Error("x"), { props: [] }))).toBe(false);
    expect(isUnknownValueError(Object.assign(new Error("x"), { unknownTypeSentinel: wire, props: "x" }))).toBe(false);
    expect(isUnknownValueError({ unknownTypeSentinel: wire, props: [] })).toBe(false);
  });

  test("PreviewGaps: nothing skipped finishes quietly; each check is listed once", () => {
    const gaps = new PreviewGaps();
    expect(gaps.count).toBe(0);
    expect(() => gaps.finish()).not.toThrow();
    gaps.skip("a");
    gaps.skip("a");
    expect(gaps.count).toBe(1);
    expect(() => gaps.finish()).toThrow(
      "1 check skipped because a value is unknown until apply (no violation assumed; the check runs again when the value is known): a",
    );
    gaps.skip("b");
    expect(() => gaps.finish()).toThrow(
      "2 checks skipped because a value is unknown until apply (no violation assumed; " +
        "the check runs again when the value is known): a; b",
    );
  });
});

describe("nameGeneration", () => {
  test("the -g<N> suffix, or -g<N>-revocation, anchored at the end; nothing else", () => {
    expect(nameGeneration("auth-token-g12")).toBe(12);
    expect(nameGeneration("auth-token-g3-revocation")).toBe(3);
    expect(nameGeneration("auth-token-g3x")).toBeUndefined();
    expect(nameGeneration("auth-token-g3-revocation-x")).toBeUndefined();
    expect(nameGeneration("auth-token-g")).toBeUndefined();
    expect(nameGeneration("auth-token")).toBeUndefined();
  });
});

// ------------------------------------------------------------------------------------------------
// Resource policies
// ------------------------------------------------------------------------------------------------

describe("secret-versions-recoverable, edges", () => {
  const check = (type: string, name: string, props: Record<string, unknown>, protect = true, policyConfig?: Record<string, unknown>) =>
    checkResource(secretVersionsRecoverable, resourceView({ type, name, props, protect }), {
      policyConfig: policyConfig ? { "secret-versions-recoverable": policyConfig } : undefined,
    });
  const ttl = (value: unknown, policyConfig?: Record<string, unknown>) =>
    check(T.secret, "seed", { secretId: "wallet-MNEMONIC", versionDestroyTtl: value }, true, policyConfig);

  test("deletionPolicy is compared case-insensitively, and a destroying one is quoted", async () => {
    expect(await check(T.secretVersion, "v", { deletionPolicy: "disable" })).toEqual([]);
    expect(await check(T.secretVersion, "v", { deletionPolicy: "Abandon" })).toEqual([]);
    expect(messages(await check(T.secretVersion, "v", { deletionPolicy: "DELETE" }))).toEqual([
      'mandatory: v has deletionPolicy "DELETE": removing this generation from the program would destroy it. Set deletionPolicy: "DISABLE".',
    ]);
    // Other resource types are not versions: no deletionPolicy needed.
    expect(await check(T.cloudRunService, "v", {})).toEqual([]);
    expect(await check(T.secretIamMember, "v", { secretId: "mnemonic" }, false)).toEqual([]);
  });

  test("the mnemonic's secret by id (any case); the TTL boundary is the exact number of seconds", async () => {
    expect(await ttl("2592000s")).toEqual([]);
    expect(await ttl("2592000.5s")).toEqual([]);
    expect(await ttl("2592000.123456789s")).toEqual([]);
    expect(messages(await ttl("2591999s"))).toEqual([
      "mandatory: seed holds the wallet mnemonic but keeps destroyed versions restorable for 30 days (versionDestroyTtl 2591999s), " +
        "less than 30: set versionDestroyTtl to at least 2592000s.",
    ]);
    expect(messages(await ttl("1296000s"))).toEqual([
      "mandatory: seed holds the wallet mnemonic but keeps destroyed versions restorable for 15 days (versionDestroyTtl 1296000s), " +
        "less than 30: set versionDestroyTtl to at least 2592000s.",
    ]);
    expect(messages(await ttl("100000s"))[0]).toContain("restorable for 1.16 days (versionDestroyTtl 100000s)");
  });

  test("a TTL that is not a duration in seconds is reported with the configured minimum", async () => {
    for (const bad of ["30d", "2592000", "s", "2592000.1234567891s", "x2592000s", "2592000sx"]) {
      expect(messages(await ttl(bad, { mnemonicMinDestroyTtlDays: 2 }))).toEqual([
        `mandatory: seed holds the wallet mnemonic but its versionDestroyTtl ${JSON.stringify(bad)} is not a duration in seconds. ` +
          "Set versionDestroyTtl to at least 172800s (2 days).",
      ]);
    }
    expect(await ttl("172800s", { mnemonicMinDestroyTtlDays: 2 })).toEqual([]);
  });

  test("unknown TTL, label or id are notes; a known non-mnemonic secret needs nothing", async () => {
    expect(messages(await ttl(UNKNOWN))).toEqual([advisorySkip("secret-versions-recoverable", ["seed: its versionDestroyTtl"])]);
    expect(messages(await check(T.secret, "s", { secretId: "token", labels: { credential: UNKNOWN } }))).toEqual([
      advisorySkip("secret-versions-recoverable", ["s: whether it holds the mnemonic"]),
    ]);
    expect(messages(await check(T.secret, "s", { secretId: UNKNOWN, labels: { credential: "auth-token" } }))).toEqual([
      advisorySkip("secret-versions-recoverable", ["s: whether it holds the mnemonic"]),
    ]);
    // A known label suffices even when the id is unknown.
    expect(
      messages(await check(T.secret, "s", { secretId: UNKNOWN, labels: { credential: "mnemonic" }, versionDestroyTtl: "2592000s" }, false)),
    ).toEqual([
      "mandatory: s holds the wallet mnemonic but is not protected: set the resource option protect: true, so no update or destroy can delete it.",
    ]);
    expect(await check(T.secret, "s", { secretId: "token", labels: { credential: "auth-token" } }, false)).toEqual([]);
  });
});

describe("token-entropy, edges", () => {
  const random = (type: string, name: string, props: Record<string, unknown>, policyConfig?: Record<string, unknown>) =>
    checkStack(tokenEntropy, [resourceView({ type, name, props })], {
      policyConfig: policyConfig ? { "token-entropy": policyConfig } : undefined,
    });

  test("entropyOf: character classes, the number alias, specials and their override", () => {
    expect(entropyOf(T.randomPassword, { length: 10 })).toEqual({
      bits: 10 * Math.log2(83),
      alphabet: 83,
      explanation: "10 characters from a 83-character alphabet",
    });
    expect(entropyOf(T.randomString, { length: 10, special: false })).toMatchObject({ alphabet: 62 });
    expect(entropyOf(T.randomString, { length: 10, special: false, upper: false })).toMatchObject({ alphabet: 36 });
    expect(entropyOf(T.randomString, { length: 10, special: false, lower: false })).toMatchObject({ alphabet: 36 });
    expect(entropyOf(T.randomString, { length: 10, special: false, numeric: false })).toMatchObject({ alphabet: 52 });
    expect(entropyOf(T.randomString, { length: 10, special: false, number: false })).toMatchObject({ alphabet: 52 });
    expect(entropyOf(T.randomString, { length: 10, overrideSpecial: "!!--" })).toMatchObject({ alphabet: 64 });
    expect(entropyOf(T.randomString, { length: 10, overrideSpecial: "" })).toMatchObject({ alphabet: 62 });
    expect(entropyOf(T.randomString, { length: 10, upper: false, lower: false, numeric: false, overrideSpecial: "!" })).toEqual({
      bits: 0,
      alphabet: 1,
      explanation: "10 characters from a 1-character alphabet",
    });
    expect(entropyOf(T.randomString, { length: 10, upper: false, lower: false, numeric: false, overrideSpecial: "!-" })).toMatchObject({
      bits: 10,
    });
    expect(entropyOf(T.randomString, {})).toBeUndefined();
    expect(entropyOf(T.randomString, { length: "43" })).toBeUndefined();
    for (const key of ["length", "upper", "lower", "numeric", "number", "special", "overrideSpecial"]) {
      expect(entropyOf(T.randomString, { length: 43, [key]: GRAPH_UNKNOWN })).toBe("unknown");
    }
  });

  test("entropyOf: bytes, ids, UUIDs, and types that are not random sources", () => {
    expect(entropyOf(T.randomBytes, { length: 3 })).toEqual({ bits: 24, explanation: "3 random bytes" });
    expect(entropyOf(T.randomBytes, { length: GRAPH_UNKNOWN })).toBe("unknown");
    expect(entropyOf(T.randomBytes, {})).toBeUndefined();
    expect(entropyOf(T.randomId, { byteLength: 5 })).toEqual({ bits: 40, explanation: "5 random bytes" });
    expect(entropyOf(T.randomId, { byteLength: GRAPH_UNKNOWN })).toBe("unknown");
    expect(entropyOf(T.randomId, { length: 5 })).toBeUndefined();
    expect(entropyOf(T.randomUuid4, {})).toEqual({ bits: 122, explanation: "a version 4 UUID (122 random bits)" });
    expect(entropyOf(T.randomUuid7, {})).toEqual({ bits: 74, explanation: "a version 7 UUID (74 random bits)" });
    expect(entropyOf(T.secret, { length: 3 })).toBeUndefined();
  });

  test("exact messages: no length, a one-character alphabet, a UUIDv7, and a raised minimum", async () => {
    expect(messages(await random(T.randomString, "api-token", {}))).toEqual([
      "mandatory: api-token has no length: its entropy cannot be established; set length explicitly.",
    ]);
    expect(messages(await random(T.randomBytes, "api-token", {}))).toEqual([
      "mandatory: api-token has no length: its entropy cannot be established; set length explicitly.",
    ]);
    expect(
      messages(await random(T.randomString, "api-token", { length: 64, upper: false, lower: false, numeric: false, overrideSpecial: "!" })),
    ).toEqual([
      "mandatory: api-token yields 0.0 bits of entropy (64 characters from a 1-character alphabet); a credential needs at least 256 bits " +
        "(32 bytes): use at least 32 random bytes.",
    ]);
    expect(messages(await random(T.randomUuid7, "api-token", {}))).toEqual([
      "mandatory: api-token yields 74.0 bits of entropy (a version 7 UUID (74 random bits)); a credential needs at least 256 bits " +
        "(32 bytes): use at least 32 random bytes.",
    ]);
    expect(messages(await random(T.randomBytes, "api-token", { length: 32 }, { minEntropyBits: 300 }))).toEqual([
      "mandatory: api-token yields 256.0 bits of entropy (32 random bytes); a credential needs at least 300 bits (37.5 bytes): " +
        "use at least 38 random bytes.",
    ]);
    expect(await random(T.randomBytes, "api-token", { length: 38 }, { minEntropyBits: 300 })).toEqual([]);
    expect(await random(T.randomBytes, "api-token", { length: 32 }, { minEntropyBits: 256 })).toEqual([]);
  });

  test("scope: the default pattern is case-insensitive and unanchored; a custom pattern replaces it", async () => {
    expect(messages(await random(T.randomBytes, "API-TOKEN-g2", { length: 8 }))).toHaveLength(1);
    expect(await random(T.randomBytes, "api-token", { length: 8 }, { tokenSourcePattern: "^bearer" })).toEqual([]);
    expect(messages(await random(T.randomBytes, "Bearer-1", { length: 8 }, { tokenSourcePattern: "^bearer" }))).toHaveLength(1);
    // A token-named resource of another type is not a random source.
    expect(await checkStack(tokenEntropy, [resourceView({ type: T.secret, name: "token", props: { length: 1 } })])).toEqual([]);
  });
});

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

// ------------------------------------------------------------------------------------------------
// Stack policies
// ------------------------------------------------------------------------------------------------

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

/** Two services reading the token secret, with their accounts; the executor also reads the Spark key. */
function accessStack(): AnalyzerResourceView[] {
  const token = secretNode("tok", "auth-token");
  const spark = secretNode("spark", "spark-api-key");
  const executor = cloudRun(
    "executor-service",
    [
      plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_MODE", "spark"),
      secretEnv("OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN", "projects/p/secrets/tok", "1"),
    ],
    { serviceAccount: "exec@p.iam.gserviceaccount.com" },
  );
  const control = cloudRun("control-service", [secretEnv("OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN", "tok", "1")], {
    serviceAccount: "ctl@p.iam.gserviceaccount.com",
  });
  return [token, spark, executor, control, accountNode("executor-sa", "exec"), accountNode("control-sa", "ctl", { email: undefined })];
}

describe("least-privilege-secret-access, edges", () => {
  const base = accessStack();
  const run = (...extra: AnalyzerResourceView[]) => checkStack(leastPrivilegeSecretAccess, [...base, ...extra]);
  const secretGrant = (type: string, name: string, props: Record<string, unknown>, propertyDependencies?: Record<string, string[]>) =>
    resourceView({ type, name, props: { secretId: "projects/p/secrets/tok", ...props }, propertyDependencies });
  const ACCESSOR = "roles/secretmanager.secretAccessor";

  test("bindings and policies on one secret: admin counts as reading; other roles are ignored", async () => {
    const binding = secretGrant(T.secretIamBinding, "binding", {
      role: "roles/secretmanager.admin",
      members: ["serviceAccount:exec@p.iam.gserviceaccount.com", "group:ops@example.com"],
    });
    const policy = secretGrant(T.secretIamPolicy, "policy", {
      secretId: "projects/p/secrets/spark",
      policyData: JSON.stringify({
        bindings: [
          { role: ACCESSOR, members: ["serviceAccount:ctl@p.iam.gserviceaccount.com"] },
          { role: "roles/secretmanager.viewer", members: ["user:v@example.com"] },
          "not a binding",
        ],
      }),
    });
    const viewer = secretGrant(T.secretIamMember, "viewer", { role: "roles/secretmanager.viewer", member: "user:v@example.com" });
    const noRole = secretGrant(T.secretIamMember, "no-role", { member: "user:v@example.com" });
    const badJson = secretGrant(T.secretIamPolicy, "bad-json", { policyData: "{" });
    expect(messages(await run(binding, policy, viewer, noRole, badJson))).toEqual([
      "mandatory: binding grants roles/secretmanager.admin on projects/p/secrets/tok to group:ops@example.com, which is not the service account " +
        "of a service that reads it: grant secret access only to the reading service's own account.",
      // The control's account is found by accountId@project when the account's email output is not set.
      `mandatory: policy grants ${ACCESSOR} on projects/p/secrets/spark to serviceAccount:ctl@p.iam.gserviceaccount.com, the account of ` +
        "control-service, which does not read that secret: remove the grant.",
    ]);
  });

  test("after an apply: a version name with the project NUMBER is the same secret as a grant naming the project id", async () => {
    // Secret Manager answers with projects/<number>/...; the program's inputs say projects/<id>/...
    const mnemonic = secretNode("mnem", "mnemonic", { name: "projects/123456789012/secrets/mnem" });
    const other = secretNode("other", "spark-api-key", { project: "q", name: "projects/999/secrets/other" });
    const reader = cloudRun(
      "executor-service",
      [
        plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_MODE", "spark"),
        plainEnv("OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION", "projects/123456789012/secrets/mnem/versions/1"),
      ],
      { serviceAccount: "exec@p.iam.gserviceaccount.com" },
    );
    const grant = (name: string, secretId: string, deps?: Record<string, string[]>) =>
      resourceView({
        type: T.secretIamMember,
        name,
        props: { secretId, role: ACCESSOR, member: "serviceAccount:exec@p.iam.gserviceaccount.com" },
        propertyDependencies: deps,
      });
    const stack = [mnemonic, other, reader, accountNode("executor-sa", "exec")];
    // By dependency on the secret resource, and by name alone: both are the secret the executor reads.
    expect(
      await checkStack(leastPrivilegeSecretAccess, [...stack, grant("by-dep", "projects/p/secrets/mnem", { secretId: [mnemonic.urn] })]),
    ).toEqual([]);
    expect(await checkStack(leastPrivilegeSecretAccess, [...stack, grant("by-name", "projects/p/secrets/mnem")])).toEqual([]);
    // Another project's number is another project: still refused.
    const elsewhere = cloudRun(
      "executor-service",
      [
        plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_MODE", "spark"),
        plainEnv("OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION", "projects/999/secrets/mnem/versions/1"),
      ],
      { serviceAccount: "exec@p.iam.gserviceaccount.com" },
    );
    expect(
      messages(
        await checkStack(leastPrivilegeSecretAccess, [
          mnemonic,
          other,
          elsewhere,
          accountNode("executor-sa", "exec"),
          grant("g", "projects/p/secrets/mnem"),
        ]),
      ),
    ).toHaveLength(1);
  });

  test("sameSecret with project aliases: an id and its number are one project, another number is not", () => {
    const aliases = (project: string): string[] => (project === "p" ? ["123"] : project === "123" ? ["p"] : []);
    expect(sameSecret({ secretId: "a", project: "123" }, { secretId: "a", project: "p" }, aliases)).toBe(true);
    expect(sameSecret({ secretId: "a", project: "p" }, { secretId: "a", project: "123" }, aliases)).toBe(true);
    expect(sameSecret({ secretId: "a", project: "456" }, { secretId: "a", project: "p" }, aliases)).toBe(false);
    expect(sameSecret({ secretId: "b", project: "123" }, { secretId: "a", project: "p" }, aliases)).toBe(false);
    expect(sameSecret({ secretId: "a", project: "123" }, { secretId: "a", project: "p" })).toBe(false);
  });

  test("the secret named by a bare id, or by dependency on the secret resource; a secret id that names nothing", async () => {
    const bare = secretGrant(T.secretIamMember, "bare", {
      secretId: "spark",
      role: ACCESSOR,
      member: "serviceAccount:ctl@p.iam.gserviceaccount.com",
    });
    const byDependency = secretGrant(
      T.secretIamMember,
      "by-dependency",
      { secretId: UNKNOWN, role: ACCESSOR, member: "serviceAccount:exec@p.iam.gserviceaccount.com" },
      { secretId: [U(T.secret, "spark-api-key-secret")] },
    );
    const unnamed = secretGrant(T.secretIamMember, "unnamed", {
      secretId: "projects/p/secrets/a/b",
      role: ACCESSOR,
      member: "serviceAccount:exec@p.iam.gserviceaccount.com",
    });
    expect(messages(await run(bare, byDependency, unnamed))).toEqual([
      `mandatory: bare grants ${ACCESSOR} on spark to serviceAccount:ctl@p.iam.gserviceaccount.com, the account of control-service, which does ` +
        "not read that secret: remove the grant.",
      `mandatory: by-dependency grants ${ACCESSOR} on projects/p/secrets/spark to serviceAccount:exec@p.iam.gserviceaccount.com, the account ` +
        "of executor-service, which does not read that secret: remove the grant.",
      `mandatory: unnamed grants ${ACCESSOR} on its secret to serviceAccount:exec@p.iam.gserviceaccount.com, the account of executor-service, ` +
        "which does not read that secret: remove the grant.",
    ]);
    const ok = secretGrant(T.secretIamMember, "ok", {
      secretId: "tok",
      role: ACCESSOR,
      member: "serviceAccount:ctl@p.iam.gserviceaccount.com",
    });
    expect(await run(ok)).toEqual([]);
  });

  test("preview: unknown policy data, role, members or member are notes; so is an account some service may run as", async () => {
    const found = await run(
      secretGrant(T.secretIamPolicy, "g1", { policyData: UNKNOWN }),
      secretGrant(T.secretIamMember, "g2", { role: UNKNOWN, member: "user:x@example.com" }),
      secretGrant(T.secretIamBinding, "g3", { role: ACCESSOR, members: UNKNOWN }),
      secretGrant(T.secretIamMember, "g4", { role: ACCESSOR, member: UNKNOWN }),
    );
    expect(messages(found)).toEqual([
      advisorySkip("least-privilege-secret-access", [
        "g1: its policy data",
        "g2: its role",
        "g3: its members",
        `g4: who it grants ${ACCESSOR} to`,
      ]),
    ]);
    const unknownAccount = cloudRun("worker", [], { serviceAccount: UNKNOWN });
    const stranger = secretGrant(T.secretIamMember, "stranger", { role: ACCESSOR, member: "serviceAccount:ci@p.iam.gserviceaccount.com" });
    expect(messages(await checkStack(leastPrivilegeSecretAccess, [...base, unknownAccount, stranger]))).toEqual([
      advisorySkip("least-privilege-secret-access", ["stranger: which service runs as serviceAccount:ci@p.iam.gserviceaccount.com"]),
    ]);
    // A service on Cloud Run's default account runs as no account of ours.
    const defaultAccount = cloudRun("worker", []);
    expect(messages(await checkStack(leastPrivilegeSecretAccess, [...base, defaultAccount, stranger]))).toHaveLength(1);
  });

  test("folder and organization grants; secret access on a scope whatever the member; unknown scope and members", async () => {
    const folder = resourceView({
      type: T.folderIamMember,
      name: "folder-owner",
      props: { folder: "folders/1", role: "roles/owner", member: "serviceAccount:exec@p.iam.gserviceaccount.com" },
    });
    const org = resourceView({
      type: T.organizationIamMember,
      name: "org-access",
      props: { orgId: "42", role: "roles/secretmanager.admin", member: UNKNOWN },
    });
    const unknownScope = resourceView({
      type: T.projectIamBinding,
      name: "project-access",
      props: { project: UNKNOWN, role: ACCESSOR, members: UNKNOWN },
    });
    const personEditor = resourceView({
      type: T.projectIamMember,
      name: "person-editor",
      props: { project: "p", role: "roles/editor", member: "user:x@example.com" },
    });
    const otherRole = resourceView({
      type: T.projectIamMember,
      name: "viewer",
      props: { project: "p", role: "roles/viewer", member: "serviceAccount:exec@p.iam.gserviceaccount.com" },
    });
    expect(messages(await run(folder, org, unknownScope, personEditor, otherRole))).toEqual([
      "mandatory: folder-owner grants roles/owner on the whole folder folders/1 to serviceAccount:exec@p.iam.gserviceaccount.com (the account " +
        "of executor-service): a compromised service could read and change everything. Remove it; grant only per-secret access.",
      "mandatory: org-access grants roles/secretmanager.admin on the whole organization 42 to an account unknown until apply: every secret of " +
        "the organization becomes readable. Grant roles/secretmanager.secretAccessor per secret (SecretIamMember) instead.",
      `mandatory: project-access grants ${ACCESSOR} on the whole project (from the provider): grant secret access per secret instead.`,
    ]);
  });

  test("preview on a scope: unknown role, members of a basic role, and an unknown member of a basic role are notes", async () => {
    const found = await run(
      resourceView({ type: T.projectIamMember, name: "s1", props: { project: "p", role: UNKNOWN, member: "user:x@example.com" } }),
      resourceView({ type: T.projectIamBinding, name: "s2", props: { project: "p", role: "roles/owner", members: UNKNOWN } }),
      resourceView({ type: T.projectIamMember, name: "s3", props: { project: "p", role: "roles/editor", member: UNKNOWN } }),
      resourceView({ type: "gcp:projects/iAMPolicy:IAMPolicy", name: "s4", props: { project: "p", policyData: UNKNOWN } }),
    );
    expect(messages(found)).toEqual([
      advisorySkip("least-privilege-secret-access", [
        "s1: its role",
        "s2: its members",
        "s3: who it grants roles/editor to",
        "s4: its policy data",
      ]),
    ]);
  });
});

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

describe("revocation-requires-verification, edges", () => {
  const check = (stack: AnalyzerResourceView[]) => checkStack(revocationRequiresVerification, stack);

  test("no verification upstream: the exact message, naming the one verification as the missing gate", async () => {
    const found = await check(rotationStack({ revokedDeps: [] }));
    expect(messages(found)).toEqual([
      "mandatory: auth-token-g3 is disabled (revoked) while auth-token-g4 (generation 4) is current, but it depends on no verification: the old " +
        "auth-token could be revoked before the new generation is verified on the services. Missing edge: auth-token-g3 -> verification " +
        "(dependsOn, e.g. RotatingSecret's revocationGate).",
    ]);
    expect(found[0].urn).toBe(U(T.secretVersion, "auth-token-g3"));
    const second = resourceView({ type: T.verification, name: "other-verification", props: { generations: {} } });
    expect(messages(await check([...rotationStack({ revokedDeps: [] }), second]))[0]).toContain(
      "Missing edge: auth-token-g3 -> the verification (dependsOn",
    );
  });

  test("the gate reached transitively passes; a gate with no generation for the credential, or an unknown one", async () => {
    const stack = rotationStack();
    const hop = resourceView({ type: "test:index:Hop", name: "hop", dependencies: [U(T.verification, "verification")], props: {} });
    const g3 = stack.find((r) => r.name === "auth-token-g3") as AnalyzerResourceView;
    expect(await check([...replace(stack, "auth-token-g3", { ...g3, dependencies: [hop.urn] }), hop])).toEqual([]);
    expect(messages(await check(rotationStack({ generations: { sparkApiKey: 4 } })))).toEqual([
      "mandatory: auth-token-g3 is disabled (revoked) after verification (which verifies no authToken generation), not after a verification of " +
        "auth-token-g4 (generation 4): nothing verifies the current auth-token before the revocation. Missing edge: auth-token-g3 -> a " +
        "verification with generations.authToken = 4.",
    ]);
    // What preview cannot tell about the gate: the revocation cannot be proven safe, and must not pass.
    expect(messages(await check(rotationStack({ generations: { authToken: UNKNOWN } })))).toEqual([
      unprovable("auth-token-g3 is disabled (revoked)", ["verification: the generation of auth-token it verifies"]),
    ]);
    expect(messages(await check(rotationStack({ revoking: UNKNOWN })))).toEqual([
      unprovable("auth-token-g3 is disabled (revoked)", ["verification: its revoking list"]),
    ]);
  });

  test("versions it cannot place or date during preview are revocations all the same; an enabled or foreign version is none", async () => {
    const token = secretNode("tok", "auth-token");
    const foreign = resourceView({
      type: T.secretVersion,
      name: "x-g1",
      props: { secret: "projects/p/secrets/elsewhere", enabled: false },
    });
    const unplaced = resourceView({ type: T.secretVersion, name: "y-g1", props: { secret: UNKNOWN, enabled: false } });
    const undated = versionNode(token, "auth-token-old", { version: UNKNOWN, enabled: false });
    const enabledUnknown = versionNode(token, "auth-token-g9", { version: "19", enabled: UNKNOWN });
    expect(messages(await check([token, foreign, unplaced, undated, enabledUnknown]))).toEqual([
      "mandatory: auth-token-old is disabled (revoked) while auth-token-g9 (generation 9) is current, but it depends on no verification: " +
        "the old auth-token could be revoked before the new generation is verified on the services. Missing edge: auth-token-old -> the " +
        "verification (dependsOn, e.g. RotatingSecret's revocationGate).",
      "mandatory: y-g1 is disabled (revoked) while a newer generation is current, but it depends on no verification: the old y could be " +
        "revoked before the new generation is verified on the services. Missing edge: y-g1 -> the verification (dependsOn, e.g. " +
        "RotatingSecret's revocationGate).",
    ]);
    // Gated, the version whose secret preview cannot tell still cannot be proven safe: any workload may read it.
    const reader = cloudRun("svc", [secretEnv("A", UNKNOWN, UNKNOWN)]);
    const verification = resourceView({
      type: T.verification,
      name: "verification",
      urn: U(T.verification, "verification"),
      props: { generations: { y: 2 }, revoking: ["y-g1"] },
      dependencies: [reader.urn],
    });
    const gated = resourceView({ ...unplaced, dependencies: [verification.urn] });
    expect(messages(await check([reader, verification, gated]))).toEqual([
      unprovable("y-g1 is disabled (revoked)", ["y-g1: which secret it belongs to", "svc: whether it reads y"]),
    ]);
  });

  test("an unknown `enabled` on a newer version nobody pins revokes nothing in use; on the pinned one it must be gated", async () => {
    const stack = rotationStack();
    const g5 = versionNode(stack[0], "auth-token-g5", { version: "15", enabled: UNKNOWN });
    expect(await check([...stack, g5])).toEqual([]);
    const g4 = stack.find((r) => r.name === "auth-token-g4") as AnalyzerResourceView;
    const maybe = replace(stack, "auth-token-g4", resourceView({ ...g4, props: { ...g4.props, enabled: UNKNOWN } }));
    expect(messages(await check(maybe))).toEqual([
      ...["control-service", "executor-service"].map(
        (service) =>
          `mandatory: ${service} container 0 env OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN pins auth-token-g4, the version that may be ` +
          `revoked, and no other version of auth-token is current: revoking auth-token-g4 would cut ${service} off. To fix: stage a ` +
          `new version, roll ${service} to it and verify before revoking.`,
      ),
      "mandatory: auth-token-g4 may be disabled (its `enabled` is unknown until apply) while a newer generation is current, but it " +
        "depends on no verification: the old auth-token could be revoked before the new generation is verified on the services. Missing " +
        "edge: auth-token-g4 -> verification (dependsOn, e.g. RotatingSecret's revocationGate).",
    ]);
  });

  test("a revoking list may name the version resource; a stale pin on an older or unmanaged version is named", async () => {
    expect(await check(rotationStack({ revoking: ["auth-token-g3"] }))).toEqual([]);
    expect(messages(await check(rotationStack({ controlTokenVersion: "13" })))).toEqual([
      "mandatory: control-service container 0 env OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN pins auth-token-g3, the version being revoked, not the current " +
        "auth-token-g4 (generation 4): revoking auth-token-g3 would cut off a service that has not rolled to the new generation. Missing pin: " +
        "control-service -> auth-token-g4.",
    ]);
    const stack = rotationStack({ controlTokenVersion: "12" });
    const g2 = versionNode(stack[0], "auth-token-g2", { version: "12" });
    // The newest version a reader pins is current; a reader on an older one is stale.
    expect(messages(await check([...stack, g2]))).toEqual([
      "mandatory: control-service container 0 env OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN pins auth-token-g2 (generation 2), not the current " +
        "auth-token-g4 (generation 4): revoking auth-token-g3 would cut off a service that has not rolled to the new generation. Missing pin: " +
        "control-service -> auth-token-g4.",
    ]);
    expect(messages(await check(rotationStack({ controlTokenVersion: "99" })))[0]).toContain(
      'env OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN pins "99", not',
    );
  });

  test("a credential without a label is named after its version; a published revocation is one whatever its secret or name", async () => {
    const token = resourceView({ type: T.secret, name: "s", urn: U(T.secret, "s"), props: { secretId: "tok", project: "p" } });
    const g2 = versionNode(token, "api-key-g2", { version: "2" });
    const g1 = versionNode(token, "api-key-g1", { version: "1", enabled: false });
    expect(messages(await check([token, g2, g1]))[0]).toContain(
      "the old api-key could be revoked before the new generation is verified on the services. Missing edge: api-key-g1 -> the verification",
    );
    const published = resourceView({
      type: T.publishedRevocation,
      name: "api-key-g1-revocation",
      props: { versionName: "projects/p/secrets/unknown-secret/versions/1" },
    });
    const undated = resourceView({
      type: T.publishedRevocation,
      name: "api-key-revocation",
      props: { versionName: "projects/p/secrets/tok/versions/1" },
    });
    expect(messages(await check([token, published, undated]))).toEqual([
      "mandatory: api-key-g1-revocation revokes the published api-key-g1 (version 1) while a newer generation is current, but it depends " +
        "on no verification: the old api-key could be revoked before the new generation is verified on the services. Missing edge: " +
        "api-key-g1-revocation -> the verification (dependsOn, e.g. RotatingSecret's revocationGate).",
      "mandatory: api-key-revocation revokes the published api-key (version 1) while a newer generation is current, but it depends on " +
        "no verification: the old projects/p/secrets/tok could be revoked before the new generation is verified on the services. Missing " +
        "edge: api-key-revocation -> the verification (dependsOn, e.g. RotatingSecret's revocationGate).",
    ]);
    // A published revocation whose version preview cannot tell, gated: it cannot be proven safe.
    const verification = resourceView({
      type: T.verification,
      name: "verification",
      urn: U(T.verification, "verification"),
      props: { generations: {}, revoking: ["x"] },
    });
    const unknownVersion = resourceView({
      type: T.publishedRevocation,
      name: "x-revocation",
      props: { versionName: UNKNOWN },
      dependencies: [verification.urn],
    });
    expect(messages(await check([verification, unknownVersion]))).toEqual([
      unprovable("x-revocation revokes the published x", ["x-revocation: which version it revokes"]),
    ]);
  });

  test("a published revocation with nothing verifying the newer generation", async () => {
    const token = resourceView({ type: T.secret, name: "s", urn: U(T.secret, "s"), props: { secretId: "tok", project: "p" } });
    const published = resourceView({
      type: T.publishedRevocation,
      name: "api-key-g1-revocation",
      props: { versionName: "projects/p/secrets/tok/versions/7" },
    });
    expect(messages(await check([token, published]))).toEqual([
      "mandatory: api-key-g1-revocation revokes the published api-key-g1 (version 7) while a newer generation is current, but it depends on no " +
        "verification: the old api-key could be revoked before the new generation is verified on the services. Missing edge: " +
        "api-key-g1-revocation -> the verification (dependsOn, e.g. RotatingSecret's revocationGate).",
    ]);
  });
});

describe("the stack graph, through the stack policies", () => {
  test("a dependency cycle that never reaches a verification ends, and is reported as no verification", async () => {
    const stack = rotationStack();
    const a = resourceView({ type: "test:index:Hop", name: "a", dependencies: [U("test:index:Hop", "b")], props: {} });
    const b = resourceView({ type: "test:index:Hop", name: "b", dependencies: [a.urn], props: {} });
    const g3 = stack.find((r) => r.name === "auth-token-g3") as AnalyzerResourceView;
    const found = await checkStack(revocationRequiresVerification, [
      ...replace(stack, "auth-token-g3", { ...g3, dependencies: [a.urn] }),
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
    const both = replace(
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
      checkResource(secretVersionsRecoverable, svc, { policyConfig: { "secret-versions-recoverable": { mnemonicMinDestroyTtlDays: 0 } } }),
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
      await expect(checkResource(target, svc, { policyConfig: { [policy]: { controlTokenEnvNames: ["OK_1", "1BAD"] } } })).rejects.toThrow(
        `${policy}.controlTokenEnvNames[1]: "1BAD" does not match ^[A-Za-z_][A-Za-z0-9_]*$`,
      );
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

describe("least-privilege-secret-access, survivors", () => {
  const ACCESSOR = "roles/secretmanager.secretAccessor";
  const base = accessStack();
  const run = (...extra: AnalyzerResourceView[]) => checkStack(leastPrivilegeSecretAccess, [...base, ...extra]);
  const secretGrant = (type: string, name: string, props: Record<string, unknown>, propertyDependencies?: Record<string, string[]>) =>
    resourceView({ type, name, props: { secretId: "projects/p/secrets/tok", ...props }, propertyDependencies });
  const noService = (grant: string, secret: string, member: string): string =>
    `mandatory: ${grant} grants ${ACCESSOR} on ${secret} to ${member}, which runs no Cloud Run service of this stack: remove the grant, ` +
    "or grant it to the account of the service that reads the secret.";
  const notRead = (grant: string, secret: string, member: string, readers: string): string =>
    `mandatory: ${grant} grants ${ACCESSOR} on ${secret} to ${member}, the account of ${readers}, which does not read that secret: ` +
    "remove the grant.";

  test("an account's email: its email output first, else accountId@project, else the resource's name", async () => {
    const both = accountNode("both-sa", "both", { email: undefined });
    const noProject = accountNode("no-project-sa", "np", { email: undefined, project: undefined });
    const noId = accountNode("no-id-sa", "ignored", { email: undefined, accountId: undefined });
    const custom = accountNode("custom-sa", "cid", { email: "custom@q.iam.gserviceaccount.com" });
    const grants = [both, noProject, noId, custom].map((account) =>
      secretGrant(T.secretIamMember, `${account.name}-grant`, { role: ACCESSOR, member: UNKNOWN }, { member: [account.urn] }),
    );
    expect(messages(await run(both, noProject, noId, custom, ...grants))).toEqual([
      noService("both-sa-grant", "projects/p/secrets/tok", "serviceAccount:both@p.iam.gserviceaccount.com"),
      noService("custom-sa-grant", "projects/p/secrets/tok", "serviceAccount:custom@q.iam.gserviceaccount.com"),
      noService("no-id-sa-grant", "projects/p/secrets/tok", "serviceAccount:no-id-sa"),
      noService("no-project-sa-grant", "projects/p/secrets/tok", "serviceAccount:no-project-sa"),
    ]);
  });

  test("the same account resource matches whatever its email; an account found by its email output, not accountId@project", async () => {
    // The account has no email at all: the worker (through its template) and the grant (through its member) share the resource.
    const nameless = accountNode("nameless-sa", "nl", { email: undefined, project: undefined });
    const worker = cloudRun("worker", [], { serviceAccount: UNKNOWN, propertyDependencies: { template: [nameless.urn] } });
    const byNode = secretGrant(T.secretIamMember, "by-node", { role: ACCESSOR, member: UNKNOWN }, { member: [nameless.urn] });
    // The account's email output differs from accountId@project: a member naming that email is the account.
    const custom = accountNode("custom-sa", "cid", { email: "custom@q.iam.gserviceaccount.com" });
    const runner = cloudRun("runner", [], { serviceAccount: UNKNOWN, propertyDependencies: { template: [custom.urn] } });
    const byEmail = secretGrant(T.secretIamMember, "by-email", {
      role: ACCESSOR,
      member: "serviceAccount:custom@q.iam.gserviceaccount.com",
    });
    // The control's account (no email output) is found by accountId@project: the worker built from it runs as ctl.
    const ctlWorker = cloudRun("ctl-worker", [], {
      serviceAccount: UNKNOWN,
      propertyDependencies: { template: [U(T.account, "control-sa")] },
    });
    const ctl = secretGrant(T.secretIamMember, "ctl", {
      secretId: "projects/p/secrets/spark",
      role: ACCESSOR,
      member: "serviceAccount:ctl@p.iam.gserviceaccount.com",
    });
    expect(messages(await run(nameless, worker, byNode, custom, runner, byEmail, ctlWorker, ctl))).toEqual([
      notRead("by-email", "projects/p/secrets/tok", "serviceAccount:custom@q.iam.gserviceaccount.com", "runner"),
      notRead("by-node", "projects/p/secrets/tok", "serviceAccount:nameless-sa", "worker"),
      notRead("ctl", "projects/p/secrets/spark", "serviceAccount:ctl@p.iam.gserviceaccount.com", "control-service, ctl-worker"),
    ]);
  });

  test("accounts with no resource match by equal email only; a service on the default account runs as none", async () => {
    const ghost = cloudRun("ghost-service", [], { serviceAccount: "ghost@p.iam.gserviceaccount.com" });
    // Built from the executor's account, but with no serviceAccount set: Cloud Run's default account, not exec.
    const defaulted = cloudRun("default-service", [], { propertyDependencies: { template: [U(T.account, "executor-sa")] } });
    const toGhost = secretGrant(T.secretIamMember, "to-ghost", {
      role: ACCESSOR,
      member: "serviceAccount:ghost@p.iam.gserviceaccount.com",
    });
    const toCi = secretGrant(T.secretIamMember, "to-ci", { role: ACCESSOR, member: "serviceAccount:ci@p.iam.gserviceaccount.com" });
    const toExec = secretGrant(T.secretIamMember, "to-exec", {
      secretId: "projects/p/secrets/spark",
      role: ACCESSOR,
      member: "serviceAccount:exec@p.iam.gserviceaccount.com",
    });
    expect(messages(await run(ghost, defaulted, toGhost, toCi, toExec))).toEqual([
      noService("to-ci", "projects/p/secrets/tok", "serviceAccount:ci@p.iam.gserviceaccount.com"),
      notRead("to-exec", "projects/p/secrets/spark", "serviceAccount:exec@p.iam.gserviceaccount.com", "executor-service"),
      notRead("to-ghost", "projects/p/secrets/tok", "serviceAccount:ghost@p.iam.gserviceaccount.com", "ghost-service"),
    ]);
  });

  test("a member is a service account only when the whole member is serviceAccount:EMAIL", async () => {
    const deleted = secretGrant(T.secretIamMember, "deleted", {
      role: ACCESSOR,
      member: "deleted:serviceAccount:ctl@p.iam.gserviceaccount.com",
    });
    const trailing = secretGrant(T.secretIamMember, "trailing", {
      role: ACCESSOR,
      member: "serviceAccount:ctl@p.iam.gserviceaccount.com\nx",
    });
    const other = (grant: string, member: string): string =>
      `mandatory: ${grant} grants ${ACCESSOR} on projects/p/secrets/tok to ${member}, which is not the service account of a service that ` +
      "reads it: grant secret access only to the reading service's own account.";
    expect(messages(await run(deleted, trailing))).toEqual([
      other("deleted", "deleted:serviceAccount:ctl@p.iam.gserviceaccount.com"),
      other("trailing", "serviceAccount:ctl@p.iam.gserviceaccount.com\nx"),
    ]);
  });

  test("a member known only through a dependency: on a binding's members, and on a policy's policy data", async () => {
    const loose = accountNode("loose-sa", "loose");
    const binding = secretGrant(T.secretIamBinding, "binding", { role: ACCESSOR, members: [UNKNOWN] }, { members: [loose.urn] });
    const policy = secretGrant(
      T.secretIamPolicy,
      "policy",
      { policyData: JSON.stringify({ bindings: [{ role: ACCESSOR, members: [null] }] }) },
      { policyData: [loose.urn] },
    );
    expect(messages(await run(loose, binding, policy))).toEqual([
      noService("binding", "projects/p/secrets/tok", "serviceAccount:loose@p.iam.gserviceaccount.com"),
      noService("policy", "projects/p/secrets/tok", "serviceAccount:loose@p.iam.gserviceaccount.com"),
    ]);
  });

  test("policy data that is not an object with a list of bindings, or lists non-objects, grants nothing", async () => {
    const grants = ["null", '"text"', JSON.stringify({ bindings: {} }), JSON.stringify({ bindings: [null, 7] })].map((policyData, i) =>
      secretGrant(T.secretIamPolicy, `p${i}`, { policyData }),
    );
    const scope = resourceView({ type: T.projectIamPolicy, name: "scope", props: { project: "p", policyData: "null" } });
    expect(await run(...grants, scope)).toEqual([]);
  });

  test("the secret: only a Secret among the secretId's dependencies; an unknown id names no secret", async () => {
    const other = resourceView({ type: T.randomString, name: "suffix", props: { result: "x" } });
    const ok = secretGrant(
      T.secretIamMember,
      "ok",
      { secretId: "tok", role: ACCESSOR, member: "serviceAccount:ctl@p.iam.gserviceaccount.com" },
      { secretId: [other.urn] },
    );
    const unknownId = secretGrant(T.secretIamMember, "unknown-id", {
      secretId: UNKNOWN,
      role: ACCESSOR,
      member: "serviceAccount:ci@p.iam.gserviceaccount.com",
    });
    expect(messages(await run(other, ok, unknownId))).toEqual([
      noService("unknown-id", "its secret", "serviceAccount:ci@p.iam.gserviceaccount.com"),
    ]);
  });

  test("by name, references that name no secret (unknown, or not a secret name) do not read it", async () => {
    const odd = cloudRun("odd-service", [secretEnv("A", UNKNOWN), secretEnv("B", "tok!")], {
      serviceAccount: "odd@p.iam.gserviceaccount.com",
    });
    const grant = secretGrant(T.secretIamMember, "odd-grant", {
      secretId: "spark",
      role: ACCESSOR,
      member: "serviceAccount:odd@p.iam.gserviceaccount.com",
    });
    expect(messages(await run(odd, grant))).toEqual([
      notRead("odd-grant", "spark", "serviceAccount:odd@p.iam.gserviceaccount.com", "odd-service"),
    ]);
  });

  test("a reading role on a scope to an account no service runs as names no account of a service", async () => {
    const scope = resourceView({
      type: T.projectIamMember,
      name: "ci-access",
      props: { project: "p", role: ACCESSOR, member: "serviceAccount:ci@p.iam.gserviceaccount.com" },
    });
    expect(messages(await run(scope))).toEqual([
      `mandatory: ci-access grants ${ACCESSOR} on the whole project p to serviceAccount:ci@p.iam.gserviceaccount.com: every secret of ` +
        "the project becomes readable. Grant roles/secretmanager.secretAccessor per secret (SecretIamMember) instead.",
    ]);
  });
});

// ------------------------------------------------------------------------------------------------
// policy/revocation.ts: the survivors of the mutation run
// ------------------------------------------------------------------------------------------------

describe("revocation-requires-verification, survivors", () => {
  const check = (stack: AnalyzerResourceView[]) => checkStack(revocationRequiresVerification, stack);
  const ENV = "OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN";
  const verificationNode = (name: string, generations: Record<string, unknown>, dependencies: string[]): AnalyzerResourceView =>
    resourceView({
      type: T.verification,
      name,
      urn: U(T.verification, name),
      props: { generations, revoking: ["auth-token-g3"] },
      dependencies,
    });

  interface PublishedOptions {
    readonly generations?: Record<string, unknown>;
    readonly pin?: unknown;
    readonly name?: string;
    readonly versionName?: unknown;
    readonly versionNameFrom?: (stack: { token: string; verification: string; svc: string }) => string[];
    readonly gated?: boolean;
    readonly verificationDeps?: boolean;
  }

  /** Token generation 4 published out of band (no version resource of the stack); published g3 (version 13) revoked. */
  function publishedStack(options: PublishedOptions = {}): AnalyzerResourceView[] {
    const token = secretNode("tok", "auth-token");
    const svc = cloudRun("svc", [secretEnv(ENV, "projects/p/secrets/tok", options.pin ?? "14")], {
      propertyDependencies: { template: [token.urn] },
    });
    const verification = verificationNode(
      "verification",
      options.generations ?? { authToken: 4 },
      options.verificationDeps === false ? [] : [svc.urn],
    );
    const name = options.name ?? "auth-token-g3-revocation";
    const revocation = resourceView({
      type: T.publishedRevocation,
      name,
      urn: U(T.publishedRevocation, name),
      props: { versionName: options.versionName ?? "projects/p/secrets/tok/versions/13" },
      dependencies: options.gated === false ? [] : [verification.urn],
      propertyDependencies: options.versionNameFrom
        ? { versionName: options.versionNameFrom({ token: token.urn, verification: verification.urn, svc: svc.urn }) }
        : {},
    });
    return [token, svc, verification, revocation];
  }

  test("published current generation: a pin on another number passes, a pin on the revoked number is named exactly", async () => {
    expect(await check(publishedStack())).toEqual([]);
    const found = await check(publishedStack({ pin: "13" }));
    expect(messages(found)).toEqual([
      `mandatory: svc container 0 env ${ENV} pins auth-token-g3 (version 13), the version being revoked, not the current generation 4: ` +
        "revoking auth-token-g3 would cut off a service that has not rolled to the new generation. Missing pin: svc -> generation 4.",
    ]);
    expect(found[0].urn).toBe(U(T.cloudRunService, "svc"));
  });

  test("published current generation: a pin unknown in preview cannot be proven safe", async () => {
    expect(messages(await check(publishedStack({ pin: UNKNOWN })))).toEqual([
      unprovable("auth-token-g3-revocation revokes the published auth-token-g3 (version 13)", [
        `svc container 0 env ${ENV}: which version of auth-token it pins`,
      ]),
    ]);
  });

  test("no verification names a generation above the revoked one: the upstream verification's generation is reported", async () => {
    const expected = (verifies: string): string[] => [
      `mandatory: auth-token-g3-revocation revokes the published auth-token-g3 (version 13) after verification (which verifies ${verifies}), ` +
        "not after a verification of a newer generation: nothing verifies the current auth-token before the revocation. Missing edge: " +
        "auth-token-g3-revocation -> a verification with generations.authToken = a generation above 3.",
    ];
    // Equal to the revoked generation, below it, a numeric string, and none at all: none of them is newer.
    expect(messages(await check(publishedStack({ generations: { authToken: 3 } })))).toEqual(expected("generation 3"));
    expect(messages(await check(publishedStack({ generations: { authToken: 2 } })))).toEqual(expected("generation 2"));
    expect(messages(await check(publishedStack({ generations: { authToken: "5" } })))).toEqual(expected('generation "5"'));
    expect(messages(await check(publishedStack({ generations: {} })))).toEqual(expected("no authToken generation"));
  });

  test("several upstream verifications of other generations are all listed, comma-separated", async () => {
    const stack = publishedStack({ generations: { authToken: 2 } });
    const second = verificationNode("second-verification", { authToken: 3 }, [U(T.cloudRunService, "svc")]);
    const revocation = stack[3];
    const gated = resourceView({ ...revocation, dependencies: [U(T.verification, "verification"), second.urn] });
    expect(messages(await check([...replace(stack, revocation.name, gated), second]))).toEqual([
      "mandatory: auth-token-g3-revocation revokes the published auth-token-g3 (version 13) after verification (which verifies generation 2), " +
        "second-verification (which verifies generation 3), not after a verification of a newer generation: nothing verifies the current " +
        "auth-token before the revocation. Missing edge: auth-token-g3-revocation -> a verification with generations.authToken = a generation above 3.",
    ]);
  });

  test("the published current generation is the highest any verification names, whatever their order", async () => {
    const stack = publishedStack();
    const newer = verificationNode("newer-verification", { authToken: 5 }, []);
    expect(messages(await check([newer, ...stack]))).toEqual([
      "mandatory: auth-token-g3-revocation revokes the published auth-token-g3 (version 13) after verification (which verifies generation 4), " +
        "not after a verification of generation 5: nothing verifies the current auth-token before the revocation. Missing edge: " +
        "auth-token-g3-revocation -> a verification with generations.authToken = 5.",
    ]);
  });

  test("a version resource of a newer generation is current even when a verification names a higher one", async () => {
    expect(messages(await check(rotationStack({ generations: { authToken: 5 } })))).toEqual([
      "mandatory: auth-token-g3 is disabled (revoked) after verification (which verifies generation 5), not after a verification of " +
        "auth-token-g4 (generation 4): nothing verifies the current auth-token before the revocation. Missing edge: auth-token-g3 -> a " +
        "verification with generations.authToken = 4.",
    ]);
  });

  test("the current version is the newest one a reader pins; with no reader, the newest enabled one", async () => {
    const stack = rotationStack();
    const token = stack[0];
    // Disabled and never live, older, older by number, or newer but pinned by no reader: none replaces auth-token-g4.
    expect(await check([...stack, versionNode(token, "auth-token-g5", { version: "15", enabled: false })])).toEqual([]);
    expect(await check([...stack, versionNode(token, "auth-token-g2", { version: "12" })])).toEqual([]);
    expect(await check([...stack, versionNode(token, "auth-token-alt", { version: "4" })])).toEqual([]);
    expect(await check([...stack, versionNode(token, "auth-token-g5", { version: "15" })])).toEqual([]);
    // With no reader at all, the newest enabled version is current, and the verification must be of it.
    const unread = stack.filter((r) => r.type !== T.cloudRunService);
    const found = await check([...unread, versionNode(token, "auth-token-g5", { version: "15" })]);
    expect(messages(found)).toEqual([
      "mandatory: auth-token-g3 is disabled (revoked) after verification (which verifies generation 4), not after a verification of " +
        "auth-token-g5 (generation 5): nothing verifies the current auth-token before the revocation. Missing edge: auth-token-g3 -> a " +
        "verification with generations.authToken = 5.",
    ]);
    expect(found[0].urn).toBe(U(T.secretVersion, "auth-token-g3"));
  });

  test("a disabled version resource whose newer generation is published: a pin built from it or naming its number is stale", async () => {
    const build = (pin: unknown): AnalyzerResourceView[] => {
      const token = secretNode("tok", "auth-token");
      const g3Urn = U(T.secretVersion, "auth-token-g3");
      const svc = cloudRun("svc", [secretEnv(ENV, "projects/p/secrets/tok", pin)], {
        propertyDependencies: { template: [token.urn, g3Urn] },
      });
      const verification = verificationNode("verification", { authToken: 4 }, [svc.urn]);
      const g3 = versionNode(token, "auth-token-g3", { version: "13", enabled: false }, [verification.urn]);
      return [token, g3, svc, verification];
    };
    expect(messages(await check(build(UNKNOWN)))).toEqual([
      `mandatory: svc container 0 env ${ENV} pins auth-token-g3, the version being revoked (its reference is built from that version's ` +
        "outputs), not the current generation 4: revoking auth-token-g3 would cut off a service that has not rolled to the new generation. " +
        "Missing pin: svc -> generation 4.",
    ]);
    expect(messages(await check(build("13")))).toEqual([
      `mandatory: svc container 0 env ${ENV} pins auth-token-g3, the version being revoked, not the current generation 4: ` +
        "revoking auth-token-g3 would cut off a service that has not rolled to the new generation. Missing pin: svc -> generation 4.",
    ]);
    expect(await check(build("14"))).toEqual([]);
  });

  test("a pin known only by the template's dependency on the revoked version is a stale pin", async () => {
    const stack = rotationStack({ controlTokenVersion: UNKNOWN });
    const control = stack.find((r) => r.name === "control-service") as AnalyzerResourceView;
    const onG3 = resourceView({
      ...control,
      propertyDependencies: {
        template: [U(T.secret, "auth-token-secret"), U(T.secretVersion, "auth-token-g3"), U(T.account, "control-sa")],
      },
    });
    expect(messages(await check(replace(stack, "control-service", onG3)))).toEqual([
      `mandatory: control-service container 0 env ${ENV} pins auth-token-g3, the version being revoked (its reference is built from that ` +
        "version's outputs), not the current auth-token-g4 (generation 4): revoking auth-token-g3 would cut off a service that has not " +
        "rolled to the new generation. Missing pin: control-service -> auth-token-g4.",
    ]);
  });

  test("readers on two versions that nothing orders: the rotation has not finished", async () => {
    const stack = rotationStack({ controlTokenVersion: "abc" });
    const odd = versionNode(stack[0], "auth-token-odd", { version: "abc" });
    expect(messages(await check([...stack, odd]))).toEqual([
      "mandatory: auth-token-g3 is disabled (revoked) while the workloads that read auth-token pin different versions (auth-token-g4 by " +
        "executor-service; auth-token-odd by control-service) and nothing shows which of them is current. To fix: roll every reader to the " +
        "same version (from that version resource's output) before revoking auth-token-g3.",
    ]);
    // Ordered by number, the older one is a stale pin, named with its generation when its name has one.
    const older = rotationStack({ controlTokenVersion: "2" });
    const g2 = versionNode(older[0], "auth-token-old", { version: "2" });
    expect(messages(await check([...older, g2]))[0]).toContain(
      `control-service container 0 env ${ENV} pins auth-token-old, not the current`,
    );
  });

  test("a service that does not read the secret is not a rollout the verification must wait for", async () => {
    expect(await check([...rotationStack(), cloudRun("unrelated", [plainEnv("MODE", "x")])])).toEqual([]);
  });

  test("the credential is the secret's label, else the version name without its last -g<N>", async () => {
    const labelled = secretNode("tok", "auth-token");
    expect(
      messages(
        await check([
          labelled,
          versionNode(labelled, "token-g4", { version: "14" }),
          versionNode(labelled, "token-g3", { version: "13", enabled: false }),
        ]),
      ),
    ).toEqual([
      "mandatory: token-g3 is disabled (revoked) while token-g4 (generation 4) is current, but it depends on no verification: the old " +
        "auth-token could be revoked before the new generation is verified on the services. Missing edge: token-g3 -> the verification " +
        "(dependsOn, e.g. RotatingSecret's revocationGate).",
    ]);
    const bare = resourceView({ type: T.secret, name: "s", urn: U(T.secret, "s"), props: { secretId: "tok", project: "p" } });
    expect(
      messages(
        await check([
          bare,
          versionNode(bare, "svc-g2-key-g11", { version: "11" }),
          versionNode(bare, "svc-g2-key-g10", { version: "10", enabled: false }),
        ]),
      ),
    ).toEqual([
      "mandatory: svc-g2-key-g10 is disabled (revoked) while svc-g2-key-g11 (generation 11) is current, but it depends on no verification: " +
        "the old svc-g2-key could be revoked before the new generation is verified on the services. Missing edge: svc-g2-key-g10 -> the " +
        "verification (dependsOn, e.g. RotatingSecret's revocationGate).",
    ]);
  });

  test("a published revocation placed by its versionName's dependency on the Secret (no number), and named up to -revocation", async () => {
    const fromSecret = { versionName: UNKNOWN, versionNameFrom: (s: { token: string; verification: string }) => [s.verification, s.token] };
    expect(messages(await check(publishedStack({ ...fromSecret, gated: false })))).toEqual([
      "mandatory: auth-token-g3-revocation revokes the published auth-token-g3 while generation 4 is current, but it depends on no " +
        "verification: the old auth-token could be revoked before the new generation is verified on the services. Missing edge: " +
        "auth-token-g3-revocation -> verification (dependsOn, e.g. RotatingSecret's revocationGate).",
    ]);
    expect(messages(await check(publishedStack({ ...fromSecret, verificationDeps: false })))).toEqual([
      "mandatory: verification verifies auth-token generation 4 but does not depend on svc, which reads that secret: it could pass before " +
        "that rollout finished, and auth-token-g3 would be revoked under it. Missing edge: verification -> svc.",
    ]);
    expect(messages(await check(publishedStack({ name: "old-revocation-auth-token-g3-revocation", gated: false })))[0]).toBe(
      "mandatory: old-revocation-auth-token-g3-revocation revokes the published old-revocation-auth-token-g3 (version 13) while generation 4 " +
        "is current, but it depends on no verification: the old auth-token could be revoked before the new generation is verified on the " +
        "services. Missing edge: old-revocation-auth-token-g3-revocation -> verification (dependsOn, e.g. RotatingSecret's revocationGate).",
    );
  });
});
