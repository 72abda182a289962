/**
 * The verifier and its CLI against hostile executors: real servers on 127.0.0.1 that echo parts of
 * secrets, send ANSI sequences and line breaks, send huge values, never answer a payment, and
 * credential-shaped text. Whatever they send, no secret (nor any part of one of echo length) reaches
 * stdout or stderr, human output stays one line per row, --json stays JSON, and the run keeps its
 * deadline. Also the CLI's refusals: tokens with line breaks, plain http off loopback.
 */
import type { ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { carriesSecret } from "../../lib/redact";
import { isLoopback, verifyExecutor } from "../../verification/verify";
import { main } from "../../verification/cli";
import { RawRequest, RawServer, sendJson, startRawServer } from "../support/raw-http-server";

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
  const code = await main(args, env, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } });
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
    await expect(verifyExecutor({ baseUrl: "http://127.0.0.1:1", expectTokenVersion: 4, token: "ok", previousToken: "é" })).rejects.toThrow(
      "options.previousToken must be printable ASCII",
    );
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
