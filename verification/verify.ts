/**
 * The runbook's verification checklist (docs/design/verification.md) as code: probes a deployed
 * wallet executor over HTTP, following its contract (docs/reference/executor-contract.md), and reports one
 * check per checklist item. Plain TypeScript over undici, no Pulumi, so the CLI, the Pulumi
 * verification resource and the benchmarks share it.
 *
 * Secrets (tokens, the Spark key) are only ever sent in Authorization headers; every detail and
 * progress reason passes through `redact`, and response bodies are described, never copied (the
 * payment body carries the preimage).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { Agent, request, type Dispatcher } from "undici";
import type { ExecutorMode, PaymentProbe } from "./options";
import { receiptProblems } from "./receipt";
import {
  CLIP_MARK,
  MIN_ECHO_FRAGMENT,
  carriesSecret,
  clip,
  printable,
  redactCredentials,
  redactSecrets,
  redactText,
  redactValues,
} from "../lib/redact";

export type CheckName =
  | "status"
  | "auth-missing-token"
  | "auth-wrong-token"
  | "auth-previous-token"
  | "auth-deterministic"
  | "payment-smoke"
  | "identity"
  | "no-secret-echo"
  | "previous-token-refused"
  | "previous-tag-gone";

export interface CheckResult {
  name: CheckName;
  ok: boolean;
  /** What was seen, in words; never a secret, never a verbatim response body. */
  detail: string;
  /** How long the check took, in milliseconds. */
  ms: number;
}

/** The non-secret part of the last `/status` answer (200, `ok:true`). */
export interface ExecutorStatusSummary {
  walletId?: string;
  mode?: string;
  authTokenVersion?: number;
  identityPubkey?: string;
  balanceSats?: number;
  lifecycle?: string;
  ready?: boolean;
}

export interface VerifyReport {
  /** True when every check passed. */
  ok: boolean;
  checks: CheckResult[];
  status?: ExecutorStatusSummary;
  totalMs: number;
  /** True when `signal` stopped the run (Ctrl-C): the checks still waiting are failed as "interrupted". */
  interrupted?: boolean;
}

/** What a check is doing, for a progress display; never carries a secret. */
export interface CheckProgress {
  /** The check's name (`status`, `auth-wrong-token`, `payment-smoke`, ...). */
  check: string;
  /** running: started; waiting: its last attempt was not an answer yet (retrying); passed/failed: done. */
  state: "running" | "waiting" | "passed" | "failed";
  /** waiting: the attempt that was not an answer, and why. */
  attempt?: number;
  reason?: string;
  /** Milliseconds left before the run's deadline, when the event happened. */
  remainingMs: number;
  /** The run's whole deadline (ms). */
  deadlineMs: number;
}

export type { ExecutorMode, PaymentProbe } from "./options";

export interface VerifyOptions {
  /** Executor base URL, e.g. https://x.a.run.app or http://127.0.0.1:port (a path prefix is kept). */
  baseUrl: string;
  /** Generation expected in /status.authTokenVersion. */
  expectTokenVersion: number;
  /** Current bearer token (secret). */
  token: string;
  /** Rotated-out token (secret): must get the deterministic 401. */
  previousToken?: string;
  /** Only used by the no-echo check (secret). */
  sparkApiKey?: string;
  /** When "spark", /status.apiKeyConfigured must be true; when given, mode must match. */
  expectMode?: ExecutorMode;
  /** /status.identityPubkey must equal this. */
  expectIdentity?: string;
  /** /status.identityPubkey must differ from this (a mnemonic rotation must change identity). */
  rejectIdentity?: string;
  /** Absent = no payment probe (no "payment-smoke" check in the report). */
  payment?: PaymentProbe;
  /** Readiness deadline for the whole run, default 120000. */
  deadlineMs?: number;
  /** Per-request headers+body timeout, default 10000 (never beyond the readiness deadline). */
  requestTimeoutMs?: number;
  /** Timeout of the single `/pay-bolt11` call, default 60000 (the executor itself waits up to 45 s for a payment). */
  paymentTimeoutMs?: number;
  /** First readiness backoff delay, default 100 ms; it doubles per attempt, jittered. */
  retryInitialDelayMs?: number;
  /** Cap of the readiness backoff delay, default 2000 ms. */
  retryMaxDelayMs?: number;
  /** Called while waiting for readiness; `reason` never has a secret. */
  onProgress?: (event: { attempt: number; elapsedMs: number; reason: string }) => void;
  /** Called as each check starts, waits (retries) and ends; for a progress display. Its errors are ignored. */
  onCheck?: (event: CheckProgress) => void;
  /** Stops the run (Ctrl-C): no new attempt starts, requests in flight are aborted, the checks still waiting fail as interrupted. */
  signal?: AbortSignal;
  /** Optional pool to reuse (left open); otherwise one keep-alive Agent per run, closed at the end. */
  dispatcher?: Dispatcher;
  /** Allow plain http:// to a host that is not loopback (the token then crosses the network in clear). */
  allowInsecureHttp?: boolean;
  /** The readiness deadline's time and the backoff's sleeps; default the process's monotonic clock (tests inject their own). */
  clock?: VerifyClock;
}

/** Time as the readiness deadline sees it. */
export interface VerifyClock {
  /** Milliseconds on a monotonic scale. */
  now(): number;
  /** Resolves once `ms` milliseconds of this clock have passed. */
  sleep(ms: number): Promise<void>;
}

const MONOTONIC_CLOCK: VerifyClock = { now: () => performance.now(), sleep: (ms) => sleep(ms) };

/** Invalid `VerifyOptions` (a caller's mistake, not an executor failure); the message names the option, never its value. */
export class VerifyOptionsError extends TypeError {
  override name = "VerifyOptionsError";
}

/** The contract's deterministic 401. */
export const EXPECTED_WWW_AUTHENTICATE = 'Bearer realm="wallet-executor"';
export const EXPECTED_UNAUTHORIZED_CODE = "unauthorized";
export const EXPECTED_UNAUTHORIZED_MESSAGE = "missing or invalid bearer token";

const DEFAULT_DEADLINE_MS = 120_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
const DEFAULT_PAYMENT_TIMEOUT_MS = 60_000;
const DEFAULT_RETRY_INITIAL_DELAY_MS = 100;
const DEFAULT_RETRY_MAX_DELAY_MS = 2_000;
/** No attempt starts with less time than this left: its timeout would only hide the last real reason. */
const MIN_ATTEMPT_BUDGET_MS = 100;
/** How much later than our own timer undici's timeouts fire (they must never win the race). */
const UNDICI_TIMEOUT_MARGIN_MS = 1_000;
/** Bodies are read up to this size: enough for any contract answer, bounded against a runaway one. */
const MAX_BODY_BYTES = 1 << 20;
/**
 * Replaces every occurrence of every non-empty secret in `text` by "[redacted]", and any part of one
 * of at least min(12, its length) characters (a partial echo), the start of one that a bounded quote
 * cut off (text ending in "…"), and credential-shaped strings (lib/redact.ts, shared by every output).
 */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  return redactText(text, secrets);
}

