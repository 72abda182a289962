/**
 * Cloud Run v2 on the local cloud, with real child processes and real HTTP: revisions, instance
 * env and ports, IAM at deploy and at instance start, traffic by percent and by tag, draining and
 * SIGTERM, the rollout time, scale to zero and cold starts. Waits are on the local cloud's own
 * events or on conditions, with generous deadlines; never on sleeps.
 */
import { createHash } from "node:crypto";
import * as path from "node:path";
import { LocalCloudApiError } from "../../localcloud/client";
import { LocalCloudEvent } from "../../localcloud/events";
import { shellQuote } from "../../localcloud/runners";
import {
  Cloud,
  TOKEN_V1,
  TOKEN_V2,
  addVersion,
  createAccount,
  createSecret,
  createService,
  eventually,
  executorEnv,
  fromSecret,
  get,
  grantAccessor,
  plain,
  serviceState,
  servicePath,
  short,
  startCloud,
  updateService,
} from "../support/local-cloud";

jest.setTimeout(180_000);

const TEST_APP = path.join(__dirname, "fixtures", "test-app.js");
const testApp = (...args: string[]): string => [process.execPath, TEST_APP, ...args].map(shellQuote).join(" ");
const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

interface Setup {
  readonly env: Cloud;
  readonly account: string;
  readonly secret: string;
}

/** A cloud, an account, and a token secret with versions 1 (TOKEN_V1) and 2 (TOKEN_V2) the account may read. */
async function setup(options: Parameters<typeof startCloud>[0], accountId = "executor-run"): Promise<Setup> {
  const env = await startCloud(options);
  const account = await createAccount(env.api, accountId);
  const secret = await createSecret(env.api, "auth-token");
  await addVersion(env.api, secret, TOKEN_V1);
  await addVersion(env.api, secret, TOKEN_V2);
  await grantAccessor(env.api, secret, account);
  return { env, account, secret };
}

function eventsOf(env: Cloud, type: string, revision?: string): LocalCloudEvent[] {
  return env.cloud.events.since(0).filter((e) => e.type === type && (revision === undefined || e.revision === revision));
}

