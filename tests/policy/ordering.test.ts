/**
 * The runbook's order as policies, on hand-built graphs: grant -> reading workload
 * (secret-access-before-rollout), executor -> control (executor-before-control), control ->
 * verification (verification-after-rollouts), and the verification's expected generation = the one
 * both services pin (verification-expects-pinned-generation). Values unknown in preview are notes
 * for these (the edges themselves are always known).
 */
import * as pulumi from "@pulumi/pulumi";
import {
  executorBeforeControl,
  secretAccessBeforeRollout,
  verificationAfterRollouts,
  verificationExpectsPinnedGeneration,
} from "../../policy/policies";
import { AnalyzerResourceView, checkStack, resourceView } from "../../harness/policy-harness";
import { UNKNOWN } from "../../harness/recording-monitor";
import {
  Env,
  T,
  U,
  accountNode,
  cloudRun,
  grantNode,
  messages,
  plainEnv,
  secretEnv,
  secretNode,
  skipNote,
  verificationResource,
  versionNode,
} from "../support/policy-builders";

afterAll(() => pulumi.runtime.disconnect());

const TOKEN = "OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN";

interface WalletOptions {
  readonly executorDeps?: string[];
  readonly controlDeps?: string[];
  readonly controlEnvs?: Env[];
  readonly verification?: Record<string, unknown>;
  readonly verificationDeps?: string[];
  readonly advertised?: unknown;
  readonly executorEnvs?: Env[];
}

