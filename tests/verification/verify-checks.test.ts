/**
 * Pins down the verification module's (verification/verify.ts) helpers, its /status check, its options
 * validation and its secret-echo scan, written against the mutants that survived a Stryker run:
 * redaction, quoting/clipping of server text, describing connection errors, reading bodies under
 * the size cap, flattening repeated headers, the retry/backoff loop, every /status verdict with its
 * exact wording, VerifyOptionsError messages, the no-secret-echo findings, and verifyExecutor's
 * wiring (its own pool closed at the end, a caller's pool used and left open).
 *
 * Every test talks to a real node:http server on 127.0.0.1 (tests/support/raw-http-server.ts) that
 * follows the contract except where a test makes it misbehave; nothing mocks fetch or undici. Each
 * test says which behaviour a mutant would change.
 */
import type { ServerResponse } from "node:http";
import { Agent, type Dispatcher } from "undici";
import {
  EXPECTED_UNAUTHORIZED_MESSAGE,
  EXPECTED_WWW_AUTHENTICATE,
  redact,
  verifyExecutor,
  VerifyOptionsError,
  type CheckName,
  type CheckResult,
  type VerifyOptions,
  type VerifyReport,
} from "../../verification/verify";
import { reservePort } from "../../harness/stand-in-executor";
import {
  eventually,
  sendGarbage,
  sendInParts,
  sendJson,
  startRawServer,
  type RawHandler,
  type RawRequest,
  type RawServer,
} from "../support/raw-http-server";
import { contractStatus } from "../support/verify-fixtures";
import { carrying, clocked, type ClockedRun } from "../support/verify-clock";

// Short enough that a quoted one (JSON, clipped at 80 characters) is still whole, so redaction can match it.
const TOKEN = "CURRENT-TOKEN-" + "c0ffee".repeat(4);
const PREVIOUS_TOKEN = "PREVIOUS-TOKEN-" + "dec0de".repeat(4);
const SPARK_KEY = "SPARK-KEY-" + "5ba4c0".repeat(4);
const INVOICE = "lnbcrt10u1INVOICE" + "q".repeat(40);
const SECRETS = [TOKEN, PREVIOUS_TOKEN, SPARK_KEY, INVOICE];
const OK_STATUS_DETAIL = "ready; authMode bearer_static, enforced; authTokenVersion 4; mode mock; lifecycle connected";

// ---------------------------------------------------------------------------------------------
// A contract-following executor on a raw server, whose answer to the current token's /status a test replaces.

const requestIdOf = (req: RawRequest): string => String(req.headers["x-request-id"]);

function statusFields(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return contractStatus({ balanceSats: 21000, lastErrorCode: null, ...overrides });
}

/** A 200 `/status` body for `req`; `omit` drops fields of the status object. */
function statusBody(req: RawRequest, overrides: Record<string, unknown> = {}, omit: readonly string[] = []): Record<string, unknown> {
  const status = statusFields(overrides);
  for (const key of omit) delete status[key];
  return { ok: true, requestId: requestIdOf(req), status };
}

function answerUnauthorized(req: RawRequest, res: ServerResponse, headers: Record<string, string | string[]> = {}): void {
  sendJson(
    res,
    401,
    { ok: false, error: { requestId: requestIdOf(req), code: "unauthorized", message: EXPECTED_UNAUTHORIZED_MESSAGE } },
    { "www-authenticate": EXPECTED_WWW_AUTHENTICATE, ...headers },
  );
}

type CurrentAnswer = (req: RawRequest, res: ServerResponse, n: number) => void;

/** 401 for every request without the current token; `current` answers the current token's n-th request (from 1). */
function executor(current: CurrentAnswer = (req, res) => sendJson(res, 200, statusBody(req))): RawHandler {
  let n = 0;
  return (req, res) => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      answerUnauthorized(req, res);
      return;
    }
    n += 1;
    current(req, res, n);
  };
}

async function withServer<T>(handler: RawHandler, run: (server: RawServer) => Promise<T>): Promise<T> {
  const server = await startRawServer(handler);
  try {
    return await run(server);
  } finally {
    await server.close();
  }
}

function optionsFor(baseUrl: string, extra: Partial<VerifyOptions> = {}): VerifyOptions {
  return {
    baseUrl,
    expectTokenVersion: 4,
    token: TOKEN,
    previousToken: PREVIOUS_TOKEN,
    sparkApiKey: SPARK_KEY,
    // Far above what a busy machine needs: a passing run never waits them out.
    deadlineMs: 30_000,
    requestTimeoutMs: 10_000,
    retryInitialDelayMs: 5,
    retryMaxDelayMs: 10,
    ...extra,
  };
}

/** Runs the verifier and checks that no secret reached the report, whatever the outcome. */
async function verify(baseUrl: string, extra: Partial<VerifyOptions> = {}): Promise<VerifyReport> {
  const report = await verifyExecutor(optionsFor(baseUrl, extra));
  const text = JSON.stringify(report);
  for (const secret of SECRETS) expect(text).not.toContain(secret);
  return report;
}

function checkOf(report: VerifyReport, name: CheckName): CheckResult {
  const found = report.checks.find((c) => c.name === name);
  if (!found) throw new Error(`no ${name} check in ${report.checks.map((c) => c.name).join(", ")}`);
  return found;
}

