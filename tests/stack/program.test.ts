/**
 * The core stack, evaluated for real under the recording monitor: exact env wiring, exact
 * dependency edges, least-privilege grants, secrecy, and every class of bad config.
 */
import * as fc from "fast-check";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseStackConfig, RawConfig } from "../../stack/config";
import { TYPES } from "../../stack/phases";
import { REDACTED_PLACEHOLDER_PREFIX } from "../../stack/stack-file";
import { MOCK_SECRET_PREFIX, RecordedResource } from "../../harness/recording-monitor";
import { runStack, StackRun, throwIfFailed } from "../support/stack";
import { stackConfig } from "../support/project";

afterAll(() => pulumi.runtime.disconnect());

type Env = { name: string; value?: string; valueSource?: { secretKeyRef: { secret: string; version: string } } };

function containerEnv(service: RecordedResource): Env[] {
  const template = service.inputs.template as { containers: { envs: Env[] }[] };
  return template.containers[0].envs;
}

function envMap(service: RecordedResource): Record<string, string | { secret: string; version: string }> {
  const out: Record<string, string | { secret: string; version: string }> = {};
  for (const env of containerEnv(service)) out[env.name] = env.valueSource ? env.valueSource.secretKeyRef : (env.value as string);
  return out;
}

/** Every string anywhere in a value. */
function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value !== null && typeof value === "object") return Object.values(value).flatMap(strings);
  return [];
}