describe("revisions, instances and traffic (a custom executor command)", () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup({ commands: { executorCommand: testApp() } });
  });
  afterAll(() => s.env.cloud.close());

  test("an instance runs the command with the revision's env: secrets resolved, its own loopback PORT, mock mode, nothing of the host's env", async () => {
    process.env.LOCALCLOUD_TEST_HOST_MARKER = "must not leak";
    try {
      const service = await createService(s.env.api, "env-check", { account: s.account, env: executorEnv(s.secret, "1", 4) });
      const revision = short(service.latestReadyRevision);
      const answer = await get(`${String(service.uri)}/env`);
      expect(answer.status).toBe(200);
      expect(answer.revision).toBe(revision);
      const seen = JSON.parse(answer.body) as { names: string[]; values: Record<string, string>; tokenSha256: string };
      const instancePort = Number(seen.values.PORT);
      expect(instancePort).not.toBe(new URL(String(service.uri)).port);
      expect(seen.values).toMatchObject({
        K_SERVICE: "env-check",
        K_REVISION: revision,
        K_CONFIGURATION: "env-check",
        // The executor reads its own port and bind variables: they follow the instance, and mock mode is forced.
        OA_LIGHTNING_WALLET_EXECUTOR_PORT: String(instancePort),
        OA_LIGHTNING_WALLET_EXECUTOR_HOST: "127.0.0.1",
        OA_LIGHTNING_WALLET_EXECUTOR_MODE: "mock",
        OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN_VERSION: "4",
      });
      expect(seen.tokenSha256).toBe(sha256(TOKEN_V1));
      expect(seen.names).not.toContain("LOCALCLOUD_TEST_HOST_MARKER");
      expect(seen.names).not.toContain("LOCALCLOUD_TOKEN");
    } finally {
      delete process.env.LOCALCLOUD_TEST_HOST_MARKER;
    }
  });

  test("each instance gets a free loopback port of its own", async () => {
    const service = await createService(s.env.api, "two-instances", { account: s.account, env: executorEnv(s.secret, "1", 1), min: 2 });
    const state = await serviceState(s.env.api, "two-instances");
    const instances = state.revisions.find((r) => r.name === short(service.latestReadyRevision))?.instances ?? [];
    expect(instances).toHaveLength(2);
    expect(new Set(instances.map((i) => i.port)).size).toBe(2);
    expect(instances.every((i) => i.state === "ready" && typeof i.pid === "number")).toBe(true);
  });

  test("every template change makes a new immutable revision; an unchanged template makes none", async () => {
    const first = await createService(s.env.api, "revisions", { account: s.account, env: executorEnv(s.secret, "1", 1) });
    const r1 = short(first.latestReadyRevision);
    expect(r1).toMatch(/^revisions-00001-[a-z]{3}$/);
    const same = await updateService(s.env.api, "revisions", { account: s.account, env: executorEnv(s.secret, "1", 1) });
    expect(short(same.service?.latestCreatedRevision)).toBe(r1);
    const changed = await updateService(s.env.api, "revisions", { account: s.account, env: executorEnv(s.secret, "2", 2) });
    const r2 = short(changed.service?.latestReadyRevision);
    expect(r2).toMatch(/^revisions-00002-[a-z]{3}$/);
    // The first revision still exists, unchanged (its template pins version 1).
    const old = await s.env.api.call<{ containers: { env: { name: string; valueSource?: { secretKeyRef: { version: string } } }[] }[] }>(
      "GET",
      `${servicePath("revisions")}/revisions/${r1}`,
    );
    const pinned = old.containers[0].env.find((e) => e.name === "OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN");
    expect(pinned?.valueSource?.secretKeyRef.version).toBe("1");
    expect(JSON.parse((await get(`${String(changed.service?.uri)}/env`)).body)).toMatchObject({ tokenSha256: sha256(TOKEN_V2) });
  });

  test("a revision is named as the template says; that name with another template is ALREADY_EXISTS, even an older revision's", async () => {
    const named = await createService(s.env.api, "named", {
      account: s.account,
      env: executorEnv(s.secret, "1", 1),
      revision: "named-g1-abc",
    });
    expect(short(named.latestReadyRevision)).toBe("named-g1-abc");
    const reused = s.env.api.call("PATCH", servicePath("named"), {
      template: {
        revision: "named-g1-abc",
        serviceAccount: s.account,
        containers: [{ image: "other", env: executorEnv(s.secret, "2", 2) }],
      },
    });
    await expect(reused).rejects.toMatchObject({ status: "ALREADY_EXISTS" });
    await updateService(s.env.api, "named", { account: s.account, env: executorEnv(s.secret, "2", 2), revision: "named-g2-abc" });
    // An older revision's name with a template it does not have (its generation's token, another image).
    const older = s.env.api.call("PATCH", servicePath("named"), {
      template: {
        revision: "named-g1-abc",
        serviceAccount: s.account,
        containers: [{ image: "other", env: executorEnv(s.secret, "1", 1) }],
      },
    });
    const conflict = (await older.then(
      () => undefined,
      (err: unknown) => err,
    )) as LocalCloudApiError | undefined;
    expect(conflict?.status).toBe("ALREADY_EXISTS");
    expect(conflict?.message).toContain("named-g1-abc");
    const badName = s.env.api.call("PATCH", servicePath("named"), {
      template: { revision: "other-service-g2", serviceAccount: s.account, containers: [{ image: "x" }] },
    });
    await expect(badName).rejects.toBeInstanceOf(LocalCloudApiError);
  });

  test("a template naming an older revision with that revision's own template selects it again: no new revision, traffic moves back (a rollback)", async () => {
    await createService(s.env.api, "rollback", { account: s.account, env: executorEnv(s.secret, "1", 1), revision: "rollback-g1" });
    const rolled = await updateService(s.env.api, "rollback", {
      account: s.account,
      env: executorEnv(s.secret, "2", 2),
      revision: "rollback-g2",
      traffic: [
        { type: "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", revision: "rollback-g2", percent: 100, tag: "g2" },
        { type: "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", revision: "rollback-g1", percent: 0, tag: "g1" },
      ],
    });
    expect(rolled.error).toBeUndefined();
    const created = eventsOf(s.env, "revision-created").filter((e) => e.service === "rollback").length;
    // Back: the template is generation 1's again, by name; generation 2 keeps its tag for its last callers.
    const back = await updateService(s.env.api, "rollback", {
      account: s.account,
      env: executorEnv(s.secret, "1", 1),
      revision: "rollback-g1",
      traffic: [
        { type: "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", revision: "rollback-g1", percent: 100, tag: "g1" },
        { type: "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", revision: "rollback-g2", percent: 0, tag: "g2" },
      ],
    });
    expect(back.error).toBeUndefined();
    expect(short(back.service?.latestCreatedRevision)).toBe("rollback-g1");
    expect(short(back.service?.latestReadyRevision)).toBe("rollback-g1");
    expect(eventsOf(s.env, "revision-created").filter((e) => e.service === "rollback")).toHaveLength(created);
    expect(
      eventsOf(s.env, "revision-reselected")
        .filter((e) => e.service === "rollback")
        .map((e) => e.revision),
    ).toEqual(["rollback-g1"]);
    const statuses = back.service?.trafficStatuses as { revision: string; tag?: string; uri?: string }[];
    expect((await get(`${String(back.service?.uri)}/status`)).revision).toBe("rollback-g1");
    expect(JSON.parse((await get(`${String(back.service?.uri)}/env`)).body)).toMatchObject({ tokenSha256: sha256(TOKEN_V1) });
    expect((await get(`${String(statuses.find((t) => t.tag === "g2")?.uri)}/status`)).revision).toBe("rollback-g2");
    const listed = await s.env.api.call<{ revisions: { name: string }[] }>("GET", `${servicePath("rollback")}/revisions`);
    expect(listed.revisions.map((r) => short(r.name)).sort()).toEqual(["rollback-g1", "rollback-g2"]);
  });

  test("a revision whose account may not read a secret it pins does not start, and traffic stays where it was", async () => {
    const ungranted = await createSecret(s.env.api, "not-granted");
    await addVersion(s.env.api, ungranted, "x");
    const service = await createService(s.env.api, "missing-grant", { account: s.account, env: executorEnv(s.secret, "1", 1) });
    const r1 = short(service.latestReadyRevision);
    const outcome = await updateService(s.env.api, "missing-grant", {
      account: s.account,
      env: [...executorEnv(s.secret, "1", 1), fromSecret("OA_LIGHTNING_SPARK_API_KEY", ungranted, "1")],
    });
    expect(outcome.error).toMatch(
      /Permission denied on secret: projects\/demo-project\/secrets\/not-granted for Revision service account executor-run@/,
    );
    const after = await s.env.api.call<Record<string, unknown>>("GET", servicePath("missing-grant"));
    expect(short(after.latestReadyRevision)).toBe(r1);
    expect(short(after.latestCreatedRevision)).not.toBe(r1);
    expect((after.terminalCondition as { state: string }).state).toBe("CONDITION_FAILED");
    const failed = eventsOf(s.env, "revision-failed").find((e) => e.service === "missing-grant");
    expect(failed?.revision).toBe(short(after.latestCreatedRevision));
    // No process was started for the failed revision, and the old one still answers.
    expect(eventsOf(s.env, "instance-starting", String(failed?.revision))).toEqual([]);
    expect((await get(`${String(service.uri)}/status`)).revision).toBe(r1);
  });

  test("a pinned version that is disabled fails the new revision's instance at start (FAILED_PRECONDITION)", async () => {
    const secret = await createSecret(s.env.api, "disabled-pin");
    await addVersion(s.env.api, secret, TOKEN_V1);
    await grantAccessor(s.env.api, secret, s.account);
    const service = await createService(s.env.api, "disabled-pin", { account: s.account, env: executorEnv(secret, "1", 1) });
    await s.env.api.call("POST", `/v1/${secret}/versions/1:disable`, {});
    const outcome = await updateService(s.env.api, "disabled-pin", {
      account: s.account,
      env: [...executorEnv(secret, "1", 1), plain("CHANGE", "1")],
    });
    expect(outcome.error).toMatch(/is in DISABLED state/);
    // The running instance keeps the value it read at its start: still serving.
    expect((await get(`${String(service.uri)}/status`)).status).toBe(200);
  });

  test("traffic by percent: a 50/50 split sends exactly half of the requests to each revision", async () => {
    const first = await createService(s.env.api, "split", { account: s.account, env: executorEnv(s.secret, "1", 1), revision: "split-a" });
    await updateService(s.env.api, "split", {
      account: s.account,
      env: executorEnv(s.secret, "2", 2),
      revision: "split-b",
      traffic: [
        { type: "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", revision: "split-a", percent: 50 },
        { type: "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", revision: "split-b", percent: 50 },
      ],
    });
    const answers: string[] = [];
    for (let i = 0; i < 10; i += 1) answers.push(String((await get(`${String(first.uri)}/status`)).revision));
    expect(answers.filter((r) => r === "split-a")).toHaveLength(5);
    expect(answers.filter((r) => r === "split-b")).toHaveLength(5);
  });

  test("a tag gives a revision a URL of its own, reported in the traffic statuses; without its tag that URL answers 404", async () => {
    await createService(s.env.api, "tagged", { account: s.account, env: executorEnv(s.secret, "1", 1), revision: "tagged-g1" });
    const tagged = await updateService(s.env.api, "tagged", {
      account: s.account,
      env: executorEnv(s.secret, "2", 2),
      revision: "tagged-g2",
      traffic: [
        { type: "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", percent: 100, tag: "g2" },
        { type: "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", revision: "tagged-g1", percent: 0, tag: "g1" },
      ],
    });
    const statuses = tagged.service?.trafficStatuses as { revision: string; percent: number; tag?: string; uri?: string }[];
    const g1 = statuses.find((t) => t.tag === "g1");
    const g2 = statuses.find((t) => t.tag === "g2");
    expect(g1).toMatchObject({ revision: "tagged-g1", percent: 0 });
    expect(g2).toMatchObject({ revision: "tagged-g2", percent: 100 });
    expect(g1?.uri).toMatch(/^http:\/\/127\.0\.0\.1:[0-9]+$/);
    expect(new Set([g1?.uri, g2?.uri, tagged.service?.uri]).size).toBe(3);
    // The g1 URL reaches the revision holding token 1 although it has no traffic share.
    expect(JSON.parse((await get(`${String(g1?.uri)}/env`)).body)).toMatchObject({ tokenSha256: sha256(TOKEN_V1) });
    expect((await get(`${String(tagged.service?.uri)}/status`)).revision).toBe("tagged-g2");

    await updateService(s.env.api, "tagged", {
      account: s.account,
      env: executorEnv(s.secret, "2", 2),
      revision: "tagged-g2",
      traffic: [{ type: "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", percent: 100, tag: "g2" }],
    });
    expect((await get(`${String(g1?.uri)}/status`)).status).toBe(404);
    expect((await get(`${String(g2?.uri)}/status`)).revision).toBe("tagged-g2");
    // Nothing can reach the old revision any more: its instance stops.
    await s.env.cloud.events.waitFor((e) => e.type === "instance-stopped" && e.revision === "tagged-g1", { what: "tagged-g1 to stop" });
  });

  test("after a traffic change new requests go to the new revision while an in-flight one finishes on the old instance, which then gets SIGTERM", async () => {
    const service = await createService(s.env.api, "drain", {
      account: s.account,
      env: executorEnv(s.secret, "1", 1),
      revision: "drain-old",
    });
    const uri = String(service.uri);
    const oldInstance = (await serviceState(s.env.api, "drain")).revisions.find((r) => r.name === "drain-old")?.instances[0];
    const direct = `http://127.0.0.1:${oldInstance?.port}`;
    const inFlight = get(`${uri}/hold`);
    await eventually("the old instance to hold the request", async () =>
      (JSON.parse((await get(`${direct}/held`)).body) as { held: number }).held === 1 ? true : undefined,
    );

    const after = s.env.cloud.events.lastSeq;
    await updateService(s.env.api, "drain", { account: s.account, env: executorEnv(s.secret, "2", 2), revision: "drain-new" });
    expect((await get(`${uri}/status`)).revision).toBe("drain-new");
    await s.env.cloud.events.waitFor((e) => e.type === "instance-draining" && e.revision === "drain-old", {
      what: "drain-old to drain",
      after,
    });
    // Still holding its request: no SIGTERM yet.
    expect(eventsOf(s.env, "instance-stopped", "drain-old")).toEqual([]);
    expect((JSON.parse((await get(`${direct}/held`)).body) as { held: number }).held).toBe(1);

    await get(`${direct}/release`);
    const finished = await inFlight;
    expect(finished).toMatchObject({ status: 200, revision: "drain-old" });
    const stopped = await s.env.cloud.events.waitFor((e) => e.type === "instance-stopped" && e.revision === "drain-old", {
      what: "drain-old to stop",
    });
    expect(stopped).toMatchObject({ signal: "SIGTERM", inFlightAtSigterm: 0 });
  });

  test("deleting a service stops its instances and closes its URL", async () => {
    const service = await createService(s.env.api, "deleted", {
      account: s.account,
      env: executorEnv(s.secret, "1", 1),
      revision: "deleted-r1",
    });
    const op = await s.env.api.call<{ name: string; done: boolean }>("DELETE", servicePath("deleted"));
    await s.env.api.waitOperation(op);
    expect(eventsOf(s.env, "instance-stopped", "deleted-r1")).toHaveLength(1);
    await expect(get(`${String(service.uri)}/status`)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    await expect(s.env.api.call("GET", servicePath("deleted"))).rejects.toMatchObject({ status: "NOT_FOUND" });
  });
});

