/**
 * What verifyExecutor (verification/verify.ts) tells while it runs, and how it stops, in process so
 * that mutation testing sees it: the `onCheck` progress events (order, content, one start and one
 * end per check, the time left on the run's clock, no secret in any of them) and the abort signal
 * (Ctrl-C) before the run, between attempts, while a request or the payment is in flight, with the
 * partial report each leaves. Real servers on 127.0.0.1; injected clocks that move only on events
 * (tests/support/verify-clock.ts, and one whose sleeps end only when interrupted); no waiting on the
 * wall clock. The CLI's display of these events and Ctrl-C as a signal to a process are in
 * verify-progress.test.ts.
 */
import { getEventListeners } from "node:events";
import type { ServerResponse } from "node:http";
import {
  EXPECTED_UNAUTHORIZED_MESSAGE,
  EXPECTED_WWW_AUTHENTICATE,
  verifyExecutor,
  type CheckName,
  type CheckProgress,
  type VerifyClock,
  type VerifyOptions,
  type VerifyReport,
} from "../../verification/verify";
import { startStandInExecutor, type StandInOptions } from "../../harness/stand-in-executor";
import { HOST, INVOICE, PREVIOUS_TOKEN, SPARK_KEY, TOKEN, contractStatus } from "../support/verify-fixtures";
import { carrying, clocked, type ClockedRun, withRandom } from "../support/verify-clock";
import { sendJson, startRawServer, type RawRequest } from "../support/raw-http-server";

const SECRETS = [TOKEN, PREVIOUS_TOKEN, SPARK_KEY, INVOICE];
const PAYMENT = { invoice: INVOICE, host: HOST, maxAmountMsats: 5000 };
const INTERRUPTED_AFTER_ONE = "interrupted (Ctrl-C) before an answer, after 1 attempt";
const PROBES: CheckName[] = ["auth-missing-token", "auth-wrong-token", "auth-previous-token"];
const NOT_READY = "ready:false (lifecycle connecting)";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function standIn(options: StandInOptions = {}): Promise<string> {
  const executor = await startStandInExecutor({ token: TOKEN, tokenVersion: 4, ...options });
  cleanups.push(() => executor.close());
  return executor.url;
}

function clock(stepMs: number, selects?: Parameters<typeof clocked>[1]): ClockedRun {
  const run = clocked(stepMs, selects);
  cleanups.push(() => run.close());
  return run;
}

type Answer = (req: RawRequest, res: ServerResponse, n: number) => void;

/**
 * A contract-following executor on a raw server: the contract's 401 to anything without the current
 * token (or `probe`'s answer), `status` for the current token's n-th /status (default: ready), `pay`
 * for /pay-bolt11 (default: never answered).
 */
async function contractServer(answers: { status?: Answer; probe?: Answer; pay?: Answer } = {}) {
  let statuses = 0;
  let probes = 0;
  const server = await startRawServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      probes += 1;
      if (answers.probe) answers.probe(req, res, probes);
      else unauthorized(req, res);
    } else if (req.url === "/status") {
      statuses += 1;
      (answers.status ?? ready)(req, res, statuses);
    } else answers.pay?.(req, res, 1);
  });
  cleanups.push(() => server.close());
  return server;
}

function unauthorized(req: RawRequest, res: ServerResponse): void {
  const requestId = String(req.headers["x-request-id"]);
  sendJson(
    res,
    401,
    { ok: false, error: { requestId, code: "unauthorized", message: EXPECTED_UNAUTHORIZED_MESSAGE } },
    { "www-authenticate": EXPECTED_WWW_AUTHENTICATE },
  );
}

function ready(req: RawRequest, res: ServerResponse, _n = 1, fields: Record<string, unknown> = {}): void {
  sendJson(res, 200, { ok: true, requestId: String(req.headers["x-request-id"]), status: contractStatus(fields) });
}

/** A clock whose sleeps end only when the run is interrupted: a run that waits on one without its signal never ends. */
class InterruptOnlyClock implements VerifyClock {
  readonly sleeps: number[] = [];
  constructor(private readonly onSleep: () => void = () => undefined) {}
  now(): number {
    return 1_000;
  }
  sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.onSleep();
    return new Promise<void>(() => undefined);
  }
}

interface Run {
  report: VerifyReport;
  events: CheckProgress[];
}