const failing = (report: VerifyReport): CheckName[] => report.checks.filter((c) => !c.ok).map((c) => c.name);
const currentTokenRequests = (server: RawServer): RawRequest[] =>
  server.requests.filter((r) => r.headers.authorization === `Bearer ${TOKEN}`);
const progressOf = (events: { attempt: number; reason: string }[]) => events.map(({ attempt, reason }) => ({ attempt, reason }));

/**
 * Runs the verifier against a deadline it waits out on an event clock (tests/support/verify-clock.ts):
 * each request `selects` picks takes 20 s of a 60 s deadline, so a deadline is over after three
 * such attempts, whatever the machine's load; real request timeouts stay at 10 s.
 */
async function verifyUntilDeadline(
  baseUrl: string,
  selects?: Parameters<typeof clocked>[1],
  extra: Partial<VerifyOptions> = {},
): Promise<VerifyReport> {
  return withClock(clocked(20_000, selects), (run) =>
    verify(baseUrl, { ...run.options, deadlineMs: 60_000, requestTimeoutMs: 10_000, ...extra }),
  );
}

async function withClock<T>(run: ClockedRun, body: (run: ClockedRun) => Promise<T>): Promise<T> {
  try {
    return await body(run);
  } finally {
    await run.close();
  }
}

// ---------------------------------------------------------------------------------------------
describe("redact", () => {
  test("entries that are not strings are ignored, even a null from an untyped caller", () => {
    // Mutant: letting non-strings through the filter makes the length sort read `null.length` and throw.
    // (An undefined alone cannot show it: sort moves undefined to the end without calling the comparator.)
    expect(redact("A1-B2 or B2-A1", ["A1", undefined, "B2"])).toBe("[redacted]-[redacted] or [redacted]-[redacted]");
    expect(redact("A1-B2, null", ["A1", null as unknown as string, "B2"])).toBe("[redacted]-[redacted], null");
  });

  test("a secret cut off by a bounded quote is redacted from its sixth character on; shorter overlaps stay", () => {
    const secret = "lnbcrt10u1" + "q".repeat(100);
    expect(redact(`is "${secret.slice(0, 40)}…, not an integer`, [secret])).toBe('is "[redacted]…, not an integer');
    expect(redact(`ends with lnbcrt…; and ${secret}`, [secret])).toBe("ends with [redacted]…; and [redacted]");
    expect(redact("ends with lnbcr…", [secret])).toBe("ends with lnbcr…");
    expect(redact("lnbcrt10u1 is no cut", [secret])).toBe("lnbcrt10u1 is no cut");
  });
});

