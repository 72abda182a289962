/**
 * The verification gate as a resource (its provider against real stand-in executors, and
 * serialized the way the engine runs it), revocation of published versions against a local
 * Secret Manager stand-in, and the high-risk controls: the Spark key's sources, the mnemonic's
 * approval, window, sign-off and staging-before-prod, and the emergency token rotation.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { ControlService } from "../../stack/components/control-service";
import {
  PublishedVersionRevocation,
  SECRET_MANAGER_API,
  publishedRevocationProvider,
  setVersionState,
} from "../../stack/components/published-version-revocation";
import { REVOCATION_GATE_LATER, RotatingSecret, RotatingSecretArgs } from "../../stack/components/rotating-secret";
import { Verification, verificationProvider } from "../../stack/components/verification";
import { tagRemovalProvider } from "../../stack/components/executor-tag-removal";
import { revocationCheckProvider } from "../../stack/components/revocation-check";
import { ConfigError, PROJECT } from "../../stack/config";
import { TYPES } from "../../stack/phases";
import { GateInputs, GateOutputs, changedTriggers, failureMessage, fingerprint, gateOutputs } from "../../verification/gate";
import { VerifyReport } from "../../verification/verify";
import { runPolicies } from "../../harness/policy-harness";
import { Evaluation, MOCK_SECRET_PREFIX, RecordedResource, UNKNOWN, evaluateProgram, stackMocks } from "../../harness/recording-monitor";
import { DEFAULT_IDENTITY_PUBKEY, StandInExecutor, startStandInExecutor } from "../../harness/stand-in-executor";
import { runStack, throwIfFailed } from "../support/stack";
import { ROOT } from "../support/project";

afterAll(() => pulumi.runtime.disconnect());

const TOKEN = "currentTokenValue0123456789abcdefghijklmnopqrstuvwxyzABCD";
const PREVIOUS = "previousTokenValue0123456789abcdefghijklmnopqrstuvwxyzAB";
const OTHER_IDENTITY = "03" + "cd".repeat(32);

/** The gate's inputs for a rotation to token generation 4, verified at `executor`'s URL. */
function gateInputs(executor: Pick<StandInExecutor, "url">, overrides: Partial<GateInputs> = {}): GateInputs {
  return {
    baseUrl: executor.url,
    expectTokenVersion: 4,
    generations: { authToken: 4, sparkApiKey: 2, mnemonic: 1 },
    executorRevision: "wallet-executor-00004-abc",
    controlRevision: "wallet-control-00009-def",
    revoking: ["auth-token-g3"],
    expectMode: "mock",
    deadlineMs: 30_000, // far above what a busy machine needs: a passing verification never waits it out
    token: TOKEN,
    previousToken: PREVIOUS,
    ...overrides,
  };
}

/**
 * A provider serialized as the engine serializes it (the SDK's closure serialization: seconds for
 * the verification's), once per provider for this file.
 */