// ---------------------------------------------------------------------------------------------
// HTTP

type HttpOutcome =
  { kind: "response"; status: number; headers: Record<string, string>; body: string; json: unknown } | { kind: "failure"; reason: string };

/** A response kept for the no-echo scan (in memory only, never reported). */
interface Exchange {
  label: string;
  headers: Record<string, string>;
  body: string;
}

interface RunContext {
  baseUrl: string;
  /** The run's options (the base URL is `baseUrl` above). */
  options: Omit<VerifyOptions, "baseUrl">;
  dispatcher: Dispatcher;
  startedAt: number;
  /** What the deadline is measured on. */
  clock: VerifyClock;
  deadlineAt: number;
  requestTimeoutMs: number;
  exchanges: Exchange[];
  /** Grows during the run (e.g. the preimage once received), so later redactions cover it. */
  secrets: string[];
}

interface OutgoingRequest {
  /** Names the request in no-echo details, e.g. "GET /status (wrong token)". */
  label: string;
  method: "GET" | "POST";
  path: string;
  requestId: string;
  authorization?: string;
  body?: string;
  timeoutMs: number;
}

async function send(ctx: RunContext, req: OutgoingRequest): Promise<HttpOutcome> {
  const headers: Record<string, string> = { accept: "application/json", "x-request-id": req.requestId };
  // Stryker disable next-line ConditionalExpression: undici leaves out a header whose value is undefined
  if (req.authorization !== undefined) headers.authorization = req.authorization;
  if (req.body !== undefined) headers["content-type"] = "application/json";
  // One timer bounds headers AND body together; undici's own timeouts only bound gaps between chunks.
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, req.timeoutMs);
  const signal = ctx.options.signal;
  const interrupt = (): void => controller.abort();
  if (signal?.aborted) controller.abort();
  signal?.addEventListener("abort", interrupt);
  try {
    const response = await request(ctx.baseUrl + req.path, {
      dispatcher: ctx.dispatcher,
      method: req.method,
      headers,
      body: req.body,
      signal: controller.signal,
      // Backstops only: the timer above fires first, so a timeout always reads "no answer within".
      headersTimeout: req.timeoutMs + UNDICI_TIMEOUT_MARGIN_MS,
      bodyTimeout: req.timeoutMs + UNDICI_TIMEOUT_MARGIN_MS,
    });
    const body = await readCapped(response.body);
    const responseHeaders = flattenHeaders(response.headers);
    ctx.exchanges.push({ label: req.label, headers: responseHeaders, body });
    // Stryker disable next-line StringLiteral: the outcome's kinds are told apart by "failure" only (the union is for the compiler)
    return { kind: "response", status: response.statusCode, headers: responseHeaders, body, json: parseJson(body) };
  } catch (error) {
    if (signal?.aborted && !timedOut) return { kind: "failure", reason: INTERRUPTED };
    return { kind: "failure", reason: timedOut ? `no answer within ${req.timeoutMs} ms` : describeError(error, ctx.secrets) };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", interrupt);
  }
}