// ---------------------------------------------------------------------------------------------
describe("options validation", () => {
  async function rejection(options: VerifyOptions): Promise<unknown> {
    return verifyExecutor(options).then(
      () => new Error("verifyExecutor resolved"),
      (error: unknown) => error,
    );
  }
  const base = optionsFor("http://127.0.0.1:9");
  const payment = { invoice: INVOICE, host: "sats.example.com", maxAmountMsats: 5000 };

  test.each<[string, Partial<VerifyOptions>, string]>([
    ["a base URL that is no URL", { baseUrl: "not a url" }, "options.baseUrl is not a URL"],
    ["an ftp base URL", { baseUrl: "ftp://127.0.0.1:9" }, "options.baseUrl must be an http or https URL"],
    ["a base URL with a user name only", { baseUrl: `http://${TOKEN}@127.0.0.1:9` }, "options.baseUrl must not carry credentials"],
    ["a base URL with a password only", { baseUrl: `http://:${TOKEN}@127.0.0.1:9` }, "options.baseUrl must not carry credentials"],
    ["a base URL with a query", { baseUrl: "http://127.0.0.1:9/?x=1" }, "options.baseUrl must not have a query or fragment"],
    ["a base URL with a fragment", { baseUrl: "http://127.0.0.1:9/#top" }, "options.baseUrl must not have a query or fragment"],
    ["expectTokenVersion 0", { expectTokenVersion: 0 }, "options.expectTokenVersion must be a positive integer"],
    ["expectTokenVersion 1.5", { expectTokenVersion: 1.5 }, "options.expectTokenVersion must be a positive integer"],
    ["an empty token", { token: "" }, "options.token must be a non-empty string"],
    ["a token that is not a string", { token: 42 as unknown as string }, "options.token must be a non-empty string"],
    ["deadlineMs 0", { deadlineMs: 0 }, "options.deadlineMs must be a positive number"],
    ["deadlineMs NaN", { deadlineMs: Number.NaN }, "options.deadlineMs must be a positive number"],
    ["requestTimeoutMs Infinity", { requestTimeoutMs: Infinity }, "options.requestTimeoutMs must be a positive number"],
    ["requestTimeoutMs -1", { requestTimeoutMs: -1 }, "options.requestTimeoutMs must be a positive number"],
    ["paymentTimeoutMs 0", { paymentTimeoutMs: 0 }, "options.paymentTimeoutMs must be a positive number"],
    ["an empty invoice", { payment: { ...payment, invoice: "" } }, "options.payment.invoice must be a non-empty string"],
    [
      "an invoice that is not a string",
      { payment: { ...payment, invoice: 7 as unknown as string } },
      "options.payment.invoice must be a non-empty string",
    ],
    ["an empty host", { payment: { ...payment, host: "" } }, "options.payment.host must be a non-empty string"],
    [
      "a host that is not a string",
      { payment: { ...payment, host: 7 as unknown as string } },
      "options.payment.host must be a non-empty string",
    ],
    ["maxAmountMsats 0", { payment: { ...payment, maxAmountMsats: 0 } }, "options.payment.maxAmountMsats must be a positive integer"],
    ["maxAmountMsats -1", { payment: { ...payment, maxAmountMsats: -1 } }, "options.payment.maxAmountMsats must be a positive integer"],
    ["maxAmountMsats 1.5", { payment: { ...payment, maxAmountMsats: 1.5 } }, "options.payment.maxAmountMsats must be a positive integer"],
  ])("%s is refused with a VerifyOptionsError naming the option, not its value", async (_what, extra, message) => {
    // Mutants: a dropped or weakened condition lets the run start (it resolves instead), a blanked message says nothing.
    const error = await rejection({ ...base, ...extra });
    expect(error).toBeInstanceOf(VerifyOptionsError);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).name).toBe("VerifyOptionsError");
    expect((error as Error).message).toBe(message);
    for (const secret of SECRETS) expect((error as Error).message).not.toContain(secret);
  });

  test("an https base URL is accepted: the run starts and fails on the connection, not on the options", async () => {
    // Mutant: rejecting "https:" (blanked literal or condition forced) throws a VerifyOptionsError instead.
    await withServer(executor(), async (server) => {
      const report = await verifyUntilDeadline(`https://127.0.0.1:${server.port}`);
      expect(report.ok).toBe(false);
      // (The TLS hello meets a plain HTTP server: a TLS error or a reset, depending on who is faster.)
      expect(checkOf(report, "status").detail).toMatch(/^not ready by deadline after \d+ attempts: connection error [A-Z_]+: /);
    });
  });

  test("expectTokenVersion 1 is the lowest valid generation", async () => {
    // Mutant: `expectTokenVersion <= 1` refuses generation 1.
    await withServer(
      executor((req, res) => sendJson(res, 200, statusBody(req, { authTokenVersion: 1 }))),
      async (server) => {
        const report = await verify(server.url, { expectTokenVersion: 1 });
        expect(checkOf(report, "status")).toMatchObject({
          ok: true,
          detail: "ready; authMode bearer_static, enforced; authTokenVersion 1; mode mock; lifecycle connected",
        });
      },
    );
  });

  test("a path prefix is kept and every trailing slash dropped", async () => {
    // Mutant: stripping one trailing slash only sends "/prefix//status".
    await withServer(executor(), async (server) => {
      const report = await verify(`${server.url}/prefix//`);
      expect(report.ok).toBe(true);
      expect(new Set(server.requests.map((r) => `${r.method} ${r.url}`))).toEqual(new Set(["GET /prefix/status"]));
      expect(server.requests).toHaveLength(4);
    });
  });
});