describe("the staging stack", () => {
  let run: StackRun;
  // Each test evaluates the program itself (≈0.1 s): mutation testing then knows which tests
  // exercise which component code (coverage in a beforeAll belongs to no test).
  beforeEach(async () => {
    run = await runStack({ stack: "staging" });
    throwIfFailed(run);
  });

  test("the executor gets exactly the contract's env, every secret pinned to a version number", () => {
    expect(envMap(run.byName("executor-service"))).toEqual({
      OA_LIGHTNING_WALLET_EXECUTOR_MODE: "spark",
      OA_LIGHTNING_WALLET_EXECUTOR_HOST: "0.0.0.0",
      OA_LIGHTNING_WALLET_EXECUTOR_PORT: "8080",
      OA_LIGHTNING_WALLET_ID: "openagents-staging",
      OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN: { secret: "projects/oa-wallet-staging/secrets/wallet-executor-auth-token", version: "14" },
      OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN_VERSION: "4",
      OA_LIGHTNING_SPARK_API_KEY: { secret: "projects/oa-wallet-staging/secrets/wallet-executor-spark-api-key", version: "12" },
      OA_LIGHTNING_SPARK_NETWORK: "regtest",
      OA_LIGHTNING_WALLET_MNEMONIC_PROVIDER: "gcp",
      OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION: "projects/oa-wallet-staging/secrets/wallet-executor-mnemonic/versions/11",
      OA_LIGHTNING_WALLET_ALLOWED_HOSTS: "l402.staging.openagents.com,sats4ai.com",
      OA_LIGHTNING_WALLET_REQUEST_CAP_MSATS: "200000",
      OA_LIGHTNING_WALLET_WINDOW_CAP_MSATS: "1000000",
      OA_LIGHTNING_WALLET_WINDOW_MS: "300000",
      OA_LIGHTNING_SPARK_PAYMENT_TIMEOUT_SECS: "45",
    });
    // No env var twice (Cloud Run would take one silently).
    const names = containerEnv(run.byName("executor-service")).map((env) => env.name);
    expect(new Set(names).size).toBe(names.length);
  });

  test("the executor listens on the container port, runs as its own account, and is public only behind its token", () => {
    const service = run.byName("executor-service");
    const template = service.inputs.template as {
      serviceAccount: string;
      containers: { image: string; ports: { containerPort: number } }[];
      scaling: unknown;
    };
    expect(template.containers[0].ports).toEqual({ containerPort: 8080 });
    expect(template.containers[0].image).toMatch(/@sha256:[0-9a-f]{64}$/);
    expect(template.serviceAccount).toBe("wallet-executor-run@oa-wallet-staging.iam.gserviceaccount.com");
    expect(template.scaling).toEqual({ minInstanceCount: 1, maxInstanceCount: 2 });
    expect(service.inputs).toMatchObject({
      name: "wallet-executor",
      location: "us-central1",
      ingress: "INGRESS_TRAFFIC_ALL",
      deletionProtection: true,
    });
    // `tagged` (the default): all traffic on the current generation's named revision, which carries
    // the generation's tag; generation 3 predates `taggedSince: 4`, so it has no tag to keep.
    const revision = (service.inputs.template as { revision: string }).revision;
    expect(revision).toMatch(/^wallet-executor-g4-[0-9a-f]{7}$/);
    expect(service.inputs.traffics).toEqual([{ type: "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", revision, percent: 100, tag: "g4" }]);
    expect(run.byName("executor-sa").inputs.displayName).toBe("Wallet executor (wallet-executor)");
    expect(run.byName("control-sa").inputs.displayName).toBe("Wallet control service (wallet-control)");
    expect(run.byName("executor-public-invoker").inputs).toMatchObject({ role: "roles/run.invoker", member: "allUsers" });
    expect(run.maybeByName("control-public-invoker")).toBeUndefined();
  });

  test("the control service gets the executor's URL, the SAME token secret version, and its timeout, under the canonical names", () => {
    expect(envMap(run.byName("control-service"))).toEqual({
      // The current generation's tag URL, as the executor service reports it in trafficStatuses.
      OA_LIGHTNING_WALLET_EXECUTOR_BASE_URL: "https://g4---wallet-executor-mock-uc.a.run.app",
      OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN: { secret: "projects/oa-wallet-staging/secrets/wallet-executor-auth-token", version: "14" },
      OA_LIGHTNING_WALLET_EXECUTOR_TIMEOUT_MS: "12000",
    });
    const executorToken = envMap(run.byName("executor-service")).OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN;
    expect(envMap(run.byName("control-service")).OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN).toEqual(executorToken);
  });

  test("no secret reference anywhere uses `latest` or an unpinned version", () => {
    for (const resource of run.resources) {
      // Every input but the dynamic provider's serialized code, which is code, not configuration.
      const { __provider: _code, ...inputs } = resource.inputs;
      for (const text of strings(inputs)) expect(text).not.toMatch(/\blatest\b/i);
    }
    for (const service of run.ofType(TYPES.cloudRunService)) {
      for (const env of containerEnv(service)) {
        if (env.valueSource) expect(env.valueSource.secretKeyRef.version).toMatch(/^[0-9]+$/);
      }
    }
  });

  test("pinned numbers come from the version resources' outputs, not from the generations", () => {
    // The mocks number versions generation + 10: a program pinning the generation would show "4".
    expect(run.outputs.credentials).toEqual({
      authToken: {
        currentGeneration: 4,
        currentVersion: "14",
        currentSource: "generated",
        previousGeneration: 3,
        previousVersion: "13",
        previousRevoked: true,
        compromisedGenerations: [],
      },
      sparkApiKey: { currentGeneration: 2, currentVersion: "12", currentSource: "config", compromisedGenerations: [] },
      mnemonic: { currentGeneration: 1, currentVersion: "11", currentSource: "config", compromisedGenerations: [] },
    });
  });

  test("the graph enforces the runbook's order: new version -> executor -> control -> verification -> revocation", () => {
    const current = run.byName("auth-token-g4");
    const executor = run.byName("executor-service");
    const control = run.byName("control-service");
    const verification = run.byName("verification");
    const revocation = run.byName("auth-token-g3");
    // Direct edges, as the engine receives them.
    expect(executor.dependencies).toContain(current.urn);
    expect(control.dependencies).toContain(executor.urn);
    expect(verification.dependencies).toContain(control.urn);
    expect(revocation.dependencies).toContain(verification.urn);
    // And the whole chain, transitively.
    expect(run.dependsTransitively(revocation, current)).toBe(true);
    expect(run.dependsTransitively(revocation, executor)).toBe(true);
    // Nothing earlier waits for anything later (no cycle, no inverted edge).
    expect(run.dependsTransitively(current, revocation)).toBe(false);
    expect(run.dependsTransitively(executor, control)).toBe(false);
    expect(run.dependsTransitively(control, verification)).toBe(false);
  });

  test("revocation disables exactly the previous generation, and the current one stays enabled", () => {
    expect(run.byName("auth-token-g3").inputs).toMatchObject({ enabled: false, deletionPolicy: "DISABLE" });
    expect(run.byName("auth-token-g4").inputs).toMatchObject({ enabled: true });
    expect(run.byName("verification").inputs.revoking).toEqual(["auth-token-g3"]);
  });

  test("each service starts only after its account may read its secrets", () => {
    const executor = run.byName("executor-service");
    for (const grant of ["executor-auth-token-access", "executor-spark-api-key-access", "executor-mnemonic-access"]) {
      expect(executor.dependencies).toContain(run.byName(grant).urn);
    }
    expect(run.byName("control-service").dependencies).toContain(run.byName("control-auth-token-access").urn);
  });

  test("each service account can read exactly the secrets its service uses, nothing project-wide", () => {
    const grants = run.ofType(TYPES.secretIamMember);
    const readable = (account: string): string[] =>
      grants
        .filter((grant) => grant.inputs.member === `serviceAccount:${account}`)
        .map((grant) => {
          expect(grant.inputs.role).toBe("roles/secretmanager.secretAccessor");
          return grant.inputs.secretId as string;
        })
        .sort();
    const referenced = (service: RecordedResource): string[] => {
      const env = envMap(service);
      const secrets = Object.values(env).flatMap((value) => (typeof value === "object" ? [value.secret] : []));
      const mnemonicPath = env.OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION;
      if (typeof mnemonicPath === "string") secrets.push(mnemonicPath.replace(/\/versions\/[0-9]+$/, ""));
      return [...new Set(secrets)].sort();
    };
    expect(readable("wallet-executor-run@oa-wallet-staging.iam.gserviceaccount.com")).toEqual(referenced(run.byName("executor-service")));
    expect(readable("wallet-executor-run@oa-wallet-staging.iam.gserviceaccount.com")).toHaveLength(3);
    expect(readable("wallet-control-run@oa-wallet-staging.iam.gserviceaccount.com")).toEqual([
      "projects/oa-wallet-staging/secrets/wallet-executor-auth-token",
    ]);
    expect(grants).toHaveLength(4);
    expect(run.resources.filter((r) => /projectIam/i.test(r.type))).toEqual([]);
  });

  test("every version is disabled, never deleted, when dropped; secrets keep destroyed versions recoverable", () => {
    const versions = run.ofType(TYPES.secretVersion);
    expect(versions.map((v) => v.name).sort()).toEqual(["auth-token-g3", "auth-token-g4", "mnemonic-g1", "spark-api-key-g2"]);
    for (const version of versions) expect(version.inputs.deletionPolicy).toBe("DISABLE");
    for (const secret of run.ofType(TYPES.secret)) {
      expect(secret.inputs.versionDestroyTtl).toBe("2592000s");
      expect(secret.inputs.deletionProtection).toBe(true);
      expect(secret.inputs.replication).toEqual({ userManaged: { replicas: [{ location: "us-central1" }] } });
    }
    expect(run.byName("mnemonic-secret").protect).toBe(true);
    expect(run.byName("auth-token-secret").protect).toBe(false);
  });

  test("the token's random source has at least 32 bytes of entropy", () => {
    for (const random of run.ofType(TYPES.randomPassword)) {
      expect(random.inputs).toMatchObject({ length: 48, special: false, upper: true, lower: true, numeric: true });
      expect((random.inputs.length as number) * Math.log2(62)).toBeGreaterThanOrEqual(256);
    }
  });

  test("secret values travel only as secrets and never reach a plain output", () => {
    for (const version of run.ofType(TYPES.secretVersion)) expect(version.secretPaths).toContain("secretData");
    expect([...run.byName("verification").secretPaths].sort()).toEqual(["payment", "previousToken", "token"]);
    const outputsText = JSON.stringify(run.outputs);
    expect(outputsText).not.toContain(MOCK_SECRET_PREFIX);
    expect(outputsText).not.toContain(REDACTED_PLACEHOLDER_PREFIX);
    // Plain (non-secret) inputs never hold a generated or configured secret value either.
    for (const resource of run.resources) {
      const plain = JSON.stringify(resource.inputs, (key, value: unknown) => (resource.secretPaths.includes(key) ? undefined : value));
      expect(plain).not.toContain(MOCK_SECRET_PREFIX);
      expect(plain).not.toContain(REDACTED_PLACEHOLDER_PREFIX);
    }
  });

  test("components register what they are as outputs: generations, pinned versions, URLs, accounts", () => {
    const outputsOf = (name: string): unknown =>
      run.registeredOutputs[(run.resources.find((r) => r.name === name && !r.custom) as RecordedResource).urn];
    expect(outputsOf("auth-token")).toEqual({
      secretResourceId: "projects/oa-wallet-staging/secrets/wallet-executor-auth-token",
      currentGeneration: 4,
      currentVersion: "14",
      previousGeneration: 3,
      previousVersion: "13",
      previousEnabled: false,
      compromisedGenerations: [],
    });
    // No previous generation: no previous keys at all.
    expect(outputsOf("spark-api-key")).toEqual({
      secretResourceId: "projects/oa-wallet-staging/secrets/wallet-executor-spark-api-key",
      currentGeneration: 2,
      currentVersion: "12",
      compromisedGenerations: [],
    });
    expect(outputsOf("executor")).toEqual({
      uri: "https://wallet-executor-mock-uc.a.run.app",
      currentUri: "https://g4---wallet-executor-mock-uc.a.run.app",
      tagUris: { g4: "https://g4---wallet-executor-mock-uc.a.run.app" },
      latestReadyRevision: expect.stringMatching(/^wallet-executor-g4-[0-9a-f]{7}$/) as unknown,
      serviceAccountEmail: "wallet-executor-run@oa-wallet-staging.iam.gserviceaccount.com",
    });
    expect(outputsOf("control")).toEqual({
      uri: "https://wallet-control-mock-uc.a.run.app",
      latestReadyRevision: "wallet-control-00001-mck",
      serviceAccountEmail: "wallet-control-run@oa-wallet-staging.iam.gserviceaccount.com",
    });
  });

  test("components parent their children, with names derived from the component's", () => {
    // Reads (the stack's references to itself and to staging) belong to the stack, not to a component; the gate and the
    // revocation steps are the stack's own top-level steps.
    const topLevel = new Set<string>([TYPES.verification, TYPES.executorTagRemoval, TYPES.revocationCheck]);
    for (const resource of run.resources.filter((r) => r.custom && !r.read && !topLevel.has(r.type))) {
      expect(resource.parent).toBeDefined();
      const parentName = (resource.parent as string).split("::").pop() as string;
      expect(resource.name.startsWith(parentName)).toBe(true);
    }
  });
});