/** Token generation 4 (version 14) on both services, in the runbook's order; every edge in place unless an option removes it. */
function wallet(options: WalletOptions = {}): AnalyzerResourceView[] {
  const token = secretNode("tok", "auth-token");
  const g4 = versionNode(token, "auth-token-g4", { version: "14" });
  const execSa = accountNode("executor-sa", "exec");
  const ctlSa = accountNode("control-sa", "ctl");
  const execGrant = grantNode("executor-token-access", token, execSa);
  const ctlGrant = grantNode("control-token-access", token, ctlSa);
  const executor = cloudRun(
    "executor-service",
    options.executorEnvs ?? [
      plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_MODE", "mock"),
      secretEnv(TOKEN, "projects/p/secrets/tok", "14"),
      ...(options.advertised === undefined ? [plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN_VERSION", "4")] : []),
      ...(options.advertised === undefined || options.advertised === "absent"
        ? []
        : [plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN_VERSION", options.advertised)]),
    ],
    {
      serviceAccount: "exec@p.iam.gserviceaccount.com",
      dependencies: options.executorDeps ?? [g4.urn, execSa.urn, execGrant.urn],
      propertyDependencies: { template: [token.urn, g4.urn, execSa.urn] },
    },
  );
  const control = cloudRun(
    "control-service",
    options.controlEnvs ?? [
      plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_BASE_URL", "https://x.run.app"),
      secretEnv(TOKEN, "projects/p/secrets/tok", "14"),
    ],
    {
      serviceAccount: "ctl@p.iam.gserviceaccount.com",
      dependencies: options.controlDeps ?? [executor.urn, g4.urn, ctlSa.urn, ctlGrant.urn],
      propertyDependencies: { template: [token.urn, g4.urn, ctlSa.urn] },
    },
  );
  const verification = verificationResource(
    options.verification ?? { expectTokenVersion: 4, generations: { authToken: 4 }, revoking: [] },
    options.verificationDeps ?? [control.urn],
  );
  return [token, g4, execSa, ctlSa, execGrant, ctlGrant, executor, control, verification];
}

const without = (stack: AnalyzerResourceView[], name: string): AnalyzerResourceView[] => stack.filter((r) => r.name !== name);

describe("secret-access-before-rollout", () => {
  const check = (stack: AnalyzerResourceView[]) => checkStack(secretAccessBeforeRollout, stack);

  test("each reader after its grant passes; a reader that does not wait for its grant is named with the edge", async () => {
    expect(await check(wallet())).toEqual([]);
    const found = await check(wallet({ executorDeps: [U(T.secretVersion, "auth-token-g4")] }));
    expect(messages(found)).toEqual([
      "mandatory: executor-service reads auth-token-secret as serviceAccount:exec@p.iam.gserviceaccount.com, but does not depend on " +
        "executor-token-access, which grants that access: its new instances may start before they may read the secret. Missing edge: " +
        "executor-service -> executor-token-access. To fix: add executor-token-access to executor-service's dependsOn.",
    ]);
    expect(found[0].urn).toBe(U(T.cloudRunService, "executor-service"));
  });

  test("a grant reached through another resource counts; with no grant at all, the reader is named", async () => {
    const hop = resourceView({
      type: "test:index:Hop",
      name: "hop",
      props: {},
      dependencies: [U(T.secretIamMember, "control-token-access")],
    });
    const viaHop = wallet({ controlDeps: [U(T.cloudRunService, "executor-service"), hop.urn] });
    expect(await check([...viaHop, hop])).toEqual([]);
    expect(messages(await check(without(wallet(), "control-token-access")))).toEqual([
      "mandatory: control-service reads auth-token-secret as serviceAccount:ctl@p.iam.gserviceaccount.com, but no grant of this stack gives that " +
        "account access to it: the rollout cannot read the secret, or relies on access granted outside the stack that nothing orders. To " +
        "fix: add a SecretIamMember (roles/secretmanager.secretAccessor) on auth-token-secret for serviceAccount:ctl@p.iam.gserviceaccount.com, " +
        "and add it to control-service's dependsOn.",
    ]);
  });

  test("what counts as a grant: a reading role, to that account, on that secret (by dependency or name) or on the whole project", async () => {
    const stack = without(wallet(), "control-token-access");
    const ctlSa = stack.find((r) => r.name === "control-sa") as AnalyzerResourceView;
    const token = stack[0];
    const other = secretNode("other", "other");
    const withGrant = (grant: AnalyzerResourceView) =>
      check([
        ...stack.map((r) => (r.name === "control-service" ? resourceView({ ...r, dependencies: [...r.dependencies, grant.urn] }) : r)),
        other,
        grant,
      ]);
    const refused = (found: Awaited<ReturnType<typeof check>>) => found.map((v) => v.urn);
    // Another role, another account, another secret (by dependency, and by name): none lets control-service read tok.
    expect(refused(await withGrant(grantNode("g", token, ctlSa, { role: "roles/secretmanager.viewer" })))).toEqual([
      U(T.cloudRunService, "control-service"),
    ]);
    const execSa = stack.find((r) => r.name === "executor-sa") as AnalyzerResourceView;
    expect(refused(await withGrant(grantNode("g", token, execSa)))).toEqual([U(T.cloudRunService, "control-service")]);
    expect(refused(await withGrant(grantNode("g", other, ctlSa)))).toEqual([U(T.cloudRunService, "control-service")]);
    const byName = resourceView({ ...grantNode("g", other, ctlSa), propertyDependencies: { member: [ctlSa.urn] } });
    expect(refused(await withGrant(byName))).toEqual([U(T.cloudRunService, "control-service")]);
    // The secret by name alone, a binding, a policy's bindings, the admin role, a project-wide grant: each is one.
    const tokByName = resourceView({ ...grantNode("g", token, ctlSa), propertyDependencies: { member: [ctlSa.urn] } });
    expect(await withGrant(tokByName)).toEqual([]);
    const binding = resourceView({
      type: T.secretIamBinding,
      name: "g",
      props: {
        secretId: "projects/p/secrets/tok",
        role: "roles/secretmanager.secretAccessor",
        members: ["serviceAccount:ctl@p.iam.gserviceaccount.com"],
      },
    });
    expect(await withGrant(binding)).toEqual([]);
    const policy = resourceView({
      type: T.secretIamPolicy,
      name: "g",
      props: {
        secretId: "projects/p/secrets/tok",
        policyData: JSON.stringify({
          bindings: [{ role: "roles/secretmanager.admin", members: ["serviceAccount:ctl@p.iam.gserviceaccount.com"] }],
        }),
      },
    });
    expect(await withGrant(policy)).toEqual([]);
    const projectWide = resourceView({
      type: T.projectIamMember,
      name: "g",
      props: { project: "p", role: "roles/secretmanager.secretAccessor", member: "serviceAccount:ctl@p.iam.gserviceaccount.com" },
    });
    expect(await withGrant(projectWide)).toEqual([]);
  });

  test("preview: a grant whose member, role, policy or secret is unknown is a note; so is a reader whose account is unknown", async () => {
    const stack = without(wallet(), "control-token-access");
    const token = stack[0];
    const ctlSa = stack.find((r) => r.name === "control-sa") as AnalyzerResourceView;
    const note = (checks: string[]) => [`advisory: ${skipNote("secret-access-before-rollout", checks)}`];
    const unknownMember = resourceView({
      ...grantNode("g", token, ctlSa, { member: UNKNOWN }),
      propertyDependencies: { secretId: [token.urn] },
    });
    const g = "control-service: whether g grants serviceAccount:ctl@p.iam.gserviceaccount.com access to auth-token-secret";
    expect(messages(await check([...stack, unknownMember]))).toEqual(note([g]));
    expect(messages(await check([...stack, grantNode("g", token, ctlSa, { role: UNKNOWN })]))).toEqual(note([g]));
    const unknownSecret = resourceView({
      ...grantNode("g", token, ctlSa, { secretId: UNKNOWN }),
      propertyDependencies: { member: [ctlSa.urn] },
    });
    expect(messages(await check([...stack, unknownSecret]))).toEqual(note([g]));
    const unknownPolicy = resourceView({
      type: T.secretIamPolicy,
      name: "g",
      props: { secretId: "projects/p/secrets/tok", policyData: UNKNOWN },
    });
    expect(messages(await check([...stack, unknownPolicy]))).toEqual(note([g]));
    const unknownMembers = resourceView({
      type: T.secretIamBinding,
      name: "g",
      props: { secretId: "projects/p/secrets/tok", role: "roles/secretmanager.secretAccessor", members: UNKNOWN },
    });
    expect(messages(await check([...stack, unknownMembers]))).toEqual(note([g]));
    // A reader whose account preview cannot place (no dependency on an account resource).
    const placeless = wallet().map((r) =>
      r.name === "control-service"
        ? resourceView({
            ...r,
            props: { ...r.props, template: { ...(r.props.template as object), serviceAccount: UNKNOWN } },
            propertyDependencies: {},
          })
        : r,
    );
    expect(messages(await check(placeless))).toEqual(note(["control-service: which service account it runs as"]));
  });

  test("a reader on the default account, or one that reads no secret of the stack, has nothing to order", async () => {
    const defaultAccount = wallet().map((r) =>
      r.name === "control-service"
        ? resourceView({
            ...r,
            props: { ...r.props, template: { ...(r.props.template as object), serviceAccount: undefined } },
            propertyDependencies: {},
          })
        : r,
    );
    expect(await check(without(defaultAccount, "control-token-access"))).toEqual([]);
    expect(
      await check([...wallet(), cloudRun("web", [plainEnv("MODE", "x")], { serviceAccount: "web@p.iam.gserviceaccount.com" })]),
    ).toEqual([]);
  });
});

describe("executor-before-control", () => {
  const check = (stack: AnalyzerResourceView[]) => checkStack(executorBeforeControl, stack);
  const edgeMessage = (caller: string, executor = "executor-service") =>
    `mandatory: ${caller} calls the executor ${executor} but does not depend on it: its rollout could finish first and send a token ` +
    `${executor} does not accept yet (every call gets 401 until the executor rolls out). Missing edge: ${caller} -> ${executor}. To fix: ` +
    `add ${executor} to ${caller}'s dependsOn (ControlService's executorService).`;

  test("a control after the executor passes; with a literal URL and no edge, it is named", async () => {
    expect(await check(wallet())).toEqual([]);
    const found = await check(wallet({ controlDeps: [U(T.secretVersion, "auth-token-g4")] }));
    expect(messages(found)).toEqual([edgeMessage("control-service")]);
    expect(found[0].urn).toBe(U(T.cloudRunService, "control-service"));
  });

  test("callers found by the executor's token secret under any name, by a control env name, or under a ControlService", async () => {
    const byToken = cloudRun("payouts", [secretEnv("PAYOUT_CREDENTIAL", "projects/p/secrets/tok", "14")]);
    const byUrl = cloudRun("reports", [plainEnv("SPARK_EXECUTOR_BASE_URL", "https://x")]);
    const byName = cloudRun("legacy", [plainEnv("SPARK_EXECUTOR_AUTH_TOKEN", "x")]);
    const byComponent = cloudRun("ctl2", [], {
      urn: "urn:pulumi:s::wallet-executor::wallet:service:ControlService$gcp:cloudrunv2/service:Service::ctl2",
    });
    const unrelated = cloudRun("web", [plainEnv("MODE", "x"), secretEnv("DB", "projects/p/secrets/db", "1")]);
    expect(messages(await check([...wallet(), byToken, byUrl, byName, byComponent, unrelated]))).toEqual(
      // Sorted by resource: the component's child has the component's type in its URN.
      ["legacy", "payouts", "reports", "ctl2"].map((caller) => edgeMessage(caller)),
    );
  });

  test("a caller built from one executor's outputs must follow that one; otherwise every executor", async () => {
    const second = cloudRun("executor-2", [plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_MODE", "mock")]);
    const wired = (deps: string[]) =>
      wallet({ controlDeps: deps }).map((r) =>
        r.name === "control-service"
          ? resourceView({ ...r, propertyDependencies: { template: [U(T.cloudRunService, "executor-service")] } })
          : r,
      );
    expect(await check([...wired([U(T.cloudRunService, "executor-service")]), second])).toEqual([]);
    expect(messages(await check([...wired([second.urn]), second]))).toEqual([edgeMessage("control-service")]);
    expect(messages(await check([...wallet({ controlDeps: [] }), second]))).toEqual([
      edgeMessage("control-service", "executor-2"),
      edgeMessage("control-service"),
    ]);
  });

  test("an executor's own token secret, unknown in preview, is found by its credential label", async () => {
    const preview = wallet({ controlDeps: [], controlEnvs: [secretEnv("MY_TOKEN", UNKNOWN, UNKNOWN)] }).map((r) =>
      r.name === "executor-service"
        ? resourceView({
            ...r,
            props: {
              ...r.props,
              template: {
                containers: [{ envs: [plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_MODE", "mock"), secretEnv(TOKEN, UNKNOWN, UNKNOWN)] }],
              },
            },
          })
        : r,
    );
    expect(messages(await check(preview))).toEqual([edgeMessage("control-service")]);
  });
});

describe("verification-after-rollouts", () => {
  const check = (stack: AnalyzerResourceView[]) => checkStack(verificationAfterRollouts, stack);
  const edge = (rollout: string, role: string) =>
    `mandatory: verification does not depend on ${rollout} (${role}): it could check the services before that rollout finished, and ` +
    `what it vouches for (the revocation after it) would not be what runs. Missing edge: verification -> ${rollout}. To fix: add ${rollout} ` +
    `to verification's dependsOn.`;

  test("after the control rollout (and so the executor's) passes; after the executor only, the control is missing", async () => {
    expect(await check(wallet())).toEqual([]);
    const found = await check(wallet({ verificationDeps: [U(T.cloudRunService, "executor-service")] }));
    expect(messages(found)).toEqual([edge("control-service", "a caller of the executor")]);
    expect(found[0].urn).toBe(U(T.verification, "verification"));
    expect(messages(await check(wallet({ verificationDeps: [] })))).toEqual([
      edge("control-service", "a caller of the executor"),
      edge("executor-service", "the executor"),
    ]);
  });

  test("any other workload that reads a secret of the stack is a rollout it must follow; one that reads none is not", async () => {
    const job = resourceView({
      type: T.cloudRunJob,
      name: "reconcile",
      props: { template: { template: { containers: [{ envs: [secretEnv("K", "projects/p/secrets/tok", "14")] }] } } },
    });
    const web = cloudRun("web", [plainEnv("MODE", "x")]);
    expect(messages(await check([...wallet(), job, web]))).toEqual([edge("reconcile", "a caller of the executor")]);
    const spark = secretNode("spark", "spark-api-key");
    const reader = cloudRun("spark-reader", [secretEnv("K", "projects/p/secrets/spark", "1")]);
    expect(messages(await check([...wallet(), spark, reader]))).toEqual([edge("spark-reader", "a reader of a secret")]);
  });
});

describe("verification-expects-pinned-generation", () => {
  const check = (stack: AnalyzerResourceView[]) => checkStack(verificationExpectsPinnedGeneration, stack);
  const wrong = (what: string, expected: unknown = 3) =>
    `mandatory: verification expects token generation ${JSON.stringify(expected)}, but ${what}: it would verify a generation the services ` +
    `do not run (or fail every rotation). To fix: set expectTokenVersion and generations from the credential's current generation, the ` +
    `one both services pin.`;
  const verifying = (props: Record<string, unknown>) => wallet({ verification: { revoking: [], ...props } });

  test("the same generation everywhere passes; another expected generation is named against each source", async () => {
    expect(await check(wallet())).toEqual([]);
    const found = await check(verifying({ expectTokenVersion: 3, generations: { authToken: 4 } }));
    expect(messages(found)).toEqual([
      wrong(`control-service container 0 env ${TOKEN} pins auth-token-g4 (generation 4)`),
      wrong("executor-service advertises generation 4 (OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN_VERSION)"),
      wrong(`executor-service container 0 env ${TOKEN} pins auth-token-g4 (generation 4)`),
      wrong("it vouches for generations.authToken = 4"),
    ]);
    expect(found[0].urn).toBe(U(T.verification, "verification"));
  });

  test("the advertised generation: 1 when unset (the contract's default), and the pinned version's when its name has none", async () => {
    expect(messages(await check(wallet({ advertised: "absent" })))).toEqual([
      wrong("executor-service advertises generation 1 (OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN_VERSION)", 4),
    ]);
    // A version named otherwise takes the generation the executor advertises next to it: consistent, so it passes.
    const renamed = wallet().map((r) => (r.name === "auth-token-g4" ? resourceView({ ...r, name: "token-current" }) : r));
    expect(await check(renamed)).toEqual([]);
    // An advertised value that is no number, or comes from a secret, tells nothing.
    expect(await check(wallet({ advertised: "four" }))).toEqual([]);
    const fromSecret = wallet({
      executorEnvs: [
        plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_MODE", "mock"),
        secretEnv(TOKEN, "projects/p/secrets/tok", "14"),
        secretEnv("OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN_VERSION", "projects/p/secrets/v", "1"),
      ],
    });
    expect(await check(fromSecret)).toEqual([]);
  });

  test("preview: an unknown expectation, generation or advertised value is a note; a non-numeric expectation is not checked", async () => {
    const note = (checks: string[]) => [`advisory: ${skipNote("verification-expects-pinned-generation", checks)}`];
    expect(messages(await check(verifying({ expectTokenVersion: UNKNOWN, generations: { authToken: 4 } })))).toEqual(
      note(["verification: the generations it expects"]),
    );
    expect(messages(await check(verifying({ expectTokenVersion: 4, generations: UNKNOWN })))).toEqual(
      note(["verification: the generations it expects"]),
    );
    expect(messages(await check(verifying({ expectTokenVersion: 4, generations: { authToken: UNKNOWN } })))).toEqual(
      note(["verification: the generations it expects"]),
    );
    expect(messages(await check(wallet({ advertised: UNKNOWN })))).toEqual(note(["executor-service: the token generation it advertises"]));
    expect(await check(verifying({ expectTokenVersion: "3", generations: { authToken: 4 } }))).toEqual([]);
  });

  test("the other credentials it vouches for: the generation of the version the executor pins", async () => {
    const spark = secretNode("spark", "spark-api-key");
    const g2 = versionNode(spark, "spark-api-key-g2", { version: "12" });
    const stack = (generations: Record<string, unknown>) =>
      verifying({ expectTokenVersion: 4, generations: { authToken: 4, ...generations } }).map((r) =>
        r.name === "executor-service"
          ? resourceView({
              ...r,
              props: {
                ...r.props,
                template: {
                  containers: [
                    {
                      envs: [
                        ...(r.props.template as { containers: { envs: Env[] }[] }).containers[0].envs,
                        secretEnv("OA_LIGHTNING_SPARK_API_KEY", "projects/p/secrets/spark", "12"),
                      ],
                    },
                  ],
                },
              },
            })
          : r,
      );
    expect(await check([...stack({ sparkApiKey: 2 }), spark, g2])).toEqual([]);
    expect(messages(await check([...stack({ sparkApiKey: 3 }), spark, g2]))).toEqual([
      "mandatory: verification vouches for spark-api-key generation 3 (generations.sparkApiKey), but executor-service container 0 env " +
        "OA_LIGHTNING_SPARK_API_KEY pins spark-api-key-g2 (generation 2): it would vouch for a generation the executor does not run. To fix: " +
        "set generations.sparkApiKey from the credential's current generation.",
    ]);
    expect(messages(await check([...stack({ sparkApiKey: UNKNOWN }), spark, g2]))).toEqual([
      `advisory: ${skipNote("verification-expects-pinned-generation", ["verification: the generation of spark-api-key it vouches for"])}`,
    ]);
    // Nothing named for it, or a published version (no version resource): nothing to compare.
    expect(await check([...stack({}), spark, g2])).toEqual([]);
    expect(await check([...stack({ sparkApiKey: 3 }), spark])).toEqual([]);
  });

  test("the executor it checks: the one its inputs are built from, else every one", async () => {
    const second = cloudRun("executor-2", [
      plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_MODE", "mock"),
      plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN_VERSION", "9"),
    ]);
    const wiredTo = (urn: string) =>
      wallet().map((r) => (r.name === "verification" ? resourceView({ ...r, propertyDependencies: { baseUrl: [urn] } }) : r));
    expect(await check([...wiredTo(U(T.cloudRunService, "executor-service")), second])).toEqual([]);
    expect(messages(await check([...wiredTo(second.urn), second]))).toEqual([
      wrong("executor-2 advertises generation 9 (OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN_VERSION)", 4),
    ]);
    expect(messages(await check([...wallet(), second]))).toHaveLength(1);
  });
});

describe("the ordering policies, the cases between the rules", () => {
  test("verification-after-rollouts: an executor that reads no secret of the stack is still a rollout to follow", async () => {
    const executor = cloudRun("executor-service", [
      plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_MODE", "mock"),
      secretEnv(TOKEN, "projects/x/secrets/ext", "1"),
    ]);
    expect(messages(await checkStack(verificationAfterRollouts, [executor, verificationResource({})]))[0]).toContain(
      "verification does not depend on executor-service (the executor)",
    );
  });

  test("verification-expects-pinned-generation: nothing to compare is no finding (no authToken vouched, a pin on latest, a version with no generation)", async () => {
    const check = (stack: AnalyzerResourceView[]) => checkStack(verificationExpectsPinnedGeneration, stack);
    expect(await check(wallet({ verification: { expectTokenVersion: 4, generations: {}, revoking: [] } }))).toEqual([]);
    const latest = wallet({
      controlEnvs: [plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_BASE_URL", "x"), secretEnv(TOKEN, "projects/p/secrets/tok", "latest")],
    });
    expect(await check(latest)).toEqual([]);
    const token = secretNode("tok", "auth-token");
    const other = versionNode(token, "token-other", { version: "15" });
    const onOther = wallet({
      controlEnvs: [plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_BASE_URL", "x"), secretEnv(TOKEN, "projects/p/secrets/tok", "15")],
    });
    expect(await check([...onOther, other])).toEqual([]);
  });

  test("verification-expects-pinned-generation: another credential by its label, by its versions' names, never a version without a generation", async () => {
    const check = (stack: AnalyzerResourceView[]) => checkStack(verificationExpectsPinnedGeneration, stack);
    const withKey = (envName: string, secret: AnalyzerResourceView, version: AnalyzerResourceView, generations: Record<string, unknown>) =>
      wallet({
        verification: { expectTokenVersion: 4, generations: { authToken: 4, ...generations }, revoking: [] },
        executorEnvs: [
          plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_MODE", "mock"),
          secretEnv(TOKEN, "projects/p/secrets/tok", "14"),
          plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN_VERSION", "4"),
          secretEnv(envName, `projects/p/secrets/${String(secret.props.secretId)}`, String(version.props.version)),
        ],
      }).concat([secret, version]);
    // Labelled spark-api-key, its version named otherwise (key-g2): the label decides the key.
    const spark = secretNode("spark", "spark-api-key");
    expect(
      messages(await check(withKey("OTHER", spark, versionNode(spark, "key-g2", { version: "12" }), { sparkApiKey: 3 })))[0],
    ).toContain(
      "verification vouches for spark-api-key generation 3 (generations.sparkApiKey), but executor-service container 0 env OTHER pins key-g2 (generation 2)",
    );
    // No label, read under a name of its own: its versions' names decide the key.
    const ledger = resourceView({
      type: T.secret,
      name: "ledger",
      urn: U(T.secret, "ledger"),
      props: { secretId: "ledger", project: "p" },
    });
    const found = await check(withKey("LEDGER", ledger, versionNode(ledger, "ledger-g2", { version: "12" }), { ledger: 3 }));
    expect(messages(found)[0]).toContain("verification vouches for ledger generation 3 (generations.ledger)");
    // A version whose generation nothing tells is never compared.
    expect(await check(withKey("OTHER", spark, versionNode(spark, "key-current", { version: "12" }), { sparkApiKey: 3 }))).toEqual([]);
  });

  test("secret-access-before-rollout: a binding without a role, a secret id that names nothing, a reader of no secret on an unknown account", async () => {
    const check = (stack: AnalyzerResourceView[]) => checkStack(secretAccessBeforeRollout, stack);
    const stack = without(wallet(), "control-token-access");
    const token = stack[0];
    const ctlSa = stack.find((r) => r.name === "control-sa") as AnalyzerResourceView;
    const withGrant = (grant: AnalyzerResourceView) =>
      check([
        ...stack.map((r) => (r.name === "control-service" ? resourceView({ ...r, dependencies: [...r.dependencies, grant.urn] }) : r)),
        grant,
      ]);
    const refusedOnly = (found: Awaited<ReturnType<typeof check>>) => found.map((v) => [v.urn, v.enforcementLevel]);
    expect(refusedOnly(await withGrant(grantNode("g", token, ctlSa, { role: undefined })))).toEqual([
      [U(T.cloudRunService, "control-service"), "mandatory"],
    ]);
    const noName = resourceView({
      ...grantNode("g", token, ctlSa, { secretId: "not a name!" }),
      propertyDependencies: { member: [ctlSa.urn] },
    });
    expect(refusedOnly(await withGrant(noName))).toEqual([[U(T.cloudRunService, "control-service"), "mandatory"]]);
    const idle = cloudRun("idle", [plainEnv("MODE", "x")], { serviceAccount: UNKNOWN });
    expect(await check([...wallet(), idle])).toEqual([]);
  });

  test("secret-access-before-rollout: several grants that the reader does not wait for, or cannot be told, are listed", async () => {
    const check = (stack: AnalyzerResourceView[]) => checkStack(secretAccessBeforeRollout, stack);
    const stack = wallet({ executorDeps: [] });
    const token = stack[0];
    const execSa = stack.find((r) => r.name === "executor-sa") as AnalyzerResourceView;
    expect(messages(await check([...stack, grantNode("second-grant", token, execSa)]))[0]).toContain(
      "does not depend on executor-token-access or second-grant, which grants that access",
    );
    const unknownA = grantNode("a", token, execSa, { role: UNKNOWN });
    const unknownB = grantNode("b", token, execSa, { role: UNKNOWN });
    expect(messages(await check([...without(stack, "executor-token-access"), unknownA, unknownB]))[0]).toContain(
      "executor-service: whether a, b grants serviceAccount:exec@p.iam.gserviceaccount.com access to auth-token-secret",
    );
  });
});