// ---------------------------------------------------------------------------------------------
describe("a healthy executor: wiring and exact details", () => {
  test("every check passes with its exact detail, in order", async () => {
    // Mutants: `plain` blanked or always JSON-quoting changes the determinism detail; the no-echo list
    // loses a name (blanked, dropped entry, filter/map broken); a first-attempt success gains "(after 1 attempts)".
    await withServer(executor(), async (server) => {
      const report = await verify(server.url);
      expect(report.checks.map(({ name, ok, detail }) => ({ name, ok, detail }))).toEqual([
        { name: "status", ok: true, detail: OK_STATUS_DETAIL },
        {
          name: "auth-missing-token",
          ok: true,
          detail: 'missing token: 401 unauthorized, Bearer realm="wallet-executor", requestId echoed',
        },
        { name: "auth-wrong-token", ok: true, detail: 'wrong token: 401 unauthorized, Bearer realm="wallet-executor", requestId echoed' },
        {
          name: "auth-previous-token",
          ok: true,
          detail: 'previous token: 401 unauthorized, Bearer realm="wallet-executor", requestId echoed',
        },
        {
          name: "auth-deterministic",
          ok: true,
          detail:
            '3 unauthorized answers agree: 401, www-authenticate Bearer realm="wallet-executor", code unauthorized, message missing or invalid bearer token',
        },
        {
          name: "no-secret-echo",
          ok: true,
          detail:
            "4 responses (headers and bodies) carry none of: the current token, the previous token, the Spark API key, the probe's wrong token",
        },
      ]);
      expect(report.ok).toBe(true);
    });
  });

  test("requests ask for JSON, carry a purpose-named request id, and GETs carry no content-type", async () => {
    // Mutants: a blanked accept value, a blanked "status" in the request id, a content-type on every request.
    await withServer(executor(), async (server) => {
      expect((await verify(server.url)).ok).toBe(true);
      expect(server.requests).toHaveLength(4);
      for (const req of server.requests) {
        expect(req.headers.accept).toBe("application/json");
        expect(req.headers["content-type"]).toBeUndefined();
      }
      const [status] = currentTokenRequests(server);
      expect(requestIdOf(status)).toMatch(/^verify-status-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      const missing = server.requests.filter((r) => r.headers.authorization === undefined);
      expect(missing).toHaveLength(1);
    });
  });

  test("the payment POST, and only it, is sent as application/json", async () => {
    // Mutants: no content-type (condition false or inverted), or a blanked one, on the request with a body.
    await withServer(
      executor((req, res) => {
        if (req.url === "/pay-bolt11")
          sendJson(res, 503, { ok: false, error: { requestId: requestIdOf(req), code: "busy", message: "busy" } });
        else sendJson(res, 200, statusBody(req));
      }),
      async (server) => {
        const report = await verify(server.url, { payment: { invoice: INVOICE, host: "sats.example.com", maxAmountMsats: 5000 } });
        expect(failing(report)).toEqual(["payment-smoke"]);
        const posts = server.requests.filter((r) => r.method === "POST");
        expect(posts.map((r) => [r.url, r.headers["content-type"]])).toEqual([["/pay-bolt11", "application/json"]]);
        for (const req of server.requests.filter((r) => r.method === "GET")) expect(req.headers["content-type"]).toBeUndefined();
      },
    );
  });

  test("an empty previousToken means no previous-token probe", async () => {
    // Mutant: only checking `!== undefined` probes with "Bearer " and reports an auth-previous-token check.
    await withServer(executor(), async (server) => {
      const report = await verify(server.url, { previousToken: "" });
      expect(report.checks.map((c) => c.name)).toEqual([
        "status",
        "auth-missing-token",
        "auth-wrong-token",
        "auth-deterministic",
        "no-secret-echo",
      ]);
      expect(report.ok).toBe(true);
      expect(server.requests).toHaveLength(3);
    });
  });

  test("without a dispatcher the run's own pool is destroyed: no socket and no timer outlives it", async () => {
    // Mutants: no own Agent (global dispatcher keeps sockets alive), `??` as `&&`, the final destroy
    // skipped, or each request's timeout timer left running after its answer.
    await withServer(executor(), async (server) => {
      const timeoutsBefore = activeTimeouts();
      const report = await verify(server.url, { requestTimeoutMs: 20_000, deadlineMs: 20_000 });
      expect(report.ok).toBe(true);
      expect(server.requests).toHaveLength(4);
      expect(await eventually(() => server.openConnections() === 0, 10_000)).toBe(true);
      // Left running, the four requests' 20 s timers would show here; one timer of slack for other suites
      // sharing the process (Stryker runs them all in one).
      expect(activeTimeouts()).toBeLessThanOrEqual(timeoutsBefore + 1);
    });
  });

  test("a caller's dispatcher carries every request and is left open", async () => {
    // Mutant: `options.dispatcher && ownDispatcher` sends through undici's global dispatcher instead.
    class CountingAgent extends Agent {
      dispatched = 0;
      override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
        this.dispatched += 1;
        return super.dispatch(options, handler);
      }
    }
    const agent = new CountingAgent();
    try {
      await withServer(executor(), async (server) => {
        expect((await verify(server.url, { dispatcher: agent })).ok).toBe(true);
        expect(agent.dispatched).toBe(4);
        expect(server.requests).toHaveLength(4);
        expect(agent.closed).toBe(false);
        expect(agent.destroyed).toBe(false);
      });
    } finally {
      await agent.close();
    }
  });
});

function activeTimeouts(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length;
}

// ---------------------------------------------------------------------------------------------
describe("HTTP plumbing: bodies, headers, connection errors", () => {
  const hugeFiller = 2 * 1024 * 1024;

  test("a body beyond the 1 MiB cap is cut off, so even valid JSON behind it is not read", async () => {
    // Mutants: `size -= …`, a never-true cap condition or an empty cap block read the whole body and pass.
    await withServer(
      executor((req, res) => sendJson(res, 200, " ".repeat(hugeFiller) + JSON.stringify(statusBody(req)), {}, true)),
      async (server) => {
        const report = await verify(server.url);
        expect(checkOf(report, "status")).toMatchObject({
          ok: false,
          detail: "/status answered 200 with a body that is not a JSON object",
        });
        expect(currentTokenRequests(server)).toHaveLength(1);
      },
    );
  });

  test("a body under the cap that arrives in several chunks is read whole", async () => {
    // Mutants: a cap condition that is always true (or `<=`) stops after the first chunk.
    await withServer(
      executor((req, res) => {
        const text = JSON.stringify(statusBody(req));
        sendInParts(res, [text.slice(0, 10), text.slice(10, 40), text.slice(40)], 30);
      }),
      async (server) => {
        const report = await verify(server.url);
        expect(checkOf(report, "status")).toMatchObject({ ok: true, detail: OK_STATUS_DETAIL });
      },
    );
  });

  test("a body of exactly 1 MiB is not yet over the cap: the chunk after it is still read", async () => {
    // Mutant: `size >= MAX_BODY_BYTES` stops at exactly 1 MiB, before the JSON is complete.
    const cap = 1 << 20;
    await withServer(
      executor((req, res) => {
        const json = JSON.stringify(statusBody(req));
        const text = " ".repeat(cap - json.length + 10) + json; // cap + 10 bytes: the last 10 come in a second chunk
        sendInParts(res, [text.slice(0, cap), text.slice(cap)], 50);
      }),
      async (server) => {
        const report = await verify(server.url);
        expect(checkOf(report, "status")).toMatchObject({ ok: true, detail: OK_STATUS_DETAIL });
      },
    );
  });

  test("a repeated response header is joined with a comma and a space", async () => {
    // Mutant: joining repeated values with "" changes what the probe quotes.
    await withServer(
      (req, res) => {
        if (req.headers.authorization === undefined) {
          answerUnauthorized(req, res, { "www-authenticate": [EXPECTED_WWW_AUTHENTICATE, EXPECTED_WWW_AUTHENTICATE] });
        } else executor()(req, res);
      },
      async (server) => {
        const report = await verify(server.url);
        expect(checkOf(report, "auth-missing-token")).toMatchObject({
          ok: false,
          detail: 'missing token: www-authenticate is "Bearer realm=\\"wallet-executor\\", Bearer realm=\\"wallet-executor\\""',
        });
      },
    );
  });

  test("an answer that is not HTTP is described by the error's name and message (it has no code), then retried", async () => {
    // Mutants: taking a non-string `code` as the code, reading `code` of an absent cause (throws),
    // skipping the name, or dropping the message.
    const progress: { attempt: number; reason: string }[] = [];
    await withServer(
      executor((req, res, n) => {
        if (n === 1) sendGarbage(res, "NOT HTTP\r\n\r\n");
        else sendJson(res, 200, statusBody(req));
      }),
      async (server) => {
        const report = await verify(server.url, { onProgress: (event) => progress.push(event) });
        expect(progressOf(progress)).toEqual([
          {
            attempt: 1,
            reason: "connection error HTTPParserError: Response does not match the HTTP/1.1 protocol (Expected HTTP/, RTSP/ or ICE/)",
          },
        ]);
        expect(checkOf(report, "status")).toMatchObject({ ok: true, detail: `${OK_STATUS_DETAIL} (after 2 attempts)` });
      },
    );
  });

  test("a refused connection is described by its code and message", async () => {
    // Mutants: the message dropped or blanked.
    const port = await reservePort();
    const report = await verifyUntilDeadline(`http://127.0.0.1:${port}`);
    expect(checkOf(report, "status").ok).toBe(false);
    expect(checkOf(report, "status").detail).toMatch(
      new RegExp(
        `^not ready by deadline after \\d+ attempts: connection error ECONNREFUSED: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}$`,
      ),
    );
  });
});

