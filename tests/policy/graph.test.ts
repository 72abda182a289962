/**
 * policy/graph.ts, the pack's shared graph helpers: reading values (unknowns included), names, URNs and generations.
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
import { TYPES as PACK_TYPES } from "../../policy/graph";
import { TYPES as PROGRAM_TYPES } from "../../stack/phases";

afterAll(() => pulumi.runtime.disconnect());

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

describe("the type tokens the pack repeats (it ships alone and cannot import the program)", () => {
  test("every token the program names is the pack's, under the same key", () => {
    for (const [key, token] of Object.entries(PROGRAM_TYPES)) {
      if (key === "randomPassword") continue; // the pack reads random sources of every type (policy/entropy.ts)
      expect([key, PACK_TYPES[key as keyof typeof PACK_TYPES]]).toEqual([key, token]);
    }
  });
});
