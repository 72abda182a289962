/**
 * secret-versions-recoverable (policy/recoverability.ts): deletion policies, destroy TTLs and protection, to the boundary.
 */
import { secretVersionsRecoverable } from "../../policy/policies";
import { checkResource, resourceView } from "../../harness/policy-harness";
import { UNKNOWN } from "../../harness/recording-monitor";
import { T, messages, skipNote } from "../support/policy-builders";
import * as pulumi from "@pulumi/pulumi";

afterAll(() => pulumi.runtime.disconnect());

/** The advisory note the pack adds when a check met a value unknown during preview. */
const advisorySkip = (policy: string, checks: string[]): string => `advisory: ${skipNote(policy, checks)}`;

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