describe("the stand-ins (the default commands)", () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup({ controlRatePerSec: 20 });
  });
  afterAll(() => s.env.cloud.close());

  test("the stand-in executor accepts exactly the token its pinned version holds and reports its generation", async () => {
    const service = await createService(s.env.api, "executor", { account: s.account, env: executorEnv(s.secret, "1", 4) });
    const ok = await get(`${String(service.uri)}/status`, TOKEN_V1);
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ status: { authTokenVersion: 4, mode: "mock", authEnforced: true } });
    expect((await get(`${String(service.uri)}/status`, TOKEN_V2)).status).toBe(401);
  });

  test("the stand-in executor reads the mnemonic from Secret Manager as its revision's account: a grant makes it ready, none leaves it mnemonic_missing", async () => {
    const mnemonic = await createSecret(s.env.api, "mnemonic");
    const version = await addVersion(s.env.api, mnemonic, "abandon abandon about");
    const withMnemonic = (account: string) => [
      ...executorEnv(s.secret, "1", 1).filter((e) => !e.name.startsWith("OA_LIGHTNING_WALLET_MNEMONIC")),
      plain("OA_LIGHTNING_WALLET_MNEMONIC_PROVIDER", "gcp"),
      plain("OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION", `${mnemonic}/versions/${version}`),
      // The account's email is in the env only to make each service's template differ.
      plain("ACCOUNT", account),
    ];
    const reader = await createAccount(s.env.api, "mnemonic-reader");
    await grantAccessor(s.env.api, s.secret, reader);
    await grantAccessor(s.env.api, mnemonic, reader);
    const granted = await createService(s.env.api, "with-mnemonic", { account: reader, env: withMnemonic(reader) });
    const ready = JSON.parse((await get(`${String(granted.uri)}/status`, TOKEN_V1)).body) as {
      status: { ready: boolean; identityPubkey: string };
    };
    expect(ready.status.ready).toBe(true);
    expect(ready.status.identityPubkey).toMatch(/^02[0-9a-f]{64}$/);

    const stranger = await createAccount(s.env.api, "no-mnemonic");
    await grantAccessor(s.env.api, s.secret, stranger);
    const denied = await createService(s.env.api, "without-mnemonic", { account: stranger, env: withMnemonic(stranger) });
    const missing = JSON.parse((await get(`${String(denied.uri)}/status`, TOKEN_V1)).body) as {
      status: { ready: boolean; lastErrorCode: string };
    };
    expect(missing.status).toMatchObject({ ready: false, lastErrorCode: "mnemonic_missing" });
  });

  test("the stand-in control calls the executor with ITS OWN env's URL and token, and records which executor revision answered", async () => {
    const executor = await createService(s.env.api, "wallet-executor", {
      account: s.account,
      env: executorEnv(s.secret, "1", 1),
      revision: "wallet-executor-g1",
    });
    const control = await createService(s.env.api, "wallet-control", {
      account: s.account,
      env: [
        plain("SPARK_EXECUTOR_BASE_URL", String(executor.uri)),
        fromSecret("SPARK_EXECUTOR_AUTH_TOKEN", s.secret, "1"),
        plain("SPARK_EXECUTOR_TIMEOUT_MS", "5000"),
      ],
    });
    type Record_ = { calls: { status?: number; executorRevision?: string; controlRevision: string }[] };
    const record = async (): Promise<Record_> => JSON.parse((await get(`${String(control.uri)}/record`)).body) as Record_;
    const ok = await eventually("three answered calls", async () => {
      const calls = (await record()).calls.filter((c) => c.status === 200);
      return calls.length >= 3 ? calls : undefined;
    });
    expect(ok[0]).toMatchObject({ executorRevision: "wallet-executor-g1", controlRevision: short(control.latestReadyRevision) });

    // The executor moves to token 2; this control revision still sends token 1: 401s, recorded.
    await updateService(s.env.api, "wallet-executor", {
      account: s.account,
      env: executorEnv(s.secret, "2", 2),
      revision: "wallet-executor-g2",
    });
    const refused = await eventually("a refused call", async () =>
      (await record()).calls.find((c) => c.status === 401 && c.executorRevision === "wallet-executor-g2"),
    );
    expect(refused.controlRevision).toBe(short(control.latestReadyRevision));
  });
});

