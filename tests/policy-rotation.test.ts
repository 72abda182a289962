/**
 * policy/rotation.ts: the rotation as the graph shows it, whatever things are named. Each helper
 * on small hand-built graphs: which credential a secret holds, the generation a version carries,
 * the order of creation, the revocations, the readers and what they pin, the executor's token
 * secret and its callers.
 */
import { PolicyResource } from "@pulumi/policy";
import { StackGraph, StackNode, UNKNOWN as GRAPH_UNKNOWN } from "../policy/graph";
import {
  advertisedTokenGeneration,
  callersOf,
  createdAfter,
  credentialOf,
  generationOf,
  pinsByName,
  readersOf,
  revocationsOf,
  tokenSecretOf,
} from "../policy/rotation";
import { StackWorkload, workloadsOf } from "../policy/workloads";
import { AnalyzerResourceView, resourceView } from "../tools/policy-harness";
import { Env, T, U, cloudRun, plainEnv, secretEnv, secretNode, versionNode } from "./support/policy-builders";

const TOKEN = "OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN";

/** The graph a stack policy would build from these resources (props as given: GRAPH_UNKNOWN for unknowns). */
function graphOf(views: readonly AnalyzerResourceView[]): StackGraph {
  const resources = views.map((view): PolicyResource => ({
    type: view.type,
    urn: view.urn,
    name: view.name,
    props: { ...view.props },
    opts: {
      protect: false,
      ignoreChanges: [],
      aliases: [],
      additionalSecretOutputs: [],
      customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    },
    dependencies: [],
    propertyDependencies: {},
    isType: () => false,
    asType: () => undefined,
  }));
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  views.forEach((view, i) => {
    resources[i].dependencies = view.dependencies.map((urn) => byUrn.get(urn)).filter((r): r is PolicyResource => r !== undefined);
    for (const [key, urns] of Object.entries(view.propertyDependencies)) {
      resources[i].propertyDependencies[key] = urns.map((urn) => byUrn.get(urn)).filter((r): r is PolicyResource => r !== undefined);
    }
  });
  return new StackGraph(resources);
}

const node = (graph: StackGraph, name: string): StackNode => graph.nodes.find((n) => n.name === name) as StackNode;
const workload = (workloads: readonly StackWorkload[], name: string): StackWorkload =>
  workloads.find((w) => w.node.name === name) as StackWorkload;