describe("the prod stack", () => {
  let run: StackRun;
  beforeEach(async () => {
    run = await runStack({ stack: "prod" });
    throwIfFailed(run);
  });

  test("the control service reads its settings under the configured legacy names", () => {
    expect(envMap(run.byName("control-service"))).toEqual({
      SPARK_EXECUTOR_BASE_URL: "https://g3---wallet-executor-mock-uc.a.run.app",
      SPARK_EXECUTOR_AUTH_TOKEN: { secret: "projects/oa-wallet-prod/secrets/wallet-executor-auth-token", version: "13" },
      SPARK_EXECUTOR_TIMEOUT_MS: "12000",
    });
  });

  test("without revokePrevious the previous version stays enabled and waits for nothing", () => {
    const previous = run.byName("auth-token-g2");
    expect(previous.inputs.enabled).toBe(true);
    expect(previous.dependencies).not.toContain(run.byName("verification").urn);
    expect(run.ofType(TYPES.secretVersion).filter((v) => v.inputs.enabled === false)).toEqual([]);
    expect(run.byName("verification").inputs.revoking).toEqual([]);
    const authToken = run.resources.find((r) => r.name === "auth-token" && !r.custom) as RecordedResource;
    expect(run.registeredOutputs[authToken.urn]).toMatchObject({ previousGeneration: 2, previousEnabled: true });
  });

  test("the payment probe is off in prod, but verification still runs after the control rollout", () => {
    const verification = run.byName("verification");
    expect(verification.inputs.payment).toBeUndefined();
    expect(verification.dependencies).toContain(run.byName("control-service").urn);
    expect(verification.inputs).toMatchObject({
      expectTokenVersion: 3,
      expectMode: "spark",
      generations: { authToken: 3, sparkApiKey: 2, mnemonic: 1 },
    });
  });
});