describe("readiness", () => {
  // Long enough for the local cloud's probes (every 50 ms) to have been refused many times.
  const SLOW_START_MS = 400;
  let s: Setup;
  beforeAll(async () => {
    s = await setup({
      commands: {
        serviceCommands: {
          // Listens only after a while: not ready until it answers GET /status.
          "slow-start": `sleep ${SLOW_START_MS / 1000}; exec ${testApp()}`,
          // Its second revision's container exits at once.
          crashing: `if [ "$K_REVISION" = crashing-r2 ]; then exit 3; fi; exec ${testApp()}`,
        },
      },
    });
  });
  afterAll(() => s.env.cloud.close());

  test("a revision is ready only once its instance answers GET /status on its port", async () => {
    const service = await createService(s.env.api, "slow-start", {
      account: s.account,
      env: executorEnv(s.secret, "1", 1),
      revision: "slow-start-r1",
    });
    expect(short(service.latestReadyRevision)).toBe("slow-start-r1");
    const starting = eventsOf(s.env, "instance-starting", "slow-start-r1")[0];
    const ready = eventsOf(s.env, "revision-ready", "slow-start-r1")[0];
    // A lower bound only (a busy machine makes it longer): the process listened that long after its start.
    expect(ready.atMs - starting.atMs).toBeGreaterThanOrEqual(SLOW_START_MS);
    expect((await get(`${String(service.uri)}/status`)).status).toBe(200);
  });

  test("a container that exits before it answers fails its revision; traffic stays on the ready one", async () => {
    const first = await createService(s.env.api, "crashing", {
      account: s.account,
      env: executorEnv(s.secret, "1", 1),
      revision: "crashing-r1",
    });
    const outcome = await updateService(s.env.api, "crashing", {
      account: s.account,
      env: executorEnv(s.secret, "2", 2),
      revision: "crashing-r2",
    });
    expect(outcome.error).toMatch(/crashing-r2.*exited/);
    expect(eventsOf(s.env, "revision-failed", "crashing-r2")).toHaveLength(1);
    const answer = await get(`${String(first.uri)}/status`);
    expect(answer.status).toBe(200);
    expect(answer.revision).toBe("crashing-r1");
  });
});

