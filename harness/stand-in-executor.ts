/**
 * A stand-in wallet executor: a real HTTP server (node:http) on 127.0.0.1 that follows
 * the executor's contract (docs/reference/executor-contract.md), with switches to make it misbehave in the ways a
 * verification must catch. Tests of the verifier, of the Pulumi verification resource and the
 * benchmarks all talk to it over real sockets, never to a mocked fetch.
 *
 * The receipt math here is written out independently of verification/receipt.ts on purpose: a bug in the
 * verifier's math must not be hidden by the same bug in the server it is tested against.
 *
 *   const executor = await startStandInExecutor({ token: "t".repeat(64), tokenVersion: 4 });
 *   try { ...verifyExecutor({ baseUrl: executor.url, ... }) } finally { await executor.close(); }
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export const UNAUTHORIZED_MESSAGE = "missing or invalid bearer token";
export const WWW_AUTHENTICATE = 'Bearer realm="wallet-executor"';

/** Why a request was unauthorized: no Authorization header / a token that is not accepted. */
export type UnauthorizedCase = "missing" | "wrong";

/** Ways to corrupt the `/pay-bolt11` receipt (each breaks exactly one contract rule). */
export type ReceiptTamper =
  /** canonicalJsonSha256 is not the hash of the fields (receiptId still derived from it). */
  | "canonical-hash"
  /** receiptId is not "lwr_" + the first 24 hex of canonicalJsonSha256. */
  | "receipt-id"
  /** preimageSha256 is not sha256 of the returned preimageHex (hash and id stay consistent). */
  | "preimage-hash"
  /** invoiceHash is not sha256 of the invoice (hash and id stay consistent). */
  | "invoice-hash"
  /** receipt.requestId differs from the payment's requestId (hash and id stay consistent). */
  | "request-id";

export interface StandInOptions {
  /** The accepted bearer token. Empty string = auth disabled (`authMode:"disabled"`, no 401s). Default: a random 64-hex token. */
  token?: string;
  /** `/status.authTokenVersion`. Default 1. */
  tokenVersion?: number;
  /** Other tokens that are also accepted, e.g. the rotated-out one (a rotation that did not take). */
  alsoAcceptTokens?: readonly string[];
  /** Overrides of what `/status` reports about auth, independent of what is enforced. */
  reportAuth?: { authMode?: string; authEnforced?: boolean };
  mode?: "mock" | "spark";
  /** `/status.apiKeyConfigured`; default true. */
  apiKeyConfigured?: boolean;
  walletId?: string;
  /** `/status.identityPubkey`; default a fixed 66-hex compressed-pubkey-looking value. */
  identityPubkey?: string;
  balanceSats?: number;
  /** `/status` answers `ready:false, lifecycle:"connecting"` to the first N authorized calls. */
  notReadyForFirst?: number;
  /** `/status` always answers `ready:false` (lifecycle "error", lastErrorCode "connect_failed"). */
  neverReady?: boolean;
  /** With `neverReady`: the `lastErrorCode` reported (default "connect_failed"), e.g. "mnemonic_missing". */
  errorCode?: string;
  /** Authorized `/status` calls never get an answer: always, or only the first N of them. */
  hangStatus?: "always" | number;
  /** The first N requests (any path, any auth) get a 500 `internal_error`. */
  failFirst?: number;
  /** 401s without the `www-authenticate` header. */
  omitWwwAuthenticate?: boolean;
  /** A different 401 `error.message` per case, e.g. `{ missing: "missing bearer token" }`. */
  unauthorizedMessage?: Partial<Record<UnauthorizedCase, string>>;
  /** Corrupt the receipt of `/pay-bolt11`. */
  tamperReceipt?: ReceiptTamper;
  /** Echo the request's Authorization header back: in authorized `/status` bodies, or as a response header on every answer. */
  echoAuthorization?: "status-body" | "header";
  /** Hosts whose invoices may be paid; default any host. */
  allowedHosts?: readonly string[];
  /** The amount every invoice is quoted at; default 1000 msats. */
  quotedAmountMsats?: number;
  /** Listen on this port (see `reservePort`); default 0 (any free port). */
  port?: number;
}

/** One request as the stand-in saw it; the token itself is never recorded. */
export interface RecordedRequest {
  method: string;
  path: string;
  auth: "missing" | "accepted" | "rejected" | "not-enforced";
  requestId: string;
  /** The status answered, or "hang" for a request that was never answered. */
  outcome: number | "hang";
}

export interface StandInExecutor {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  url: string;
  port: number;
  /** The accepted token (the generated one when `options.token` was not given). */
  token: string;
  /** Every request received so far, in arrival order. */
  requests: RecordedRequest[];
  /** Number of `/status` requests that passed auth. */
  authorizedStatusCalls(): number;
  /** Number of TCP connections accepted so far (keep-alive reuse keeps it low). */
  connectionCount(): number;
  /** Stops listening and destroys every open connection, including hung ones. */
  close(): Promise<void>;
  /** Stops listening and lets in-flight requests finish (a graceful shutdown, as on SIGTERM). */
  shutdown(): Promise<void>;
}

