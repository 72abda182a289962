/**
 * The verification module, the receipt math and the CLI, against real stand-in executors on
 * 127.0.0.1 (no mocked fetch). Each misbehaving variant must fail exactly the check that names it.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import * as path from "node:path";
import fc from "fast-check";
import { Agent } from "undici";
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
} from "../../verification/verify";
import { main } from "../../verification/cli";
import {
  DEFAULT_IDENTITY_PUBKEY,
  startStandInExecutor,
  startStandInExecutorLater,
  type ReceiptTamper,
  type StandInExecutor,
  type StandInOptions,
} from "../../harness/stand-in-executor";
import { HOST, INVOICE, PREVIOUS_TOKEN, SPARK_KEY, TOKEN, sealedReceipt, sha256 } from "../support/verify-fixtures";
import { carrying, clocked } from "../support/verify-clock";

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

  const processes: Record<string, CliRun> = {};
  let healthy: StandInExecutor;
  let echoing: StandInExecutor;

  beforeAll(async () => {
    healthy = await startStandInExecutor({ token: TOKEN, tokenVersion: 4 });
    echoing = await startStandInExecutor({ token: TOKEN, tokenVersion: 4, echoAuthorization: "status-body" });
    const env = { OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN: TOKEN, OLD_TOKEN: PREVIOUS_TOKEN, SPARK_KEY: SPARK_KEY, INVOICE };
    // Real processes in parallel: each pays the loader's start-up once.
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
      runCli(
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
      runCli(["--base-url", echoing.url, "--expect-token-version", "4", "--json"], env),
      runCli(["--base-url", healthy.url, "--expect-token-version", "4", "--token", TOKEN], env),
    ]);
    [processes.json, processes.table, processes.notReady, processes.echo, processes.tokenFlag] = runs;
  }, 120_000); // five cold processes at once; the deadline only stops a hang, however busy the machine
  afterAll(async () => {
    await Promise.all([healthy?.close(), echoing?.close()]);
  });

  test("exit 0 and exactly {schema, ok, stack, checks[{name, ok, detail, ms}]} with --json", () => {
    const run = processes.json;
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
    const run = processes.table;
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^CHECK +RESULT +MS +DETAIL\n/);
    expect(run.stdout).toMatch(/\npayment-smoke +PASS +\d+ +receipt lwr_[0-9a-f]{24} /);
    expect(run.stdout).toContain("verification PASSED: 6 checks");
    expectNoLeak(run);
  });

  test("exit 1 on a failed check, with progress lines on stderr while waiting", () => {
    const run = processes.notReady;
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/\nstatus +FAIL +\d+ +not ready by deadline after \d+ attempts: old revision still serving/);
    expect(run.stdout).toContain("verification FAILED: 1 of 5 checks failed");
    expect(run.stderr).toMatch(
      /^verify: status: waiting, attempt 1 was not an answer: old revision still serving: authTokenVersion 4, expected 5 \(\d+\.\d s left of 3\.0 s\)$/m,
    );
    expectNoLeak(run);
  });

  test("exit 1 with --json when the executor echoes the token, without printing it", () => {
    const run = processes.echo;
    expect(run.code).toBe(1);
    const parsed = JSON.parse(run.stdout) as { ok: boolean; checks: { name: string; ok: boolean }[] };
    expect(parsed.ok).toBe(false);
    expect(parsed.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(["no-secret-echo"]);
    expectNoLeak(run);
  });

  test("exit 2 for a secret on the command line, without echoing it", () => {
    const run = processes.tokenFlag;
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