const executorOn = (envs: Env[], extra: Parameters<typeof cloudRun>[2] = {}) =>
  cloudRun("executor", [plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_MODE", "mock"), ...envs], extra);

describe("credentialOf", () => {
  test("its label first; else the executor variable that reads it; else the <credential>-g<N> names; else its name", () => {
    const labelled = secretNode("tok", "auth-token");
    const bare = (id: string) =>
      resourceView({ type: T.secret, name: `${id}-s`, urn: U(T.secret, `${id}-s`), props: { secretId: id, project: "p" } });
    const [token, spark, mnemonic, other] = ["tok2", "spark", "mnem", "other"].map(bare);
    const executor = executorOn([
      secretEnv(TOKEN, "projects/p/secrets/tok2", "1"),
      secretEnv("OA_LIGHTNING_SPARK_API_KEY", "spark", "1"),
      plainEnv("OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION", "projects/p/secrets/mnem/versions/2"),
      plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_HOST", "projects/p/secrets/other/versions/1"),
    ]);
    const graph = graphOf([labelled, token, spark, mnemonic, other, executor]);
    const workloads = workloadsOf(graph);
    const of = (name: string, versions: string[] = []) => credentialOf(graph, workloads, { node: node(graph, name) }, versions);
    expect(of("auth-token-secret", ["x-g1"])).toEqual({ key: "authToken", label: "auth-token" });
    expect(of("tok2-s")).toEqual({ key: "authToken", label: "auth-token" });
    expect(of("spark-s")).toEqual({ key: "sparkApiKey", label: "spark-api-key" });
    expect(of("mnem-s")).toEqual({ key: "mnemonic", label: "mnemonic" });
    expect(of("other-s", ["db-password-g3", "x"])).toEqual({ key: "dbPassword", label: "db-password" });
    expect(of("other-s", ["db-password-g3-revocation"])).toEqual({ key: "dbPassword", label: "db-password" });
    expect(of("other-s", ["credential-old"])).toEqual({ label: "projects/p/secrets/other" });
    expect(credentialOf(graph, workloads, { name: { secretId: "ext" } }, [])).toEqual({ label: "ext" });
    expect(credentialOf(graph, workloads, {}, [])).toEqual({ label: "the secret" });
    const unnamed = resourceView({ type: T.secret, name: "unnamed", props: { secretId: GRAPH_UNKNOWN } });
    const g2 = graphOf([unnamed]);
    expect(credentialOf(g2, [], { node: node(g2, "unnamed") }, [])).toEqual({ label: "unnamed" });
  });

  test("only an executor's variables count, and only when they name this secret", () => {
    const token = resourceView({ type: T.secret, name: "s", urn: U(T.secret, "s"), props: { secretId: "tok", project: "p" } });
    const notExecutor = cloudRun("web", [secretEnv(TOKEN, "projects/p/secrets/tok", "1")]);
    const otherSecret = executorOn([
      secretEnv(TOKEN, "projects/p/secrets/else", "1"),
      secretEnv("OA_LIGHTNING_SPARK_API_KEY", GRAPH_UNKNOWN, "1"),
    ]);
    const graph = graphOf([token, notExecutor, otherSecret]);
    expect(credentialOf(graph, workloadsOf(graph), { node: node(graph, "s") }, [])).toEqual({ label: "projects/p/secrets/tok" });
  });
});

describe("generationOf and advertisedTokenGeneration", () => {
  const build = (tokenVersionEnv: Env[], versionName = "current") => {
    const token = secretNode("tok", "auth-token");
    const version = versionNode(token, versionName, { version: "14" });
    const other = versionNode(token, "other", { version: "15" });
    const executor = executorOn([secretEnv(TOKEN, "projects/p/secrets/tok", "14"), ...tokenVersionEnv]);
    const graph = graphOf([token, version, other, executor]);
    return { graph, workloads: workloadsOf(graph) };
  };

  test("by name first; else the generation the executor advertises next to the version it pins", () => {
    const named = build([], "auth-token-g7");
    expect(generationOf(named.graph, named.workloads, node(named.graph, "auth-token-g7"))).toBe(7);
    const advertised = build([plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN_VERSION", "5")]);
    expect(generationOf(advertised.graph, advertised.workloads, node(advertised.graph, "current"))).toBe(5);
    // A version the executor does not pin, or an advertised value that says nothing: no generation.
    expect(generationOf(advertised.graph, advertised.workloads, node(advertised.graph, "other"))).toBeUndefined();
    const unknown = build([plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN_VERSION", GRAPH_UNKNOWN)]);
    expect(generationOf(unknown.graph, unknown.workloads, node(unknown.graph, "current"))).toBeUndefined();
    // Unset: the contract's default, 1.
    const unset = build([]);
    expect(generationOf(unset.graph, unset.workloads, node(unset.graph, "current"))).toBe(1);
  });

  test("no secret, no executor token, or a token that is a literal: no generation", () => {
    const orphan = resourceView({ type: T.secretVersion, name: "orphan", props: { secret: "projects/p/secrets/none" } });
    const literal = executorOn([plainEnv(TOKEN, "literal")]);
    const noToken = executorOn([]);
    const token = secretNode("tok", "auth-token");
    const version = versionNode(token, "current", { version: "14" });
    const graph = graphOf([orphan, token, version, literal, noToken]);
    const workloads = workloadsOf(graph);
    expect(generationOf(graph, workloads, node(graph, "orphan"))).toBeUndefined();
    expect(generationOf(graph, workloads, node(graph, "current"))).toBeUndefined();
  });

  test("advertisedTokenGeneration: 1 when unset; a literal integer; unknown; nothing for a reference or a non-integer", () => {
    const of = (envs: Env[]) => {
      const graph = graphOf([executorOn(envs)]);
      return advertisedTokenGeneration(workloadsOf(graph)[0]);
    };
    const NAME = "OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN_VERSION";
    expect(of([])).toBe(1);
    expect(of([plainEnv(NAME, "12")])).toBe(12);
    expect(of([plainEnv(NAME, GRAPH_UNKNOWN)])).toBe(GRAPH_UNKNOWN);
    expect(of([secretEnv(NAME, "s", "1")])).toBeUndefined();
    expect(of([plainEnv(NAME, "12a")])).toBeUndefined();
    expect(of([plainEnv(NAME, "a12")])).toBeUndefined();
    expect(of([plainEnv(NAME, "")])).toBeUndefined();
  });
});

describe("createdAfter", () => {
  const token = secretNode("tok", "auth-token");
  const v = (name: string, version: unknown, deps: string[] = []) => versionNode(token, name, { version }, deps);

  test("by number when both are known; a version being created is after one that exists; else by dependency; else unknown", () => {
    const graph = graphOf([
      token,
      v("n9", "9"),
      v("n10", "10"),
      v("new", GRAPH_UNKNOWN),
      v("newer", GRAPH_UNKNOWN, [U(T.secretVersion, "new")]),
      v("apart", GRAPH_UNKNOWN),
      v("odd", "x"),
    ]);
    const after = (a: string, b: string) => createdAfter(graph, node(graph, a), node(graph, b));
    expect(after("n10", "n9")).toBe(true);
    expect(after("n9", "n10")).toBe(false);
    expect(after("n9", "n9")).toBe(false);
    expect(after("new", "n10")).toBe(true);
    expect(after("n10", "new")).toBe(false);
    expect(after("newer", "new")).toBe(true);
    expect(after("new", "newer")).toBe(false);
    expect(after("apart", "new")).toBeUndefined();
    // A number that is no number is not known: nothing orders it.
    expect(after("odd", "n9")).toBeUndefined();
    expect(after("n9", "odd")).toBeUndefined();
  });
});

describe("revocationsOf", () => {
  test("versions disabled or maybe disabled, placed by dependency or by name; published revocations by their version path", () => {
    const token = secretNode("tok", "auth-token");
    const twinA = resourceView({ type: T.secret, name: "twin-a", props: { secretId: "twin", project: "p" } });
    const twinB = resourceView({ type: T.secret, name: "twin-b", props: { secretId: "twin", project: "p" } });
    const views = [
      token,
      twinA,
      twinB,
      versionNode(token, "on", { version: "1" }),
      versionNode(token, "off", { version: "2", enabled: false }),
      versionNode(token, "maybe", { version: GRAPH_UNKNOWN, enabled: GRAPH_UNKNOWN }),
      resourceView({ type: T.secretVersion, name: "by-name", props: { secret: "projects/p/secrets/tok", enabled: false } }),
      resourceView({ type: T.regionalSecretVersion, name: "external", props: { secret: "projects/p/secrets/ext", enabled: false } }),
      resourceView({ type: T.secretVersion, name: "unplaced", props: { secret: GRAPH_UNKNOWN, enabled: false } }),
      resourceView({ type: T.secretVersion, name: "ambiguous", props: { secret: "projects/p/secrets/twin", enabled: false } }),
      resourceView({ type: T.secretVersion, name: "nameless", props: { enabled: false } }),
      resourceView({
        type: T.publishedRevocation,
        name: "tok-g3-revocation",
        props: { versionName: "projects/p/secrets/tok/versions/13" },
      }),
      resourceView({
        type: T.publishedRevocation,
        name: "by-dependency-revocation",
        props: { versionName: GRAPH_UNKNOWN },
        propertyDependencies: { versionName: [token.urn] },
      }),
      resourceView({ type: T.publishedRevocation, name: "lost", props: { versionName: GRAPH_UNKNOWN } }),
      resourceView({ type: T.publishedRevocation, name: "junk", props: { versionName: "not a path" } }),
    ];
    const graph = graphOf(views);
    const found = revocationsOf(graph).map((r) => ({
      name: r.node.name,
      kind: r.kind,
      version: r.version?.name,
      secret: r.secret.node?.name ?? r.secret.name,
      number: r.number,
      versionName: r.versionName,
      names: r.names,
      unplaced: r.unplaced,
    }));
    expect(found).toEqual([
      {
        name: "off",
        kind: "disabled",
        version: "off",
        secret: "auth-token-secret",
        number: "2",
        versionName: "off",
        names: ["off"],
        unplaced: undefined,
      },
      {
        name: "maybe",
        kind: "maybe",
        version: "maybe",
        secret: "auth-token-secret",
        number: GRAPH_UNKNOWN,
        versionName: "maybe",
        names: ["maybe"],
        unplaced: undefined,
      },
      {
        name: "by-name",
        kind: "disabled",
        version: "by-name",
        secret: "auth-token-secret",
        number: undefined,
        versionName: "by-name",
        names: ["by-name"],
        unplaced: undefined,
      },
      {
        name: "external",
        kind: "disabled",
        version: "external",
        secret: { project: "p", secretId: "ext" },
        number: undefined,
        versionName: "external",
        names: ["external"],
        unplaced: undefined,
      },
      {
        name: "unplaced",
        kind: "disabled",
        version: "unplaced",
        secret: undefined,
        number: undefined,
        versionName: "unplaced",
        names: ["unplaced"],
        unplaced: "which secret it belongs to",
      },
      {
        name: "ambiguous",
        kind: "disabled",
        version: "ambiguous",
        secret: { project: "p", secretId: "twin" },
        number: undefined,
        versionName: "ambiguous",
        names: ["ambiguous"],
        unplaced: "which secret it belongs to (several Secrets of this stack are named projects/p/secrets/twin)",
      },
      {
        name: "nameless",
        kind: "disabled",
        version: "nameless",
        secret: undefined,
        number: undefined,
        versionName: "nameless",
        names: ["nameless"],
        unplaced: undefined,
      },
      {
        name: "tok-g3-revocation",
        kind: "published",
        version: undefined,
        secret: "auth-token-secret",
        number: "13",
        versionName: "tok-g3",
        names: ["tok-g3-revocation", "tok-g3"],
        unplaced: undefined,
      },
      {
        name: "by-dependency-revocation",
        kind: "published",
        version: undefined,
        secret: "auth-token-secret",
        number: GRAPH_UNKNOWN,
        versionName: "by-dependency",
        names: ["by-dependency-revocation", "by-dependency"],
        unplaced: undefined,
      },
      {
        name: "lost",
        kind: "published",
        version: undefined,
        secret: undefined,
        number: GRAPH_UNKNOWN,
        versionName: "lost",
        names: ["lost", "lost"],
        unplaced: "which version it revokes",
      },
      {
        name: "junk",
        kind: "published",
        version: undefined,
        secret: undefined,
        number: undefined,
        versionName: "junk",
        names: ["junk", "junk"],
        unplaced: "which version it revokes",
      },
    ]);
  });
});

describe("readersOf and pinsByName", () => {
  const token = secretNode("tok", "auth-token");
  const reader = cloudRun("reader", [secretEnv("A", "projects/p/secrets/ext", "3")]);
  const latest = cloudRun("latest", [secretEnv("A", "ext", "")]);
  const maybe = cloudRun("maybe", [secretEnv("A", GRAPH_UNKNOWN, "1")]);
  const opaque = cloudRun("opaque", GRAPH_UNKNOWN as never);
  const unrelated = cloudRun("unrelated", [secretEnv("A", "projects/p/secrets/other", "1"), secretEnv("B", "not a name!", "1")]);
  const graph = graphOf([token, reader, latest, maybe, opaque, unrelated]);
  const workloads = workloadsOf(graph);
  const external = { name: { project: "p", secretId: "ext" } };

  test("by name, a secret the stack does not own: readers, and those whose references preview cannot tell", () => {
    const { readers, undecided } = readersOf(graph, workloads, external);
    expect(readers.map((w) => w.node.name)).toEqual(["reader", "latest"]);
    expect(undecided.map((w) => w.node.name)).toEqual(["maybe", "opaque"]);
    expect(readersOf(graph, workloads, { node: node(graph, "auth-token-secret") })).toEqual({ readers: [], undecided: [] });
  });

  test("pins by name: the version text, latest when none, unknown when the reference is", () => {
    expect(pinsByName(graph, workload(workloads, "reader"), external)).toEqual([{ kind: "other", where: "container 0 env A", text: "3" }]);
    expect(pinsByName(graph, workload(workloads, "latest"), external)).toEqual([
      { kind: "other", where: "container 0 env A", text: "latest (no version)" },
    ]);
    expect(pinsByName(graph, workload(workloads, "maybe"), external)).toEqual([{ kind: "unknown", where: "container 0 env A" }]);
    expect(pinsByName(graph, workload(workloads, "unrelated"), external)).toEqual([]);
    const unknownVersion = graphOf([cloudRun("u", [secretEnv("A", "ext", GRAPH_UNKNOWN), secretEnv("B", "ext", undefined)])]);
    expect(pinsByName(unknownVersion, workloadsOf(unknownVersion)[0], external)).toEqual([
      { kind: "unknown", where: "container 0 env A" },
      { kind: "other", where: "container 0 env B", text: "latest (no version)" },
    ]);
  });
});

describe("tokenSecretOf and callersOf", () => {
  test("the executor's token secret by its reference; by its credential while the reference is unknown; none otherwise", () => {
    const token = secretNode("tok", "auth-token");
    const spark = secretNode("spark", "spark-api-key");
    const byName = executorOn([secretEnv(TOKEN, "projects/p/secrets/tok", "1")], { urn: U(T.cloudRunService, "e1") });
    const external = executorOn([secretEnv(TOKEN, "projects/p/secrets/ext", "1")], { urn: U(T.cloudRunService, "e2") });
    const junk = executorOn([secretEnv(TOKEN, "not a name!", "1")], { urn: U(T.cloudRunService, "e3") });
    const literal = executorOn([plainEnv(TOKEN, "x")], { urn: U(T.cloudRunService, "e4") });
    const unknown = executorOn([secretEnv(TOKEN, GRAPH_UNKNOWN, GRAPH_UNKNOWN)], {
      urn: U(T.cloudRunService, "e5"),
      propertyDependencies: { template: [token.urn, spark.urn] },
    });
    const unplaceable = executorOn([secretEnv(TOKEN, GRAPH_UNKNOWN, GRAPH_UNKNOWN)], {
      urn: U(T.cloudRunService, "e6"),
      propertyDependencies: { template: [spark.urn] },
    });
    const missing = executorOn([secretEnv(TOKEN, undefined, "1")], { urn: U(T.cloudRunService, "e7") });
    const graph = graphOf([token, spark, byName, external, junk, literal, unknown, unplaceable, missing]);
    const workloads = workloadsOf(graph);
    const of = (urn: string) =>
      tokenSecretOf(graph, workloads, workloads.find((w) => w.node.urn === U(T.cloudRunService, urn)) as StackWorkload);
    expect(of("e1")?.node?.name).toBe("auth-token-secret");
    expect(of("e2")).toEqual({ name: { project: "p", secretId: "ext" } });
    expect(of("e3")).toBeUndefined();
    expect(of("e4")).toBeUndefined();
    expect(of("e5")?.node?.name).toBe("auth-token-secret");
    expect(of("e6")).toBeUndefined();
    expect(of("e7")).toBeUndefined();
  });

  test("callers of an external token secret are found by name; other executors are never callers", () => {
    const executor = executorOn([secretEnv(TOKEN, "projects/p/secrets/ext", "1")]);
    const caller = cloudRun("caller", [secretEnv("X", "projects/p/secrets/ext", "1")]);
    const other = cloudRun("other", [secretEnv("X", "projects/p/secrets/else", "1")]);
    const secondExecutor = cloudRun("executor-2", [
      plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_MODE", "mock"),
      plainEnv("SPARK_EXECUTOR_BASE_URL", "x"),
    ]);
    const graph = graphOf([executor, caller, other, secondExecutor]);
    const workloads = workloadsOf(graph);
    expect(callersOf(graph, workloads, workload(workloads, "executor")).map((w) => w.node.name)).toEqual(["caller"]);
    // With no token secret at all, only names and components make a caller.
    const bare = graphOf([
      executorOn([]),
      cloudRun("named", [plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_BASE_URL", "x")]),
      cloudRun("plain", []),
    ]);
    const bareWorkloads = workloadsOf(bare);
    expect(callersOf(bare, bareWorkloads, workload(bareWorkloads, "executor")).map((w) => w.node.name)).toEqual(["named"]);
    // Configured names replace the defaults.
    const custom = graphOf([executorOn([]), cloudRun("custom", [plainEnv("MY_TOKEN", "x")])]);
    const customWorkloads = workloadsOf(custom);
    expect(callersOf(custom, customWorkloads, workload(customWorkloads, "executor"), ["MY_TOKEN"]).map((w) => w.node.name)).toEqual([
      "custom",
    ]);
  });
});