// ---------------------------------------------------------------------------------------------
describe("retrying until the readiness deadline", () => {
  test("408 and 429 mean 'not up yet': retried, with the status code as the progress reason", async () => {
    // Mutants: 408 or 429 treated as definitive ("unexpected HTTP …"), or the retry reason blanked/lost.
    const progress: { attempt: number; reason: string }[] = [];
    await withServer(
      executor((req, res, n) => {
        if (n === 1) sendJson(res, 408, { ok: false });
        else if (n === 2) sendJson(res, 429, { ok: false });
        else sendJson(res, 200, statusBody(req));
      }),
      async (server) => {
        const report = await verify(server.url, { onProgress: (event) => progress.push(event) });
        expect(progressOf(progress)).toEqual([
          { attempt: 1, reason: "HTTP 408" },
          { attempt: 2, reason: "HTTP 429" },
        ]);
        expect(checkOf(report, "status")).toMatchObject({ ok: true, detail: `${OK_STATUS_DETAIL} (after 3 attempts)` });
      },
    );
  });

  test.each([
    ["at its top", 0.999, [49.975, 99.95, 149.925, 149.925]],
    ["at its bottom", 0, [25, 50, 75, 75]],
  ])("backoff starts at retryInitialDelayMs, doubles, and is capped at retryMaxDelayMs (jitter %s)", async (_where, random, expected) => {
    // Math.random pinned: each delay is between half of its step and all of it (steps 50, 100, 150, 150 ms),
    // as the clock records it. Mutants: the options ignored (`&&` for `??`: 100 ms start, 2000 ms cap),
    // halving instead of doubling, `Math.max` for the cap, a doubled exponent, the jitter formula changed.
    const realRandom = Math.random;
    Math.random = () => random;
    try {
      await withServer(
        executor((req, res, n) => (n <= 4 ? sendJson(res, 503, { ok: false }) : sendJson(res, 200, statusBody(req)))),
        async (server) => {
          const sleeps = await withClock(clocked(0), async (run) => {
            const report = await verify(server.url, { ...run.options, retryInitialDelayMs: 50, retryMaxDelayMs: 150 });
            expect(checkOf(report, "status")).toMatchObject({ ok: true, detail: `${OK_STATUS_DETAIL} (after 5 attempts)` });
            return run.clock.sleeps;
          });
          expect(sleeps).toHaveLength(4);
          sleeps.forEach((ms, i) => expect(ms).toBeCloseTo(expected[i], 6));
        },
      );
    } finally {
      Math.random = realRandom;
    }
  });

  test("the process's own clock really sleeps between attempts", async () => {
    // Mutant: the default clock's sleep resolving at once. Lower bounds only: a busy machine is only ever later.
    const realRandom = Math.random;
    Math.random = () => 0.999;
    try {
      await withServer(
        executor((req, res, n) => (n <= 2 ? sendJson(res, 503, { ok: false }) : sendJson(res, 200, statusBody(req)))),
        async (server) => {
          const report = await verify(server.url, { retryInitialDelayMs: 50, retryMaxDelayMs: 150 });
          expect(checkOf(report, "status")).toMatchObject({ ok: true, detail: `${OK_STATUS_DETAIL} (after 3 attempts)` });
          const at = currentTokenRequests(server).map((r) => r.at);
          const gaps = at.slice(1).map((t, i) => t - at[i]);
          expect(gaps).toHaveLength(2);
          expect(gaps[0]).toBeGreaterThanOrEqual(47);
          expect(gaps[1]).toBeGreaterThanOrEqual(97);
        },
      );
    } finally {
      Math.random = realRandom;
    }
  });

  test("a request never outlives the readiness deadline, even with a longer request timeout", async () => {
    // Mutant: `deadlineAt + now` lets the request run for the full 5000 ms request timeout.
    await withServer(
      executor(() => undefined), // the current token's /status never gets an answer
      async (server) => {
        // The hung attempt takes the whole deadline on the clock; its real timeout is what the deadline left.
        const report = await withClock(clocked(300, carrying(TOKEN)), (run) =>
          verify(server.url, { ...run.options, deadlineMs: 300, requestTimeoutMs: 5000 }),
        );
        expect(checkOf(report, "status").detail).toBe("not ready by deadline after 1 attempts: no answer within 300 ms");
        expect(currentTokenRequests(server)).toHaveLength(1);
        expect(report.totalMs).toBeLessThan(5000);
      },
    );
  });

  test("an attempt starts only with at least the attempt budget (100 ms) left: one more with 5 s left, none after", async () => {
    // Attempts take 27.5 s of a 60 s deadline: the third starts with about 5 s left, a fourth would have none.
    // Mutant: a budget of the whole request timeout (`Math.max`) stops after the second.
    await withServer(
      executor((_req, res) => sendJson(res, 503, { ok: false })),
      async (server) => {
        const report = await withClock(clocked(27_500, carrying(TOKEN)), (run) =>
          verify(server.url, { ...run.options, deadlineMs: 60_000, requestTimeoutMs: 10_000 }),
        );
        expect(checkOf(report, "status").detail).toBe("not ready by deadline after 3 attempts: HTTP 503");
        expect(currentTokenRequests(server)).toHaveLength(3);
      },
    );
  });

  test("woken late with under half an attempt's budget left, the verifier reports the last real reason and sends nothing more", async () => {
    // A busy machine's late timer: the sleep ends 39 990 ms after it was due. Mutant: no check after the sleep
    // sends a starved attempt whose 1 ms timeout hides "HTTP 503".
    await withServer(
      executor((_req, res) => sendJson(res, 503, { ok: false })),
      async (server) => {
        const report = await withClock(clocked(20_000, carrying(TOKEN), 39_990), (run) =>
          verify(server.url, { ...run.options, deadlineMs: 60_000, requestTimeoutMs: 10_000 }),
        );
        expect(checkOf(report, "status").detail).toBe("not ready by deadline after 1 attempts: HTTP 503");
        expect(currentTokenRequests(server)).toHaveLength(1);
      },
    );
  });
});

