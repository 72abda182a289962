/**
 * A minimal stand-in for the control service, what the local cloud runs in the control's revisions
 * by default: it calls the executor's GET /status at a steady rate (and, when a pay rate is set,
 * POST /pay-bolt11 with a small amount at that lower rate) with the base URL and the token
 * from ITS OWN environment (the variables ending in _BASE_URL, _AUTH_TOKEN and _TIMEOUT_MS, so both
 * the canonical and the legacy names work) and records every answer: time, its own revision, the
 * executor revision that answered (the local front end's header), the status or the failure. It
 * answers GET /status (readiness, and its tallies) and GET /record (the recent answers) on PORT.
 * Never records the token. On SIGTERM it stops calling and exits once in-flight requests end.
 */
import { appendFileSync } from "node:fs";
import { createServer } from "node:http";
import { request } from "undici";
import { LOCAL_ENV } from "../localcloud/runners";

export interface ControlCall {
  readonly atMs: number;
  /** `/status` or `/pay-bolt11`. */
  readonly path: string;
  readonly controlRevision: string;
  /** The executor revision that answered, when the answer came through the local front end. */
  readonly executorRevision?: string;
  readonly status?: number;
  /** `refused`, `timeout`, `reset`, ...: a call that got no HTTP answer. */
  readonly failure?: string;
  readonly authTokenVersion?: number;
  readonly durationMs: number;
}

export interface ControlEnv {
  readonly baseUrl: string;
  readonly token: string;
  readonly timeoutMs: number;
}

/** The executor settings from the environment, by suffix; an error names what is missing or ambiguous. */
export function controlEnv(env: NodeJS.ProcessEnv): ControlEnv {
  const bySuffix = (suffix: string): string => {
    const names = Object.keys(env).filter((name) => name.endsWith(suffix) && name !== LOCAL_ENV.accessToken);
    if (names.length !== 1)
      throw new Error(`expected exactly one variable ending in ${suffix}, found ${names.length === 0 ? "none" : names.join(", ")}`);
    return env[names[0]] ?? "";
  };
  const timeout = Number(bySuffix("_TIMEOUT_MS"));
  return {
    baseUrl: bySuffix("_BASE_URL").replace(/\/+$/, ""),
    token: bySuffix("_AUTH_TOKEN"),
    timeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : 12_000,
  };
}

/** What each payment may cost at most: well under the executor's per-request cap (200 000 msats in both stacks). */
export const PAY_MAX_MSATS = 1_000;

function failureOf(err: unknown): string {
  const code = (err as { code?: string }).code ?? "";
  if (code === "ECONNREFUSED") return "refused";
  if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT" || code === "UND_ERR_CONNECT_TIMEOUT") return "timeout";
  if (code === "ECONNRESET" || code === "UND_ERR_SOCKET") return "reset";
  return code || "error";
}

function main(): void {
  const port = Number(process.env.PORT);
  const revision = process.env.K_REVISION ?? "unknown";
  const rate = Math.max(0.1, Number(process.env[LOCAL_ENV.controlRate] ?? "5") || 5);
  const recordFile = process.env[LOCAL_ENV.controlRecord];
  const settings = controlEnv(process.env);
  const recent: ControlCall[] = [];
  const tally = new Map<string, number>();
  let inFlight = 0;
  let stopping = false;

  const payRate = Number(process.env[LOCAL_ENV.controlPayRate] ?? "0") || 0;
  const payHost = process.env[LOCAL_ENV.controlPayHost] ?? "";
  let paid = 0;

  async function call(path: "/status" | "/pay-bolt11"): Promise<void> {
    inFlight += 1;
    const started = Date.now();
    let record: ControlCall;
    try {
      paid += path === "/pay-bolt11" ? 1 : 0;
      const response = await request(`${settings.baseUrl}${path}`, {
        method: path === "/status" ? "GET" : "POST",
        headers: { authorization: `Bearer ${settings.token}`, "content-type": "application/json" },
        // A small amount, well within the executor's caps; a made-up invoice the mock mode accepts.
        ...(path === "/pay-bolt11"
          ? {
              body: JSON.stringify({
                requestId: `${revision}-${process.pid}-${paid}`,
                payment: { invoice: `lnbcrt10n1rehearsal${revision}${paid}`, maxAmountMsats: PAY_MAX_MSATS, host: payHost },
              }),
            }
          : {}),
        headersTimeout: settings.timeoutMs,
        bodyTimeout: settings.timeoutMs,
      });
      const body = (await response.body.json().catch(() => ({}))) as { status?: { authTokenVersion?: unknown } };
      const answeredBy = response.headers["x-localcloud-revision"];
      record = {
        atMs: started,
        path,
        controlRevision: revision,
        ...(typeof answeredBy === "string" ? { executorRevision: answeredBy } : {}),
        status: response.statusCode,
        ...(typeof body.status?.authTokenVersion === "number" ? { authTokenVersion: body.status.authTokenVersion } : {}),
        durationMs: Date.now() - started,
      };
    } catch (err) {
      record = { atMs: started, path, controlRevision: revision, failure: failureOf(err), durationMs: Date.now() - started };
    }
    inFlight -= 1;
    recent.push(record);
    if (recent.length > 1_000) recent.shift();
    const key = record.status !== undefined ? String(record.status) : (record.failure ?? "error");
    tally.set(key, (tally.get(key) ?? 0) + 1);
    if (recordFile) appendFileSync(recordFile, `${JSON.stringify(record)}\n`);
  }

  const timer = setInterval(() => {
    if (!stopping) void call("/status");
  }, 1000 / rate);
  const payTimer =
    payRate > 0 && payHost !== ""
      ? setInterval(() => {
          if (!stopping) void call("/pay-bolt11");
        }, 1000 / payRate)
      : undefined;

  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.method === "GET" && path === "/status")
      send(200, { ok: true, control: { revision, calls: Object.fromEntries(tally), ratePerSec: rate } });
    else if (req.method === "GET" && path === "/record") send(200, { ok: true, calls: recent });
    else send(404, { ok: false, error: { code: "not_found" } });
  });
  server.listen(port, "127.0.0.1");

  const stop = (): void => {
    stopping = true;
    clearInterval(timer);
    if (payTimer) clearInterval(payTimer);
    const finish = (): void => {
      if (inFlight > 0) setTimeout(finish, 20);
      else server.close(() => process.exit(0));
    };
    server.closeIdleConnections();
    finish();
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

if (require.main === module) main();
