/**
 * Pins down the unauthorized probes (missing, wrong and previous token), the auth-deterministic
 * comparison, the /pay-bolt11 payment smoke check and the identity check of the verification module
 * (verification/verify.ts), written against the mutants a mutation run left alive there. Every answer is
 * scripted per path and per Authorization header on a real server on 127.0.0.1
 * (tests/support/raw-http-server.ts), no mocked fetch; each test names the behaviour a surviving
 * mutant would change, and asserts exact details.
 */
import {
  EXPECTED_UNAUTHORIZED_CODE,
  EXPECTED_UNAUTHORIZED_MESSAGE,
  EXPECTED_WWW_AUTHENTICATE,
  verifyExecutor,
  type CheckName,
  type CheckResult,
  type VerifyOptions,
  type VerifyReport,
} from "../../verification/verify";
import { sendJson, startRawServer, type RawServer } from "../support/raw-http-server";
import { HOST, IDENTITY_PUBKEY, INVOICE, PREVIOUS_TOKEN, TOKEN, contractStatus, sealedReceipt, sha256 } from "../support/verify-fixtures";
import { carrying, clocked, type SentRequest } from "../support/verify-clock";

const WALLET_ID = "wallet-under-test";
const OTHER_IDENTITY = "03" + "cd".repeat(32);
const PREIMAGE = sha256("scripted preimage");
const PAYMENT = { invoice: INVOICE, host: HOST, maxAmountMsats: 5000 };
const PASSING_PROBE = `401 ${EXPECTED_UNAUTHORIZED_CODE}, ${EXPECTED_WWW_AUTHENTICATE}, requestId echoed`;
const NOT_A_RESULT = "POST /pay-bolt11 answered 200 without ok:true and a result object";

/** One request as the scripted executor saw it. */
interface ScriptedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  /** The x-request-id header ("" when absent). */
  requestId: string;
  body: string;
  /** 1-based: how many requests with this method, path and Authorization arrived so far, this one included. */
  nth: number;
}

/** How to answer one request: status (default 200), headers, a JSON or raw body; or no answer at all. */
interface ScriptedReply {
  status?: number;
  headers?: Record<string, string>;
  json?: unknown;
  raw?: string;
  /** "hang": never answered (the server's close() ends it); "destroy": the socket is destroyed unanswered. */
  action?: "hang" | "destroy";
}

/** Who a request comes from, by its Authorization header. */
type Caller = "current" | "previous" | "missing" | "wrong";
type Prober = Exclude<Caller, "current">;
const PROBE_CHECK: Record<Prober, CheckName> = {
  missing: "auth-missing-token",
  wrong: "auth-wrong-token",
  previous: "auth-previous-token",
};

function callerOf(req: ScriptedRequest): Caller {
  if (req.authorization === undefined) return "missing";
  if (req.authorization === `Bearer ${TOKEN}`) return "current";
  if (req.authorization === `Bearer ${PREVIOUS_TOKEN}`) return "previous";
  return "wrong";
}

/** The contract's deterministic 401, with parts replaced. */
function unauthorized(
  req: ScriptedRequest,
  change: { status?: number; headers?: Record<string, string>; error?: Record<string, unknown> } = {},
) {
  return {
    status: change.status ?? 401,
    headers: change.headers ?? { "www-authenticate": EXPECTED_WWW_AUTHENTICATE },
    json: {
      ok: false,
      error: { requestId: req.requestId, code: EXPECTED_UNAUTHORIZED_CODE, message: EXPECTED_UNAUTHORIZED_MESSAGE, ...change.error },
    },
  } satisfies ScriptedReply;
}

/** A healthy, ready /status answer (generation 4), with status fields replaced. */
function statusOk(req: ScriptedRequest, fields: Record<string, unknown> = {}): ScriptedReply {
  return {
    status: 200,
    json: {
      ok: true,
      requestId: req.requestId,
      status: contractStatus({ walletId: WALLET_ID, ...fields }),
    },
  };
}

interface PaidReceipt {
  receiptId: string;
  canonicalJsonSha256: string;
}