// ---------------------------------------------------------------------------------------------
describe("the /status check", () => {
  const raw =
    (status: number, text: string): CurrentAnswer =>
    (_req, res) =>
      sendJson(res, status, text, {}, true);

  test.each<[string, CurrentAnswer, Partial<VerifyOptions>, string]>([
    [
      "401 for the current token",
      (req, res) => answerUnauthorized(req, res),
      {},
      "the current token got HTTP 401: the executor does not accept it",
    ],
    [
      "404 with an error code",
      (req, res) => sendJson(res, 404, { ok: false, error: { requestId: requestIdOf(req), code: "not_found", message: "nope" } }),
      {},
      "unexpected HTTP 404 not_found",
    ],
    [
      "400 with an error code that is not a plain word",
      (_req, res) => sendJson(res, 400, { ok: false, error: { code: "bad code!" } }),
      {},
      'unexpected HTTP 400 "bad code!"',
    ],
    ["403 with a body that is not JSON", raw(403, "forbidden"), {}, "unexpected HTTP 403"],
    ["418 with a JSON body without an error object", (_req, res) => sendJson(res, 418, { ok: false }), {}, "unexpected HTTP 418"],
    ["200 with a body that is not JSON", raw(200, "not json"), {}, "/status answered 200 with a body that is not a JSON object"],
    ["200 with null", raw(200, "null"), {}, "/status answered 200 with a body that is not a JSON object"],
    ["200 with an array", raw(200, "[1]"), {}, "/status answered 200 with a body that is not a JSON object"],
    ["200 with a string", raw(200, '"text"'), {}, "/status answered 200 with a body that is not a JSON object"],
    [
      "200 with ok:false and a status object",
      (req, res) => sendJson(res, 200, { ...statusBody(req), ok: false }),
      {},
      "/status answered 200 without ok:true and a status object",
    ],
    [
      "200 with ok:true and no status object",
      (req, res) => sendJson(res, 200, { ok: true, requestId: requestIdOf(req) }),
      {},
      "/status answered 200 without ok:true and a status object",
    ],
    ["authTokenVersion 4.5", body({ authTokenVersion: 4.5 }), {}, "status.authTokenVersion is 4.5, not an integer"],
    ["authTokenVersion absent", body({}, ["authTokenVersion"]), {}, "status.authTokenVersion is (absent), not an integer"],
    ["authTokenVersion as a string", body({ authTokenVersion: "4" }), {}, 'status.authTokenVersion is "4", not an integer'],
    [
      "a quoted value of exactly 80 characters",
      body({ authTokenVersion: "v".repeat(78) }),
      {},
      `status.authTokenVersion is "${"v".repeat(78)}", not an integer`,
    ],
    [
      "a quoted value of 81 characters",
      body({ authTokenVersion: "v".repeat(79) }),
      {},
      `status.authTokenVersion is "${"v".repeat(78)}…, not an integer`,
    ],
    [
      "authMode disabled while authEnforced is true",
      body({ authMode: "disabled", authEnforced: true }),
      {},
      "auth is disabled: authMode disabled, authEnforced true",
    ],
    [
      "authEnforced false while authMode is bearer_static",
      body({ authMode: "bearer_static", authEnforced: false }),
      {},
      "auth is disabled: authMode bearer_static, authEnforced false",
    ],
    [
      "another auth mode, authEnforced absent",
      body({ authMode: "oauth" }, ["authEnforced"]),
      {},
      "authMode is oauth, expected bearer_static; authEnforced is (absent), expected true",
    ],
    [
      "a body without the request id",
      (_req, res) => sendJson(res, 200, { ok: true, status: statusFields() }),
      {},
      "body.requestId does not echo x-request-id",
    ],
    [
      "mock mode when spark is expected (with the API key configured)",
      body({ mode: "mock", apiKeyConfigured: true }),
      { expectMode: "spark" },
      "mode is mock, expected spark",
    ],
  ])("%s fails status at once with its exact reason", async (_what, answer, extra, detail) => {
    // Mutants: each condition forced or inverted gives another verdict (or a crash), each blanked text another detail.
    await withServer(executor(answer), async (server) => {
      const report = await verify(server.url, extra);
      expect(checkOf(report, "status")).toMatchObject({ ok: false, detail });
      expect(failing(report)).toEqual(["status"]);
      expect(currentTokenRequests(server)).toHaveLength(1);
    });
  });

  test.each<[string, Record<string, unknown>, Partial<VerifyOptions>, string]>([
    [
      "spark mode with the API key configured, spark expected",
      { mode: "spark", apiKeyConfigured: true },
      { expectMode: "spark" },
      "mode spark",
    ],
    ["no API key in mock mode, mock expected", { mode: "mock", apiKeyConfigured: false }, { expectMode: "mock" }, "mode mock"],
    ["no API key in mock mode, no mode expected", { mode: "mock", apiKeyConfigured: false }, {}, "mode mock"],
    ["a mode of 48 word characters", { mode: "m".repeat(48) }, {}, `mode ${"m".repeat(48)}`],
    ["a mode of 49 word characters", { mode: "m".repeat(49) }, {}, `mode "${"m".repeat(49)}"`],
    ["a mode with a space", { mode: "a b" }, {}, 'mode "a b"'],
    ["a mode that is an array", { mode: ["a"] }, {}, 'mode ["a"]'],
  ])("%s passes, naming the mode as seen", async (_what, overrides, extra, mode) => {
    // Mutants: the spark-only API key rule applied to other modes (or to a configured key), `word`
    // letting through non-strings or unanchored matches, or quoting plain words.
    await withServer(executor(body(overrides)), async (server) => {
      const report = await verify(server.url, extra);
      expect(checkOf(report, "status")).toMatchObject({
        ok: true,
        detail: `ready; authMode bearer_static, enforced; authTokenVersion 4; ${mode}; lifecycle connected`,
      });
    });
  });

  test("the status summary keeps only well-typed fields, with no undefined keys", async () => {
    // Mutants: `text` redacting non-strings (throws), `number` accepting Infinity (1e400 in JSON),
    // the undefined keys not deleted.
    await withServer(
      executor((req, res) => {
        const text = JSON.stringify(statusBody(req, { mode: 7, balanceSats: "INFINITY" }, ["walletId", "identityPubkey"]));
        sendJson(res, 200, text.replace('"INFINITY"', "1e400"), {}, true);
      }),
      async (server) => {
        const report = await verify(server.url);
        expect(checkOf(report, "status")).toMatchObject({
          ok: true,
          detail: "ready; authMode bearer_static, enforced; authTokenVersion 4; mode 7; lifecycle connected",
        });
        expect(report.status).toStrictEqual({ authTokenVersion: 4, lifecycle: "connected", ready: true });
      },
    );
  });

  test("ready that is not a boolean is waited on until the deadline, and left out of the summary", async () => {
    // Mutant: `ready` copied into the summary whatever its type.
    await withServer(executor(body({ ready: "true" })), async (server) => {
      const report = await verifyUntilDeadline(server.url, carrying(TOKEN));
      expect(checkOf(report, "status").ok).toBe(false);
      expect(checkOf(report, "status").detail).toBe('not ready by deadline after 3 attempts: ready:"true" (lifecycle connected)');
      expect(report.status).toStrictEqual({
        walletId: "wallet-1",
        mode: "mock",
        authTokenVersion: 4,
        identityPubkey: "02" + "ab".repeat(32),
        balanceSats: 21000,
        lifecycle: "connected",
      });
      expect(currentTokenRequests(server)).toHaveLength(3);
    });
  });

  test("every secret is redacted from details and from the summary", async () => {
    // Mutants: the run's secret list emptied or filtered wrongly, so quoted server text keeps the secret.
    await withServer(
      executor(body({ authTokenVersion: TOKEN, walletId: `w-${PREVIOUS_TOKEN}`, lifecycle: SPARK_KEY, mode: INVOICE })),
      async (server) => {
        const report = await verify(server.url, { payment: { invoice: INVOICE, host: "sats.example.com", maxAmountMsats: 5000 } });
        expect(checkOf(report, "status")).toMatchObject({ ok: false, detail: 'status.authTokenVersion is "[redacted]", not an integer' });
        expect(checkOf(report, "payment-smoke")).toMatchObject({
          ok: false,
          detail: "not run: the status check failed (no payment against an executor that is not verified)",
        });
        expect(report.status).toMatchObject({ walletId: "w-[redacted]", lifecycle: "[redacted]", mode: "[redacted]" });
      },
    );
  });

  test("a secret longer than a quote is still redacted from the part the quote keeps", async () => {
    const longInvoice = "lnbcrt50u1" + "p".repeat(200);
    await withServer(executor(body({ authTokenVersion: longInvoice })), async (server) => {
      const report = await verify(server.url, { payment: { invoice: longInvoice, host: "sats.example.com", maxAmountMsats: 5000 } });
      expect(checkOf(report, "status")).toMatchObject({ ok: false, detail: 'status.authTokenVersion is "[redacted]…", not an integer' });
      expect(JSON.stringify(report)).not.toContain(longInvoice.slice(0, 12));
    });
  });
});

