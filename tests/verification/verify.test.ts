/**
 * The verification (verification/verify.ts), the receipt math (verification/receipt.ts) and the CLI
 * (verification/cli.ts), against real executors on 127.0.0.1 (no mocked fetch): stand-in executors,
 * raw HTTP servers that answer one check wrong at a time, scripted executors for the probes, and
 * hostile ones (echoes of secrets, ANSI sequences, huge values, payments that never answer). Each
 * misbehaving variant must fail exactly the check that names it, and no secret, nor any part of one,
 * reaches a report or the CLI's output.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import * as path from "node:path";
import fc from "fast-check";
import { Agent, type Dispatcher } from "undici";
import {
  CANONICAL_RECEIPT_FIELDS,
  canonicalReceiptSha256,
  preimageProblems,
  preimageSha256,
  receiptIdFor,
  receiptProblems,
  sha256Hex,
  type WalletReceipt,
} from "../../verification/receipt";
import {
  redact,
  verifyExecutor,
  VerifyOptionsError,
  type CheckName,
  type VerifyOptions,
  type VerifyReport,
  EXPECTED_UNAUTHORIZED_MESSAGE,
  EXPECTED_WWW_AUTHENTICATE,
  type CheckResult,
  EXPECTED_UNAUTHORIZED_CODE,
  isLoopback,
} from "../../verification/verify";
import { main } from "../../verification/cli";
import {
  DEFAULT_IDENTITY_PUBKEY,
  startStandInExecutor,
  startStandInExecutorLater,
  type ReceiptTamper,
  type StandInExecutor,
  type StandInOptions,
  reservePort,
} from "../../harness/stand-in-executor";
import {
  HOST,
  INVOICE,
  PREVIOUS_TOKEN,
  SPARK_KEY,
  TOKEN,
  sealedReceipt,
  sha256,
  contractStatus,
  IDENTITY_PUBKEY,
} from "../support/verify-fixtures";
import { EventClock, carrying, clocked, type ClockedRun, type SentRequest } from "../support/verify-clock";
import { type ServerResponse } from "node:http";
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
import { performance } from "node:perf_hooks";
import { carriesSecret } from "../../lib/redact";

/** The stand-in's fake preimage for INVOICE (see stand-in-executor.ts). */
const PREIMAGE = sha256(`stand-in preimage:${INVOICE}`);
const SECRETS = [TOKEN, PREVIOUS_TOKEN, SPARK_KEY, INVOICE, PREIMAGE];

const running: StandInExecutor[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((executor) => executor.close()));
});

async function standIn(options: StandInOptions = {}): Promise<StandInExecutor> {
  const executor = await startStandInExecutor({ token: TOKEN, tokenVersion: 4, ...options });
  running.push(executor);
  return executor;
}

function optionsFor(url: string, extra: Partial<VerifyOptions> = {}): VerifyOptions {
  return {
    baseUrl: url,
    expectTokenVersion: 4,
    token: TOKEN,
    previousToken: PREVIOUS_TOKEN,
    sparkApiKey: SPARK_KEY,
    // Far above what a busy machine needs: a passing run never waits them out.
    deadlineMs: 30_000,
    requestTimeoutMs: 10_000,
    ...extra,
  };
}

const PAYMENT = { invoice: INVOICE, host: HOST, maxAmountMsats: 5000 };

function failing(report: VerifyReport): CheckName[] {
  return report.checks
    .filter((c) => !c.ok)
    .map((c) => c.name)
    .sort();
}
function check(report: VerifyReport, name: CheckName) {
  const found = report.checks.find((c) => c.name === name);
  if (!found) throw new Error(`no ${name} check in ${report.checks.map((c) => c.name).join(", ")}`);
  return found;
}
/** Whatever the outcome, no secret may appear anywhere in the report. */
function expectNoSecrets(text: string): void {
  for (const secret of SECRETS) expect(text).not.toContain(secret);
}
async function verify(url: string, extra: Partial<VerifyOptions> = {}): Promise<VerifyReport> {
  const report = await verifyExecutor(optionsFor(url, extra));
  expectNoSecrets(JSON.stringify(report));
  return report;
}

/**
 * Waits the readiness deadline out on an event clock (tests/support/verify-clock.ts): each /status
 * request with the current token takes 20 s of a 60 s deadline, so the deadline is over after three
 * attempts, however busy the machine is.
 */
async function verifyUntilDeadline(url: string, extra: Partial<VerifyOptions> = {}): Promise<VerifyReport> {
  const timed = clocked(20_000, carrying(TOKEN));
  try {
    return await verify(url, { ...timed.options, deadlineMs: 60_000, ...extra });
  } finally {
    await timed.close();
  }
}

/** "Fast": without waiting the readiness deadline (30 s) out, on however busy a machine. */
const FAST_MS = 10_000;