/** A contract-conforming /pay-bolt11 answer for the request received (receipt math written out here). */
function paid(
  req: ScriptedRequest,
  change: { walletId?: string; resultRequestId?: string; bodyRequestId?: string; ok?: boolean; extra?: Record<string, unknown> } = {},
  receipts: PaidReceipt[] = [],
): ScriptedReply {
  const sent = JSON.parse(req.body) as { requestId: string; payment: { invoice: string; host: string } };
  const fields = {
    receiptVersion: "openagents.lightning.wallet_receipt.v1",
    requestId: sent.requestId,
    walletId: change.walletId ?? WALLET_ID,
    host: sent.payment.host,
    paymentId: "pay_0001",
    invoiceHash: sha256(sent.payment.invoice),
    quotedAmountMsats: 1000,
    settledAmountMsats: 1000,
    preimageSha256: sha256(PREIMAGE),
    paidAtMs: 1_760_000_000_000,
    rail: "lightning",
    assetId: "BTC_LN",
  };
  const receipt = sealedReceipt(fields);
  receipts.push(receipt);
  return {
    status: 200,
    json: {
      ok: change.ok ?? true,
      requestId: change.bodyRequestId ?? sent.requestId,
      result: {
        requestId: change.resultRequestId ?? sent.requestId,
        walletId: fields.walletId,
        payment: { paymentId: fields.paymentId, amountMsats: 1000, preimageHex: PREIMAGE, paidAtMs: fields.paidAtMs },
        quotedAmountMsats: 1000,
        receipt,
      },
      ...change.extra,
    },
  };
}

interface Script {
  /** GET /status with the current token; default `statusOk`. */
  status?: (req: ScriptedRequest) => ScriptedReply;
  /** GET /status from a probe; default the contract's 401. */
  probe?: (req: ScriptedRequest, who: Prober) => ScriptedReply | undefined;
  /** POST /pay-bolt11 with the current token; default `paid`. */
  pay?: (req: ScriptedRequest) => ScriptedReply;
}

interface ScriptedExecutor {
  url: string;
  /** Every request received so far, in arrival order. */
  requests: ScriptedRequest[];
}

const servers: RawServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

function answer(script: Script, req: ScriptedRequest): ScriptedReply {
  const who = callerOf(req);
  if (req.method === "GET" && req.path === "/status") {
    if (who === "current") return (script.status ?? statusOk)(req);
    return script.probe?.(req, who) ?? unauthorized(req);
  }
  if (req.method === "POST" && req.path === "/pay-bolt11" && who === "current") return (script.pay ?? paid)(req);
  return { status: 404, json: { ok: false, error: { requestId: req.requestId, code: "not_found", message: "not found" } } };
}