describe("bad configuration fails with one clear message and registers nothing", () => {
  const cases: [string, Record<string, unknown>, string][] = [
    [
      "missing credential key",
      { unset: "authToken" },
      "wallet-executor:authToken: is required; allowed: an object { current: <integer >= 1>",
    ],
    [
      "non-integer generation",
      { authToken: { current: 2.5 } },
      "wallet-executor:authToken.current: 2.5 is not allowed; allowed: an integer from 1 to 1000000",
    ],
    [
      "non-positive generation",
      { sparkApiKey: { current: 0 } },
      "wallet-executor:sparkApiKey.current: 0 is not allowed; allowed: an integer from 1 to 1000000",
    ],
    [
      "generation given as text",
      { mnemonic: { current: "1" } },
      'wallet-executor:mnemonic.current: "1" is not allowed; allowed: an integer from 1 to 1000000',
    ],
    [
      "previous not older than current",
      { authToken: { current: 3, previous: 3 } },
      "wallet-executor:authToken.previous: 3 is not allowed; allowed: an integer < current (3)",
    ],
    [
      "revokePrevious without previous",
      { authToken: { current: 3, revokePrevious: true } },
      "wallet-executor:authToken.revokePrevious: is true but there is no previous generation to revoke",
    ],
    [
      "revokePrevious not a boolean",
      { authToken: { current: 3, previous: 2, revokePrevious: "yes" } },
      'wallet-executor:authToken.revokePrevious: "yes" is not allowed; allowed: true, false',
    ],
    [
      "a typo in a credential key",
      { authToken: { current: 3, previous: 2, revokePrevios: true } },
      'wallet-executor:authToken: unknown key "revokePrevios"; allowed keys: current, previous, revokePrevious',
    ],
    [
      "unknown environment",
      { environment: "production" },
      'wallet-executor:environment: "production" is not allowed; allowed: staging, prod',
    ],
    [
      "empty allowed hosts in spark mode",
      { executorPatch: { allowedHosts: [] } },
      "wallet-executor:executor.allowedHosts: is empty, but mode is spark; allowed: at least one host",
    ],
    [
      "an image without digest or tag",
      { executorPatch: { image: "us-central1-docker.pkg.dev/oa-wallet-staging/wallet/executor" } },
      'wallet-executor:executor.image: "us-central1-docker.pkg.dev/oa-wallet-staging/wallet/executor" is not allowed; allowed: a registry image pinned by digest',
    ],
    [
      "an image tagged latest",
      { executorPatch: { image: "us-central1-docker.pkg.dev/p/wallet/executor:latest" } },
      "wallet-executor:executor.image",
    ],
    [
      "a port that is not 8080",
      { executorPatch: { port: 8788 } },
      "wallet-executor:executor.port: 8788 is not allowed; allowed: 8080 (the container port; the executor does not read Cloud Run's PORT)",
    ],
    ["an unknown mode", { executorPatch: { mode: "live" } }, 'wallet-executor:executor.mode: "live" is not allowed; allowed: spark, mock'],
    [
      "disabling verification",
      { verification: { enabled: false } },
      "wallet-executor:verification.enabled: verification cannot be disabled",
    ],
    [
      "a smoke host the executor may not pay",
      { verification: { payment: { host: "evil.example.com", maxAmountMsats: 1000 } } },
      'wallet-executor:verification.payment.host: "evil.example.com" is not allowed; allowed: one of executor.allowedHosts',
    ],
    [
      "a control env name that is not a variable name",
      { controlPatch: { envNames: { baseUrl: "base-url" } } },
      'wallet-executor:control.envNames.baseUrl: "base-url" is not allowed; allowed: an environment variable name',
    ],
    ["missing GCP project", { unset: "gcp:project" }, "gcp:project: is required; allowed: a GCP project id"],
    ["a typo in a top-level key", { authTokn: { current: 1 } }, "wallet-executor:authTokn: unknown key"],
  ];

  function configWith(change: Record<string, unknown>): { set: Record<string, unknown>; unset: string[] } {
    const base = stackConfig("staging").config;
    const set: Record<string, unknown> = {};
    const unset: string[] = [];
    for (const [key, value] of Object.entries(change)) {
      if (key === "unset") unset.push(value as string);
      else if (key === "executorPatch") set.executor = { ...JSON.parse(base["wallet-executor:executor"]), ...(value as object) };
      else if (key === "controlPatch") set.control = { ...JSON.parse(base["wallet-executor:control"]), ...(value as object) };
      else set[key] = value;
    }
    return { set, unset };
  }

  test.each(cases)("%s", async (_label, change, message) => {
    const run = await runStack({ stack: "staging", ...configWith(change) });
    expect(run.error).toBeInstanceOf(ConfigError);
    expect((run.error as ConfigError).message).toContain(message);
    expect(run.resources).toEqual([]);
  });

  test("a secret value stored in plaintext is refused, without echoing it", async () => {
    const plain = await runStack({
      stack: "staging",
      set: { sparkApiKeyG3: "sk_live_plaintext_value", sparkApiKey: { current: 3, previous: 2 } },
    });
    expect((plain.error as Error).message).toBe(
      "invalid stack configuration: wallet-executor:sparkApiKeyG3: is stored in plaintext; allowed: an encrypted value, set with: pulumi config set --secret sparkApiKeyG3 < <file holding the value>",
    );
    expect((plain.error as Error).message).not.toContain("sk_live_plaintext_value");
    expect(plain.resources).toEqual([]);
  });

  test("a missing secret value names the key and the command that sets it", async () => {
    const run = await runStack({ stack: "staging", set: { sparkApiKey: { current: 3, previous: 2 } } });
    expect((run.error as Error).message).toBe(
      "invalid stack configuration: wallet-executor:sparkApiKeyG3: is required (a secret value); set it with: pulumi config set --secret sparkApiKeyG3 < <file holding the value>",
    );
    expect(run.resources).toEqual([]);
  });

  test("several problems are reported together, one line each", () => {
    const raw: RawConfig = { "gcp:project": "oa-wallet-staging", "gcp:region": "us-central1", "wallet-executor:environment": "qa" };
    expect(() => parseStackConfig(raw)).toThrow(ConfigError);
    try {
      parseStackConfig(raw);
    } catch (err) {
      const problems = (err as ConfigError).problems;
      expect(problems).toEqual(
        expect.arrayContaining([
          'wallet-executor:environment: "qa" is not allowed; allowed: staging, prod',
          "wallet-executor:executor: is required",
          "wallet-executor:control: is required",
          expect.stringContaining("wallet-executor:authToken: is required"),
        ]),
      );
      expect((err as Error).message.split("\n")[0]).toMatch(/^invalid stack configuration \([0-9]+ problems\):$/);
    }
  });
});