async function readCapped(body: Dispatcher.ResponseData["body"]): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    chunks.push(buffer);
    size += buffer.length;
    if (size > MAX_BODY_BYTES) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString("utf8");
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    // Stryker disable next-line ConditionalExpression: undici never gives an undefined header value (the type allows one)
    if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return flat;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function describeError(error: unknown, secrets: readonly string[]): string {
  // Duck-typed, not `instanceof Error`: socket errors come from Node's own realm, which differs
  // from the caller's under a VM sandbox such as jest's.
  // Stryker disable next-line ConditionalExpression: a non-object rejection (not null: undici takes that for success) has no code, name or message either
  if (!isObject(error)) return "connection error";
  const cause = isObject(error.cause) ? error.cause : {};
  const code =
    typeof error.code === "string"
      ? error.code
      : typeof cause.code === "string"
        ? cause.code
        : typeof error.name === "string"
          ? error.name
          : "";
  const message =
    typeof error.message === "string" ? `: ${clip(printable(redactCredentials(bounded(error.message, secrets, 160))), 120)}` : "";
  return `connection error${code ? ` ${code}` : ""}${message}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** How much of a value is redacted before it is quoted: more than a quote shows (see `bounded`). */
const QUOTE_WINDOW = 120;
/** Longest quote of server text in a detail. */
const QUOTE_MAX = 80;
/** Longest text field of the /status summary (an identity pubkey is 66 characters). */
const SUMMARY_MAX = 120;
const SUMMARY_WINDOW = 160;

/**
 * Outside text made safe for a detail: secrets (and parts of them) redacted in the whole of what
 * could be shown, then bounded. The redaction sees `max` characters plus the echo length, so a
 * partial echo that the bound would cut is still recognised.
 */
function bounded(text: string, secrets: readonly string[], max: number): string {
  // Stryker disable next-line MethodExpression: the output is `max` characters either way; the slice spares the work on a long text
  const redacted = redactSecrets(text.slice(0, max + MIN_ECHO_FRAGMENT), secrets, max);
  return text.length > max ? `${redacted}${CLIP_MARK}` : redacted;
}

/** Server text quoted for a detail: redacted, JSON-escaped (no raw newlines or ANSI), clipped. */
function quote(value: unknown, secrets: readonly string[]): string {
  if (value === undefined) return "(absent)";
  // Values come from JSON bodies and options: never functions or symbols, so always JSON text.
  const safe = redactValues(value, (text) => bounded(text, secrets, QUOTE_WINDOW));
  return clip(printable(redactCredentials(JSON.stringify(safe))), QUOTE_MAX);
}

/** Like `quote`, without JSON quotes, for values that are already known to agree with each other. */
function plain(value: unknown, secrets: readonly string[]): string {
  return typeof value === "string"
    ? clip(printable(redactCredentials(bounded(value, secrets, QUOTE_WINDOW))), QUOTE_MAX)
    : quote(value, secrets);
}

/** A short, safe token for enum-like server fields (lifecycle, lastErrorCode, error.code). */
function word(value: unknown, secrets: readonly string[]): string {
  return typeof value === "string" && /^[A-Za-z0-9_.:-]{1,48}$/.test(value) && !secrets.some((s) => carriesSecret(value, s))
    ? value
    : quote(value, secrets);
}

/** Answers that mean "not up yet" rather than "up and wrong". */
function isTransientStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

const newRequestId = (purpose: string): string => `verify-${purpose}-${randomUUID()}`;
const elapsed = (since: number): number => Math.round(performance.now() - since);

// ---------------------------------------------------------------------------------------------
// Retrying until the readiness deadline

type Attempt<T> = { kind: "answer"; value: T } | { kind: "retry"; reason: string };

/** "Not an answer yet": `untilDeadline` asks again. */
// Stryker disable next-line StringLiteral: `untilDeadline` tells the kinds apart by "answer" only (the union is for the compiler)
const retry = (reason: string): Attempt<never> => ({ kind: "retry", reason });

type Eventually<T> = { kind: "answer"; value: T; attempts: number } | { kind: "deadline"; attempts: number; reason: string };

/** The reason of an attempt stopped by `signal` (Ctrl-C). */
const INTERRUPTED = "interrupted (Ctrl-C)";

/** The clock's sleep, cut short when the run is interrupted. */
function sleepUnlessInterrupted(ctx: RunContext, ms: number): Promise<void> {
  const signal = ctx.options.signal;
  if (!signal) return ctx.clock.sleep(ms);
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = (): void => {
      signal.removeEventListener("abort", done);
      resolve();
    };
    signal.addEventListener("abort", done);
    void ctx.clock.sleep(ms).then(done);
  });
}

/** A check stopped by Ctrl-C before it had an answer. */
const interruptedDetail = (attempts: number): string =>
  `${INTERRUPTED} before an answer, after ${attempts} attempt${attempts === 1 ? "" : "s"}`;

/** Tells `onCheck` what a check is doing; a failing reporter never fails the verification. */
function tellProgress(
  ctx: RunContext,
  check: string,
  state: CheckProgress["state"],
  more: { attempt?: number; reason?: string } = {},
): void {
  const onCheck = ctx.options.onCheck;
  // Stryker disable next-line ConditionalExpression: without a reporter the call below throws into the catch, the same outcome
  if (!onCheck) return;
  try {
    onCheck({
      check,
      state,
      ...more,
      ...(more.reason === undefined ? {} : { reason: redact(more.reason, ctx.secrets) }),
      remainingMs: Math.max(0, Math.round(ctx.deadlineAt - ctx.clock.now())),
      deadlineMs: ctx.options.deadlineMs ?? DEFAULT_DEADLINE_MS,
    });
  } catch {
    // A failing progress reporter must not fail the verification.
  }
}

/** Runs a check between its `running` and `passed`/`failed` progress events. */
async function reported<T>(ctx: RunContext, check: string, run: () => Promise<T>, ok: (result: T) => boolean): Promise<T> {
  tellProgress(ctx, check, "running");
  const result = await run();
  tellProgress(ctx, check, ok(result) ? "passed" : "failed");
  return result;
}

/**
 * Runs `attempt` until it gives an answer or the readiness deadline passes, with exponential
 * backoff (doubling, capped, "equal jitter": between half and all of the step, never zero).
 */
async function untilDeadline<T>(
  ctx: RunContext,
  attempt: (timeoutMs: number) => Promise<Attempt<T>>,
  onRetry?: (attempts: number, reason: string) => void,
): Promise<Eventually<T>> {
  const initial = ctx.options.retryInitialDelayMs ?? DEFAULT_RETRY_INITIAL_DELAY_MS;
  const cap = ctx.options.retryMaxDelayMs ?? DEFAULT_RETRY_MAX_DELAY_MS;
  const minBudget = Math.min(MIN_ATTEMPT_BUDGET_MS, ctx.requestTimeoutMs);
  for (let attempts = 1; ; attempts++) {
    // A request never outlives the deadline, so a hung server cannot stretch the run.
    const timeoutMs = Math.max(1, Math.min(ctx.requestTimeoutMs, Math.ceil(ctx.deadlineAt - ctx.clock.now())));
    const outcome = await attempt(timeoutMs);
    if (outcome.kind === "answer") return { kind: "answer", value: outcome.value, attempts };
    if (ctx.options.signal?.aborted) return { kind: "deadline", attempts, reason: INTERRUPTED };
    const step = Math.min(cap, initial * 2 ** (attempts - 1));
    const delay = step / 2 + (Math.random() * step) / 2;
    const remaining = ctx.deadlineAt - ctx.clock.now();
    if (remaining < minBudget) return { kind: "deadline", attempts, reason: outcome.reason };
    onRetry?.(attempts, outcome.reason);
    // Sleep at most until the last moment a full-budget attempt can still start (or until Ctrl-C).
    await sleepUnlessInterrupted(ctx, Math.max(0, Math.min(delay, remaining - minBudget)));
    if (ctx.options.signal?.aborted) return { kind: "deadline", attempts, reason: INTERRUPTED };
    // Woken late (a busy machine) with under half a budget left: an attempt would only time out and hide the last real reason.
    if (ctx.deadlineAt - ctx.clock.now() < minBudget / 2) return { kind: "deadline", attempts, reason: outcome.reason };
  }
}

// ---------------------------------------------------------------------------------------------
// status

interface StatusAnswer {
  ok: boolean;
  detail: string;
  /** The raw `status` object of a 200 answer, for the identity check and the payment's walletId. */
  status?: Record<string, unknown>;
}

function summarize(status: Record<string, unknown>, secrets: readonly string[]): ExecutorStatusSummary {
  // Shown on the CLI's status line and in the gate's outputs: redacted, bounded, one line.
  const text = (value: unknown): string | undefined =>
    typeof value === "string" ? clip(printable(redactCredentials(bounded(value, secrets, SUMMARY_WINDOW))), SUMMARY_MAX) : undefined;
  const number = (value: unknown): number | undefined => (Number.isFinite(value) ? (value as number) : undefined);
  const summary: ExecutorStatusSummary = {
    walletId: text(status.walletId),
    mode: text(status.mode),
    authTokenVersion: number(status.authTokenVersion),
    identityPubkey: text(status.identityPubkey),
    balanceSats: number(status.balanceSats),
    lifecycle: text(status.lifecycle),
    ready: typeof status.ready === "boolean" ? status.ready : undefined,
  };
  for (const key of Object.keys(summary) as (keyof ExecutorStatusSummary)[]) {
    if (summary[key] === undefined) delete summary[key];
  }
  return summary;
}

/** Judges one `/status` answer for the current token: a definitive verdict, or "retry" while not up yet. */
function judgeStatus(
  outcome: HttpOutcome,
  requestId: string,
  options: Omit<VerifyOptions, "baseUrl">,
  secrets: readonly string[],
  seen: (status: Record<string, unknown>) => void,
): Attempt<StatusAnswer> {
  const fail = (detail: string): Attempt<StatusAnswer> => ({ kind: "answer", value: { ok: false, detail } });
  if (outcome.kind === "failure") return retry(outcome.reason);
  if (isTransientStatus(outcome.status)) return retry(`HTTP ${outcome.status}`);
  if (outcome.status === 401) return fail("the current token got HTTP 401: the executor does not accept it");
  if (outcome.status !== 200) {
    const code = isRecord(outcome.json) && isRecord(outcome.json.error) ? ` ${word(outcome.json.error.code, secrets)}` : "";
    return fail(`unexpected HTTP ${outcome.status}${code}`);
  }
  const body = outcome.json;
  if (!isRecord(body)) return fail("/status answered 200 with a body that is not a JSON object");
  if (body.ok !== true || !isRecord(body.status)) return fail("/status answered 200 without ok:true and a status object");
  const status = body.status;
  seen(status);

  const expected = options.expectTokenVersion;
  const version = status.authTokenVersion;
  // Stryker disable next-line ConditionalExpression: Number.isSafeInteger is false for any non-number; the typeof narrows the type
  if (typeof version !== "number" || !Number.isSafeInteger(version))
    return fail(`status.authTokenVersion is ${quote(version, secrets)}, not an integer`);
  // A lower generation identifies the previous revision still taking traffic: wait for the rollout.
  // (Checked before auth mode, so an old revision without auth is waited out, not blamed.)
  if (version < expected) return retry(`old revision still serving: authTokenVersion ${version}, expected ${expected}`);
  if (status.authMode === "disabled" || status.authEnforced === false) {
    return fail(`auth is disabled: authMode ${word(status.authMode, secrets)}, authEnforced ${quote(status.authEnforced, secrets)}`);
  }
  if (version > expected) return fail(`authTokenVersion ${version} is newer than the expected ${expected}: another rotation was deployed`);
  if (status.ready !== true) {
    const lastError = status.lastErrorCode ? `, lastErrorCode ${word(status.lastErrorCode, secrets)}` : "";
    return retry(`ready:${quote(status.ready, secrets)} (lifecycle ${word(status.lifecycle, secrets)}${lastError})`);
  }

  const problems: string[] = [];
  if (status.authMode !== "bearer_static") problems.push(`authMode is ${word(status.authMode, secrets)}, expected bearer_static`);
  if (status.authEnforced !== true) problems.push(`authEnforced is ${quote(status.authEnforced, secrets)}, expected true`);
  if (options.expectMode !== undefined && status.mode !== options.expectMode)
    problems.push(`mode is ${word(status.mode, secrets)}, expected ${options.expectMode}`);
  if (options.expectMode === "spark" && status.apiKeyConfigured !== true)
    problems.push(`apiKeyConfigured is ${quote(status.apiKeyConfigured, secrets)} in spark mode, expected true`);
  if (body.requestId !== requestId) problems.push("body.requestId does not echo x-request-id");
  if (problems.length > 0) return fail(problems.join("; "));
  return {
    kind: "answer",
    value: {
      ok: true,
      detail: `ready; authMode bearer_static, enforced; authTokenVersion ${version}; mode ${word(status.mode, secrets)}; lifecycle ${word(status.lifecycle, secrets)}`,
      status,
    },
  };
}

async function runStatus(ctx: RunContext, onSummary: (summary: ExecutorStatusSummary) => void): Promise<StatusAnswer & { ms: number }> {
  const started = performance.now();
  const result = await untilDeadline(
    ctx,
    async (timeoutMs) => {
      const requestId = newRequestId("status");
      const outcome = await send(ctx, {
        label: "GET /status (current token)",
        // Stryker disable next-line StringLiteral: undici sends GET for an empty method
        method: "GET",
        path: "/status",
        requestId,
        authorization: `Bearer ${ctx.options.token}`,
        timeoutMs,
      });
      return judgeStatus(outcome, requestId, ctx.options, ctx.secrets, (status) => onSummary(summarize(status, ctx.secrets)));
    },
    (attempt, reason) => {
      tellProgress(ctx, "status", "waiting", { attempt, reason });
      const onProgress = ctx.options.onProgress;
      // Stryker disable next-line ConditionalExpression: without a reporter the call below throws into the catch, the same outcome
      if (!onProgress) return;
      try {
        onProgress({ attempt, elapsedMs: elapsed(ctx.startedAt), reason: redact(reason, ctx.secrets) });
      } catch {
        // A failing progress reporter must not fail the verification.
      }
    },
  );
  const ms = elapsed(started);
  if (result.kind === "deadline") {
    if (result.reason === INTERRUPTED) return { ok: false, detail: interruptedDetail(result.attempts), ms };
    return { ok: false, detail: `not ready by deadline after ${result.attempts} attempts: ${result.reason}`, ms };
  }
  const attempts = result.attempts > 1 ? ` (after ${result.attempts} attempts)` : "";
  return { ...result.value, detail: result.value.detail + attempts, ms };
}

// ---------------------------------------------------------------------------------------------
// deterministic 401

/** What must be identical across all unauthorized answers. */
interface UnauthorizedSignature {
  status: number;
  wwwAuthenticate: string | undefined;
  code: unknown;
  message: unknown;
}

interface ProbeSpec {
  name: Extract<CheckName, `auth-${string}-token`>;
  /** "missing token", "wrong token", "previous token". */
  what: string;
  authorization?: string;
}

interface ProbeResult {
  check: CheckResult;
  /** Absent when no definitive answer came before the deadline. */
  signature?: UnauthorizedSignature;
}

function judgeUnauthorized(
  outcome: HttpOutcome,
  requestId: string,
  spec: ProbeSpec,
  ctx: RunContext,
): Attempt<{ problems: string[]; signature: UnauthorizedSignature }> {
  const secrets = ctx.secrets;
  if (outcome.kind === "failure") return retry(outcome.reason);
  if (isTransientStatus(outcome.status)) return retry(`HTTP ${outcome.status}`);
  const body = outcome.json;
  const error = isRecord(body) && isRecord(body.error) ? body.error : undefined;
  const signature: UnauthorizedSignature = {
    status: outcome.status,
    wwwAuthenticate: outcome.headers["www-authenticate"],
    code: error?.code,
    message: error?.message,
  };
  const problems: string[] = [];
  if (outcome.status === 200) {
    const status = isRecord(body) && isRecord(body.status) ? body.status : undefined;
    const version = status?.authTokenVersion;
    // Accepted by a lower generation = the previous revision still answering: wait for the rollout.
    if (typeof version === "number" && version < ctx.options.expectTokenVersion) {
      return retry(`old revision still serving: authTokenVersion ${version}`);
    }
    problems.push(`${spec.what} was accepted (HTTP 200), expected 401`);
    if (spec.name === "auth-previous-token" && ctx.options.previousToken === ctx.options.token) {
      problems.push("the previous token is the same as the current token");
    }
    return { kind: "answer", value: { problems, signature } };
  }
  if (outcome.status !== 401) problems.push(`HTTP ${outcome.status}, expected 401`);
  if (signature.wwwAuthenticate === undefined) problems.push("no www-authenticate header");
  else if (signature.wwwAuthenticate !== EXPECTED_WWW_AUTHENTICATE)
    problems.push(`www-authenticate is ${quote(signature.wwwAuthenticate, secrets)}`);
  if (!isRecord(body)) problems.push("body is not a JSON object");
  else {
    if (body.ok !== false) problems.push("body.ok is not false");
    if (!error) problems.push("body has no error object");
    else {
      if (error.code !== EXPECTED_UNAUTHORIZED_CODE) problems.push(`error.code is ${quote(error.code, secrets)}`);
      if (error.message !== EXPECTED_UNAUTHORIZED_MESSAGE) problems.push(`error.message is ${quote(error.message, secrets)}`);
      if (error.requestId !== requestId) problems.push("error.requestId does not echo x-request-id");
    }
  }
  return { kind: "answer", value: { problems, signature } };
}

async function runUnauthorizedProbe(ctx: RunContext, spec: ProbeSpec): Promise<ProbeResult> {
  const started = performance.now();
  const result = await untilDeadline(
    ctx,
    async (timeoutMs) => {
      const requestId = newRequestId(spec.name);
      const outcome = await send(ctx, {
        label: `GET /status (${spec.what})`,
        // Stryker disable next-line StringLiteral: undici sends GET for an empty method
        method: "GET",
        path: "/status",
        requestId,
        authorization: spec.authorization,
        timeoutMs,
      });
      return judgeUnauthorized(outcome, requestId, spec, ctx);
    },
    (attempt, reason) => tellProgress(ctx, spec.name, "waiting", { attempt, reason }),
  );
  const ms = elapsed(started);
  if (result.kind === "deadline") {
    return {
      check: {
        name: spec.name,
        ok: false,
        detail:
          result.reason === INTERRUPTED
            ? interruptedDetail(result.attempts)
            : `no answer by deadline after ${result.attempts} attempts: ${result.reason}`,
        ms,
      },
    };
  }
  const { problems, signature } = result.value;
  const detail =
    problems.length === 0
      ? `${spec.what}: 401 ${EXPECTED_UNAUTHORIZED_CODE}, ${EXPECTED_WWW_AUTHENTICATE}, requestId echoed`
      : `${spec.what}: ${problems.join("; ")}`;
  return { check: { name: spec.name, ok: problems.length === 0, detail, ms }, signature };
}

function judgeDeterminism(
  specs: readonly ProbeSpec[],
  results: readonly ProbeResult[],
  ms: number,
  secrets: readonly string[],
): CheckResult {
  const missing = specs.filter((_, i) => results[i].signature === undefined).map((spec) => spec.what);
  if (missing.length > 0) return { name: "auth-deterministic", ok: false, detail: `no answer to compare for: ${missing.join(", ")}`, ms };
  const signatures = results.map((r) => r.signature as UnauthorizedSignature);
  const differences: string[] = [];
  const fields: [keyof UnauthorizedSignature, string][] = [
    ["status", "status"],
    ["wwwAuthenticate", "www-authenticate"],
    ["code", "error.code"],
    ["message", "error.message"],
  ];
  for (const [field, label] of fields) {
    const values = signatures.map((s) => s[field]);
    if (values.every((v) => v === values[0])) continue;
    // Group the probes by the value they got: `"a" (missing token) vs "b" (wrong token, previous token)`.
    const groups = new Map<string, string[]>();
    values.forEach((value, i) => groups.set(quote(value, secrets), [...(groups.get(quote(value, secrets)) ?? []), specs[i].what]));
    differences.push(`${label} differs: ${[...groups].map(([value, whats]) => `${value} (${whats.join(", ")})`).join(" vs ")}`);
    // A different status explains every other difference; listing them would only add noise.
    if (field === "status") break;
  }
  if (differences.length > 0) return { name: "auth-deterministic", ok: false, detail: differences.join("; "), ms };
  const first = signatures[0];
  // Agreeing on anything but a 401 (e.g. every probe accepted with auth disabled) is not "deterministic 401".
  if (first.status !== 401)
    return { name: "auth-deterministic", ok: false, detail: `all ${specs.length} answers agree, but on HTTP ${first.status}, not 401`, ms };
  return {
    name: "auth-deterministic",
    ok: true,
    detail: `${specs.length} unauthorized answers agree: ${first.status}, www-authenticate ${plain(first.wwwAuthenticate, secrets)}, code ${plain(first.code, secrets)}, message ${plain(first.message, secrets)}`,
    ms,
  };
}

// ---------------------------------------------------------------------------------------------
// payment smoke

async function runPayment(ctx: RunContext, payment: PaymentProbe, walletId: unknown): Promise<CheckResult> {
  const secrets = ctx.secrets;
  // Let undici mark the status probe's socket idle (it does so just after the body ends), so the
  // payment reuses that keep-alive connection instead of opening a new one.
  await new Promise<void>((resolve) => setImmediate(resolve));
  const started = performance.now();
  const requestId = newRequestId("pay");
  const check = (ok: boolean, detail: string): CheckResult => ({ name: "payment-smoke", ok, detail, ms: elapsed(started) });
  // The payment obeys the run's deadline too: never started without time to finish, never waited on past it.
  const remaining = Math.floor(ctx.deadlineAt - ctx.clock.now());
  if (ctx.options.signal?.aborted) return check(false, `not run: ${INTERRUPTED}`);
  if (remaining < MIN_ATTEMPT_BUDGET_MS) {
    return check(false, `not run: the deadline (${ctx.options.deadlineMs ?? DEFAULT_DEADLINE_MS} ms) left no time for a payment`);
  }
  const timeoutMs = Math.min(ctx.options.paymentTimeoutMs ?? DEFAULT_PAYMENT_TIMEOUT_MS, remaining);
  // Never retried: a payment that timed out on our side may still settle, and a retry would pay twice.
  const outcome = await send(ctx, {
    label: "POST /pay-bolt11",
    method: "POST",
    path: "/pay-bolt11",
    requestId,
    authorization: `Bearer ${ctx.options.token}`,
    body: JSON.stringify({ requestId, payment: { invoice: payment.invoice, maxAmountMsats: payment.maxAmountMsats, host: payment.host } }),
    timeoutMs,
  });
  if (outcome.kind === "failure") return check(false, `POST /pay-bolt11 failed: ${outcome.reason}`);
  const body = outcome.json;
  if (outcome.status !== 200) {
    const code = isRecord(body) && isRecord(body.error) ? ` ${word(body.error.code, secrets)}` : "";
    return check(false, `POST /pay-bolt11 answered HTTP ${outcome.status}${code}`);
  }
  if (!isRecord(body) || body.ok !== true || !isRecord(body.result))
    return check(false, "POST /pay-bolt11 answered 200 without ok:true and a result object");
  const result = body.result;
  const paid = isRecord(result.payment) ? result.payment : {};
  // The preimage is not a credential but must not travel further than this function.
  // Stryker disable next-line ConditionalExpression,LogicalOperator,StringLiteral: every redaction drops empty and non-string secrets (secretList)
  if (typeof paid.preimageHex === "string" && paid.preimageHex !== "") ctx.secrets.push(paid.preimageHex);

  const problems = receiptProblems(result.receipt, {
    invoice: payment.invoice,
    maxAmountMsats: payment.maxAmountMsats,
    host: payment.host,
    requestId,
    walletId: typeof walletId === "string" ? walletId : undefined,
    // Absent counts as a problem too: the payer needs the preimage, and it must match the receipt.
    preimageHex: paid.preimageHex ?? null,
  });
  if (result.requestId !== requestId) problems.push("result.requestId does not match the payment's requestId");
  if (body.requestId !== requestId) problems.push("body.requestId does not echo x-request-id");
  if (problems.length > 0) return check(false, problems.join("; "));

  const receipt = result.receipt as {
    receiptId: string;
    canonicalJsonSha256: string;
    settledAmountMsats: number;
    quotedAmountMsats: number;
    invoiceHash: string;
  };
  return check(
    true,
    `receipt ${receipt.receiptId} (canonicalJsonSha256 ${receipt.canonicalJsonSha256.slice(0, 16)}…) settled ${receipt.settledAmountMsats} msats ` +
      `(quoted ${receipt.quotedAmountMsats}, max ${payment.maxAmountMsats}); hash, id, invoiceHash and preimageSha256 recomputed`,
  );
}

// ---------------------------------------------------------------------------------------------
// identity and no echo

function judgeIdentity(options: VerifyOptions, status: Record<string, unknown> | undefined, secrets: readonly string[]): CheckResult {
  const started = performance.now();
  const check = (ok: boolean, detail: string): CheckResult => ({ name: "identity", ok, detail, ms: elapsed(started) });
  if (!status) return check(false, "not checked: /status did not succeed");
  const identity = status.identityPubkey;
  if (typeof identity !== "string" || identity === "") return check(false, "status.identityPubkey is missing");
  const problems: string[] = [];
  if (options.expectIdentity !== undefined && identity !== options.expectIdentity) {
    problems.push(`identityPubkey ${quote(identity, secrets)} is not the expected ${quote(options.expectIdentity, secrets)}`);
  }
  // Stryker disable next-line ConditionalExpression: identity is a non-empty string here, never equal to an undefined rejectIdentity
  if (options.rejectIdentity !== undefined && identity === options.rejectIdentity) {
    problems.push(`identityPubkey is unchanged (${quote(identity, secrets)}): a mnemonic rotation must change the wallet identity`);
  }
  if (problems.length > 0) return check(false, problems.join("; "));
  const wanted = [
    options.expectIdentity !== undefined ? "as expected" : "",
    options.rejectIdentity !== undefined ? "differs from the rejected identity" : "",
  ]
    .filter(Boolean)
    .join(", ");
  return check(true, `identityPubkey ${quote(identity, secrets)} ${wanted}`);
}

function judgeNoEcho(exchanges: readonly Exchange[], named: readonly [string, string | undefined][]): CheckResult {
  const started = performance.now();
  const findings: string[] = [];
  for (const exchange of exchanges) {
    const headerText = Object.entries(exchange.headers)
      .map(([name, value]) => `${name}: ${value}`)
      .join("\n");
    for (const [what, secret] of named) {
      // Stryker disable next-line ConditionalExpression,StringLiteral: carriesSecret finds no empty secret anyway
      if (secret === undefined || secret === "") continue;
      // Any part of at least min(12, length) characters is an echo: a server that returns half a token has leaked it.
      if (carriesSecret(headerText, secret)) findings.push(`${what} in a header of ${exchange.label}`);
      if (carriesSecret(exchange.body, secret)) findings.push(`${what} in the body of ${exchange.label}`);
    }
  }
  const distinct = [...new Set(findings)];
  const ms = elapsed(started);
  if (distinct.length > 0) {
    const more = distinct.length > 3 ? ` and ${distinct.length - 3} more` : "";
    return { name: "no-secret-echo", ok: false, detail: `secret echoed: ${distinct.slice(0, 3).join("; ")}${more}`, ms };
  }
  const scanned = named
    .filter(([, secret]) => secret)
    .map(([what]) => what)
    .join(", ");
  return { name: "no-secret-echo", ok: true, detail: `${exchanges.length} responses (headers and bodies) carry none of: ${scanned}`, ms };
}

// ---------------------------------------------------------------------------------------------

/** What a bearer token may contain to travel in a header: visible ASCII, no spaces. */
const HEADER_TOKEN = /^[\x21-\x7e]+$/;

/** `localhost`, `*.localhost`, 127.0.0.0/8, ::1 and IPv4-mapped 127.x (URL hostnames keep IPv6 brackets). */
export function isLoopback(hostname: string): boolean {
  // Stryker disable next-line Regex: URL hostnames have brackets only around an IPv6 address, never inside a name
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, "");
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (/^127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$/.test(host)) return true;
  return host === "::1" || /^::ffff:(127\.|7f[0-9a-f]{2}:)/.test(host);
}

function validate(options: VerifyOptions): string {
  let url: URL;
  try {
    url = new URL(options.baseUrl);
  } catch {
    throw new VerifyOptionsError("options.baseUrl is not a URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new VerifyOptionsError("options.baseUrl must be an http or https URL");
  if (url.username !== "" || url.password !== "") throw new VerifyOptionsError("options.baseUrl must not carry credentials");
  if (url.search !== "" || url.hash !== "") throw new VerifyOptionsError("options.baseUrl must not have a query or fragment");
  if (!Number.isSafeInteger(options.expectTokenVersion) || options.expectTokenVersion < 1)
    throw new VerifyOptionsError("options.expectTokenVersion must be a positive integer");
  if (typeof options.token !== "string" || options.token === "") throw new VerifyOptionsError("options.token must be a non-empty string");
  // Tokens travel in an Authorization header: a line break there would inject headers.
  for (const [name, value] of [
    ["token", options.token],
    ["previousToken", options.previousToken],
  ] as const) {
    // Stryker disable next-line ConditionalExpression: HEADER_TOKEN accepts undefined (tested as the text "undefined")
    if (value !== undefined && value !== "" && !HEADER_TOKEN.test(value))
      throw new VerifyOptionsError(`options.${name} must be printable ASCII without spaces, line breaks or control characters`);
  }
  if (url.protocol === "http:" && !isLoopback(url.hostname) && options.allowInsecureHttp !== true) {
    throw new VerifyOptionsError(
      "options.baseUrl is plain http to a host that is not loopback: the token would cross the network in clear; use https (or allowInsecureHttp)",
    );
  }
  for (const [name, value] of [
    ["deadlineMs", options.deadlineMs],
    ["requestTimeoutMs", options.requestTimeoutMs],
    ["paymentTimeoutMs", options.paymentTimeoutMs],
  ] as const) {
    if (value !== undefined && !(Number.isFinite(value) && value > 0))
      throw new VerifyOptionsError(`options.${name} must be a positive number`);
  }
  const payment = options.payment;
  if (payment) {
    if (typeof payment.invoice !== "string" || payment.invoice === "")
      throw new VerifyOptionsError("options.payment.invoice must be a non-empty string");
    if (typeof payment.host !== "string" || payment.host === "")
      throw new VerifyOptionsError("options.payment.host must be a non-empty string");
    if (!Number.isSafeInteger(payment.maxAmountMsats) || payment.maxAmountMsats <= 0)
      throw new VerifyOptionsError("options.payment.maxAmountMsats must be a positive integer");
  }
  // Keep a path prefix (a proxy may mount the executor under one), drop trailing slashes.
  return url.toString().replace(/\/+$/, "");
}

/**
 * Runs the Verification Checklist against an executor. Never throws for what the executor does
 * (that is a failed check); throws a VerifyOptionsError (without secrets) for invalid options.
 */
export async function verifyExecutor(options: VerifyOptions): Promise<VerifyReport> {
  const baseUrl = validate(options);
  const startedAt = performance.now();
  const clock = options.clock ?? MONOTONIC_CLOCK;
  // A fresh random token per run: "wrong" must mean wrong, not "some fixed string an executor could special-case".
  const wrongToken = randomBytes(32).toString("hex");
  const secrets = [options.token, options.previousToken, options.sparkApiKey, wrongToken, options.payment?.invoice].filter(
    // Stryker disable next-line ConditionalExpression,StringLiteral: every redaction and echo scan ignores an empty secret anyway
    (s): s is string => typeof s === "string" && s !== "",
  );
  // Stryker disable next-line ConditionalExpression,ObjectLiteral: an Agent made beside a caller's pool, or with undici's defaults, changes no outcome
  const ownDispatcher = options.dispatcher === undefined ? new Agent({ keepAliveTimeout: 4_000, connections: 8 }) : undefined;
  const ctx: RunContext = {
    baseUrl,
    options,
    dispatcher: options.dispatcher ?? (ownDispatcher as Agent),
    startedAt,
    clock,
    deadlineAt: clock.now() + (options.deadlineMs ?? DEFAULT_DEADLINE_MS),
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    exchanges: [],
    secrets,
  };

  let summary: ExecutorStatusSummary | undefined;
  try {
    const specs: ProbeSpec[] = [
      { name: "auth-missing-token", what: "missing token" },
      { name: "auth-wrong-token", what: "wrong token", authorization: `Bearer ${wrongToken}` },
    ];
    if (options.previousToken !== undefined && options.previousToken !== "") {
      specs.push({ name: "auth-previous-token", what: "previous token", authorization: `Bearer ${options.previousToken}` });
    }

    // Status and the 401 probes are independent: run them side by side over the one pool.
    const statusTask = reported(
      ctx,
      "status",
      () => runStatus(ctx, (s) => (summary = s)),
      (r) => r.ok,
    );
    const paymentTask: Promise<CheckResult | undefined> = options.payment
      ? statusTask.then((status) =>
          status.ok
            ? reported(
                ctx,
                "payment-smoke",
                // Stryker disable next-line OptionalChaining: a status that passed always has its status object
                () => runPayment(ctx, options.payment as PaymentProbe, status.status?.walletId),
                (c) => c.ok,
              )
            : {
                name: "payment-smoke",
                ok: false,
                detail: "not run: the status check failed (no payment against an executor that is not verified)",
                ms: 0,
              },
        )
      : Promise.resolve(undefined);
    const probesStarted = performance.now();
    const probesTask = Promise.all(
      specs.map((spec) =>
        reported(
          ctx,
          spec.name,
          () => runUnauthorizedProbe(ctx, spec),
          (r) => r.check.ok,
        ),
      ),
    ).then((results) => ({
      results,
      ms: elapsed(probesStarted),
    }));
    const [status, probeRun, paymentCheck] = await Promise.all([statusTask, probesTask, paymentTask]);
    const probes = probeRun.results;

    const checks: CheckResult[] = [{ name: "status", ok: status.ok, detail: status.detail, ms: status.ms }];
    checks.push(...probes.map((p) => p.check));
    checks.push(judgeDeterminism(specs, probes, probeRun.ms, ctx.secrets));
    if (paymentCheck) checks.push(paymentCheck);
    if (options.expectIdentity !== undefined || options.rejectIdentity !== undefined)
      checks.push(judgeIdentity(options, status.ok ? status.status : undefined, ctx.secrets));
    checks.push(
      judgeNoEcho(ctx.exchanges, [
        ["the current token", options.token],
        ["the previous token", options.previousToken],
        ["the Spark API key", options.sparkApiKey],
        ["the probe's wrong token", wrongToken],
      ]),
    );

    // Last line of defence: whatever a detail quotes from a response, no secret leaves this function.
    const safe = checks.map((c) => ({ ...c, detail: redact(c.detail, ctx.secrets) }));
    const interrupted = options.signal?.aborted === true ? { interrupted: true } : {};
    return { ok: safe.every((c) => c.ok), checks: safe, status: summary, totalMs: elapsed(startedAt), ...interrupted };
  } finally {
    // Every request has settled by now; destroy rather than close so no idle socket lingers.
    if (ownDispatcher) await ownDispatcher.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// Revoked means refused everywhere (the tagged rotation strategy, docs/design/zero-downtime.md)

export interface RefusedEverywhereOptions {
  /** Every URL of the service that must refuse the token (main URL and every remaining tag URL). */
  urls: readonly string[];
  /** URLs that must no longer route at all (a removed tag's): 404 or a refused connection. */
  goneUrls?: readonly string[];
  /** The revoked token (secret). */
  token: string;
  /** How long to keep asking while an answer is transient (5xx, 408, 429, no connection), default 30000. */
  deadlineMs?: number;
  /** Per-request timeout, default 10000 (never beyond the deadline). */
  requestTimeoutMs?: number;
  /** The deadline's time and the backoff's sleeps; default the process's monotonic clock (tests inject their own). */
  clock?: VerifyClock;
  /** Optional pool to reuse (left open); otherwise one per run, destroyed at the end. */
  dispatcher?: Dispatcher;
}

const DEFAULT_REFUSED_DEADLINE_MS = 30_000;
/** A revocation's answers settle within seconds: ask again at least every second. */
const REFUSED_RETRY_MAX_DELAY_MS = 1_000;

/** What one URL answered the revoked token: its HTTP status, or why there was none. */
interface UrlAnswer {
  status?: number;
  reason: string;
}

/** A refused connection is an answer (nothing listens there), not "not up yet". */
const connectionRefused = (reason: string): boolean => reason.includes("ECONNREFUSED");

/** Asks `ctx.baseUrl`'s /status with the revoked token until a definitive answer or the deadline (then the last reason). */
async function askWithRevokedToken(ctx: RunContext): Promise<UrlAnswer> {
  const result = await untilDeadline<UrlAnswer>(ctx, async (timeoutMs) => {
    const outcome = await send(ctx, {
      // Stryker disable next-line StringLiteral: the label names a response for the no-echo scan, which this check does not run
      label: "GET /status (revoked token)",
      // Stryker disable next-line StringLiteral: undici sends GET for an empty method
      method: "GET",
      path: "/status",
      requestId: newRequestId("revoked"),
      authorization: `Bearer ${ctx.options.token}`,
      timeoutMs,
    });
    if (outcome.kind === "failure") {
      return connectionRefused(outcome.reason) ? { kind: "answer", value: { reason: outcome.reason } } : retry(outcome.reason);
    }
    const reason = `HTTP ${outcome.status}`;
    return isTransientStatus(outcome.status) ? retry(reason) : { kind: "answer", value: { status: outcome.status, reason } };
  });
  return result.kind === "answer" ? result.value : { reason: result.reason };
}

/**
 * Proves a revoked token is refused at every URL of a service: `previous-token-refused` (each of
 * `urls` answers the contract's 401 to it) and, when `goneUrls` are given, `previous-tag-gone`
 * (each answers 404, or refuses the connection: the tag routes nowhere). Transient answers are
 * retried until the deadline, on the verifier's backoff and clock (`untilDeadline`). Never throws
 * for what a server does; throws a VerifyOptionsError for an invalid token or URL; the token never
 * appears in a detail.
 */
export async function verifyRefusedEverywhere(options: RefusedEverywhereOptions): Promise<VerifyReport> {
  if (typeof options.token !== "string" || options.token === "") throw new VerifyOptionsError("options.token must be a non-empty string");
  const startedAt = performance.now();
  const clock = options.clock ?? MONOTONIC_CLOCK;
  const verifyOptions: Omit<VerifyOptions, "baseUrl"> = {
    expectTokenVersion: 1,
    token: options.token,
    deadlineMs: options.deadlineMs ?? DEFAULT_REFUSED_DEADLINE_MS,
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    retryMaxDelayMs: REFUSED_RETRY_MAX_DELAY_MS,
    clock,
  };
  // Every URL is checked before anything is sent (validate also refuses a token that cannot travel in a header).
  const targets = (urls: readonly string[]) => urls.map((url) => ({ url, baseUrl: validate({ ...verifyOptions, baseUrl: url }) }));
  const refusing = targets(options.urls);
  const gone = targets(options.goneUrls ?? []);
  // Stryker disable next-line ConditionalExpression,ObjectLiteral: an Agent made beside a caller's pool, or with undici's defaults, changes no outcome
  const ownDispatcher = options.dispatcher === undefined ? new Agent({ keepAliveTimeout: 1_000, connections: 4 }) : undefined;
  const dispatcher: Dispatcher = options.dispatcher ?? (ownDispatcher as Agent);
  const deadlineAt = clock.now() + verifyOptions.deadlineMs!;
  const contextFor = (baseUrl: string): RunContext => ({
    baseUrl,
    options: verifyOptions,
    dispatcher,
    startedAt,
    clock,
    deadlineAt,
    requestTimeoutMs: verifyOptions.requestTimeoutMs!,
    // Stryker disable next-line ArrayDeclaration: no-echo scan here; undici's error messages never quote a request's headers
    exchanges: [],
    // Stryker disable next-line ArrayDeclaration: see above (the details are redacted below anyway)
    secrets: [options.token],
  });
  /** Asks every target side by side; `ms`: until the last one had its answer. */
  const ask = async (list: readonly { url: string; baseUrl: string }[]) => {
    const started = performance.now();
    const answers = await Promise.all(
      list.map(async ({ url, baseUrl }) => ({ url, answer: await askWithRevokedToken(contextFor(baseUrl)) })),
    );
    return { answers, ms: elapsed(started) };
  };
  try {
    // Both checks at once, on the one deadline: the gone URLs are never starved by URLs that stayed transient.
    const [refusedRun, goneRun] = await Promise.all([ask(refusing), ask(gone)]);
    const accepted = refusedRun.answers.filter((r) => r.answer.status !== 401);
    const checks: CheckResult[] = [
      {
        name: "previous-token-refused",
        ok: accepted.length === 0 && options.urls.length > 0,
        detail:
          options.urls.length === 0
            ? "no URL to check"
            : accepted.length === 0
              ? `the revoked token gets 401 at all ${options.urls.length} URLs: ${options.urls.join(", ")}`
              : `the revoked token is not refused at: ${accepted.map((r) => `${r.url} (${r.answer.reason})`).join(", ")}`,
        ms: refusedRun.ms,
      },
    ];
    if (options.goneUrls !== undefined) {
      // An answer's reason is "HTTP <status>": only a failed connection's can name ECONNREFUSED.
      const routing = goneRun.answers.filter((r) => r.answer.status !== 404 && !connectionRefused(r.answer.reason));
      checks.push({
        name: "previous-tag-gone",
        ok: routing.length === 0,
        detail:
          routing.length === 0
            ? `${options.goneUrls.length} removed tag URL(s) route nowhere (404 or connection refused): ${options.goneUrls.join(", ") || "none"}`
            : `still routing: ${routing.map((r) => `${r.url} (${r.answer.reason})`).join(", ")}`,
        ms: goneRun.ms,
      });
    }
    const safe = checks.map((c) => ({ ...c, detail: redact(c.detail, [options.token]) }));
    return { ok: safe.every((c) => c.ok), checks: safe, totalMs: elapsed(startedAt) };
  } finally {
    if (ownDispatcher) await ownDispatcher.destroy();
  }
}