// ---------------------------------------------------------------------------------------------
describe("the no-secret-echo scan", () => {
  const echoing =
    (headers: Record<string, string>, echoed: readonly string[]): CurrentAnswer =>
    (req, res) =>
      sendJson(res, 200, { ...statusBody(req), debug: echoed }, headers);

  test("more than three findings: the first three, then how many more", async () => {
    // Mutants: the count off (`+ 3`), the condition forced, every finding listed, the separator blanked,
    // the Spark key's entry dropped.
    await withServer(
      executor(echoing({ "x-echo": `${TOKEN} ${PREVIOUS_TOKEN} ${SPARK_KEY}` }, [TOKEN, PREVIOUS_TOKEN, SPARK_KEY])),
      async (server) => {
        const report = await verify(server.url);
        expect(failing(report)).toEqual(["no-secret-echo"]);
        expect(checkOf(report, "no-secret-echo").detail).toBe(
          "secret echoed: the current token in a header of GET /status (current token); " +
            "the current token in the body of GET /status (current token); " +
            "the previous token in a header of GET /status (current token) and 3 more",
        );
      },
    );
  });

  test("exactly three findings: all listed, no 'more'", async () => {
    // Mutants: `>= 3`, `<= 3` or a forced condition add " and 0 more"; a blanked empty string adds text.
    await withServer(executor(echoing({ "x-echo": TOKEN }, [PREVIOUS_TOKEN, SPARK_KEY])), async (server) => {
      const report = await verify(server.url);
      expect(checkOf(report, "no-secret-echo")).toMatchObject({
        ok: false,
        detail:
          "secret echoed: the current token in a header of GET /status (current token); " +
          "the previous token in the body of GET /status (current token); " +
          "the Spark API key in the body of GET /status (current token)",
      });
    });
  });

  test("the probe's random wrong token is scanned for too", async () => {
    // Mutant: the wrong token's entry dropped or its name blanked.
    await withServer(
      (req, res) => {
        const auth = req.headers.authorization;
        if (auth !== undefined && auth !== `Bearer ${TOKEN}` && auth !== `Bearer ${PREVIOUS_TOKEN}`) {
          answerUnauthorized(req, res, { "x-echo-authorization": auth });
        } else executor()(req, res);
      },
      async (server) => {
        const report = await verify(server.url);
        expect(failing(report)).toEqual(["no-secret-echo"]);
        expect(checkOf(report, "no-secret-echo").detail).toBe(
          "secret echoed: the probe's wrong token in a header of GET /status (wrong token)",
        );
      },
    );
  });

  test("absent and empty secrets are not scanned for (no match on 'undefined' or on the empty string)", async () => {
    // Mutants: not skipping undefined (matches the text "undefined") or "" (matches everything).
    await withServer(executor(body({ lastErrorMessage: "undefined" })), async (server) => {
      const report = await verify(server.url, { previousToken: undefined, sparkApiKey: "" });
      expect(checkOf(report, "no-secret-echo")).toMatchObject({
        ok: true,
        detail: "3 responses (headers and bodies) carry none of: the current token, the probe's wrong token",
      });
    });
  });

  test("header lines are scanned one by one: a secret does not match across two headers", async () => {
    // Mutant: joining header lines with "" makes "…SPARKTAIL" + "x-second: …" look like the key.
    const sparkApiKey = "SPARKTAILx-second";
    await withServer(executor(echoing({ "x-first": "value SPARKTAIL", "x-second": "v" }, [])), async (server) => {
      const report = await verify(server.url, { sparkApiKey });
      expect(checkOf(report, "no-secret-echo")).toMatchObject({
        ok: true,
        detail:
          "4 responses (headers and bodies) carry none of: the current token, the previous token, the Spark API key, the probe's wrong token",
      });
    });
  });
});

function body(overrides: Record<string, unknown> = {}, omit: readonly string[] = []): CurrentAnswer {
  return (req, res) => sendJson(res, 200, statusBody(req, overrides, omit));
}