/** Runs the verifier, recording its events; neither the report nor an event may carry a secret. */
async function run(
  baseUrl: string,
  extra: Partial<VerifyOptions> = {},
  also: (event: CheckProgress) => void = () => undefined,
): Promise<Run> {
  const events: CheckProgress[] = [];
  const report = await verifyExecutor({
    baseUrl,
    expectTokenVersion: 4,
    token: TOKEN,
    previousToken: PREVIOUS_TOKEN,
    sparkApiKey: SPARK_KEY,
    deadlineMs: 60_000,
    // Far above anything a test waits for: a request cut short here was cut by the signal.
    requestTimeoutMs: 30_000,
    paymentTimeoutMs: 30_000,
    retryInitialDelayMs: 100,
    ...extra,
    onCheck: (event) => {
      events.push(event);
      also(event);
    },
  });
  const text = JSON.stringify({ report, events });
  for (const secret of SECRETS) expect(text).not.toContain(secret);
  return { report, events };
}

const statesOf = (events: readonly CheckProgress[], check: string) => events.filter((e) => e.check === check).map((e) => e.state);
const detailOf = (report: VerifyReport, name: CheckName) => report.checks.find((c) => c.name === name)?.detail;
const sorted = (names: Iterable<string>) => [...new Set(names)].sort();

