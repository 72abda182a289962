/**
 * policy/rotation.ts: the rotation as the graph shows it, whatever things are named. Each helper
 * on small hand-built graphs: which credential a secret holds, the generation a version carries,
 * the order of creation, the revocations, the readers and what they pin, the executor's token
 * secret and its callers.
 */
import { PolicyResource } from "@pulumi/policy";
import { StackGraph, StackNode, UNKNOWN as GRAPH_UNKNOWN } from "../../policy/graph";
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
} from "../../policy/rotation";
import { revocationRequiresVerification } from "../../policy/policies";
import { StackWorkload, workloadsOf } from "../../policy/workloads";
import { AnalyzerResourceView, checkStack, resourceView } from "../../harness/policy-harness";
import { UNKNOWN } from "../../harness/recording-monitor";
import {
  Env,
  T,
  U,
  cloudRun,
  messages,
  plainEnv,
  rotationStack,
  secretEnv,
  secretNode,
  verificationResource,
  versionNode,
} from "../support/policy-builders";

const unprovable = (subject: string, reasons: string[]): string =>
  `mandatory: ${subject}, and it cannot be proven safe during preview: ${reasons.join("; ")}. A revocation that preview cannot check ` +
  "must not pass. To fix: build every reader's secret reference from the version resource's own output (secretKeyRef.version: " +
  "version.version), and the verification's generations and revoking list from plain config, so that the graph shows what each " +
  "reader pins and what is verified before the revocation.";

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