export const DEFAULT_IDENTITY_PUBKEY = "02" + "ab".repeat(32);

/** Starts a stand-in on 127.0.0.1 and resolves once it listens. */
export async function startStandInExecutor(options: StandInOptions = {}): Promise<StandInExecutor> {
  const token = options.token ?? randomBytes(32).toString("hex");
  const requests: RecordedRequest[] = [];
  let requestCount = 0;
  let authorizedStatus = 0;
  let hungStatus = 0;

  const server = createServer((req, res) => {
    requestCount += 1;
    const requestId = headerValue(req, "x-request-id") ?? randomUUID();
    const path = (req.url ?? "/").split("?")[0];
    const record: RecordedRequest = { method: req.method ?? "GET", path, auth: "missing", requestId, outcome: 0 };
    requests.push(record);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      record.outcome = status;
      const authorization = headerValue(req, "authorization");
      const echoed = options.echoAuthorization === "header" && authorization ? { "x-debug-authorization": authorization } : {};
      res.writeHead(status, { "content-type": "application/json", "x-request-id": requestId, ...echoed, ...headers });
      res.end(JSON.stringify(body));
    };

    // Drain the body before answering so keep-alive connections stay reusable.
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      if (requestCount <= (options.failFirst ?? 0)) {
        send(500, { ok: false, error: { requestId, code: "internal_error", message: "stand-in: failing on purpose" } });
        return;
      }
      if (path === "/healthz" && req.method === "GET") {
        send(200, { ok: true, requestId });
        return;
      }

      const auth = authenticate(headerValue(req, "authorization"), token, options.alsoAcceptTokens ?? []);
      record.auth = auth;
      if (auth === "missing" || auth === "rejected") {
        const unauthorizedCase: UnauthorizedCase = auth === "missing" ? "missing" : "wrong";
        const message = options.unauthorizedMessage?.[unauthorizedCase] ?? UNAUTHORIZED_MESSAGE;
        send(
          401,
          { ok: false, error: { requestId, code: "unauthorized", message } },
          options.omitWwwAuthenticate ? {} : { "www-authenticate": WWW_AUTHENTICATE },
        );
        return;
      }

      if (path === "/status" && req.method === "GET") {
        authorizedStatus += 1;
        if (options.hangStatus !== undefined && (options.hangStatus === "always" || hungStatus < options.hangStatus)) {
          hungStatus += 1;
          record.outcome = "hang"; // never answered; close() destroys the socket
          return;
        }
        const ready = !options.neverReady && authorizedStatus > (options.notReadyForFirst ?? 0);
        send(200, { ok: true, requestId, status: statusBody(options, token, ready), ...echoBody(options, req) });
        return;
      }
      if (path === "/pay-bolt11" && req.method === "POST") {
        const { status, body } = pay(options, Buffer.concat(chunks).toString("utf8"), requestId);
        send(status, body);
        return;
      }
      send(404, { ok: false, error: { requestId, code: "not_found", message: "not found" } });
    });
  });
  server.keepAliveTimeout = 5000;
  let connections = 0;
  server.on("connection", () => (connections += 1));

  const port = await listen(server, options.port ?? 0);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    token,
    requests,
    authorizedStatusCalls: () => authorizedStatus,
    connectionCount: () => connections,
    close: () => closeServer(server),
    shutdown: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

/**
 * Finds a free port and leaves it closed, so a test can point the verifier at it before anything
 * listens (connection refused) and start the stand-in on it later.
 */
export async function reservePort(): Promise<number> {
  const probe = createServer();
  const port = await listen(probe, 0);
  await closeServer(probe);
  return port;
}

/** A stand-in that starts listening only after `delayMs`; `url` is usable (connection refused) right away. */
export interface LaterStandIn {
  url: string;
  port: number;
  /** Resolves to the running stand-in once it listens (close it through this). */
  started: Promise<StandInExecutor>;
}