describe("shutdown", () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup({ commands: { executorCommand: testApp("--ignore-term") }, shutdownGraceMs: 300 });
  });
  afterAll(() => s.env.cloud.close());

  test("an instance that ignores SIGTERM is killed after the grace period", async () => {
    await createService(s.env.api, "stubborn", { account: s.account, env: executorEnv(s.secret, "1", 1), revision: "stubborn-r1" });
    await updateService(s.env.api, "stubborn", { account: s.account, env: executorEnv(s.secret, "2", 2), revision: "stubborn-r2" });
    const stopped = await s.env.cloud.events.waitFor((e) => e.type === "instance-stopped" && e.revision === "stubborn-r1", {
      what: "stubborn-r1 to stop",
    });
    expect(stopped.signal).toBe("SIGKILL");
  });
});

describe("rollout time", () => {
  // A lower bound the test holds the cloud to (a busy machine only makes the wait longer).
  const ROLLOUT_MS = 600;
  let s: Setup;
  beforeAll(async () => {
    s = await setup({ commands: { executorCommand: testApp() }, rolloutMs: ROLLOUT_MS });
  });
  afterAll(() => s.env.cloud.close());

  test("traffic moves no sooner than the rollout time after the new revision is ready; until then the old one answers", async () => {
    const service = await createService(s.env.api, "slow-rollout", {
      account: s.account,
      env: executorEnv(s.secret, "1", 1),
      revision: "slow-rollout-r1",
    });
    const update = updateService(s.env.api, "slow-rollout", {
      account: s.account,
      env: executorEnv(s.secret, "2", 2),
      revision: "slow-rollout-r2",
    });
    const ready = await s.env.cloud.events.waitFor((e) => e.type === "revision-ready" && e.revision === "slow-rollout-r2", {
      what: "slow-rollout-r2 ready",
    });
    const meanwhile = await get(`${String(service.uri)}/status`);
    const answeredAt = Date.now();
    const moved = await s.env.cloud.events.waitFor(
      (e) => e.type === "traffic-changed" && e.service === "slow-rollout" && String(e.routing).includes("slow-rollout-r2"),
      {
        what: "traffic to slow-rollout-r2",
      },
    );
    expect(moved.atMs - ready.atMs).toBeGreaterThanOrEqual(ROLLOUT_MS);
    // A request answered before traffic moved was routed to the old revision (a stalled machine may answer it later).
    if (answeredAt < moved.atMs) expect(meanwhile.revision).toBe("slow-rollout-r1");
    await update;
    expect((await get(`${String(service.uri)}/status`)).revision).toBe("slow-rollout-r2");
  });
});

