/**
 * token-entropy (policy/entropy.ts): the entropy of every random source that becomes a credential, to the boundary.
 */
import { UNKNOWN as GRAPH_UNKNOWN } from "../../policy/graph";
import { tokenEntropy } from "../../policy/policies";
import { entropyOf } from "../../policy/entropy";
import { checkStack, resourceView } from "../../harness/policy-harness";
import { T, messages } from "../support/policy-builders";
import * as pulumi from "@pulumi/pulumi";

afterAll(() => pulumi.runtime.disconnect());

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