/** Reserves a port now and starts the stand-in on it after `delayMs` ("connection refused, then up"). */
export async function startStandInExecutorLater(options: StandInOptions, delayMs: number): Promise<LaterStandIn> {
  const port = await reservePort();
  const started = new Promise<StandInExecutor>((resolve, reject) => {
    setTimeout(() => void startStandInExecutor({ ...options, port }).then(resolve, reject), delayMs);
  });
  return { url: `http://127.0.0.1:${port}`, port, started };
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function authenticate(authorization: string | undefined, token: string, alsoAccept: readonly string[]): RecordedRequest["auth"] {
  if (token === "") return "not-enforced";
  if (authorization === undefined || authorization.trim() === "") return "missing";
  // Scheme matched case-insensitively, as the contract says.
  const match = /^bearer\s+(.+)$/i.exec(authorization.trim());
  if (!match) return "rejected";
  const presented = match[1].trim();
  return presented === token || alsoAccept.includes(presented) ? "accepted" : "rejected";
}

function statusBody(options: StandInOptions, token: string, ready: boolean): Record<string, unknown> {
  const authEnforced = token !== "";
  return {
    walletId: options.walletId ?? "openagents-ep212",
    mode: options.mode ?? "mock",
    authMode: options.reportAuth?.authMode ?? (authEnforced ? "bearer_static" : "disabled"),
    authEnforced: options.reportAuth?.authEnforced ?? authEnforced,
    authTokenVersion: options.tokenVersion ?? 1,
    lifecycle: ready ? "connected" : options.neverReady ? "error" : "connecting",
    ready,
    network: "regtest",
    identityPubkey: options.identityPubkey ?? DEFAULT_IDENTITY_PUBKEY,
    balanceSats: options.balanceSats ?? 21000,
    apiKeyConfigured: options.apiKeyConfigured ?? true,
    allowedHostCount: options.allowedHosts?.length ?? 0,
    requestCapMsats: 200000,
    windowCapMsats: 1000000,
    windowMs: 300000,
    lastErrorCode: ready ? null : options.neverReady ? (options.errorCode ?? "connect_failed") : null,
    lastErrorMessage: null,
    updatedAtMs: Date.now(),
  };
}

function echoBody(options: StandInOptions, req: IncomingMessage): Record<string, unknown> {
  return options.echoAuthorization === "status-body" ? { debug: { authorization: headerValue(req, "authorization") } } : {};
}

const sha256 = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex");

function pay(options: StandInOptions, rawBody: string, headerRequestId: string): { status: number; body: unknown } {
  const fail = (status: number, code: string, message: string) => ({
    status,
    body: { ok: false, error: { requestId: headerRequestId, code, message } },
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawBody);
  } catch {
    return fail(400, "invalid_request", "body is not JSON");
  }
  const body = parsed as { requestId?: unknown; payment?: { invoice?: unknown; maxAmountMsats?: unknown; host?: unknown } };
  const payment = body.payment;
  if (
    typeof payment !== "object" ||
    payment === null ||
    typeof payment.invoice !== "string" ||
    payment.invoice === "" ||
    typeof payment.maxAmountMsats !== "number" ||
    !Number.isSafeInteger(payment.maxAmountMsats) ||
    payment.maxAmountMsats <= 0 ||
    typeof payment.host !== "string" ||
    payment.host === ""
  ) {
    return fail(400, "invalid_request", "payment.invoice, payment.maxAmountMsats and payment.host are required");
  }
  if (options.neverReady) return fail(502, options.errorCode ?? "connect_failed", "wallet not connected");
  if (options.allowedHosts && !options.allowedHosts.includes(payment.host)) return fail(403, "host_not_allowed", "host not allowed");
  const quoted = options.quotedAmountMsats ?? 1000;
  if (quoted > 200000) return fail(403, "request_cap_exceeded", "request cap exceeded");
  if (quoted > payment.maxAmountMsats) return fail(403, "quoted_amount_exceeds_cap", "quoted amount exceeds maxAmountMsats");

  const requestId = typeof body.requestId === "string" && body.requestId !== "" ? body.requestId : headerRequestId;
  const walletId = options.walletId ?? "openagents-ep212";
  // A fake preimage, derived from the invoice so reruns are reproducible.
  const preimageHex = sha256(`stand-in preimage:${payment.invoice}`);
  const paidAtMs = Date.now();
  const paymentId = `pay_${randomBytes(8).toString("hex")}`;
  const tamper = options.tamperReceipt;
  const fields = {
    receiptVersion: "openagents.lightning.wallet_receipt.v1",
    requestId: tamper === "request-id" ? `${requestId}-other` : requestId,
    walletId,
    host: payment.host,
    paymentId,
    invoiceHash: tamper === "invoice-hash" ? sha256(`${payment.invoice}x`) : sha256(payment.invoice),
    quotedAmountMsats: quoted,
    settledAmountMsats: quoted,
    preimageSha256: tamper === "preimage-hash" ? sha256(preimageHex.toUpperCase() + "x") : sha256(preimageHex.toLowerCase()),
    paidAtMs,
    rail: "lightning",
    assetId: "BTC_LN",
  };
  let canonicalJsonSha256 = sha256(JSON.stringify(fields));
  if (tamper === "canonical-hash") canonicalJsonSha256 = sha256(`not the receipt:${canonicalJsonSha256}`);
  let receiptId = `lwr_${canonicalJsonSha256.slice(0, 24)}`;
  if (tamper === "receipt-id") receiptId = `lwr_${"0".repeat(24)}`;
  return {
    status: 200,
    body: {
      ok: true,
      requestId,
      result: {
        requestId,
        walletId,
        payment: { paymentId, amountMsats: quoted, preimageHex, paidAtMs },
        quotedAmountMsats: quoted,
        windowSpendMsatsAfterPayment: quoted,
        receipt: { ...fields, receiptId, canonicalJsonSha256 },
      },
    },
  };
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    // Hung and idle keep-alive sockets would otherwise hold close() open.
    server.closeAllConnections();
  });
}