describe("property: config parsing", () => {
  const base = (): Record<string, unknown> => {
    const { config } = stackConfig("staging");
    const raw: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(config)) {
      raw[key] = /^wallet-executor:(executor|control|verification|authToken|sparkApiKey|mnemonic|rotation)$/.test(key)
        ? JSON.parse(value)
        : value;
    }
    return raw;
  };
  const KEYS = [
    "gcp:project",
    "gcp:region",
    "wallet-executor:environment",
    "wallet-executor:executor",
    "wallet-executor:control",
    "wallet-executor:verification",
    "wallet-executor:authToken",
    "wallet-executor:sparkApiKey",
    "wallet-executor:mnemonic",
    "wallet-executor:stagingStack",
    "wallet-executor:rotation",
  ];
  const FIELDS = [
    "current",
    "previous",
    "revokePrevious",
    "published",
    "image",
    "serviceName",
    "allowedHosts",
    "port",
    "mode",
    "payment",
    "envNames",
    "approval",
    "strategy",
    "taggedSince",
  ];

  test("any input parses into a consistent config or fails with a ConfigError whose every line names a key", () => {
    const change = fc.oneof(
      // Replace a whole key by anything (or remove it).
      fc.record({ key: fc.constantFrom(...KEYS), value: fc.option(fc.jsonValue(), { nil: undefined }) }),
      // Or one field inside an object-valued key.
      fc.record({ key: fc.constantFrom(...KEYS.slice(3)), field: fc.constantFrom(...FIELDS), value: fc.jsonValue() }),
    );
    fc.assert(
      fc.property(fc.array(change, { maxLength: 4 }), (changes) => {
        const raw = base();
        for (const c of changes) {
          if ("field" in c) {
            const target = raw[c.key];
            raw[c.key] = { ...(typeof target === "object" && target !== null && !Array.isArray(target) ? target : {}), [c.field]: c.value };
          } else if (c.value === undefined) delete raw[c.key];
          else raw[c.key] = c.value;
        }
        let parsed: ReturnType<typeof parseStackConfig>;
        try {
          parsed = parseStackConfig(raw, new Date("2026-06-01T00:00:00Z"));
        } catch (err) {
          expect(err).toBeInstanceOf(ConfigError);
          const problems = (err as ConfigError).problems;
          expect(problems.length).toBeGreaterThan(0);
          for (const line of problems) expect(KEYS.some((key) => line.startsWith(`${key}:`) || line.startsWith(`${key}.`))).toBe(true);
          return;
        }
        for (const credential of ["authToken", "sparkApiKey", "mnemonic"] as const) {
          const g = parsed[credential];
          expect(Number.isInteger(g.current) && g.current >= 1).toBe(true);
          if (g.previous !== undefined) expect(g.previous).toBeLessThan(g.current);
          if (g.revokePrevious) expect(g.previous).toBeDefined();
        }
        expect(parsed.executor.port).toBe(8080);
        if (parsed.executor.mode === "spark") expect(parsed.executor.allowedHosts.length).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
  });
});