const serializations = new Map<pulumi.dynamic.ResourceProvider, ReturnType<typeof pulumi.runtime.serializeFunction>>();
function serializedProvider(provider: pulumi.dynamic.ResourceProvider): ReturnType<typeof pulumi.runtime.serializeFunction> {
  let serialized = serializations.get(provider);
  if (serialized === undefined) {
    serialized = pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
    serializations.set(provider, serialized);
  }
  return serialized;
}
describe("the verification resource's provider", () => {
  const servers: StandInExecutor[] = [];
  const start = async (options: Parameters<typeof startStandInExecutor>[0]): Promise<StandInExecutor> => {
    const server = await startStandInExecutor({ token: TOKEN, tokenVersion: 4, ...options });
    servers.push(server);
    return server;
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  test("create verifies the executor and records what it verified, without any secret", async () => {
    const executor = await start({});
    const result = await verificationProvider.create(gateInputs(executor));
    const outs = result.outs as GateOutputs;
    expect(result.id).toMatch(/^verification-g4-\d{13}$/);
    // Nothing changed: no update; and never a replacement, which would take the revocation with it.
    expect(await verificationProvider.diff?.(result.id, outs, gateInputs(executor))).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
    expect(
      await verificationProvider.diff?.(result.id, outs, gateInputs(executor, { controlRevision: "wallet-control-00010-xyz" })),
    ).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
    await expect(verificationProvider.delete?.(result.id, outs)).resolves.toBeUndefined();
    expect(outs).toMatchObject({
      baseUrl: executor.url,
      expectTokenVersion: 4,
      generations: { authToken: 4, sparkApiKey: 2, mnemonic: 1 },
      revoking: ["auth-token-g3"],
      identityPubkey: DEFAULT_IDENTITY_PUBKEY,
      fingerprints: { token: fingerprint(TOKEN), previousToken: fingerprint(PREVIOUS), payment: null },
      mnemonicCutover: null,
    });
    expect(outs.checks.map((c) => c.name).sort()).toEqual([
      "auth-deterministic",
      "auth-missing-token",
      "auth-previous-token",
      "auth-wrong-token",
      "no-secret-echo",
      "status",
    ]);
    const text = JSON.stringify(result);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(PREVIOUS);
  });

  test("a failed check fails the step, names the check, keeps the previous version, and leaks no token", async () => {
    const executor = await start({ tokenVersion: 3 });
    const error = await verificationProvider.create(gateInputs(executor, { deadlineMs: 600 })).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toMatch(
      /^verification of http:\/\/127\.0\.0\.1:[0-9]+ \(token generation 4\) failed [0-9]+ of [0-9]+ checks; NOT revoked, still enabled: auth-token-g3:/,
    );
    expect(message).toContain("  - status: ");
    expect(message).not.toContain(TOKEN);
    expect(message).not.toContain(PREVIOUS);
  });

  test("the previous token still accepted fails verification: revocation would otherwise cut a live caller", async () => {
    const executor = await start({ alsoAcceptTokens: [PREVIOUS] });
    await expect(verificationProvider.create(gateInputs(executor))).rejects.toThrow(/- auth-previous-token: /);
  });

  test("diff asks for a new verification exactly when what is deployed changed", async () => {
    const executor = await start({});
    const outs = (await verificationProvider.create(gateInputs(executor))).outs as GateOutputs;
    const diff = (news: GateInputs) => verificationProvider.diff!("id", outs, news);
    await expect(diff(gateInputs(executor))).resolves.toMatchObject({ changes: false, replaces: [] });
    await expect(diff(gateInputs(executor, { deadlineMs: 9999 }))).resolves.toMatchObject({ changes: false });
    for (const change of [
      { executorRevision: "wallet-executor-00005-xyz" },
      { controlRevision: "wallet-control-00010-xyz" },
      { expectTokenVersion: 5 },
      { revoking: [] },
      { token: `${TOKEN}x` },
      { previousToken: undefined },
      { generations: { authToken: 4, sparkApiKey: 3, mnemonic: 1 } },
      { payment: { invoice: "lnbcrt1smoke", host: "h.example.com", maxAmountMsats: 1000 } },
    ] as Partial<GateInputs>[]) {
      await expect(diff(gateInputs(executor, change))).resolves.toMatchObject({ changes: true, replaces: [] });
    }
  });

  test("after a mnemonic rotation, the old identity must be gone, and becomes the reconciliation hand-off", async () => {
    const before = await start({ balanceSats: 21_000 });
    const olds = (await verificationProvider.create(gateInputs(before))).outs as GateOutputs;

    // The executor still shows the old wallet after "rotating" the mnemonic: verification fails.
    const unchanged = await start({ balanceSats: 21_000 });
    const rotated = gateInputs(unchanged, { generations: { authToken: 4, sparkApiKey: 2, mnemonic: 2 } });
    await expect(verificationProvider.update!("id", olds, rotated)).rejects.toThrow(/- identity: /);

    const changed = await start({ identityPubkey: OTHER_IDENTITY, balanceSats: 0 });
    const result = await verificationProvider.update!(
      "id",
      olds,
      gateInputs(changed, { generations: { authToken: 4, sparkApiKey: 2, mnemonic: 2 } }),
    );
    const outs = result.outs as GateOutputs;
    expect(outs.identityPubkey).toBe(OTHER_IDENTITY);
    expect(outs.mnemonicCutover).toEqual({
      fromGeneration: 1,
      toGeneration: 2,
      previousIdentityPubkey: DEFAULT_IDENTITY_PUBKEY,
      previousBalanceSats: 21_000,
      previousSeenAt: olds.verifiedAt,
      newIdentityPubkey: OTHER_IDENTITY,
      cutoverAt: outs.verifiedAt,
    });
    // A later verification without a mnemonic change keeps the hand-off.
    const later = await verificationProvider.update!(
      "id",
      outs,
      gateInputs(changed, { generations: { authToken: 4, sparkApiKey: 2, mnemonic: 2 }, executorRevision: "next" }),
    );
    expect((later.outs as GateOutputs).mnemonicCutover).toEqual(outs.mnemonicCutover);
  });

  test("an expected identity that the executor does not show fails verification", async () => {
    const executor = await start({});
    await expect(verificationProvider.create(gateInputs(executor, { expectIdentity: OTHER_IDENTITY }))).rejects.toThrow(/- identity: /);
  });

  test("serialized as the engine serializes it, the provider runs in a fresh process against a real executor", async () => {
    const executor = await start({});
    const serialized = await serializedProvider(verificationProvider);
    // Inside the repository, so the serialized `require("undici")` resolves as in the provider plugin.
    const dir = path.join(ROOT, "tests", ".tmp");
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `verification-provider-${process.pid}.js`);
    fs.writeFileSync(file, serialized.text);
    const script = `
      const provider = require(${JSON.stringify(file)}).${serialized.exportName}();
      provider.create(JSON.parse(process.env.GATE_INPUTS)).then(
        (r) => { process.stdout.write(JSON.stringify(r.outs)); },
        (e) => { process.stderr.write(String(e.message)); process.exitCode = 1; });`;
    // Async: the executor answering this child lives in this process's event loop.
    const child = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const proc = spawn(process.execPath, ["-e", script], {
        env: { PATH: process.env.PATH, GATE_INPUTS: JSON.stringify(gateInputs(executor)) },
      });
      let stdout = "";
      let stderr = "";
      proc.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      proc.on("close", (status: number | null) => resolve({ status, stdout, stderr }));
    });
    fs.rmSync(file, { force: true });
    expect(child.stderr).toBe("");
    expect(child.status).toBe(0);
    expect(JSON.parse(child.stdout)).toMatchObject({ expectTokenVersion: 4, identityPubkey: DEFAULT_IDENTITY_PUBKEY });
    expect(child.stdout).not.toContain(TOKEN);
  });
});