describe("scale to zero and cold starts", () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup({ commands: { executorCommand: testApp() }, idleTimeoutMs: 200 });
  });
  afterAll(() => s.env.cloud.close());

  test("a tagged revision with no traffic scales to zero when idle; its next request starts an instance that reads its secrets again", async () => {
    const secret = await createSecret(s.env.api, "cold");
    await addVersion(s.env.api, secret, TOKEN_V1);
    await grantAccessor(s.env.api, secret, s.account);
    const first = await createService(s.env.api, "cold", {
      account: s.account,
      env: executorEnv(secret, "1", 1),
      revision: "cold-g1",
      min: 1,
    });
    const tagged = await updateService(s.env.api, "cold", {
      account: s.account,
      env: executorEnv(s.secret, "2", 2),
      revision: "cold-g2",
      traffic: [
        { type: "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", percent: 100 },
        { type: "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", revision: "cold-g1", percent: 0, tag: "g1" },
      ],
    });
    const g1 = (tagged.service?.trafficStatuses as { tag?: string; uri?: string }[]).find((t) => t.tag === "g1")?.uri;
    await s.env.cloud.events.waitFor((e) => e.type === "instance-stopped" && e.revision === "cold-g1" && e.reason === "idle", {
      what: "cold-g1 to scale to zero",
    });

    // A cold start reads version 1 again: fine while it is enabled ...
    expect((await get(`${String(g1)}/status`)).revision).toBe("cold-g1");
    await s.env.cloud.events.waitFor((e) => e.type === "instance-stopped" && e.revision === "cold-g1" && e.reason === "idle", {
      what: "cold-g1 idle again",
      after: eventsOf(s.env, "instance-ready", "cold-g1").at(-1)?.seq,
    });
    // ... and refused once it is disabled: the tag URL cannot start an instance any more.
    await s.env.api.call("POST", `/v1/${secret}/versions/1:disable`, {});
    const refused = await get(`${String(g1)}/status`);
    expect(refused.status).toBe(503);
    expect(refused.body).toMatch(/could not start an instance.*DISABLED state/);
    expect((await get(`${String(first.uri)}/status`)).revision).toBe("cold-g2");
  });
});