describe("revocation-requires-verification, the cases between the rules", () => {
  const check = (stack: AnalyzerResourceView[]) => checkStack(revocationRequiresVerification, stack);
  const gate = (props: Record<string, unknown>, deps: string[]) => verificationResource({ revoking: [], ...props }, deps);

  test("a version whose secret preview cannot tell: every workload may read it, whatever its references", async () => {
    const known = cloudRun("known", [secretEnv("A", "projects/p/secrets/x", "1")]);
    const unplaced = resourceView({ type: T.secretVersion, name: "y-g1", props: { secret: UNKNOWN, enabled: false } });
    const verification = gate({ generations: { y: 2 }, revoking: ["y-g1"] }, [known.urn]);
    expect(messages(await check([known, verification, resourceView({ ...unplaced, dependencies: [verification.urn] })]))).toEqual([
      unprovable("y-g1 is disabled (revoked)", ["y-g1: which secret it belongs to", "known: whether it reads y"]),
    ]);
  });

  test("the credential's name comes from the other versions of its secret too", async () => {
    const secret = resourceView({ type: T.secret, name: "s", urn: U(T.secret, "s"), props: { secretId: "s", project: "p" } });
    const found = await check([
      secret,
      versionNode(secret, "ledger-key-g2", { version: "2" }),
      versionNode(secret, "old", { version: "1", enabled: false }),
    ]);
    expect(messages(found)[0]).toContain("the old ledger-key could be revoked");
  });

  test("a published revocation whose version preview cannot tell, with a reader on a number: not provable", async () => {
    const token = secretNode("tok", "auth-token");
    const reader = cloudRun("svc", [secretEnv("A", "projects/p/secrets/tok", "7")]);
    const verification = gate({ generations: { authToken: 4 }, revoking: ["x"] }, [reader.urn]);
    const revocation = resourceView({
      type: T.publishedRevocation,
      name: "x-revocation",
      props: { versionName: UNKNOWN },
      dependencies: [verification.urn],
      propertyDependencies: { versionName: [token.urn] },
    });
    expect(messages(await check([token, reader, verification, revocation]))).toEqual([
      unprovable("x-revocation revokes the published x", ["x-revocation: which version it revokes"]),
    ]);
  });

  test("with no reader, two remaining versions that nothing orders are no finding of their own", async () => {
    const token = secretNode("tok", "auth-token");
    const a = versionNode(token, "a", { version: UNKNOWN });
    const b = versionNode(token, "b", { version: UNKNOWN });
    const old = versionNode(token, "old", { version: "1", enabled: false });
    expect(messages(await check([token, a, b, old]))).toEqual([
      "mandatory: old is disabled (revoked) while a is current, but it depends on no verification: the old auth-token could be revoked " +
        "before the new generation is verified on the services. Missing edge: old -> the verification (dependsOn, e.g. RotatingSecret's " +
        "revocationGate).",
    ]);
  });

  test("readers on versions nothing orders are listed per version, several readers each", async () => {
    const stack = rotationStack({ controlTokenVersion: "abc" });
    const odd = versionNode(stack[0], "auth-token-odd", { version: "abc" });
    const third = cloudRun("third", [secretEnv("T", "projects/p/secrets/tok", "14")]);
    const verification = stack.find((r) => r.name === "verification") as AnalyzerResourceView;
    const withThird = stack.map((r) => (r === verification ? resourceView({ ...r, dependencies: [...r.dependencies, third.urn] }) : r));
    expect(messages(await check([...withThird, odd, third]))[0]).toContain(
      "pin different versions (auth-token-g4 by executor-service, third; auth-token-odd by control-service)",
    );
  });

  test("a newer disabled version that never went live still reports a reader on something else", async () => {
    const stack = rotationStack({ controlTokenVersion: "latest" });
    const g5 = versionNode(stack[0], "auth-token-g5", { version: "15", enabled: false });
    const found = messages(await check([...stack, g5]));
    expect(
      found.filter((m) => m.includes('control-service container 0 env OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN pins "latest"')),
    ).toHaveLength(2);
    // A published revocation while the readers pin a stack-owned current version: checked as any other.
    const token = secretNode("tok", "auth-token");
    const g4 = versionNode(token, "auth-token-g4", { version: "14" });
    const svc = cloudRun("svc", [secretEnv("T", "projects/p/secrets/tok", "14")]);
    const verification = gate({ generations: { authToken: 4 }, revoking: ["auth-token-g3"] }, [svc.urn]);
    const published = resourceView({
      type: T.publishedRevocation,
      name: "auth-token-g3-revocation",
      props: { versionName: "projects/p/secrets/tok/versions/3" },
      dependencies: [verification.urn],
    });
    expect(await check([token, g4, svc, verification, published])).toEqual([]);
  });

  test("a current version whose generation nothing tells: a verification of any generation above the revoked one", async () => {
    const spark = secretNode("spark", "spark-api-key");
    const current = versionNode(spark, "spark-current", { version: "8" });
    const svc = cloudRun("svc", [secretEnv("K", "projects/p/secrets/spark", "8")]);
    const stack = (verified: unknown, revokedName = "spark-api-key-g3") => {
      const verification = gate({ generations: { sparkApiKey: verified }, revoking: [revokedName] }, [svc.urn]);
      return [spark, current, svc, verification, versionNode(spark, revokedName, { version: "3", enabled: false }, [verification.urn])];
    };
    expect(await check(stack(4))).toEqual([]);
    expect(messages(await check(stack(3)))).toEqual([
      "mandatory: spark-api-key-g3 is disabled (revoked) after verification (which verifies generation 3), not after a verification of " +
        "spark-current: nothing verifies the current spark-api-key before the revocation. Missing edge: spark-api-key-g3 -> a verification " +
        "with generations.sparkApiKey = a generation above 3.",
    ]);
    // Nothing dates the revoked one either: any number will do, anything else will not.
    expect(await check(stack(1, "spark-old"))).toEqual([]);
    expect(messages(await check(stack("x", "spark-old")))[0]).toContain(
      'after verification (which verifies generation "x"), not after a verification of spark-current: nothing verifies the current ' +
        "spark-api-key before the revocation. Missing edge: spark-old -> a verification with generations.sparkApiKey = the current generation.",
    );
    // Its missing edge to a reader says no generation it cannot name.
    const unrelated = cloudRun("svc2", [secretEnv("K", "projects/p/secrets/spark", "8")]);
    expect(messages(await check([...stack(4), unrelated]))).toEqual([
      "mandatory: verification verifies spark-api-key but does not depend on svc2, which reads that secret: it could pass before that " +
        "rollout finished, and spark-api-key-g3 would be revoked under it. Missing edge: verification -> svc2.",
    ]);
  });

  test("a published version with no generation in its name: the highest generation a verification names is current", async () => {
    const token = secretNode("tok", "auth-token");
    const verification = gate({ generations: { authToken: 2 }, revoking: [] }, []);
    const published = resourceView({
      type: T.publishedRevocation,
      name: "old-revocation",
      props: { versionName: "projects/p/secrets/tok/versions/1" },
    });
    expect(messages(await check([token, verification, published]))[0]).toContain(
      "old-revocation revokes the published old (version 1) while generation 2 is current, but it depends on no verification",
    );
  });
});