// Tests of the graph evaluate the program with a marker in place of the providers' code
// (tests/support/stack.ts): here each provider is serialized as the engine serializes it.
describe("every dynamic provider of the program, serialized as the engine serializes it", () => {
  test.each([
    ["verification", verificationProvider],
    ["published version revocation", publishedRevocationProvider],
    ["executor tag removal", tagRemovalProvider],
    ["revocation check", revocationCheckProvider],
  ] as const)("%s: serializes, capturing no secret", async (_name, provider) => {
    const serialized = await serializedProvider(provider);
    expect(serialized.exportName).toBe("handler");
    expect(serialized.text).toContain("exports.handler");
    expect(serialized.containsSecrets).toBe(false);
  });
});

describe("revoking a published (not stack-owned) version", () => {
  let server: http.Server;
  let apiBase: string;
  const calls: { method?: string; path: string; auth: string | undefined; contentType?: string; body: string }[] = [];
  let answer = 200;
  let answerBody: string | undefined;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString()));
      req.on("end", () => {
        calls.push({
          method: req.method,
          path: req.url ?? "",
          auth: req.headers.authorization,
          contentType: req.headers["content-type"],
          body,
        });
        res.writeHead(answer, { "content-type": "application/json" });
        res.end(
          answerBody ??
            (answer === 200
              ? JSON.stringify({ name: "x", state: "DISABLED" })
              : JSON.stringify({ error: { code: answer, message: "Permission denied on resource" } })),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    apiBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test("create disables the version through the API, with the deployer's token", async () => {
    calls.length = 0;
    answer = 200;
    const result = await publishedRevocationProvider.create({
      versionName: "projects/p/secrets/s/versions/7",
      accessToken: "ya29.deployer",
      apiBase,
    });
    expect(calls).toEqual([
      {
        method: "POST",
        path: "/v1/projects/p/secrets/s/versions/7:disable",
        auth: "Bearer ya29.deployer",
        contentType: "application/json",
        body: "{}",
      },
    ]);
    expect(result.outs).toEqual({ versionName: "projects/p/secrets/s/versions/7", apiBase, state: "DISABLED" });
  });

  test("a refusal fails the step with the API's answer, never the token", async () => {
    answer = 403;
    const error = await setVersionState(
      { versionName: "projects/p/secrets/s/versions/7", accessToken: "ya29.deployer", apiBase },
      "disable",
    ).catch((e: Error) => e);
    expect((error as Error).message).toMatch(/^Secret Manager refused to disable projects\/p\/secrets\/s\/versions\/7: HTTP 403 /);
    expect((error as Error).message).not.toContain("ya29.deployer");
  });

  test("a refusal that echoes the token shows it redacted, and at most 300 characters of the answer", async () => {
    answer = 401;
    answerBody = `token ya29.deployer is expired; ya29.deployer ${"x".repeat(400)}`;
    try {
      const error = await setVersionState(
        { versionName: "projects/p/secrets/s/versions/7", accessToken: "ya29.deployer", apiBase },
        "enable",
      ).catch((e: Error) => e);
      expect((error as Error).message).toBe(
        "Secret Manager refused to enable projects/p/secrets/s/versions/7: HTTP 401 " +
          `token [redacted] is expired; [redacted] ${"x".repeat(300 - "token [redacted] is expired; [redacted] ".length)}`,
      );
    } finally {
      answerBody = undefined;
    }
  });

  test("a refusal that echoes part of the token, or credentials, or control characters shows none of them", async () => {
    answer = 403;
    const accessToken = "ya29.deployerTokenValue0123456789";
    answerBody = `partial ${accessToken.slice(8, 22)}\n\u001b[31mAuthorization: Bearer other-credential-1\u001b[0m`;
    try {
      const error = await setVersionState({ versionName: "projects/p/secrets/s/versions/7", accessToken, apiBase }, "disable").catch(
        (e: Error) => e,
      );
      expect((error as Error).message).toBe(
        "Secret Manager refused to disable projects/p/secrets/s/versions/7: HTTP 403 partial [redacted]\\n\\u001b[31mAuthorization: Bearer [redacted]\\u001b[0m",
      );
    } finally {
      answerBody = undefined;
    }
  });

  test("an answer without a state is reported as UNKNOWN, not as a state", async () => {
    answer = 200;
    answerBody = "{}";
    try {
      const inputs = { versionName: "projects/p/secrets/s/versions/7", accessToken: "ya29.deployer", apiBase };
      expect(await setVersionState(inputs, "disable")).toBe("UNKNOWN");
    } finally {
      answerBody = undefined;
    }
  });

  test("diff: a new token alone changes nothing; another version is a replacement; delete calls nothing", async () => {
    calls.length = 0;
    const olds = { versionName: "projects/p/secrets/s/versions/7", accessToken: "ya29.old", apiBase };
    expect(await publishedRevocationProvider.diff?.("id", olds, { ...olds, accessToken: "ya29.new" })).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
    expect(await publishedRevocationProvider.diff?.("id", olds, { ...olds, versionName: "projects/p/secrets/s/versions/8" })).toEqual({
      changes: true,
      replaces: ["versionName"],
      deleteBeforeReplace: false,
    });
    await expect(publishedRevocationProvider.delete?.("id", olds)).resolves.toBeUndefined();
    expect(calls).toEqual([]);
  });
});

describe("components on their own", () => {
  const BASE: RotatingSecretArgs = {
    secretId: "wallet-executor-auth-token",
    project: "p",
    region: "us-central1",
    labels: {},
    current: 2,
    revokePrevious: false,
    values: { kind: "random-token" },
    destroyTtlDays: 30,
  };
  const evaluate = (program: () => unknown): Promise<Evaluation> =>
    evaluateProgram({ program, project: PROJECT, stack: "staging", config: {}, mocks: stackMocks() });

  test("a revocation gate given later: the old version is registered by revokePreviousAfter, under the URN a direct gate gives", async () => {
    const args = { ...BASE, previous: 1, revokePrevious: true };
    const direct = await evaluate(() => {
      const gate = new random.RandomId("gate", { byteLength: 4 });
      new RotatingSecret("auth-token", { ...args, revocationGate: gate });
    });
    let pendingBefore: boolean | undefined;
    let pendingAfter: boolean | undefined;
    let previousBefore: unknown = "unset";
    const later = await evaluate(() => {
      const secret = new RotatingSecret("auth-token", { ...args, revocationGate: REVOCATION_GATE_LATER });
      pendingBefore = secret.revocationPending;
      previousBefore = secret.previous;
      // The gate is built from the secret's own outputs, as the verification is.
      const gate = new random.RandomId("gate", { byteLength: 4, keepers: { token: secret.current.versionNumber } });
      secret.revokePreviousAfter(gate);
      pendingAfter = secret.revocationPending;
      secret.revokePreviousAfter(gate); // nothing left to register: a no-op
    });
    throwIfFailed(direct);
    throwIfFailed(later);
    expect([pendingBefore, previousBefore, pendingAfter]).toEqual([true, undefined, false]);
    const byName = (run: Evaluation, name: string) => run.resources.filter((r) => r.name === name);
    const [old] = byName(later, "auth-token-g1");
    expect(byName(later, "auth-token-g1")).toHaveLength(1);
    expect(old.urn).toBe(byName(direct, "auth-token-g1")[0].urn);
    expect(old.inputs.enabled).toBe(false);
    expect(old.dependencies).toContain(byName(later, "gate")[0].urn);
    // Its value exists from the start (the verification checks the old token is refused).
    expect(byName(later, "auth-token-g1-value")[0].urn).toBe(byName(direct, "auth-token-g1-value")[0].urn);
    const component = byName(later, "auth-token")[0];
    expect(later.registeredOutputs[component.urn]).toMatchObject({ previousGeneration: 1, previousVersion: "11", previousEnabled: false });
  });

  test.each<[string, (gate: pulumi.Resource) => Partial<RotatingSecretArgs>, string]>([
    ["revoking without a previous generation", () => ({ revokePrevious: true }), "auth-token: revokePrevious needs a previous generation"],
    [
      "revoking without a gate",
      () => ({ previous: 1, revokePrevious: true }),
      "auth-token: revokePrevious needs a revocation gate (the verification of generation 2)",
    ],
    [
      "a provided generation without its value",
      () => ({ values: { kind: "provided", values: { 1: "v1" } } }),
      "auth-token: no value for generation 2",
    ],
    [
      "revoking a published version without an access token",
      (gate) => ({
        previous: 1,
        revokePrevious: true,
        revocationGate: gate,
        values: { kind: "provided", values: { 2: "v2" }, published: { 1: 7 } },
      }),
      "auth-token-g1: revoking a published version needs revocationAccessToken",
    ],
  ])("RotatingSecret refuses %s, with that message", async (_label, args, message) => {
    const run = await evaluate(() => {
      const gate = new random.RandomId("gate", { byteLength: 4 });
      new RotatingSecret("auth-token", { ...BASE, ...args(gate) });
    });
    expect(run.error).toBeInstanceOf(Error);
    expect((run.error as Error).message).toBe(message);
  });

  test("a published revocation defaults to the public API and keeps the access token secret, in and out", async () => {
    const run = await evaluate(() => {
      new PublishedVersionRevocation("revocation", { versionName: "projects/p/secrets/s/versions/7", accessToken: "ya29.deployer" }, {});
    });
    throwIfFailed(run);
    const [revocation] = run.resources.filter((r) => r.name === "revocation");
    expect(revocation.inputs.apiBase).toBe(SECRET_MANAGER_API);
    expect(revocation.secretPaths).toContain("accessToken");
    expect(revocation.additionalSecretOutputs).toEqual(["accessToken"]);
  });

  test("a verification without a previous token or payment carries only the token as secret; outputs never show any", async () => {
    const run = await evaluate(() => {
      new Verification(
        "verification",
        {
          baseUrl: "https://x.example",
          expectTokenVersion: 2,
          generations: { authToken: 2, sparkApiKey: 1, mnemonic: 1 },
          executorRevision: "e-1",
          controlRevision: "c-1",
          revoking: [],
          expectMode: "mock",
          deadlineMs: 1000,
          token: "t".repeat(48),
        },
        {},
      );
    });
    throwIfFailed(run);
    const [verification] = run.resources.filter((r) => r.name === "verification");
    expect(verification.secretPaths).toEqual(["token"]);
    expect(verification.inputs.previousToken).toBeUndefined();
    expect(verification.inputs.payment).toBeUndefined();
    expect(verification.additionalSecretOutputs).toEqual(["token", "previousToken", "payment"]);
  });

  test("the control rollout waits for the executor service it is given, even when its URL is a literal", async () => {
    const run = await evaluate(() => {
      const executor = new random.RandomId("executor-stand-in", { byteLength: 4 });
      new ControlService("control", {
        project: "p",
        location: "us-central1",
        serviceName: "wallet-control",
        serviceAccountId: "wallet-control-run",
        image: "i@sha256:00",
        minInstances: 0,
        maxInstances: 1,
        ingress: "internal",
        publicInvoker: false,
        port: 8080,
        envNames: { baseUrl: "B", authToken: "T", timeoutMs: "M" },
        executorUrl: "https://executor.example",
        executorTimeoutMs: 1000,
        authToken: { secretResourceId: "projects/p/secrets/tok", versionNumber: "3" },
        executorService: executor,
      });
    });
    throwIfFailed(run);
    const executor = run.resources.find((r) => r.name === "executor-stand-in") as RecordedResource;
    expect(run.resources.find((r) => r.name === "control-service")?.dependencies).toContain(executor.urn);
  });
});

const APPROVAL = {
  ticket: "CHG-2041",
  approver: "cfo@openagents.com",
  windowStart: new Date(Date.now() - 3_600_000).toISOString(),
  windowEnd: new Date(Date.now() + 3_600_000).toISOString(),
};
const SIGNOFF = { by: "finance@openagents.com", at: "2026-11-20T10:00:00Z", reference: "RECON-77" };
const MNEMONIC_G2 = "mnemonicG2";

/** A staging mnemonic rotation from generation 1 to 2, with whatever else is given. */
function mnemonicRotation(extra: Record<string, unknown>): Record<string, unknown> {
  return { mnemonic: { current: 2, previous: 1, ...extra }, [MNEMONIC_G2]: "abandon abandon ability" };
}

describe("mnemonic rotation controls", () => {
  test.each([
    ["no approval", {}, "wallet-executor:mnemonic.approval: is required while a mnemonic rotation is in progress (previous is set)"],
    [
      "an approval without a ticket",
      { approval: { ...APPROVAL, ticket: undefined } },
      "wallet-executor:mnemonic.approval.ticket: is required",
    ],
    [
      "a window without a zone",
      { approval: { ...APPROVAL, windowStart: "2026-12-01T02:00:00" } },
      'wallet-executor:mnemonic.approval.windowStart: "2026-12-01T02:00:00" is not allowed; allowed: an ISO 8601 timestamp with a zone',
    ],
    [
      "a window that ends before it starts",
      { approval: { ...APPROVAL, windowEnd: "2020-01-01T00:00:00Z" } },
      "wallet-executor:mnemonic.approval.windowEnd: 2020-01-01T00:00:00Z is not allowed; allowed: a time after windowStart",
    ],
    [
      "outside the window",
      { approval: { ...APPROVAL, windowStart: "2026-01-01T02:00:00Z", windowEnd: "2026-01-01T04:00:00Z" } },
      "is outside the approved maintenance window 2026-01-01T02:00:00Z .. 2026-01-01T04:00:00Z; allowed: run inside the window, or record why in approval.overrideReason",
    ],
    [
      "revocation without a sign-off",
      { approval: APPROVAL, revokePrevious: true },
      "wallet-executor:mnemonic.reconciliationSignoff: is required to revoke the previous mnemonic",
    ],
    [
      "an identity that is not a public key",
      { approval: APPROVAL, expectIdentity: "bob" },
      'wallet-executor:mnemonic.expectIdentity: "bob" is not allowed',
    ],
  ])("%s is refused before anything is registered", async (_label, extra, message) => {
    const run = await runStack({ stack: "staging", set: mnemonicRotation(extra), secret: [MNEMONIC_G2] });
    expect(run.error).toBeInstanceOf(ConfigError);
    expect((run.error as Error).message).toContain(message);
    expect(run.resources).toEqual([]);
  });

  test("inside the window, the rotation is planned: both versions enabled, the secret protected", async () => {
    const run = await runStack({ stack: "staging", set: mnemonicRotation({ approval: APPROVAL }), secret: [MNEMONIC_G2] });
    expect(run.error).toBeUndefined();
    expect(run.byName("mnemonic-g2").inputs).toMatchObject({ enabled: true, deletionPolicy: "DISABLE" });
    expect(run.byName("mnemonic-g1").inputs).toMatchObject({ enabled: true, deletionPolicy: "DISABLE" });
    expect(run.byName("mnemonic-secret").protect).toBe(true);
    const env = (run.byName("executor-service").inputs.template as { containers: { envs: { name: string; value?: string }[] }[] })
      .containers[0].envs;
    expect(env.find((e) => e.name === "OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION")?.value).toBe(
      "projects/oa-wallet-staging/secrets/wallet-executor-mnemonic/versions/12",
    );
    expect(run.byName("verification").inputs.generations).toEqual({ authToken: 4, sparkApiKey: 2, mnemonic: 2 });
  });

  test("outside the window with a recorded override reason, the rotation is planned", async () => {
    const approval = {
      ...APPROVAL,
      windowStart: "2026-01-01T02:00:00Z",
      windowEnd: "2026-01-01T04:00:00Z",
      overrideReason: "INC-991: wallet compromised",
    };
    const run = await runStack({ stack: "staging", set: mnemonicRotation({ approval }), secret: [MNEMONIC_G2] });
    expect(run.error).toBeUndefined();
    expect(run.maybeByName("mnemonic-g2")).toBeDefined();
  });

  test("with a sign-off, the previous mnemonic is disabled after verification", async () => {
    const run = await runStack({
      stack: "staging",
      set: mnemonicRotation({ approval: APPROVAL, revokePrevious: true, reconciliationSignoff: SIGNOFF }),
      secret: [MNEMONIC_G2],
    });
    expect(run.error).toBeUndefined();
    const revoked = run.byName("mnemonic-g1");
    expect(revoked.inputs).toMatchObject({ enabled: false, deletionPolicy: "DISABLE" });
    expect(revoked.dependencies).toContain(run.byName("verification").urn);
    expect(run.byName("verification").inputs.revoking).toEqual(["auth-token-g3", "mnemonic-g1"]);
  });

  const prodRotation = { ...mnemonicRotation({ approval: APPROVAL }) };

  test("prod refuses a mnemonic generation staging has not verified, registering only the references it read", async () => {
    const run = await runStack({
      stack: "prod",
      set: prodRotation,
      secret: [MNEMONIC_G2],
      mocks: { stackOutputs: { staging: { verifiedGenerations: { authToken: 4, sparkApiKey: 2, mnemonic: 1 } } } },
    });
    expect((run.error as Error).message).toBe(
      "invalid stack configuration: wallet-executor:mnemonic.current: generation 2 has not been verified in staging " +
        "(organization/wallet-executor/staging verified mnemonic generation 1); allowed: a generation staging has verified: rotate and verify staging first",
    );
    expect(run.resources.map((r) => [r.type, r.name])).toEqual([
      ["pulumi:pulumi:StackReference", "last-applied"],
      ["pulumi:pulumi:StackReference", "staging-verification"],
    ]);
  });

  test("prod refuses when staging exports no verification at all", async () => {
    const run = await runStack({ stack: "prod", set: prodRotation, secret: [MNEMONIC_G2] });
    expect((run.error as Error).message).toContain("(organization/wallet-executor/staging exports no verified mnemonic generation)");
  });

  test("prod proceeds once staging verified the generation, reading the configured staging stack", async () => {
    const run = await runStack({
      stack: "prod",
      set: { ...prodRotation, stagingStack: "openagents/wallet-executor/staging" },
      secret: [MNEMONIC_G2],
      mocks: {
        stackOutputs: { "openagents/wallet-executor/staging": { verifiedGenerations: { authToken: 4, sparkApiKey: 2, mnemonic: 2 } } },
      },
    });
    expect(run.error).toBeUndefined();
    expect(run.byName("staging-verification").inputs.name).toBe("openagents/wallet-executor/staging");
    expect(run.byName("mnemonic-g2").inputs.enabled).toBe(true);
  });

  test("stagingStack on a staging stack is refused", async () => {
    const run = await runStack({ stack: "staging", set: { stagingStack: "openagents/wallet-executor/staging" } });
    expect((run.error as Error).message).toContain(
      "wallet-executor:stagingStack: is set, but only a prod stack reads staging's verified generations",
    );
  });
});

describe("Spark API key sources", () => {
  const envOf = (run: { byName(n: string): RecordedResource }): Record<string, unknown> =>
    Object.fromEntries(
      (
        run.byName("executor-service").inputs.template as {
          containers: { envs: { name: string; value?: string; valueSource?: unknown }[] }[];
        }
      ).containers[0].envs.map((e) => [e.name, e.valueSource ?? e.value]),
    );

  test("a published version is pinned by its number; the stack holds no value and creates no version for it", async () => {
    const run = await runStack({ stack: "staging", set: { sparkApiKey: { current: 3, previous: 2, published: { "3": 7 } } } });
    expect(run.error).toBeUndefined();
    expect(envOf(run).OA_LIGHTNING_SPARK_API_KEY).toEqual({
      secretKeyRef: { secret: "projects/oa-wallet-staging/secrets/wallet-executor-spark-api-key", version: "7" },
    });
    expect(run.maybeByName("spark-api-key-g3")).toBeUndefined();
    expect(run.byName("spark-api-key-g2").inputs.enabled).toBe(true);
    expect(run.outputs.credentials).toMatchObject({
      sparkApiKey: { currentGeneration: 3, currentVersion: "7", previousGeneration: 2, previousVersion: "12" },
    });
  });

  test("a config-sourced value is published as a new version, secret, and visible in no output", async () => {
    const value = "sk_test_4eC39HqLyjWDarjtT1zdp7dc";
    const run = await runStack({
      stack: "staging",
      set: { sparkApiKey: { current: 3, previous: 2 }, sparkApiKeyG3: value },
      secret: ["sparkApiKeyG3"],
    });
    expect(run.error).toBeUndefined();
    const version = run.byName("spark-api-key-g3");
    expect(version.secretPaths).toEqual(["secretData"]);
    expect(version.inputs.secretData).toBe(value);
    for (const resource of run.resources) {
      const plain = JSON.stringify(resource.inputs, (key, v: unknown) => (resource.secretPaths.includes(key) ? undefined : v));
      expect(plain).not.toContain(value);
    }
    expect(JSON.stringify(run.outputs)).not.toContain(value);
  });

  test("revoking a published previous version goes through the API, after verification", async () => {
    const run = await runStack({
      stack: "staging",
      set: { sparkApiKey: { current: 3, previous: 2, revokePrevious: true, published: { "2": 5 } }, sparkApiKeyG3: "sk_new" },
      secret: ["sparkApiKeyG3"],
    });
    expect(run.error).toBeUndefined();
    const revocation = run.byName("spark-api-key-g2-revocation");
    expect(revocation.type).toBe(TYPES.publishedVersionRevocation);
    expect(revocation.inputs.versionName).toBe("projects/oa-wallet-staging/secrets/wallet-executor-spark-api-key/versions/5");
    expect(revocation.dependencies).toContain(run.byName("verification").urn);
    expect(revocation.secretPaths).toEqual(["accessToken"]);
    expect(JSON.stringify(run.outputs)).not.toContain(MOCK_SECRET_PREFIX);
  });

  test("in preview the deployer's token stays unknown, so a saved update plan never pins a token the apply replaces", async () => {
    const set = { sparkApiKey: { current: 3, previous: 2, revokePrevious: true, published: { "2": 5 } }, sparkApiKeyG3: "sk_new" };
    const preview = await runStack({ stack: "staging", set, secret: ["sparkApiKeyG3"], preview: true });
    expect(preview.error).toBeUndefined();
    expect(preview.byName("spark-api-key-g2-revocation").inputs.accessToken).toBe(UNKNOWN);
    const applied = await runStack({ stack: "staging", set, secret: ["sparkApiKeyG3"] });
    expect(applied.byName("spark-api-key-g2-revocation").inputs.accessToken).toEqual(expect.stringContaining(MOCK_SECRET_PREFIX));
  });

  test("published versions are only for configured generations", async () => {
    const run = await runStack({ stack: "staging", set: { sparkApiKey: { current: 2, published: { "9": 5 } } } });
    expect((run.error as Error).message).toContain(
      'wallet-executor:sparkApiKey.published: generation "9" is not allowed; allowed: 2 (the configured generations)',
    );
  });
});

describe("the emergency path: a compromised token", () => {
  test("one config change rotates and revokes in the same up, in the fixed order", async () => {
    const run = await runStack({ stack: "prod", set: { authToken: { current: 4, previous: 3, revokePrevious: true } } });
    expect(run.error).toBeUndefined();
    const fresh = run.byName("auth-token-g4");
    const executor = run.byName("executor-service");
    const control = run.byName("control-service");
    const verification = run.byName("verification");
    const revoked = run.byName("auth-token-g3");
    expect(fresh.inputs.enabled).toBe(true);
    expect(revoked.inputs.enabled).toBe(false);
    expect(executor.dependencies).toContain(fresh.urn);
    expect(control.dependencies).toContain(executor.urn);
    expect(verification.dependencies).toContain(control.urn);
    expect(revoked.dependencies).toContain(verification.urn);
    // The compromised token must get the deterministic 401 before it is revoked.
    expect(verification.inputs.previousToken).toMatch(new RegExp(`^${MOCK_SECRET_PREFIX}_authtokeng3value`));
    expect(verification.inputs.token).toMatch(new RegExp(`^${MOCK_SECRET_PREFIX}_authtokeng4value`));
    expect(verification.secretPaths).toContain("previousToken");
    expect(run.maybeByName("auth-token-g2")).toBeUndefined();
  });
});

describe("the policy pack checks the mnemonic's recoverability again", () => {
  test("a mnemonic version with DELETE, or an unprotected mnemonic secret, is refused", async () => {
    const run = await runStack({ stack: "staging" });
    expect(run.error).toBeUndefined();
    const tamper = (name: string, change: (r: RecordedResource) => RecordedResource): RecordedResource[] =>
      run.resources.map((r) => (r.name === name ? change(r) : r));
    expect(await runPolicies(run.resources)).toEqual([]);

    const deleting = await runPolicies(tamper("mnemonic-g1", (r) => ({ ...r, inputs: { ...r.inputs, deletionPolicy: "DELETE" } })));
    expect(deleting.map((v) => [v.policy, v.enforcementLevel, v.urn?.split("::").pop()])).toEqual([
      ["secret-versions-recoverable", "mandatory", "mnemonic-g1"],
    ]);

    const unprotected = await runPolicies(tamper("mnemonic-secret", (r) => ({ ...r, protect: false })));
    expect(unprotected.map((v) => [v.policy, v.enforcementLevel, v.urn?.split("::").pop()])).toEqual([
      ["secret-versions-recoverable", "mandatory", "mnemonic-secret"],
    ]);
    expect(unprotected[0].message).toMatch(/protect/);
  });
});

describe("the gate's own logic (lib/verification-gate)", () => {
  const INPUTS = gateInputs({ url: "https://wallet-executor.example" });
  const NOW = new Date("2026-11-27T10:00:00.000Z");
  const report = (checks: VerifyReport["checks"], status?: VerifyReport["status"]): VerifyReport => ({
    ok: checks.every((c) => c.ok),
    checks,
    status,
    totalMs: 5,
  });

  test("a fingerprint is the first 16 hex digits of the value's SHA-256", () => {
    expect(fingerprint("abc")).toBe("ba7816bf8f01cfea");
  });

  test("outputs from before fingerprints and identities were recorded: every trigger and the token count as changed", () => {
    expect(changedTriggers({}, INPUTS)).toEqual([
      "baseUrl",
      "expectTokenVersion",
      "generations",
      "executorRevision",
      "controlRevision",
      "revoking",
      "expectMode",
      "token",
      "previousToken",
      "payment",
    ]);
  });

  test("an identity to expect counts as a change only when it differs, absent and null being the same", () => {
    const olds = gateOutputs(INPUTS, report([]), NOW);
    expect(changedTriggers(olds, INPUTS)).toEqual([]);
    expect(changedTriggers({ ...olds, expectIdentity: undefined }, INPUTS)).toEqual([]);
    expect(changedTriggers(olds, { ...INPUTS, expectIdentity: OTHER_IDENTITY })).toEqual(["expectIdentity"]);
  });

  test("the failure message: failing checks only, what stays enabled, secrets redacted", () => {
    const failed = report([
      { name: "status", ok: false, detail: `saw ${TOKEN} in the answer`, ms: 1 },
      { name: "auth-missing-token", ok: true, detail: "fine", ms: 1 },
      { name: "no-secret-echo", ok: false, detail: "secret echoed: the current token", ms: 1 },
    ]);
    expect(failureMessage(INPUTS, failed)).toBe(
      "verification of https://wallet-executor.example (token generation 4) failed 2 of 3 checks; NOT revoked, still enabled: auth-token-g3:\n" +
        "  - status: saw [redacted] in the answer\n" +
        "  - no-secret-echo: secret echoed: the current token",
    );
    expect(failureMessage({ ...INPUTS, revoking: [] }, failed).split("\n")[0]).toBe(
      "verification of https://wallet-executor.example (token generation 4) failed 2 of 3 checks:",
    );
  });

  test("outputs without a /status summary record nulls; a mnemonic cutover records what it can", () => {
    const first = gateOutputs(INPUTS, report([{ name: "status", ok: true, detail: "ok", ms: 3 }]), NOW);
    expect(first).toMatchObject({ expectIdentity: null, walletId: null, identityPubkey: null, balanceSats: null, mnemonicCutover: null });
    expect(first.checks).toEqual([{ name: "status", ok: true, ms: 3 }]);
    const rotated = { ...INPUTS, generations: { ...INPUTS.generations, mnemonic: 2 } };
    expect(gateOutputs(rotated, report([]), NOW, first).mnemonicCutover).toEqual({
      fromGeneration: 1,
      toGeneration: 2,
      previousIdentityPubkey: null,
      previousBalanceSats: null,
      previousSeenAt: "2026-11-27T10:00:00.000Z",
      newIdentityPubkey: null,
      cutoverAt: "2026-11-27T10:00:00.000Z",
    });
  });
});