// ---------------------------------------------------------------------------------------------
describe("verification/receipt", () => {
  /** A receipt built with the contract's math written out here, independently of lib/receipt. */
  function goodReceipt(): WalletReceipt {
    const fields = {
      receiptVersion: "openagents.lightning.wallet_receipt.v1",
      requestId: "req-1",
      walletId: "openagents-ep212",
      host: HOST,
      paymentId: "pay_1",
      invoiceHash: sha256(INVOICE),
      quotedAmountMsats: 1000,
      settledAmountMsats: 1000,
      preimageSha256: sha256(PREIMAGE),
      paidAtMs: 1_760_000_000_000,
      rail: "lightning",
      assetId: "BTC_LN",
    };
    return sealedReceipt(fields);
  }
  const expectation = {
    invoice: INVOICE,
    maxAmountMsats: 5000,
    host: HOST,
    requestId: "req-1",
    walletId: "openagents-ep212",
    preimageHex: PREIMAGE,
  };

  test("a receipt built per the contract has no problems", () => {
    expect(receiptProblems(goodReceipt(), expectation)).toEqual([]);
  });

  test("the canonical hash is over the twelve fields in contract order, compact JSON", () => {
    const receipt = goodReceipt();
    const literal =
      `{"receiptVersion":"openagents.lightning.wallet_receipt.v1","requestId":"req-1","walletId":"openagents-ep212","host":"${HOST}",` +
      `"paymentId":"pay_1","invoiceHash":"${sha256(INVOICE)}","quotedAmountMsats":1000,"settledAmountMsats":1000,` +
      `"preimageSha256":"${sha256(PREIMAGE)}","paidAtMs":1760000000000,"rail":"lightning","assetId":"BTC_LN"}`;
    expect(canonicalReceiptSha256(receipt)).toBe(sha256(literal));
    // Extra properties and property order of the input do not change it.
    const reordered = Object.fromEntries(Object.entries({ ...receipt, extra: 1 }).reverse()) as unknown as WalletReceipt;
    expect(canonicalReceiptSha256(reordered)).toBe(sha256(literal));
    expect(receiptIdFor(receipt.canonicalJsonSha256)).toBe(receipt.receiptId);
    expect(receiptIdFor("0123456789abcdef".repeat(4))).toBe("lwr_0123456789abcdef01234567");
  });

  test("preimageSha256 hashes the lowercase hex text, not the bytes", () => {
    expect(preimageSha256("ABCDEF")).toBe(sha256("abcdef"));
    expect(preimageSha256(PREIMAGE)).not.toBe(createHash("sha256").update(Buffer.from(PREIMAGE, "hex")).digest("hex"));
  });

  test.each(CANONICAL_RECEIPT_FIELDS.map((field) => [field]))("changing %s alone breaks the receipt", (field) => {
    const receipt = goodReceipt() as unknown as Record<string, unknown>;
    receipt[field] = typeof receipt[field] === "number" ? receipt[field] + 1 : `${receipt[field] as string}x`;
    const problems = receiptProblems(receipt, expectation);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.some((p) => p.includes("canonicalJsonSha256"))).toBe(true);
  });

  test.each([["receiptId"], ["canonicalJsonSha256"]])("changing %s breaks the receipt", (field) => {
    const receipt = goodReceipt() as unknown as Record<string, string>;
    receipt[field] = field === "receiptId" ? "lwr_000000000000000000000000" : "0".repeat(64);
    expect(receiptProblems(receipt, expectation).join("\n")).toContain(`receipt.${field}`);
  });

  test("contract rules are checked even when hash and id are consistent", () => {
    const rehash = (changes: Partial<WalletReceipt>): WalletReceipt => {
      const receipt = { ...goodReceipt(), ...changes };
      receipt.canonicalJsonSha256 = canonicalReceiptSha256(receipt);
      receipt.receiptId = receiptIdFor(receipt.canonicalJsonSha256);
      return receipt;
    };
    const problemsOf = (changes: Partial<WalletReceipt>): string => receiptProblems(rehash(changes), expectation).join("\n");
    expect(problemsOf({ receiptVersion: "v0" })).toContain("receiptVersion");
    expect(problemsOf({ rail: "onchain" })).toContain("rail");
    expect(problemsOf({ assetId: "BTC" })).toContain("assetId");
    expect(problemsOf({ invoiceHash: sha256("another invoice") })).toContain("invoiceHash");
    expect(problemsOf({ settledAmountMsats: 5001 })).toContain("settledAmountMsats 5001 exceeds maxAmountMsats 5000");
    expect(problemsOf({ quotedAmountMsats: 6000 })).toContain("quotedAmountMsats");
    expect(problemsOf({ host: "evil.example" })).toContain("receipt.host");
    expect(problemsOf({ requestId: "req-2" })).toContain("receipt.requestId");
    expect(problemsOf({ walletId: "other" })).toContain("receipt.walletId");
    expect(problemsOf({ preimageSha256: sha256("other") })).toContain("preimageSha256");
    expect(problemsOf({ settledAmountMsats: 5000 })).toBe("");
  });

  test("problems never quote the invoice or the preimage, even when the receipt carries them", () => {
    const leaky = {
      ...goodReceipt(),
      receiptVersion: INVOICE,
      paymentId: PREIMAGE,
      canonicalJsonSha256: PREIMAGE,
      receiptId: `lwr_${PREIMAGE.slice(0, 24)}`,
    };
    const problems = receiptProblems(leaky, expectation);
    expect(problems).toEqual(expect.arrayContaining(["receipt contains the invoice text", "receipt contains the preimage"]));
    const text = problems.join("\n");
    expect(text).not.toContain(INVOICE);
    expect(text).not.toContain(PREIMAGE);
    expect(text).not.toContain(PREIMAGE.slice(0, 24));
  });

  test("malformed receipts and preimages are described", () => {
    expect(receiptProblems(undefined, expectation)).toEqual(["receipt is missing or not an object"]);
    expect(receiptProblems({ ...goodReceipt(), paidAtMs: "soon" }, expectation)).toEqual([
      "receipt.paidAtMs is missing or not a positive integer",
    ]);
    expect(preimageProblems(goodReceipt(), undefined)).toEqual(["result.payment.preimageHex is missing or not 64 hex characters"]);
    expect(preimageProblems(goodReceipt(), "ab".repeat(32))).toEqual([
      "receipt.preimageSha256 is not sha256 of result.payment.preimageHex",
    ]);
    expect(preimageProblems(goodReceipt(), PREIMAGE.toUpperCase())).toEqual([]);
  });

  test.each([
    "receiptVersion",
    "requestId",
    "walletId",
    "host",
    "paymentId",
    "invoiceHash",
    "preimageSha256",
    "rail",
    "assetId",
    "receiptId",
    "canonicalJsonSha256",
  ])("shape: %s missing, empty or not a string is reported alone, before any derived check", (field) => {
    for (const bad of [undefined, "", 42, null, ["x"]]) {
      const receipt: Record<string, unknown> = { ...goodReceipt(), [field]: bad };
      if (bad === undefined) delete receipt[field];
      expect(receiptProblems(receipt, expectation)).toEqual([`receipt.${field} is missing or not a non-empty string`]);
    }
  });

  test.each(["quotedAmountMsats", "settledAmountMsats"])("shape: %s must be a non-negative safe integer within the cap", (field) => {
    for (const bad of [undefined, "1000", -1, 1.5, 2 ** 60]) {
      const receipt: Record<string, unknown> = { ...goodReceipt(), [field]: bad };
      expect(receiptProblems(receipt, expectation)).toEqual([`receipt.${field} is missing or not a non-negative integer`]);
    }
    // Zero is a valid amount: only the shape is checked here (the hash then fails, as it must).
    expect(receiptProblems({ ...goodReceipt(), [field]: 0 }, expectation)).not.toContain(
      `receipt.${field} is missing or not a non-negative integer`,
    );
    expect(receiptProblems({ ...goodReceipt(), [field]: 5001 }, expectation)).toContain(
      `receipt.${field} 5001 exceeds maxAmountMsats 5000`,
    );
    expect(receiptProblems({ ...goodReceipt(), [field]: 5000 }, expectation)).not.toContain(
      `receipt.${field} 5000 exceeds maxAmountMsats 5000`,
    );
  });

  test("shape: paidAtMs must be a positive safe integer; a non-object receipt is one problem", () => {
    for (const bad of [undefined, 0, -5, "1760000000000", 1.5]) {
      expect(receiptProblems({ ...goodReceipt(), paidAtMs: bad }, expectation)).toEqual([
        "receipt.paidAtMs is missing or not a positive integer",
      ]);
    }
    for (const bad of [null, undefined, "receipt", ["a"], 7]) {
      expect(receiptProblems(bad, expectation)).toEqual(["receipt is missing or not an object"]);
    }
    expect(preimageProblems(null, PREIMAGE)).toEqual(["receipt.preimageSha256 is missing"]);
    expect(preimageProblems({ preimageSha256: 5 }, PREIMAGE)).toEqual(["receipt.preimageSha256 is missing"]);
  });

  test("sha256 is over the UTF-8 text", () => {
    expect(sha256Hex("ünïcode")).toBe(createHash("sha256").update(Buffer.from("ünïcode", "utf8")).digest("hex"));
  });

  test("property: any receipt built per the contract is well formed, and any field change is caught", () => {
    const text = fc.string({ minLength: 1, maxLength: 20 });
    fc.assert(
      fc.property(
        text,
        text,
        text,
        fc.nat({ max: 5000 }),
        fc.integer({ min: 1, max: 2 ** 45 }),
        fc.nat({ max: 11 }),
        (requestId, walletId, paymentId, amount, paidAtMs, mutate) => {
          const fields = {
            receiptVersion: "openagents.lightning.wallet_receipt.v1",
            requestId,
            walletId,
            host: HOST,
            paymentId,
            invoiceHash: sha256(INVOICE),
            quotedAmountMsats: amount,
            settledAmountMsats: amount,
            preimageSha256: sha256(PREIMAGE),
            paidAtMs,
            rail: "lightning",
            assetId: "BTC_LN",
          };
          const canonicalJsonSha256 = sha256(JSON.stringify(fields));
          const receipt: Record<string, unknown> = { ...fields, receiptId: `lwr_${canonicalJsonSha256.slice(0, 24)}`, canonicalJsonSha256 };
          const expect1 = { invoice: INVOICE, maxAmountMsats: 5000, host: HOST, preimageHex: PREIMAGE };
          if (receiptProblems(receipt, expect1).length !== 0) return false;
          const field = CANONICAL_RECEIPT_FIELDS[mutate];
          receipt[field] = typeof receipt[field] === "number" ? receipt[field] + 1 : `${receipt[field] as string}!`;
          return receiptProblems(receipt, expect1).length > 0;
        },
      ),
      { numRuns: 200 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
describe("redact", () => {
  test("replaces every occurrence, longest secret first, ignoring empty and undefined", () => {
    expect(redact("a SECRET and SECRET2 and SECRET", ["SECRET", undefined, "", "SECRET2"])).toBe(
      "a [redacted] and [redacted] and [redacted]",
    );
    expect(redact("nothing here", [undefined])).toBe("nothing here");
  });
});

// ---------------------------------------------------------------------------------------------
describe("verifyExecutor against a healthy stand-in", () => {
  test("full pass with payment, identity, over one keep-alive pool", async () => {
    const executor = await standIn({ identityPubkey: DEFAULT_IDENTITY_PUBKEY });
    const report = await verify(executor.url, { payment: PAYMENT, expectMode: "mock", expectIdentity: DEFAULT_IDENTITY_PUBKEY });
    expect(report.checks.map((c) => c.name)).toEqual([
      "status",
      "auth-missing-token",
      "auth-wrong-token",
      "auth-previous-token",
      "auth-deterministic",
      "payment-smoke",
      "identity",
      "no-secret-echo",
    ]);
    expect(failing(report)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(check(report, "payment-smoke").detail).toMatch(/receipt lwr_[0-9a-f]{24} /);
    expect(report.status).toEqual({
      walletId: "openagents-ep212",
      mode: "mock",
      authTokenVersion: 4,
      identityPubkey: DEFAULT_IDENTITY_PUBKEY,
      balanceSats: 21000,
      lifecycle: "connected",
      ready: true,
    });
    for (const c of report.checks) expect(c.ms).toBeGreaterThanOrEqual(0);
    // Every request carried its own request id; status + 3 probes concurrently, payment reusing a socket.
    const ids = executor.requests.map((r) => r.requestId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(executor.requests.map((r) => `${r.method} ${r.path} ${r.auth}`).sort()).toEqual([
      "GET /status accepted",
      "GET /status missing",
      "GET /status rejected",
      "GET /status rejected",
      "POST /pay-bolt11 accepted",
    ]);
    expect(executor.connectionCount()).toBeLessThanOrEqual(4);
  });

  test("without payment or identity options those checks are absent", async () => {
    const executor = await standIn();
    const report = await verify(executor.url, { previousToken: undefined });
    expect(report.checks.map((c) => c.name)).toEqual([
      "status",
      "auth-missing-token",
      "auth-wrong-token",
      "auth-deterministic",
      "no-secret-echo",
    ]);
    expect(report.ok).toBe(true);
  });

  test("a caller's dispatcher is used and left open", async () => {
    const executor = await standIn();
    const agent = new Agent();
    try {
      expect((await verify(executor.url, { dispatcher: agent })).ok).toBe(true);
      expect((await verify(executor.url, { dispatcher: agent })).ok).toBe(true);
      expect(agent.closed).toBe(false);
    } finally {
      await agent.close();
    }
  });

  test("invalid options throw VerifyOptionsError without the secret", async () => {
    await expect(verifyExecutor(optionsFor("ftp://127.0.0.1:1"))).rejects.toThrow(VerifyOptionsError);
    await expect(verifyExecutor(optionsFor("http://127.0.0.1:1", { expectTokenVersion: 0 }))).rejects.toThrow("expectTokenVersion");
    const error = await verifyExecutor(optionsFor(`http://user:${TOKEN}@127.0.0.1:1`)).then(
      () => new Error("no error"),
      (e: Error) => e,
    );
    expect(error.message).toContain("credentials");
    expect(error.message).not.toContain(TOKEN);
  });
});

// ---------------------------------------------------------------------------------------------
describe("verifyExecutor against misbehaving stand-ins", () => {
  test("an older authTokenVersion (old revision still serving) fails status at the deadline", async () => {
    const executor = await standIn({ tokenVersion: 3 });
    const report = await verifyUntilDeadline(executor.url);
    expect(failing(report)).toEqual(["status"]);
    expect(check(report, "status").detail).toBe(
      "not ready by deadline after 3 attempts: old revision still serving: authTokenVersion 3, expected 4",
    );
    expect(executor.authorizedStatusCalls()).toBe(3);
  });

  test("a newer authTokenVersion fails status fast, without retrying", async () => {
    const executor = await standIn({ tokenVersion: 5 });
    const report = await verify(executor.url, { payment: PAYMENT });
    expect(failing(report)).toEqual(["payment-smoke", "status"]);
    expect(check(report, "status").detail).toContain("authTokenVersion 5 is newer than the expected 4");
    expect(check(report, "payment-smoke").detail).toMatch(/^not run/);
    expect(executor.authorizedStatusCalls()).toBe(1);
    expect(executor.requests.some((r) => r.path === "/pay-bolt11")).toBe(false);
    expect(report.totalMs).toBeLessThan(FAST_MS);
  });

  test("auth disabled fails status and every 401 probe, fast", async () => {
    const executor = await standIn({ token: "" });
    const report = await verify(executor.url);
    expect(failing(report)).toEqual(["auth-deterministic", "auth-missing-token", "auth-previous-token", "auth-wrong-token", "status"]);
    expect(check(report, "status").detail).toContain("auth is disabled");
    expect(check(report, "auth-missing-token").detail).toContain("accepted (HTTP 200)");
    expect(check(report, "auth-deterministic").detail).toContain("not 401");
    expect(report.totalMs).toBeLessThan(FAST_MS);
  });

  test("/status reporting authMode disabled while enforcing fails only status", async () => {
    const executor = await standIn({ reportAuth: { authMode: "disabled", authEnforced: false } });
    const report = await verify(executor.url);
    expect(failing(report)).toEqual(["status"]);
    expect(check(report, "status").detail).toContain("auth is disabled");
  });

  test("the current token getting 401 fails status fast", async () => {
    const executor = await standIn({ token: "some-other-token-" + "1".repeat(40) });
    const report = await verify(executor.url);
    expect(failing(report)).toEqual(["status"]);
    expect(check(report, "status").detail).toContain("HTTP 401");
    expect(report.totalMs).toBeLessThan(FAST_MS);
  });

  test("401 without www-authenticate fails each probe", async () => {
    const executor = await standIn({ omitWwwAuthenticate: true });
    const report = await verify(executor.url);
    expect(failing(report)).toEqual(["auth-missing-token", "auth-previous-token", "auth-wrong-token"]);
    expect(check(report, "auth-wrong-token").detail).toContain("no www-authenticate header");
  });

  test("401 bodies that differ per case fail that probe and determinism", async () => {
    const executor = await standIn({ unauthorizedMessage: { missing: "missing bearer token" } });
    const report = await verify(executor.url);
    expect(failing(report)).toEqual(["auth-deterministic", "auth-missing-token"]);
    expect(check(report, "auth-deterministic").detail).toBe(
      'error.message differs: "missing bearer token" (missing token) vs "missing or invalid bearer token" (wrong token, previous token)',
    );
  });

  test("the old token still accepted fails auth-previous-token and determinism", async () => {
    const executor = await standIn({ alsoAcceptTokens: [PREVIOUS_TOKEN] });
    const report = await verify(executor.url);
    expect(failing(report)).toEqual(["auth-deterministic", "auth-previous-token"]);
    expect(check(report, "auth-previous-token").detail).toBe("previous token: previous token was accepted (HTTP 200), expected 401");
    expect(check(report, "auth-deterministic").detail).toBe("status differs: 401 (missing token, wrong token) vs 200 (previous token)");
  });

  test.each<[ReceiptTamper, string]>([
    ["canonical-hash", "receipt.canonicalJsonSha256 does not match the recomputed"],
    ["receipt-id", "receipt.receiptId is not lwr_"],
    ["preimage-hash", "receipt.preimageSha256 is not sha256 of result.payment.preimageHex"],
    ["invoice-hash", "receipt.invoiceHash is not sha256 of the invoice"],
    ["request-id", "receipt.requestId does not match"],
  ])("receipt tampered (%s) fails payment-smoke", async (tamper, problem) => {
    const executor = await standIn({ tamperReceipt: tamper });
    const report = await verify(executor.url, { payment: PAYMENT });
    expect(failing(report)).toEqual(["payment-smoke"]);
    expect(check(report, "payment-smoke").detail).toContain(problem);
    if (tamper === "receipt-id") expect(check(report, "payment-smoke").detail).not.toContain("canonicalJsonSha256");
  });

  test("a payment refused by the executor fails payment-smoke with its code", async () => {
    const executor = await standIn({ allowedHosts: ["other.example"] });
    const report = await verify(executor.url, { payment: PAYMENT });
    expect(failing(report)).toEqual(["payment-smoke"]);
    expect(check(report, "payment-smoke").detail).toBe("POST /pay-bolt11 answered HTTP 403 host_not_allowed");
  });

  test.each<["status-body" | "header", string]>([
    ["status-body", "the current token in the body of GET /status (current token)"],
    ["header", "the previous token in a header of GET /status (previous token)"],
  ])("a response echoing the token (%s) fails no-secret-echo without repeating it", async (echo, finding) => {
    const executor = await standIn({ echoAuthorization: echo });
    const report = await verify(executor.url);
    expect(failing(report)).toEqual(["no-secret-echo"]);
    expect(check(report, "no-secret-echo").detail).toContain(finding);
  });

  test("ready:false for the first 3 polls, then ready: passes, reporting progress", async () => {
    const executor = await standIn({ notReadyForFirst: 3 });
    const progress: { attempt: number; reason: string }[] = [];
    const report = await verify(executor.url, { onProgress: ({ attempt, reason }) => progress.push({ attempt, reason }) });
    expect(failing(report)).toEqual([]);
    expect(executor.authorizedStatusCalls()).toBe(4);
    expect(progress).toEqual([1, 2, 3].map((attempt) => ({ attempt, reason: "ready:false (lifecycle connecting)" })));
    expect(check(report, "status").detail).toContain("after 4 attempts");
  });

  test("never ready fails status at the deadline with the last reason", async () => {
    const executor = await standIn({ neverReady: true });
    const report = await verifyUntilDeadline(executor.url);
    expect(failing(report)).toEqual(["status"]);
    expect(check(report, "status").detail).toBe(
      "not ready by deadline after 3 attempts: ready:false (lifecycle error, lastErrorCode connect_failed)",
    );
    // Stops once less than one attempt budget is left, not before: the third attempt, no fourth.
    expect(executor.authorizedStatusCalls()).toBe(3);
    expect(report.status).toMatchObject({ ready: false, lifecycle: "error" });
  });

  test("connection refused, then up: passes", async () => {
    const later = await startStandInExecutorLater({ token: TOKEN, tokenVersion: 4 }, 300);
    const reasons: string[] = [];
    try {
      const report = await verify(later.url, { onProgress: ({ reason }) => reasons.push(reason) });
      expect(failing(report)).toEqual([]);
      expect(reasons[0]).toMatch(/^connection error ECONNREFUSED/);
    } finally {
      running.push(await later.started);
    }
  });

  test("500s for the first calls are retried: passes", async () => {
    const executor = await standIn({ failFirst: 6 });
    const report = await verify(executor.url);
    expect(failing(report)).toEqual([]);
    expect(executor.requests.filter((r) => r.outcome === 500)).toHaveLength(6);
  });

  test("a hung /status times out and is retried until the deadline", async () => {
    const executor = await standIn({ hangStatus: "always" });
    // Each hung attempt waits its real 150 ms; the deadline counts attempts on the event clock.
    const report = await verifyUntilDeadline(executor.url, { requestTimeoutMs: 150 });
    expect(failing(report)).toEqual(["status"]);
    expect(check(report, "status").detail).toBe("not ready by deadline after 3 attempts: no answer within 150 ms");
    expect(executor.authorizedStatusCalls()).toBe(3);
    expect(report.totalMs).toBeLessThan(FAST_MS);
  });

  test("a single hung /status times out, and the retry passes", async () => {
    const executor = await standIn({ hangStatus: 1 });
    // The hang waits this out for real; the retry's answer must come within it too, so it is long
    // enough for a starved process (a local answer needs milliseconds of CPU, not seconds).
    const report = await verify(executor.url, { requestTimeoutMs: 2_000 });
    expect(failing(report)).toEqual([]);
    expect(executor.authorizedStatusCalls()).toBe(2);
  });

  test("spark mode with apiKeyConfigured false fails status", async () => {
    const executor = await standIn({ mode: "spark", apiKeyConfigured: false });
    const report = await verify(executor.url, { expectMode: "spark" });
    expect(failing(report)).toEqual(["status"]);
    expect(check(report, "status").detail).toContain("apiKeyConfigured is false in spark mode");
  });

  test("mock mode when spark is expected fails status", async () => {
    const executor = await standIn({ mode: "mock" });
    const report = await verify(executor.url, { expectMode: "spark" });
    expect(failing(report)).toEqual(["status"]);
    expect(check(report, "status").detail).toContain("mode is mock, expected spark");
  });

  test("identity: expected, not expected, rejected", async () => {
    const oldIdentity = "03" + "cd".repeat(32);
    const executor = await standIn({ identityPubkey: DEFAULT_IDENTITY_PUBKEY });
    const passing = await verify(executor.url, { expectIdentity: DEFAULT_IDENTITY_PUBKEY, rejectIdentity: oldIdentity });
    expect(failing(passing)).toEqual([]);

    const wrong = await verify(executor.url, { expectIdentity: oldIdentity });
    expect(failing(wrong)).toEqual(["identity"]);
    expect(check(wrong, "identity").detail).toContain("is not the expected");

    const unchanged = await verify(executor.url, { rejectIdentity: DEFAULT_IDENTITY_PUBKEY });
    expect(failing(unchanged)).toEqual(["identity"]);
    expect(check(unchanged, "identity").detail).toContain("unchanged");
  });
});

// ---------------------------------------------------------------------------------------------
describe("verification/cli.ts", () => {
  interface CliRun {
    code: number;
    stdout: string;
    stderr: string;
  }
  const repoRoot = path.resolve(__dirname, "../..");
  const register = path.join(__dirname, "..", "..", "tools", "register.js");

  /** Runs the CLI as a real process (as `npm run verify` does), with only the given extra environment. */
  function runCli(args: string[], env: Record<string, string>): Promise<CliRun> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        ["--require", register, "verification/cli.ts", ...args],
        { cwd: repoRoot, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env }, timeout: 100_000 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
  }
  /** Runs `main` in-process, capturing its output. */
  async function runMain(args: string[], env: Record<string, string>): Promise<CliRun> {
    let stdout = "";
    let stderr = "";
    const code = await main(args, env, {
      stdout: { write: (t: string) => (stdout += t) },
      stderr: { write: (t: string) => (stderr += t) },
    });
    return { code, stdout, stderr };
  }
  const expectNoLeak = (run: CliRun): void => expectNoSecrets(run.stdout + run.stderr);

  const cliRuns: Record<string, CliRun> = {};
  let healthy: StandInExecutor;
  let echoing: StandInExecutor;

  beforeAll(async () => {
    healthy = await startStandInExecutor({ token: TOKEN, tokenVersion: 4 });
    echoing = await startStandInExecutor({ token: TOKEN, tokenVersion: 4, echoAuthorization: "status-body" });
    const env = { OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN: TOKEN, OLD_TOKEN: PREVIOUS_TOKEN, SPARK_KEY: SPARK_KEY, INVOICE };
    // Real processes in parallel (each pays the loader's start-up once) for exit 0 with the document
    // on stdout and exit 1 with progress on stderr while waiting; the other runs call `main`
    // in-process (the bin's exit 2 is held as a process in tests/repository/cli-conventions.test.ts).
    const runs = await Promise.all([
      runCli(
        [
          "--base-url",
          healthy.url,
          "--expect-token-version",
          "4",
          "--previous-token-env",
          "OLD_TOKEN",
          "--spark-key-env",
          "SPARK_KEY",
          "--json",
        ],
        env,
      ),
      runMain(
        [
          "--base-url",
          healthy.url,
          "--expect-token-version",
          "4",
          "--invoice-env",
          "INVOICE",
          "--host",
          HOST,
          "--max-amount-msats",
          "5000",
        ],
        env,
      ),
      // Long enough for a retry (and its progress line) after a first answer slowed by a busy machine.
      runCli(["--base-url", healthy.url, "--expect-token-version", "5", "--deadline-ms", "3000"], env),
      runMain(["--base-url", echoing.url, "--expect-token-version", "4", "--json"], env),
      runMain(["--base-url", healthy.url, "--expect-token-version", "4", "--token", TOKEN], env),
    ]);
    [cliRuns.json, cliRuns.table, cliRuns.notReady, cliRuns.echo, cliRuns.tokenFlag] = runs;
  }, 120_000); // cold processes at once; the deadline only stops a hang, however busy the machine
  afterAll(async () => {
    await Promise.all([healthy?.close(), echoing?.close()]);
  });

  test("exit 0 and exactly {schema, ok, stack, checks[{name, ok, detail, ms}]} with --json", () => {
    const run = cliRuns.json;
    expect(run.code).toBe(0);
    const parsed = JSON.parse(run.stdout) as { schema: string; stack: unknown; ok: boolean; checks: Record<string, unknown>[] };
    expect(Object.keys(parsed)).toEqual(["schema", "ok", "stack", "checks"]);
    expect(parsed.schema).toBe("wallet-executor/verify/v1");
    expect(parsed.stack).toBeNull();
    expect(parsed.ok).toBe(true);
    expect(parsed.checks.map((c) => c.name)).toEqual([
      "status",
      "auth-missing-token",
      "auth-wrong-token",
      "auth-previous-token",
      "auth-deterministic",
      "no-secret-echo",
    ]);
    for (const c of parsed.checks) {
      expect(Object.keys(c)).toEqual(["name", "ok", "detail", "ms"]);
      expect(typeof c.ms).toBe("number");
    }
    // Progress lines only on stderr (not a terminal: one per change); stdout is the document alone.
    expect(run.stderr.split("\n").filter((line) => line !== "" && !/^verify: [a-z-]+: (running|passed) \(/.test(line))).toEqual([]);
    expect(run.stderr).toMatch(/^verify: status: passed \(/m);
    expectNoLeak(run);
  });

  test("exit 0 with a readable table, payment included", () => {
    const run = cliRuns.table;
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^CHECK +RESULT +MS +DETAIL\n/);
    expect(run.stdout).toMatch(/\npayment-smoke +PASS +\d+ +receipt lwr_[0-9a-f]{24} /);
    expect(run.stdout).toContain("verification PASSED: 6 checks");
    expectNoLeak(run);
  });

  test("exit 1 on a failed check, with progress lines on stderr while waiting", () => {
    const run = cliRuns.notReady;
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/\nstatus +FAIL +\d+ +not ready by deadline after \d+ attempts: old revision still serving/);
    expect(run.stdout).toContain("verification FAILED: 1 of 5 checks failed");
    expect(run.stderr).toMatch(
      /^verify: status: waiting, attempt 1 was not an answer: old revision still serving: authTokenVersion 4, expected 5 \(\d+\.\d s left of 3\.0 s\)$/m,
    );
    expectNoLeak(run);
  });

  test("exit 1 with --json when the executor echoes the token, without printing it", () => {
    const run = cliRuns.echo;
    expect(run.code).toBe(1);
    const parsed = JSON.parse(run.stdout) as { ok: boolean; checks: { name: string; ok: boolean }[] };
    expect(parsed.ok).toBe(false);
    expect(parsed.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(["no-secret-echo"]);
    expectNoLeak(run);
  });

  test("exit 2 for a secret on the command line, without echoing it", () => {
    const run = cliRuns.tokenFlag;
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^verify: error: --token would put a secret on the command line/);
    expect(run.stdout).toBe("");
    expectNoLeak(run);
  });

  const T = { OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN: TOKEN };
  test.each<[string, string[], Record<string, string>, RegExp]>([
    ["missing --base-url", ["--expect-token-version", "4"], T, /--base-url is required/],
    ["missing --expect-token-version", ["--base-url", "http://127.0.0.1:1"], T, /--expect-token-version is required/],
    [
      "non-integer version",
      ["--base-url", "http://127.0.0.1:1", "--expect-token-version", "4.5"],
      T,
      /--expect-token-version must be an integer/,
    ],
    ["bad URL", ["--base-url", "not a url", "--expect-token-version", "4"], T, /--base-url is not a valid URL/],
    ["non-http URL", ["--base-url", "ftp://x", "--expect-token-version", "4"], T, /--base-url must be an http or https URL/],
    ["unknown flag", ["--base-url", "http://127.0.0.1:1", "--expect-token-version", "4", "--frobnicate"], T, /unknown flag --frobnicate/],
    [
      "default token variable unset",
      ["--base-url", "http://127.0.0.1:1", "--expect-token-version", "4"],
      {},
      /OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN \(default of --token-env\) is unset or empty/,
    ],
    [
      "named token variable empty",
      ["--base-url", "http://127.0.0.1:1", "--expect-token-version", "4", "--token-env", "MY_TOKEN"],
      { ...T, MY_TOKEN: "" },
      /MY_TOKEN \(--token-env\) is unset or empty/,
    ],
    [
      "token value given as a variable name",
      ["--base-url", "http://127.0.0.1:1", "--expect-token-version", "4", "--token-env", `${TOKEN}-x`],
      T,
      /--token-env expects the NAME/,
    ],
    [
      "--invoice-env without --host",
      ["--base-url", "http://127.0.0.1:1", "--expect-token-version", "4", "--invoice-env", "INVOICE", "--max-amount-msats", "5"],
      { ...T, INVOICE },
      /--invoice-env needs --host/,
    ],
    [
      "--invoice-env without --max-amount-msats",
      ["--base-url", "http://127.0.0.1:1", "--expect-token-version", "4", "--invoice-env", "INVOICE", "--host", HOST],
      { ...T, INVOICE },
      /--invoice-env needs --max-amount-msats/,
    ],
    [
      "--spark-key=value",
      ["--base-url", "http://127.0.0.1:1", "--expect-token-version", "4", `--spark-key=${SPARK_KEY}`],
      T,
      /--spark-key would put a secret/,
    ],
    ["a stray positional (maybe a pasted secret)", ["--base-url", "http://127.0.0.1:1", TOKEN], T, /unexpected argument #3/],
    [
      "bad --expect-mode",
      ["--base-url", "http://127.0.0.1:1", "--expect-token-version", "4", "--expect-mode", "live"],
      T,
      /--expect-mode must be spark or mock/,
    ],
  ])("exit 2: %s", async (_, args, env, message) => {
    const run = await runMain(args, env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(run.stdout).toBe("");
    expectNoLeak(run);
  });

  test("--help prints usage and exits 0", async () => {
    const run = await runMain(["--help"], {});
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("--expect-token-version N");
  });
});

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
describe("verifyExecutor's checks, one at a time, against raw HTTP executors", () => {
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
        // Mutant: a blanked method on the status request or the probes.
        expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual(Array(4).fill("GET /status"));
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
        // Closed as the run ends; undici's global dispatcher would keep them for its 4 s keep-alive.
        expect(await eventually(() => server.openConnections() === 0, 2_000)).toBe(true);
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
    test.each([
      // A pool that wraps the socket's error (as a proxy or an interceptor does): the cause's code is named.
      [
        "an error wrapping the real one",
        (error: Error) => new Error("through the pool", { cause: error }),
        "connection error ECONNREFUSED: through the pool",
      ],
      // Mutant: reading `code` of an absent cause (an object taken for one) throws.
      [
        "an error with a name and no code",
        () => ({ name: "PoolError", message: "pool closed" }),
        "connection error PoolError: pool closed",
      ],
      // Mutant: quoting an absent message throws.
      ["an error with a code and no message", () => ({ code: "EPOOL" }), "connection error EPOOL"],
      // Mutants: a null cause taken for an object (throws); a made-up code or separator where there is none.
      ["a plain object with a message only", () => ({ message: "pool closed", cause: null }), "connection error: pool closed"],
      // A rejection that is not an object at all.
      ["a string", () => "pool closed", "connection error"],
    ])("whatever a caller's pool rejects with is described, never a crash: %s", async (_what, wrap, reason) => {
      // A caller's dispatcher (VerifyOptions.dispatcher) may reject with anything; this one rewrites the real
      // error of a refused connection. Each status request takes 20 s of a 60 s deadline on the event clock.
      const clock = new EventClock();
      class WrappingAgent extends Agent {
        override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
          if ((options.headers as Record<string, string>).authorization === `Bearer ${TOKEN}`) clock.advance(20_000);
          const onError = handler.onError?.bind(handler);
          handler.onError = (error: Error) => onError?.(wrap(error) as Error);
          return super.dispatch(options, handler);
        }
      }
      const pool = new WrappingAgent();
      try {
        const report = await verify(`http://127.0.0.1:${await reservePort()}`, { dispatcher: pool, clock, deadlineMs: 60_000 });
        expect(checkOf(report, "status").detail).toBe(`not ready by deadline after 3 attempts: ${reason}`);
      } finally {
        await pool.close();
      }
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

    test("the deadline counts from where the clock stands at the start, not from zero", async () => {
      // The clock starts a million ms in. Mutants: `deadlineAt + now` for the request's time budget (a 5 s
      // request instead of 300 ms) or for the time left (retries past the deadline, one more progress event).
      await withServer(
        executor(() => undefined),
        async (server) => {
          const report = await withClock(clocked(300, carrying(TOKEN)), (run) => {
            run.clock.advance(1_000_000);
            return verify(server.url, { ...run.options, deadlineMs: 300, requestTimeoutMs: 5000 });
          });
          expect(checkOf(report, "status").detail).toBe("not ready by deadline after 1 attempts: no answer within 300 ms");
        },
      );
      const progress: { attempt: number; reason: string }[] = [];
      await withServer(
        executor((_req, res) => sendJson(res, 503, { ok: false })),
        async (server) => {
          const report = await withClock(clocked(27_500, carrying(TOKEN)), (run) => {
            run.clock.advance(1_000_000);
            return verify(server.url, { ...run.options, deadlineMs: 60_000, onProgress: (event) => progress.push(event) });
          });
          expect(checkOf(report, "status").detail).toBe("not ready by deadline after 3 attempts: HTTP 503");
          // Progress only for the attempts followed by another one.
          expect(progressOf(progress)).toEqual([
            { attempt: 1, reason: "HTTP 503" },
            { attempt: 2, reason: "HTTP 503" },
          ]);
        },
      );
    });

    test.each([
      // [what, ms the first attempt takes of a 60 s deadline, jitter, how late the sleep ends, the sleep asked for]
      // Exactly the budget (100 ms) left: one more attempt. Mutant: `<=` for `<` stops after one.
      ["exactly the attempt budget left", 59_900, 0.999, 0, 0],
      // 150 ms left: the sleep is cut to leave a full budget (50 ms, not the 99.95 ms of jitter). Mutant: `remaining + minBudget`.
      ["a sleep cut short to leave the budget", 59_850, 0.999, 0, 50],
      // Woken 50 ms late with exactly half the budget left: still one more. Mutant: `<=` for `<` after the sleep.
      ["exactly half the budget left after a late wake", 59_850, 0, 50, 50],
      // Woken late with 150 ms left: one more. Mutant: `minBudget * 2` for `/ 2` stops.
      ["150 ms left after a late wake", 59_750, 0, 50, 50],
    ])("the last attempt's edges: %s", async (_what, firstMs, random, lateWakeMs, sleep) => {
      const realRandom = Math.random;
      Math.random = () => random;
      try {
        await withServer(
          executor((_req, res) => sendJson(res, 503, { ok: false })),
          async (server) => {
            const sleeps: number[] = [];
            const report = await withClock(clocked(firstMs, carrying(TOKEN), lateWakeMs), async (run) => {
              const result = await verify(server.url, {
                ...run.options,
                deadlineMs: 60_000,
                retryInitialDelayMs: 100,
                retryMaxDelayMs: 1000,
              });
              sleeps.push(...run.clock.sleeps);
              return result;
            });
            // The second attempt has at most 150 ms of real time: a busy machine may time it out before it reaches
            // the server, so only the attempts the verifier counted are pinned, not its last reason or the server's count.
            expect(checkOf(report, "status").detail).toMatch(/^not ready by deadline after 2 attempts: /);
            expect(sleeps).toEqual([sleep]);
          },
        );
      } finally {
        Math.random = realRandom;
      }
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
});

/**
 * Pins down the unauthorized probes (missing, wrong and previous token), the auth-deterministic
 * comparison, the /pay-bolt11 payment smoke check and the identity check of the verification module
 * (verification/verify.ts), written against the mutants a mutation run left alive there. Every answer is
 * scripted per path and per Authorization header on a real server on 127.0.0.1
 * (tests/support/raw-http-server.ts), no mocked fetch; each test names the behaviour a surviving
 * mutant would change, and asserts exact details.
 */
describe("verifyExecutor's probes (unauthorized, auth-deterministic, payment, identity), against scripted executors", () => {
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

    test("accepted with a generation that is not a number is a definitive failure, not an old revision", async () => {
      // Mutant: the typeof test dropped lets "3" < 4 pass for an older generation.
      const server = await scripted({ probe: (req, who) => (who === "wrong" ? statusOk(req, { authTokenVersion: "3" }) : undefined) });
      const report = await run(server);
      expect(check(report, "auth-wrong-token").detail).toBe("wrong token: wrong token was accepted (HTTP 200), expected 401");
      expect(requestsFrom(server, "wrong")).toHaveLength(1);
    });

    test("with the previous token equal to the current one, another accepted probe does not get the same-token remark", async () => {
      // Mutant: the remark's probe-name test dropped.
      const server = await scripted({ probe: (req, who) => (who === "missing" ? statusOk(req) : undefined) });
      const report = await run(server, { previousToken: TOKEN });
      expect(check(report, "auth-missing-token").detail).toBe("missing token: missing token was accepted (HTTP 200), expected 401");
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
      expect(check(expected, "identity")).toEqual({
        name: "identity",
        ok: true,
        detail: `identityPubkey "${IDENTITY_PUBKEY}" as expected`,
      });
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
});

/**
 * The verifier and its CLI against hostile executors: real servers on 127.0.0.1 that echo parts of
 * secrets, send ANSI sequences and line breaks, send huge values, never answer a payment, and
 * credential-shaped text. Whatever they send, no secret (nor any part of one of echo length) reaches
 * stdout or stderr, human output stays one line per row, --json stays JSON, and the run keeps its
 * deadline. Also the CLI's refusals: tokens with line breaks, plain http off loopback.
 */
describe("verifyExecutor and the CLI against hostile executors", () => {
  const TOKEN = "HostileCurrentToken0123456789abcdefghijklmnopqrs";
  const PREVIOUS = "HostilePreviousToken0123456789abcdefghijklmnopq";
  const SPARK = "sk_spark_hostile_0123456789abcdefghijklmnop";
  const INVOICE = `lnbcrt10u1pj${"q".repeat(60)}`;
  const SECRETS = [TOKEN, PREVIOUS, SPARK, INVOICE];

  interface HostileOptions {
    /** The token the server accepts. */
    token?: string;
    /** Merged into the /status object. */
    status?: Record<string, unknown>;
    /** Extra headers on every answer. */
    headers?: Record<string, string>;
    /** The 401's error.message. */
    unauthorizedMessage?: string;
    /** A raw /status body instead of the JSON one. */
    rawStatusBody?: string;
    /** Never answer POST /pay-bolt11. */
    hangPayment?: boolean;
  }

  /** An executor that follows the contract except where the options make it hostile. */
  function hostile(options: HostileOptions = {}) {
    const token = options.token ?? TOKEN;
    return (request: RawRequest, response: ServerResponse): void => {
      const requestId = String(request.headers["x-request-id"] ?? "");
      const headers = options.headers ?? {};
      if (request.headers.authorization !== `Bearer ${token}`) {
        sendJson(
          response,
          401,
          {
            ok: false,
            error: { code: "unauthorized", message: options.unauthorizedMessage ?? "missing or invalid bearer token", requestId },
          },
          { "www-authenticate": 'Bearer realm="wallet-executor"', ...headers },
        );
        return;
      }
      if (request.url === "/pay-bolt11") {
        if (options.hangPayment) return;
        sendJson(response, 500, { ok: false, error: { code: "unavailable", requestId } }, headers);
        return;
      }
      if (options.rawStatusBody !== undefined) {
        response.writeHead(200, { "content-type": "application/json", ...headers });
        response.end(options.rawStatusBody);
        return;
      }
      sendJson(
        response,
        200,
        {
          ok: true,
          requestId,
          status: {
            authMode: "bearer_static",
            authEnforced: true,
            authTokenVersion: 4,
            ready: true,
            mode: "mock",
            walletId: "w-1",
            lifecycle: "connected",
            identityPubkey: "02" + "ab".repeat(32),
            ...options.status,
          },
        },
        headers,
      );
    };
  }

  const servers: RawServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  async function serve(options: HostileOptions = {}): Promise<RawServer> {
    const server = await startRawServer(hostile(options));
    servers.push(server);
    return server;
  }

  interface CliRun {
    code: number;
    stdout: string;
    stderr: string;
  }
  const ENV = { OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN: TOKEN, OLD: PREVIOUS, SPARK, INVOICE };
  async function cli(args: string[], env: Record<string, string> = ENV): Promise<CliRun> {
    let stdout = "";
    let stderr = "";
    const code = await main(args, env, {
      stdout: { write: (t: string) => (stdout += t) },
      stderr: { write: (t: string) => (stderr += t) },
    });
    return { code, stdout, stderr };
  }
  const against = (server: RawServer, ...more: string[]): string[] => [
    "--base-url",
    server.url,
    "--expect-token-version",
    "4",
    "--previous-token-env",
    "OLD",
    "--spark-key-env",
    "SPARK",
    "--deadline-ms",
    "10000",
    ...more,
  ];

  /** No secret, nor any part of one of echo length, anywhere in what the CLI printed. */
  function expectNothingOfTheSecrets(run: CliRun): void {
    for (const secret of SECRETS) expect(carriesSecret(run.stdout + run.stderr, secret)).toBe(false);
  }

  describe("partial echoes", () => {
    test.each([
      [
        "in a /status field",
        { status: { lastErrorMessage: `token was ${TOKEN.slice(5, 20)}` } },
        "the current token in the body of GET /status (current token)",
      ],
      ["in a header", { headers: { "x-debug": `seen ${PREVIOUS.slice(10, 22)}` } }, "the previous token in a header of"],
      [
        "in a field the detail quotes",
        { status: { mode: `x${SPARK.slice(3, 16)}` } },
        "the Spark API key in the body of GET /status (current token)",
      ],
    ])("%s fails no-secret-echo, and nothing of it is printed", async (_label, options, finding) => {
      const server = await serve(options);
      for (const json of [false, true]) {
        const run = await cli(against(server, ...(json ? ["--json"] : [])));
        expect(run.code).toBe(1);
        expectNothingOfTheSecrets(run);
        const output = json ? (JSON.parse(run.stdout) as { checks: { name: string; ok: boolean; detail: string }[] }).checks : undefined;
        const echo = output?.find((c) => c.name === "no-secret-echo");
        if (json) {
          expect(echo?.ok).toBe(false);
          expect(echo?.detail).toContain(finding);
        } else expect(run.stdout).toMatch(/^no-secret-echo\s+FAIL/m);
      }
    });

    test("a part shorter than 12 characters is not an echo", async () => {
      const server = await serve({ status: { lastErrorMessage: TOKEN.slice(0, 11) } });
      const report = await verifyExecutor({ baseUrl: server.url, expectTokenVersion: 4, token: TOKEN, deadlineMs: 10_000 });
      expect(report.checks.find((c) => c.name === "no-secret-echo")).toMatchObject({ ok: true });
    });
  });

  describe("server text in human output", () => {
    test("line breaks and ANSI sequences are escaped: one row per check, no raw escape reaches the terminal", async () => {
      const server = await serve({
        unauthorizedMessage: "denied\n\u001b[32mauth-wrong-token   PASS    1  fine\u001b[0m\r\u202e",
        status: { walletId: "w\n\u001b[2Jcleared", lifecycle: "x\u0007" },
      });
      const run = await cli(against(server));
      expect(run.code).toBe(1);
      // eslint-disable-next-line no-control-regex
      expect(run.stdout + run.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f\u202e]/);
      expect(run.stdout).not.toMatch(/^auth-wrong-token\s+PASS/m);
      expect(run.stdout).toContain("\\u001b[32m");
      expect(run.stdout).toMatch(/^executor: walletId w\\n\\u001b\[2Jcleared, mode mock/m);
    });

    test("a 5 MB body and a 900 KB value make bounded messages", async () => {
      const big = await serve({ rawStatusBody: `{"ok":true,"status":{"walletId":"${"w".repeat(5_000_000)}"}}` });
      const fromBig = await cli(against(big));
      expect(fromBig.code).toBe(1);
      expect(fromBig.stdout).toContain("/status answered 200 with a body that is not a JSON object");
      expect(fromBig.stdout.length + fromBig.stderr.length).toBeLessThan(5_000);

      const wide = await serve({ unauthorizedMessage: "m".repeat(900_000), status: { walletId: "v".repeat(900_000) } });
      for (const json of [false, true]) {
        const run = await cli(against(wide, ...(json ? ["--json"] : [])));
        expect(run.code).toBe(1);
        expect(run.stdout.length + run.stderr.length).toBeLessThan(5_000);
        expect(run.stdout).toMatch(/error\.message is \\?"mmmm/);
      }
    });

    test("credential-shaped server text is redacted, whoever configured it", async () => {
      const server = await serve({ unauthorizedMessage: "Authorization: Basic dXNlcjpwYXNzd29yZA== and x-api-key: k-live-998877" });
      const run = await cli(against(server, "--json"));
      expect(run.stdout).not.toContain("dXNlcjpwYXNzd29yZA");
      expect(run.stdout).not.toContain("k-live-998877");
      expect(run.stdout).toContain("Authorization: [redacted]");
    });
  });

  describe("--json stays JSON whatever the secret is", () => {
    test.each(['"', "}", "\\", "e", ","])("a one-character token %j", async (token) => {
      const server = await serve({ token, status: { lastErrorMessage: `echo ${token} "quoted" {braces}` } });
      const run = await cli(["--base-url", server.url, "--expect-token-version", "4", "--json"], {
        OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN: token,
      });
      const parsed = JSON.parse(run.stdout) as { ok: boolean; checks: { name: string; detail: string }[] };
      expect(parsed.checks.map((c) => c.name)).toEqual([
        "status",
        "auth-missing-token",
        "auth-wrong-token",
        "auth-deterministic",
        "no-secret-echo",
      ]);
      for (const check of parsed.checks) expect(check.detail.split("[redacted]").join("")).not.toContain(token);
    });
  });

  describe("the payment probe obeys the deadline", () => {
    test("a payment that never answers ends with the run's deadline, not the payment's own 60 s", async () => {
      const server = await serve({ hangPayment: true });
      const run = await cli(
        [...against(server, "--json"), "--invoice-env", "INVOICE", "--host", "sats.example.com", "--max-amount-msats", "1000"].map((a) =>
          a === "10000" ? "2500" : a,
        ),
      );
      expect(run.code).toBe(1);
      const payment = (JSON.parse(run.stdout) as { checks: { name: string; ok: boolean; detail: string }[] }).checks.find(
        (c) => c.name === "payment-smoke",
      );
      expect(payment?.detail).toMatch(/^POST \/pay-bolt11 failed: no answer within/);
      const waited = Number(/^POST \/pay-bolt11 failed: no answer within ([0-9]+) ms$/.exec(payment?.detail ?? "")?.[1]);
      expect(waited).toBeGreaterThan(0);
      expect(waited).toBeLessThanOrEqual(2500);
      expect(server.requests.filter((r) => r.url === "/pay-bolt11")).toHaveLength(1);
      expectNothingOfTheSecrets(run);
    });
  });

  describe("the CLI refuses before sending anything", () => {
    test.each([
      ["CR LF inside", "abc\r\nX-Injected: 1"],
      ["a trailing LF", "abcdef\n"],
      ["a bare CR", "abc\rdef"],
    ])("a token with %s is a usage error that never prints it", async (_label, token) => {
      const server = await serve();
      const run = await cli(["--base-url", server.url, "--expect-token-version", "4"], { OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN: token });
      expect(run).toEqual({
        code: 2,
        stdout: "",
        stderr:
          "verify: error: environment variable OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN (default of --token-env) contains a line break (CR or LF); allowed: one line (see --help)\n",
      });
      expect(server.requests).toEqual([]);
    });

    test("a previous token with another control character is a usage error too", async () => {
      const run = await cli(["--base-url", "http://127.0.0.1:1", "--expect-token-version", "4", "--previous-token-env", "OLD"], {
        OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN: TOKEN,
        OLD: "abc\u0000def",
      });
      expect(run).toMatchObject({
        code: 2,
        stderr:
          "verify: error: environment variable OLD (--previous-token-env) contains a control character; allowed: printable text (see --help)\n",
      });
    });

    test("plain http to a host that is not loopback is refused unless allowed", async () => {
      const run = await cli(["--base-url", "http://executor.example.com", "--expect-token-version", "4"]);
      expect(run).toEqual({
        code: 2,
        stdout: "",
        stderr:
          "verify: error: --base-url is plain http to a host that is not loopback: the token would cross the network in clear; use https, or pass --allow-insecure-http (see --help)\n",
      });
      await expect(verifyExecutor({ baseUrl: "http://10.0.0.8:8080", expectTokenVersion: 4, token: TOKEN })).rejects.toThrow(
        "options.baseUrl is plain http to a host that is not loopback",
      );
      // Allowed: the options pass (the run then fails on the connection, not on the options; 0.0.0.0 is refused at once, offline).
      const allowed = await cli([
        "--base-url",
        "http://0.0.0.0:1",
        "--expect-token-version",
        "4",
        "--deadline-ms",
        "300",
        "--allow-insecure-http",
        "--json",
      ]);
      expect(allowed.code).toBe(1);
      expect(JSON.parse(allowed.stdout)).toMatchObject({ ok: false });
    });

    test("a token that could not travel in a header is refused by the library", async () => {
      await expect(verifyExecutor({ baseUrl: "http://127.0.0.1:1", expectTokenVersion: 4, token: "two words" })).rejects.toThrow(
        "options.token must be printable ASCII without spaces, line breaks or control characters",
      );
      await expect(
        verifyExecutor({ baseUrl: "http://127.0.0.1:1", expectTokenVersion: 4, token: "ok", previousToken: "é" }),
      ).rejects.toThrow("options.previousToken must be printable ASCII");
    });

    test.each([
      ["localhost", true],
      ["api.localhost", true],
      ["127.0.0.1", true],
      ["127.255.0.9", true],
      ["[::1]", true],
      ["[::ffff:7f00:1]", true],
      ["128.0.0.1", false],
      ["localhost.example.com", false],
      ["[::2]", false],
      ["10.0.0.1", false],
    ])("loopback: %s -> %s", (host, loopback) => {
      expect(isLoopback(host)).toBe(loopback);
    });
  });

  describe("bounds and edges of the verifier's own checks", () => {
    const statusDetail = async (authTokenVersion: unknown, options: { previousToken?: string } = {}): Promise<string | undefined> => {
      const server = await serve({ status: { authTokenVersion } });
      const report = await verifyExecutor({ baseUrl: server.url, expectTokenVersion: 4, token: TOKEN, deadlineMs: 10_000, ...options });
      return report.checks.find((c) => c.name === "status")?.detail;
    };

    test("a quoted value is redacted in full before it is bounded: exactly the window is not cut, one more is", async () => {
      const exact = `${TOKEN}${TOKEN}${"y".repeat(120 - 2 * TOKEN.length)}`;
      expect(await statusDetail(exact)).toBe(`status.authTokenVersion is "[redacted]${"y".repeat(24)}", not an integer`);
      expect(await statusDetail(`${exact}y`)).toBe(`status.authTokenVersion is "[redacted]${"y".repeat(24)}…", not an integer`);
    });

    test("a partial echo straddling the quote's window is still recognised", async () => {
      const value = `${TOKEN}${"y".repeat(60)}${PREVIOUS.slice(0, 17)}${"z".repeat(20)}`;
      expect(await statusDetail(value, { previousToken: PREVIOUS })).toBe(
        `status.authTokenVersion is "[redacted]${"y".repeat(60)}[redacte…, not an integer`,
      );
    });

    test("an enum-like field that carries a secret is quoted and redacted, not shown as a word", async () => {
      const server = await serve({ status: { lifecycle: "connected" } });
      const report = await verifyExecutor({
        baseUrl: server.url,
        expectTokenVersion: 4,
        token: TOKEN,
        sparkApiKey: "connected",
        deadlineMs: 10_000,
      });
      expect(report.checks.find((c) => c.name === "status")?.detail).toBe(
        'ready; authMode bearer_static, enforced; authTokenVersion 4; mode mock; lifecycle "[redacted]"',
      );
    });

    test("a payment is never started without time left before the deadline (clock moved past it once /status answered)", async () => {
      let jumped = false;
      const server = await startRawServer((request, response) => {
        if (request.url === "/status" && request.headers.authorization === `Bearer ${TOKEN}`) jumped = true;
        hostile()(request, response);
      });
      servers.push(server);
      const report = await verifyExecutor({
        baseUrl: server.url,
        expectTokenVersion: 4,
        token: TOKEN,
        deadlineMs: 60_000,
        clock: {
          now: () => performance.now() + (jumped ? 3_600_000 : 0),
          sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        },
        payment: { invoice: INVOICE, host: "sats.example.com", maxAmountMsats: 1000 },
      });
      expect(report.checks.find((c) => c.name === "status")).toMatchObject({ ok: true });
      expect(report.checks.find((c) => c.name === "payment-smoke")).toMatchObject({
        ok: false,
        detail: "not run: the deadline (60000 ms) left no time for a payment",
      });
      expect(server.requests.filter((r) => r.url === "/pay-bolt11")).toEqual([]);
    });

    test("an empty previous token is no token; https to any host needs no flag", async () => {
      const server = await serve();
      const report = await verifyExecutor({
        baseUrl: server.url,
        expectTokenVersion: 4,
        token: TOKEN,
        previousToken: "",
        deadlineMs: 10_000,
      });
      expect(report.checks.map((c) => c.name)).not.toContain("auth-previous-token");
      const remote = await verifyExecutor({ baseUrl: "https://0.0.0.0:1", expectTokenVersion: 4, token: TOKEN, deadlineMs: 200 });
      expect(remote.ok).toBe(false);
    });

    test.each([
      ["]::1", false],
      ["1127.0.0.1", false],
      ["127.0.0.1.example.com", false],
      ["127.0.10.1", true],
      ["127.0.0.10", true],
      ["1::ffff:7f00:1", false],
      ["[::ffff:127.0.0.1]", true],
    ])("loopback, exactly: %s -> %s", (host, loopback) => {
      expect(isLoopback(host)).toBe(loopback);
    });
  });
});