/** A server on 127.0.0.1 answering per `script` (closed after each test). */
async function scripted(script: Script = {}): Promise<ScriptedExecutor> {
  const requests: ScriptedRequest[] = [];
  const counts = new Map<string, number>();
  const server = await startRawServer((raw, res) => {
    const authorization = raw.headers.authorization;
    const requestId = raw.headers["x-request-id"];
    const key = `${raw.method} ${raw.url} ${authorization ?? ""}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    const req: ScriptedRequest = {
      method: raw.method,
      path: raw.url.split("?")[0],
      authorization,
      requestId: typeof requestId === "string" ? requestId : "",
      body: raw.body,
      nth: counts.get(key) ?? 1,
    };
    requests.push(req);
    let reply: ScriptedReply;
    try {
      reply = answer(script, req);
    } catch (error) {
      // A broken script shows up in the test as an odd answer, not as a hung request.
      reply = { status: 599, json: { scriptError: String(error) } };
    }
    if (reply.action === "hang") return;
    if (reply.action === "destroy") {
      res.socket?.destroy();
      return;
    }
    if (reply.raw !== undefined) sendJson(res, reply.status ?? 200, reply.raw, reply.headers, true);
    else sendJson(res, reply.status ?? 200, reply.json, reply.headers);
  });
  servers.push(server);
  return { url: server.url, requests };
}

/** Fast options: deadlines far above what a busy machine needs (a passing run never waits them out); short retry delays. */
function run(server: ScriptedExecutor, extra: Partial<VerifyOptions> = {}): Promise<VerifyReport> {
  return verifyExecutor({
    baseUrl: server.url,
    expectTokenVersion: 4,
    token: TOKEN,
    previousToken: PREVIOUS_TOKEN,
    deadlineMs: 30_000,
    requestTimeoutMs: 10_000,
    retryInitialDelayMs: 5,
    retryMaxDelayMs: 20,
    ...extra,
  });
}

/**
 * Waits a deadline out on an event clock (tests/support/verify-clock.ts): each request `selects`
 * picks takes 20 s of a 60 s deadline, so the deadline is over after three of them, however busy the
 * machine; real request timeouts stay at 10 s.
 */
async function runUntilDeadline(server: ScriptedExecutor, selects: (request: SentRequest) => boolean): Promise<VerifyReport> {
  const timed = clocked(20_000, selects);
  try {
    return await run(server, { ...timed.options, deadlineMs: 60_000 });
  } finally {
    await timed.close();
  }
}

function check(report: VerifyReport, name: CheckName): Pick<CheckResult, "name" | "ok" | "detail"> {
  const found = report.checks.find((c) => c.name === name);
  if (!found) throw new Error(`no ${name} check in ${report.checks.map((c) => c.name).join(", ")}`);
  return { name: found.name, ok: found.ok, detail: found.detail };
}

function requestsFrom(server: ScriptedExecutor, who: Caller, path = "/status"): ScriptedRequest[] {
  return server.requests.filter((r) => r.path === path && callerOf(r) === who);
}

// ---------------------------------------------------------------------------------------------
describe("unauthorized probes", () => {
  test("a contract 401 passes every probe with its exact detail (a mutant of the passing detail or of its condition shows here)", async () => {
    const report = await run(await scripted());
    expect(report.checks.map((c) => [c.name, c.ok])).toEqual([
      ["status", true],
      ["auth-missing-token", true],
      ["auth-wrong-token", true],
      ["auth-previous-token", true],
      ["auth-deterministic", true],
      ["no-secret-echo", true],
    ]);
    expect(check(report, "auth-missing-token").detail).toBe(`missing token: ${PASSING_PROBE}`);
    expect(check(report, "auth-wrong-token").detail).toBe(`wrong token: ${PASSING_PROBE}`);
    expect(check(report, "auth-previous-token").detail).toBe(`previous token: ${PASSING_PROBE}`);
    expect(PASSING_PROBE).toBe('401 unauthorized, Bearer realm="wallet-executor", requestId echoed');
  });

  type Variant = [title: string, who: Prober, reply: (req: ScriptedRequest) => ScriptedReply, detail: string];
  test.each<Variant>([
    ["a 403 is not the contract's 401", "missing", (req) => unauthorized(req, { status: 403 }), "missing token: HTTP 403, expected 401"],
    [
      "another www-authenticate challenge is quoted",
      "wrong",
      (req) => unauthorized(req, { headers: { "www-authenticate": 'Basic realm="wallet-executor"' } }),
      'wrong token: www-authenticate is "Basic realm=\\"wallet-executor\\""',
    ],
    [
      "a body that is not JSON is described, not dereferenced",
      "missing",
      () => ({ status: 401, headers: { "www-authenticate": EXPECTED_WWW_AUTHENTICATE }, raw: "unauthorized" }),
      "missing token: body is not a JSON object",
    ],
    [
      "a JSON null body is described, not dereferenced",
      "previous",
      () => ({ status: 401, headers: { "www-authenticate": EXPECTED_WWW_AUTHENTICATE }, json: null }),
      "previous token: body is not a JSON object",
    ],
    [
      "ok:true in a 401 body",
      "wrong",
      (req) => ({ ...unauthorized(req), json: { ...unauthorized(req).json, ok: true } }),
      "wrong token: body.ok is not false",
    ],
    [
      "a body without an error",
      "missing",
      () => ({ status: 401, headers: { "www-authenticate": EXPECTED_WWW_AUTHENTICATE }, json: { ok: false } }),
      "missing token: body has no error object",
    ],
    [
      "an error that is a string, not an object",
      "previous",
      () => ({ status: 401, headers: { "www-authenticate": EXPECTED_WWW_AUTHENTICATE }, json: { ok: false, error: "unauthorized" } }),
      "previous token: body has no error object",
    ],
    [
      "another error.code is quoted",
      "wrong",
      (req) => unauthorized(req, { error: { code: "forbidden" } }),
      'wrong token: error.code is "forbidden"',
    ],
    [
      "another error.message is quoted",
      "missing",
      (req) => unauthorized(req, { error: { message: "bad token" } }),
      'missing token: error.message is "bad token"',
    ],
    [
      "an error.requestId that is not the probe's",
      "previous",
      (req) => unauthorized(req, { error: { requestId: `${req.requestId}-not` } }),
      "previous token: error.requestId does not echo x-request-id",
    ],
    [
      "two problems are joined with '; '",
      "missing",
      (req) => unauthorized(req, { status: 403, headers: {} }),
      "missing token: HTTP 403, expected 401; no www-authenticate header",
    ],
  ])("%s: exactly that problem, on that probe only", async (_, who, reply, detail) => {
    const server = await scripted({ probe: (req, prober) => (prober === who ? reply(req) : undefined) });
    const report = await run(server);
    const failed = report.checks.filter((c) => !c.ok).map((c) => c.name);
    // Only the probe, and determinism when its answer's signature differs from the others'.
    expect(failed.filter((name) => name !== "auth-deterministic")).toEqual([PROBE_CHECK[who]]);
    expect(check(report, PROBE_CHECK[who])).toEqual({ name: PROBE_CHECK[who], ok: false, detail });
    // Answered once: a definitive answer, never retried.
    expect(requestsFrom(server, who)).toHaveLength(1);
  });

  test("an accepted probe is one problem; the same-token remark is not added to other probes", async () => {
    const server = await scripted({ probe: (req, who) => (who === "missing" ? statusOk(req) : undefined) });
    const report = await run(server);
    expect(check(report, "auth-missing-token")).toEqual({
      name: "auth-missing-token",
      ok: false,
      detail: "missing token: missing token was accepted (HTTP 200), expected 401",
    });
    expect(check(report, "auth-previous-token").ok).toBe(true);
  });

  test("a previous token equal to the current one is named as the cause, on the previous-token probe only", async () => {
    // The previous probe then sends the current token, which the executor (rightly) accepts.
    const report = await run(await scripted(), { previousToken: TOKEN });
    expect(check(report, "auth-previous-token")).toEqual({
      name: "auth-previous-token",
      ok: false,
      detail: "previous token: previous token was accepted (HTTP 200), expected 401; the previous token is the same as the current token",
    });
    expect(check(report, "auth-missing-token")).toEqual({
      name: "auth-missing-token",
      ok: true,
      detail: `missing token: ${PASSING_PROBE}`,
    });
    expect(check(report, "auth-wrong-token")).toEqual({ name: "auth-wrong-token", ok: true, detail: `wrong token: ${PASSING_PROBE}` });
  });

  test("a 200 whose body is not JSON, or JSON null, is 'accepted', not a crash of the verifier", async () => {
    const server = await scripted({
      probe: (_req, who) => (who === "missing" ? { status: 200, json: null } : who === "wrong" ? { status: 200, raw: "OK" } : undefined),
    });
    const report = await run(server);
    expect(check(report, "auth-missing-token").detail).toBe("missing token: missing token was accepted (HTTP 200), expected 401");
    expect(check(report, "auth-wrong-token").detail).toBe("wrong token: wrong token was accepted (HTTP 200), expected 401");
    expect(requestsFrom(server, "missing")).toHaveLength(1);
    expect(requestsFrom(server, "wrong")).toHaveLength(1);
  });

  test("accepted by an older generation (old revision still serving) is waited out until the 401 comes", async () => {
    const server = await scripted({
      probe: (req, who) => (who === "missing" && req.nth <= 2 ? statusOk(req, { authTokenVersion: 3 }) : undefined),
    });
    const report = await run(server);
    expect(check(report, "auth-missing-token")).toEqual({
      name: "auth-missing-token",
      ok: true,
      detail: `missing token: ${PASSING_PROBE}`,
    });
    expect(requestsFrom(server, "missing")).toHaveLength(3);
    expect(report.ok).toBe(true);
  });

  test("accepted by the expected generation is a definitive failure, not waited out", async () => {
    const server = await scripted({ probe: (req, who) => (who === "wrong" ? statusOk(req, { authTokenVersion: 4 }) : undefined) });
    const report = await run(server);
    expect(check(report, "auth-wrong-token").detail).toBe("wrong token: wrong token was accepted (HTTP 200), expected 401");
    expect(requestsFrom(server, "wrong")).toHaveLength(1);
  });

  test("an old revision answering until the deadline: the probe names the attempts and the last reason", async () => {
    const server = await scripted({ probe: (req, who) => (who === "previous" ? statusOk(req, { authTokenVersion: 3 }) : undefined) });
    const report = await runUntilDeadline(server, carrying(PREVIOUS_TOKEN));
    const attempts = requestsFrom(server, "previous").length;
    expect(attempts).toBe(3);
    expect(check(report, "auth-previous-token")).toEqual({
      name: "auth-previous-token",
      ok: false,
      detail: `no answer by deadline after ${attempts} attempts: old revision still serving: authTokenVersion 3`,
    });
    expect(check(report, "auth-deterministic")).toEqual({
      name: "auth-deterministic",
      ok: false,
      detail: "no answer to compare for: previous token",
    });
    expect(check(report, "auth-missing-token").ok).toBe(true);
  });

  test("transient answers (HTTP 503) and dropped connections until the deadline: each probe names its last reason", async () => {
    const server = await scripted({
      probe: (_req, who) =>
        who === "missing" ? { status: 503, json: { ok: false } } : who === "wrong" ? { action: "destroy" } : undefined,
    });
    // The two probes wait out the same deadline: three attempts between them.
    const report = await runUntilDeadline(
      server,
      (request) => request.authorization !== `Bearer ${TOKEN}` && request.authorization !== `Bearer ${PREVIOUS_TOKEN}`,
    );
    const missing = requestsFrom(server, "missing").length;
    const wrong = requestsFrom(server, "wrong").length;
    expect(missing + wrong).toBe(3);
    expect(check(report, "auth-missing-token")).toEqual({
      name: "auth-missing-token",
      ok: false,
      detail: `no answer by deadline after ${missing} attempts: HTTP 503`,
    });
    const dropped = check(report, "auth-wrong-token");
    expect(dropped.ok).toBe(false);
    expect(dropped.detail).toMatch(
      new RegExp(`^no answer by deadline after ${wrong} attempts: connection error [A-Z_]+: other side closed$`),
    );
    expect(check(report, "auth-deterministic")).toEqual({
      name: "auth-deterministic",
      ok: false,
      detail: "no answer to compare for: missing token, wrong token",
    });
    expect(check(report, "auth-previous-token").ok).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
describe("auth-deterministic", () => {
  test("agreeing contract 401s: the agreed status, challenge, code and message are named", async () => {
    const report = await run(await scripted());
    expect(check(report, "auth-deterministic")).toEqual({
      name: "auth-deterministic",
      ok: true,
      detail:
        '3 unauthorized answers agree: 401, www-authenticate Bearer realm="wallet-executor", code unauthorized, message missing or invalid bearer token',
    });
  });

  test("differences in www-authenticate and in error.code are both listed (no stop after the first), grouped by probe", async () => {
    const server = await scripted({
      probe: (req, who) =>
        who === "wrong"
          ? unauthorized(req, { headers: { "www-authenticate": 'Basic realm="x"' } })
          : who === "previous"
            ? unauthorized(req, { error: { code: "denied" } })
            : undefined,
    });
    const report = await run(server);
    expect(check(report, "auth-deterministic")).toEqual({
      name: "auth-deterministic",
      ok: false,
      detail:
        'www-authenticate differs: "Bearer realm=\\"wallet-executor\\"" (missing token, previous token) vs "Basic realm=\\"x\\"" (wrong token); ' +
        'error.code differs: "unauthorized" (missing token, wrong token) vs "denied" (previous token)',
    });
  });
});

// ---------------------------------------------------------------------------------------------
describe("payment smoke", () => {
  test("a well-formed payment passes, naming the receipt id, the hash prefix and the amounts", async () => {
    const receipts: PaidReceipt[] = [];
    const server = await scripted({ pay: (req) => paid(req, {}, receipts) });
    const report = await run(server, { payment: PAYMENT });
    expect(receipts).toHaveLength(1);
    const [receipt] = receipts;
    expect(check(report, "payment-smoke")).toEqual({
      name: "payment-smoke",
      ok: true,
      detail:
        `receipt ${receipt.receiptId} (canonicalJsonSha256 ${receipt.canonicalJsonSha256.slice(0, 16)}…) settled 1000 msats ` +
        "(quoted 1000, max 5000); hash, id, invoiceHash and preimageSha256 recomputed",
    });
    // The payment's request id is a "verify-pay-" id, sent both as x-request-id and in the body.
    const pays = server.requests.filter((r) => r.path === "/pay-bolt11");
    expect(pays).toHaveLength(1);
    expect(pays[0].requestId).toMatch(/^verify-pay-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect((JSON.parse(pays[0].body) as { requestId: string }).requestId).toBe(pays[0].requestId);
  });

  test("a payment answer echoing the token is found under the label POST /pay-bolt11", async () => {
    const server = await scripted({ pay: (req) => paid(req, { extra: { debug: `Bearer ${TOKEN}` } }) });
    const report = await run(server, { payment: PAYMENT });
    expect(check(report, "payment-smoke").ok).toBe(true);
    expect(check(report, "no-secret-echo")).toEqual({
      name: "no-secret-echo",
      ok: false,
      detail: "secret echoed: the current token in the body of POST /pay-bolt11",
    });
  });

  test("no answer within the payment timeout fails the check with the reason, without a second payment", async () => {
    const server = await scripted({ pay: () => ({ action: "hang" }) });
    const report = await run(server, { payment: PAYMENT, paymentTimeoutMs: 150 });
    expect(check(report, "payment-smoke")).toEqual({
      name: "payment-smoke",
      ok: false,
      detail: "POST /pay-bolt11 failed: no answer within 150 ms",
    });
    expect(server.requests.filter((r) => r.path === "/pay-bolt11")).toHaveLength(1);
  });

  test.each<[string, ScriptedReply, string]>([
    [
      "an error code is named",
      { status: 502, json: { ok: false, error: { code: "connect_failed" } } },
      "POST /pay-bolt11 answered HTTP 502 connect_failed",
    ],
    ["no error object: no code", { status: 502, json: { ok: false } }, "POST /pay-bolt11 answered HTTP 502"],
    ["a body that is not JSON: no code, no crash", { status: 502, raw: "Bad Gateway" }, "POST /pay-bolt11 answered HTTP 502"],
    ["a JSON null body: no code, no crash", { status: 502, json: null }, "POST /pay-bolt11 answered HTTP 502"],
  ])("a non-200 answer (%s)", async (_, reply, detail) => {
    const report = await run(await scripted({ pay: () => reply }), { payment: PAYMENT });
    expect(check(report, "payment-smoke")).toEqual({ name: "payment-smoke", ok: false, detail });
  });

  test.each<[string, (req: ScriptedRequest) => ScriptedReply]>([
    ["a body that is not JSON", () => ({ status: 200, raw: "paid" })],
    ["a JSON null body", () => ({ status: 200, json: null })],
    ["ok:false beside a complete result", (req) => paid(req, { ok: false })],
    ["ok:true with a result that is not an object", () => ({ status: 200, json: { ok: true, result: "paid" } })],
  ])("a 200 answer without ok:true and a result object (%s) fails before any receipt check", async (_, reply) => {
    const report = await run(await scripted({ pay: reply }), { payment: PAYMENT });
    expect(check(report, "payment-smoke")).toEqual({ name: "payment-smoke", ok: false, detail: NOT_A_RESULT });
  });

  test("the receipt's walletId must be /status's walletId", async () => {
    const server = await scripted({ pay: (req) => paid(req, { walletId: "another-wallet" }) });
    const report = await run(server, { payment: PAYMENT });
    expect(check(report, "payment-smoke")).toEqual({
      name: "payment-smoke",
      ok: false,
      detail: "receipt.walletId does not match /status walletId",
    });
  });

  test("a /status walletId that is not a string is not compared with the receipt's", async () => {
    const server = await scripted({ status: (req) => statusOk(req, { walletId: 42 }) });
    const report = await run(server, { payment: PAYMENT });
    expect(check(report, "payment-smoke").ok).toBe(true);
    expect(check(report, "payment-smoke").detail).toMatch(/^receipt lwr_[0-9a-f]{24} /);
  });

  test("result.requestId and body.requestId must both be the payment's requestId; both problems are listed", async () => {
    const server = await scripted({ pay: (req) => paid(req, { resultRequestId: "someone-else", bodyRequestId: "someone-else" }) });
    const report = await run(server, { payment: PAYMENT });
    expect(check(report, "payment-smoke")).toEqual({
      name: "payment-smoke",
      ok: false,
      detail: "result.requestId does not match the payment's requestId; body.requestId does not echo x-request-id",
    });
  });

  test("the preimage received is redacted from every detail, even one quoting a probe's answer", async () => {
    // An executor quoting the preimage in a 401 (absurd, but the verifier must not carry it further).
    const server = await scripted({
      probe: (req, who) => (who === "wrong" ? unauthorized(req, { error: { code: PREIMAGE } }) : undefined),
    });
    const report = await run(server, { payment: PAYMENT });
    expect(check(report, "payment-smoke").ok).toBe(true);
    expect(check(report, "auth-wrong-token").detail).toBe('wrong token: error.code is "[redacted]"');
    expect(check(report, "auth-deterministic").detail).toBe(
      'error.code differs: "unauthorized" (missing token, previous token) vs "[redacted]" (wrong token)',
    );
    expect(JSON.stringify(report.checks)).not.toContain(PREIMAGE);
  });
});

// ---------------------------------------------------------------------------------------------
describe("identity", () => {
  test("not checked when /status did not succeed", async () => {
    const server = await scripted({ status: (req) => unauthorized(req) });
    const report = await run(server, { expectIdentity: IDENTITY_PUBKEY });
    expect(check(report, "status").ok).toBe(false);
    expect(check(report, "identity")).toEqual({ name: "identity", ok: false, detail: "not checked: /status did not succeed" });
  });

  test.each<[string, Record<string, unknown>]>([
    ["absent", { identityPubkey: undefined }],
    ["empty", { identityPubkey: "" }],
    ["a number", { identityPubkey: 7 }],
  ])("an identityPubkey that is %s is missing", async (_, fields) => {
    const server = await scripted({ status: (req) => statusOk(req, fields) });
    const report = await run(server, { expectIdentity: IDENTITY_PUBKEY });
    expect(check(report, "status").ok).toBe(true);
    expect(check(report, "identity")).toEqual({ name: "identity", ok: false, detail: "status.identityPubkey is missing" });
  });

  test("a passing identity names exactly what was checked: expected, differs from the rejected one, or both", async () => {
    const server = await scripted();
    const expected = await run(server, { expectIdentity: IDENTITY_PUBKEY });
    expect(check(expected, "identity")).toEqual({ name: "identity", ok: true, detail: `identityPubkey "${IDENTITY_PUBKEY}" as expected` });
    const rejected = await run(server, { rejectIdentity: OTHER_IDENTITY });
    expect(check(rejected, "identity")).toEqual({
      name: "identity",
      ok: true,
      detail: `identityPubkey "${IDENTITY_PUBKEY}" differs from the rejected identity`,
    });
    const both = await run(server, { expectIdentity: IDENTITY_PUBKEY, rejectIdentity: OTHER_IDENTITY });
    expect(check(both, "identity")).toEqual({
      name: "identity",
      ok: true,
      detail: `identityPubkey "${IDENTITY_PUBKEY}" as expected, differs from the rejected identity`,
    });
  });

  test("an identity that is both unexpected and the rejected one lists both problems", async () => {
    const report = await run(await scripted(), { expectIdentity: OTHER_IDENTITY, rejectIdentity: IDENTITY_PUBKEY });
    expect(check(report, "identity")).toEqual({
      name: "identity",
      ok: false,
      detail:
        `identityPubkey "${IDENTITY_PUBKEY}" is not the expected "${OTHER_IDENTITY}"; ` +
        `identityPubkey is unchanged ("${IDENTITY_PUBKEY}"): a mnemonic rotation must change the wallet identity`,
    });
  });
});