// ---------------------------------------------------------------------------------------------
describe("onCheck: the progress events", () => {
  test("each check runs, waits while not ready, and ends once, in order, with the time left on the run's own clock", async () => {
    // The clock stands at 5 s when the run starts (its deadline 60 s later); each request with the current
    // token takes 7 s of it; the jitter is pinned at its bottom, so the sleeps are 50 then 100 ms.
    const url = await standIn({ notReadyForFirst: 2 });
    const timed = clock(7_000, carrying(TOKEN));
    timed.clock.advance(5_000);
    const { report, events } = await withRandom(0, () => run(url, { ...timed.options, payment: PAYMENT }));
    expect(report.ok).toBe(true);
    expect(timed.clock.sleeps).toEqual([50, 100]);

    // The four checks that start together announce themselves before any answer.
    expect(events.slice(0, 4).map((e) => [e.check, e.state])).toEqual([
      ["status", "running"],
      ["auth-missing-token", "running"],
      ["auth-wrong-token", "running"],
      ["auth-previous-token", "running"],
    ]);
    const strip = ({ check, state, attempt, reason, remainingMs, deadlineMs }: CheckProgress) => ({
      check,
      state,
      attempt,
      reason,
      remainingMs,
      deadlineMs,
    });
    expect(events.filter((e) => e.check === "status" || e.check === "payment-smoke").map(strip)).toEqual([
      { check: "status", state: "running", attempt: undefined, reason: undefined, remainingMs: 60_000, deadlineMs: 60_000 },
      { check: "status", state: "waiting", attempt: 1, reason: NOT_READY, remainingMs: 53_000, deadlineMs: 60_000 },
      { check: "status", state: "waiting", attempt: 2, reason: NOT_READY, remainingMs: 45_950, deadlineMs: 60_000 },
      { check: "status", state: "passed", attempt: undefined, reason: undefined, remainingMs: 38_850, deadlineMs: 60_000 },
      // The payment starts only once status passed, and takes 7 s of the clock too.
      { check: "payment-smoke", state: "running", attempt: undefined, reason: undefined, remainingMs: 38_850, deadlineMs: 60_000 },
      { check: "payment-smoke", state: "passed", attempt: undefined, reason: undefined, remainingMs: 31_850, deadlineMs: 60_000 },
    ]);
    // Events without an attempt carry no attempt or reason keys at all.
    expect(Object.keys(events[0]).sort()).toEqual(["check", "deadlineMs", "remainingMs", "state"]);
    for (const probe of PROBES) expect(statesOf(events, probe)).toEqual(["running", "passed"]);
    // Only the checks that talk to the executor report progress; the judged ones (determinism, echo) do not.
    expect(sorted(events.map((e) => e.check))).toEqual(sorted(["status", "payment-smoke", ...PROBES]));
    // The clock only moves forward, so the time left only goes down.
    const left = events.map((e) => e.remainingMs);
    expect([...left].sort((a, b) => b - a)).toEqual(left);
  });

  test("without a deadline option, events count down from the default two minutes", async () => {
    const url = await standIn();
    const timed = clock(0);
    const { events } = await run(url, { ...timed.options, deadlineMs: undefined });
    expect(events[0]).toEqual({ check: "status", state: "running", remainingMs: 120_000, deadlineMs: 120_000 });
    expect(events.every((e) => e.deadlineMs === 120_000)).toBe(true);
  });

  test("a check that fails ends 'failed': a probe that is accepted, a payment whose receipt is wrong", async () => {
    const url = await standIn({ alsoAcceptTokens: [PREVIOUS_TOKEN], tamperReceipt: "canonical-hash" });
    const { report, events } = await run(url, { payment: PAYMENT });
    expect(report.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(["auth-previous-token", "auth-deterministic", "payment-smoke"]);
    expect(statesOf(events, "status")).toEqual(["running", "passed"]);
    expect(statesOf(events, "auth-missing-token")).toEqual(["running", "passed"]);
    expect(statesOf(events, "auth-previous-token")).toEqual(["running", "failed"]);
    expect(statesOf(events, "payment-smoke")).toEqual(["running", "failed"]);
  });

  test("a status that fails ends 'failed', and the payment it keeps from running reports nothing", async () => {
    const url = await standIn({ tokenVersion: 5 });
    const { report, events } = await run(url, { payment: PAYMENT });
    expect(detailOf(report, "payment-smoke")).toMatch(/^not run: the status check failed/);
    expect(statesOf(events, "status")).toEqual(["running", "failed"]);
    expect(statesOf(events, "payment-smoke")).toEqual([]);
  });

  test("a probe that gets a transient answer reports 'waiting' with its attempt and the reason", async () => {
    let missingAnswered = 0;
    const server = await contractServer({
      probe: (req, res) =>
        req.headers.authorization === undefined && !missingAnswered++ ? sendJson(res, 503, { ok: false }) : unauthorized(req, res),
    });
    const { report, events } = await run(server.url, { retryInitialDelayMs: 5 });
    expect(report.ok).toBe(true);
    expect(events.filter((e) => e.check === "auth-missing-token").map((e) => [e.state, e.attempt, e.reason])).toEqual([
      ["running", undefined, undefined],
      ["waiting", 1, "HTTP 503"],
      ["passed", undefined, undefined],
    ]);
  });

  test("a reason quoting server text is redacted: a credential-shaped lifecycle never reaches an event", async () => {
    // word() passes an identifier-like lifecycle verbatim; it looks like a GitHub token, so the event redacts it.
    const leaked = "ghp_" + "A1b2C3d4E5".repeat(4);
    const server = await contractServer({
      status: (req, res, n) => (n === 1 ? ready(req, res, n, { ready: false, lifecycle: leaked }) : ready(req, res)),
    });
    const progress: string[] = [];
    const { events } = await run(server.url, { retryInitialDelayMs: 5, onProgress: (e) => progress.push(e.reason) });
    const waiting = events.filter((e) => e.state === "waiting");
    expect(waiting.map((e) => [e.check, e.attempt, e.reason])).toEqual([["status", 1, "ready:false (lifecycle [redacted])"]]);
    expect(progress).toEqual(["ready:false (lifecycle [redacted])"]);
    expect(JSON.stringify(events)).not.toContain("ghp_");
  });

  test("a reporter that throws changes nothing: same checks, same verdicts", async () => {
    const url = await standIn({ notReadyForFirst: 1 });
    const quiet = await verifyExecutor({ baseUrl: url, expectTokenVersion: 4, token: TOKEN, retryInitialDelayMs: 5 });
    let calls = 0;
    const loud = await verifyExecutor({
      baseUrl: url,
      expectTokenVersion: 4,
      token: TOKEN,
      retryInitialDelayMs: 5,
      onCheck: () => {
        calls += 1;
        throw new Error("display gone");
      },
      onProgress: () => {
        throw new Error("display gone");
      },
    });
    expect(calls).toBeGreaterThan(0);
    const verdicts = (report: VerifyReport) => report.checks.map((c) => [c.name, c.ok]);
    expect(loud.ok).toBe(true);
    expect(verdicts(loud)).toEqual(verdicts(quiet));
  });
});

// ---------------------------------------------------------------------------------------------
describe("the abort signal (Ctrl-C)", () => {
  test("aborted before the run: nothing is sent, every check that talks fails as interrupted, the report says partial", async () => {
    const server = await contractServer();
    const signal = AbortSignal.abort();
    const { report, events } = await run(server.url, { signal, payment: PAYMENT });
    expect(server.requests).toEqual([]);
    expect(report).toMatchObject({ ok: false, interrupted: true });
    expect(report.checks.map((c) => [c.name, c.ok, c.detail])).toEqual([
      ["status", false, INTERRUPTED_AFTER_ONE],
      ["auth-missing-token", false, INTERRUPTED_AFTER_ONE],
      ["auth-wrong-token", false, INTERRUPTED_AFTER_ONE],
      ["auth-previous-token", false, INTERRUPTED_AFTER_ONE],
      ["auth-deterministic", false, "no answer to compare for: missing token, wrong token, previous token"],
      ["payment-smoke", false, "not run: the status check failed (no payment against an executor that is not verified)"],
      [
        "no-secret-echo",
        true,
        "0 responses (headers and bodies) carry none of: the current token, the previous token, the Spark API key, the probe's wrong token",
      ],
    ]);
    // Each check starts and fails; none is reported waiting for an answer that cannot come.
    for (const check of ["status", ...PROBES]) expect(statesOf(events, check)).toEqual(["running", "failed"]);
    expect(getEventListeners(signal, "abort")).toEqual([]);
  });

  test("aborted while status sleeps between attempts: the sleep ends at once and status fails as interrupted", async () => {
    // The clock's sleeps never end by themselves; the abort comes once status sleeps and the probes have answered.
    const url = await standIn({ notReadyForFirst: 100 });
    const interrupt = new AbortController();
    let sleeping = false;
    let probesEnded = 0;
    const abortWhenSettled = () => {
      if (sleeping && probesEnded === PROBES.length) interrupt.abort();
    };
    const sleepy = new InterruptOnlyClock(() => {
      sleeping = true;
      abortWhenSettled();
    });
    const { report, events } = await run(url, { clock: sleepy, signal: interrupt.signal }, (event) => {
      if (PROBES.includes(event.check as CheckName) && event.state === "passed") probesEnded += 1;
      abortWhenSettled();
    });
    expect(sleepy.sleeps).toHaveLength(1);
    expect(report).toMatchObject({ ok: false, interrupted: true });
    expect(report.checks.filter((c) => !c.ok).map((c) => [c.name, c.detail])).toEqual([["status", INTERRUPTED_AFTER_ONE]]);
    expect(events.filter((e) => e.check === "status").map((e) => [e.state, e.attempt])).toEqual([
      ["running", undefined],
      ["waiting", 1],
      ["failed", undefined],
    ]);
    expect(getEventListeners(interrupt.signal, "abort")).toEqual([]);
  });

  test("aborted by the waiting event itself: no sleep is waited on, nothing more is sent", async () => {
    const server = await contractServer({ status: (_req, res) => sendJson(res, 503, { ok: false }) });
    const interrupt = new AbortController();
    const sleepy = new InterruptOnlyClock();
    const { report, events } = await run(server.url, { clock: sleepy, signal: interrupt.signal }, (event) => {
      if (event.check === "status" && event.state === "waiting") interrupt.abort();
    });
    expect(report.interrupted).toBe(true);
    expect(detailOf(report, "status")).toBe(INTERRUPTED_AFTER_ONE);
    expect(statesOf(events, "status")).toEqual(["running", "waiting", "failed"]);
    expect(server.requests.filter((r) => r.headers.authorization === `Bearer ${TOKEN}`)).toHaveLength(1);
  });

  test("aborted at the second wait: the interrupted check counts its attempts", async () => {
    const url = await standIn({ neverReady: true });
    const interrupt = new AbortController();
    const timed = clock(0);
    const { report, events } = await run(url, { ...timed.options, signal: interrupt.signal, retryInitialDelayMs: 5 }, (event) => {
      if (event.check === "status" && event.state === "waiting" && event.attempt === 2) interrupt.abort();
    });
    expect(detailOf(report, "status")).toBe("interrupted (Ctrl-C) before an answer, after 2 attempts");
    expect(statesOf(events, "status")).toEqual(["running", "waiting", "waiting", "failed"]);
    expect(timed.clock.sleeps).toHaveLength(1);
  });

  test("aborted while the status request is in flight: the request is cut, status fails as interrupted, no waiting follows", async () => {
    const interrupt = new AbortController();
    let statusArrived = false;
    let probesEnded = 0;
    const abortWhenSettled = () => {
      if (statusArrived && probesEnded === PROBES.length) interrupt.abort();
    };
    const server = await contractServer({
      status: () => {
        statusArrived = true; // never answered: only the abort ends it (the request timeout is 30 s)
        abortWhenSettled();
      },
    });
    const { report, events } = await run(server.url, { signal: interrupt.signal }, (event) => {
      if (PROBES.includes(event.check as CheckName) && event.state === "passed") probesEnded += 1;
      abortWhenSettled();
    });
    expect(report).toMatchObject({ ok: false, interrupted: true });
    expect(report.checks.filter((c) => !c.ok).map((c) => [c.name, c.detail])).toEqual([["status", INTERRUPTED_AFTER_ONE]]);
    expect(statesOf(events, "status")).toEqual(["running", "failed"]);
    expect(getEventListeners(interrupt.signal, "abort")).toEqual([]);
  });

  test("aborted once status passed, before the payment starts: the payment is not sent", async () => {
    const interrupt = new AbortController();
    const server = await contractServer({ pay: (_req, res) => sendJson(res, 500, { ok: false }) });
    const { report } = await run(server.url, { signal: interrupt.signal, payment: PAYMENT }, (event) => {
      if (event.check === "status" && event.state === "passed") interrupt.abort();
    });
    expect(report.interrupted).toBe(true);
    expect(report.checks.find((c) => c.name === "payment-smoke")).toMatchObject({ ok: false, detail: "not run: interrupted (Ctrl-C)" });
    expect(server.requests.filter((r) => r.url === "/pay-bolt11")).toEqual([]);
  });

  test("aborted while the payment is in flight: it fails as interrupted and is never sent again", async () => {
    const interrupt = new AbortController();
    const server = await contractServer({ pay: () => interrupt.abort() }); // never answered
    const { report, events } = await run(server.url, { signal: interrupt.signal, payment: PAYMENT });
    expect(report).toMatchObject({ ok: false, interrupted: true });
    expect(detailOf(report, "payment-smoke")).toBe("POST /pay-bolt11 failed: interrupted (Ctrl-C)");
    expect(statesOf(events, "payment-smoke")).toEqual(["running", "failed"]);
    expect(server.requests.filter((r) => r.url === "/pay-bolt11")).toHaveLength(1);
  });

  test("a signal that never fires: a normal report, real sleeps on the clock, and no listener left on the signal", async () => {
    const url = await standIn({ notReadyForFirst: 2 });
    const timed = clock(0);
    const interrupt = new AbortController();
    const { report } = await run(url, { ...timed.options, signal: interrupt.signal, retryInitialDelayMs: 5 });
    expect(report.ok).toBe(true);
    expect(report).not.toHaveProperty("interrupted");
    expect(timed.clock.sleeps).toHaveLength(2);
    expect(getEventListeners(interrupt.signal, "abort")).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
describe("deadlines on the run's clock", () => {
  test("status waits the deadline out: it fails naming the attempts, and the time left it reports stops at zero", async () => {
    // Each /status with the current token takes 20 s of the 60 s deadline: three attempts, then past it.
    const url = await standIn({ neverReady: true });
    const timed = clock(20_000, carrying(TOKEN));
    const { report, events } = await withRandom(0, () => run(url, { ...timed.options }));
    const reason = "ready:false (lifecycle error, lastErrorCode connect_failed)";
    expect(detailOf(report, "status")).toBe(`not ready by deadline after 3 attempts: ${reason}`);
    expect(events.filter((e) => e.check === "status").map((e) => [e.state, e.attempt, e.remainingMs])).toEqual([
      ["running", undefined, 60_000],
      ["waiting", 1, 40_000],
      ["waiting", 2, 19_950],
      ["failed", undefined, 0],
    ]);
  });

  test("the payment starts with exactly the attempt budget (100 ms) left, and not with 1 ms less", async () => {
    // The one /status attempt takes all of the deadline but 100 ms (then 99 ms) of the clock.
    const sent = await standIn();
    const withBudget = clock(59_900, carrying(TOKEN));
    const started = await run(sent, { ...withBudget.options, payment: PAYMENT });
    // 100 ms of real time for the payment: a busy machine may time it out, so only "it was started" is pinned.
    expect(detailOf(started.report, "payment-smoke")).not.toMatch(/^not run/);
    const without = clock(59_901, carrying(TOKEN));
    const notStarted = await run(sent, { ...without.options, payment: PAYMENT });
    expect(detailOf(notStarted.report, "payment-smoke")).toBe("not run: the deadline (60000 ms) left no time for a payment");
  });
});
