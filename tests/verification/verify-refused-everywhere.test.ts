/**
 * verifyRefusedEverywhere (verification/verify.ts): a revoked token must get 401 at every URL of the
 * service, and a removed tag's URL must route nowhere (404, or a refused connection). Against real
 * servers on 127.0.0.1 started here; transient answers retried on the verifier's backoff, and the
 * deadline waited out on an event clock (tests/support/verify-clock.ts), never on the wall clock.
 */
import type { ServerResponse } from "node:http";
import { VerifyOptionsError, verifyRefusedEverywhere, type RefusedEverywhereOptions, type VerifyReport } from "../../verification/verify";
import { reservePort } from "../../harness/stand-in-executor";
import { clocked, type ClockedRun, withRandom } from "../support/verify-clock";
import { eventually, sendJson, startRawServer, type RawRequest, type RawServer } from "../support/raw-http-server";

const REVOKED = "REVOKEDTOKEN_" + "0ld70ken".repeat(5);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

/** A server whose n-th request (from 1) `answer` answers. */
async function server(answer: (req: RawRequest, res: ServerResponse, n: number) => void): Promise<RawServer> {
  let n = 0;
  const started = await startRawServer((req, res) => answer(req, res, ++n));
  cleanups.push(() => started.close());
  return started;
}

const answering = (status: number) => server((_req, res) => sendJson(res, status, { ok: status < 400 }));

/** An event clock (each request takes `stepMs` of it) standing well past zero, and its pool. */
function clock(stepMs: number): ClockedRun {
  const run = clocked(stepMs);
  run.clock.advance(1_000_000);
  cleanups.push(() => run.close());
  return run;
}

async function refused(options: Partial<RefusedEverywhereOptions> & Pick<RefusedEverywhereOptions, "urls">): Promise<VerifyReport> {
  const report = await verifyRefusedEverywhere({ token: REVOKED, ...options });
  expect(JSON.stringify(report)).not.toContain(REVOKED);
  return report;
}

const verdicts = (report: VerifyReport) => report.checks.map((c) => [c.name, c.ok, c.detail]);

describe("verdicts", () => {
  test("401 at every URL, and the removed tags answer 404 or refuse the connection: both checks pass, naming the URLs", async () => {
    const [main, tag, gone] = await Promise.all([answering(401), answering(401), answering(404)]);
    const closed = `http://127.0.0.1:${await reservePort()}`;
    const report = await refused({ urls: [main.url, tag.url], goneUrls: [gone.url, closed] });
    expect(report.ok).toBe(true);
    expect(verdicts(report)).toEqual([
      ["previous-token-refused", true, `the revoked token gets 401 at all 2 URLs: ${main.url}, ${tag.url}`],
      ["previous-tag-gone", true, `2 removed tag URL(s) route nowhere (404 or connection refused): ${gone.url}, ${closed}`],
    ]);
    // One GET /status each, with the revoked token as the bearer token and a request id that names the check (for the executor's logs).
    for (const s of [main, tag, gone]) {
      expect(s.requests.map((r) => [r.method, r.url, r.headers.authorization])).toEqual([["GET", "/status", `Bearer ${REVOKED}`]]);
      expect(s.requests[0].headers["x-request-id"]).toMatch(/^verify-revoked-[0-9a-f-]{36}$/);
    }
  });

  test("one URL still accepts the token: the check fails naming that URL and its answer, and so does the report", async () => {
    const [main, tag] = await Promise.all([answering(401), answering(200)]);
    const report = await refused({ urls: [main.url, tag.url] });
    expect(report.ok).toBe(false);
    expect(verdicts(report)).toEqual([["previous-token-refused", false, `the revoked token is not refused at: ${tag.url} (HTTP 200)`]]);
  });

  test("every URL that does not refuse it is named, with its answer", async () => {
    const [main, tag, other] = await Promise.all([answering(401), answering(200), answering(403)]);
    const report = await refused({ urls: [main.url, tag.url, other.url] });
    expect(report.checks[0].detail).toBe(`the revoked token is not refused at: ${tag.url} (HTTP 200), ${other.url} (HTTP 403)`);
  });

  test("a removed tag that still answers fails previous-tag-gone (the report too), whatever the answer", async () => {
    const [main, still, forbidden] = await Promise.all([answering(401), answering(401), answering(403)]);
    const report = await refused({ urls: [main.url], goneUrls: [still.url, forbidden.url] });
    expect(report.ok).toBe(false);
    expect(verdicts(report)).toEqual([
      ["previous-token-refused", true, `the revoked token gets 401 at all 1 URLs: ${main.url}`],
      ["previous-tag-gone", false, `still routing: ${still.url} (HTTP 401), ${forbidden.url} (HTTP 403)`],
    ]);
  });

  test("a refused connection at a URL that must refuse the token is a failure: nothing there proves the revocation", async () => {
    const closed = `http://127.0.0.1:${await reservePort()}`;
    const report = await refused({ urls: [closed] });
    expect(report.ok).toBe(false);
    expect(report.checks[0].detail).toMatch(
      new RegExp(`^the revoked token is not refused at: ${closed.replace(/\./g, "\\.")} \\(connection error ECONNREFUSED`),
    );
  });

  test("no URL to check fails; no goneUrls means no gone check; an empty goneUrls passes and says none", async () => {
    expect(verdicts(await refused({ urls: [] }))).toEqual([["previous-token-refused", false, "no URL to check"]]);
    const main = await answering(401);
    const report = await refused({ urls: [main.url], goneUrls: [] });
    expect(report.ok).toBe(true);
    expect(verdicts(report)[1]).toEqual([
      "previous-tag-gone",
      true,
      "0 removed tag URL(s) route nowhere (404 or connection refused): none",
    ]);
  });

  test("the token never reaches a detail, even inside a URL", async () => {
    const accepting = await answering(200);
    const url = `${accepting.url}/${REVOKED}`;
    const report = await refused({ urls: [url] });
    expect(report.checks[0].detail).toBe(`the revoked token is not refused at: ${accepting.url}/[redacted] (HTTP 200)`);
    expect(accepting.requests.map((r) => r.url)).toEqual([`/${REVOKED}/status`]);
  });
});

describe("retries and the deadline", () => {
  test("transient answers (503, a dropped connection, 429, 408) are asked again, on the backoff, until a definitive one", async () => {
    const flaky = await server((_req, res, n) => {
      if (n === 1) sendJson(res, 503, {});
      else if (n === 2) res.socket?.destroy();
      else if (n === 3) sendJson(res, 429, {});
      else if (n <= 6) sendJson(res, 408, {});
      else sendJson(res, 401, {});
    });
    const timed = clock(0);
    const report = await withRandom(0, () => refused({ urls: [flaky.url], ...timed.options }));
    expect(report.ok).toBe(true);
    expect(flaky.requests).toHaveLength(7);
    // Doubling from 100 ms, capped at 1 s, jitter at its bottom (half the step).
    expect(timed.clock.sleeps).toEqual([50, 100, 200, 400, 500, 500]);
  });

  test("an answer that stays transient is reported as it last was once the deadline passed on the clock (default 30 s)", async () => {
    const down = await answering(503);
    const timed = clock(10_000);
    const report = await refused({ urls: [down.url], ...timed.options });
    expect(verdicts(report)).toEqual([["previous-token-refused", false, `the revoked token is not refused at: ${down.url} (HTTP 503)`]]);
    // 10 s of the clock per request: three fit in the 30 s deadline.
    expect(down.requests).toHaveLength(3);
  });

  test("the gone URLs are asked alongside, on the same deadline: a URL that stays transient does not starve them", async () => {
    const [down, gone, still] = await Promise.all([answering(503), answering(404), answering(502)]);
    const timed = clock(10_000);
    const report = await refused({ urls: [down.url], goneUrls: [gone.url, still.url], ...timed.options });
    expect(verdicts(report)).toEqual([
      ["previous-token-refused", false, `the revoked token is not refused at: ${down.url} (HTTP 503)`],
      ["previous-tag-gone", false, `still routing: ${still.url} (HTTP 502)`],
    ]);
    expect(gone.requests).toHaveLength(1);
  });

  test("deadlineMs sets the deadline on the clock", async () => {
    const down = await answering(503);
    const timed = clock(10_000);
    await refused({ urls: [down.url], deadlineMs: 50_000, ...timed.options });
    expect(down.requests).toHaveLength(5);
  });

  test("a URL that never answers: each request is cut at requestTimeoutMs, and never outlives the deadline", async () => {
    const hung = await server(() => undefined);
    const byTimeout = clock(30_000);
    const cut = await refused({ urls: [hung.url], requestTimeoutMs: 150, deadlineMs: 60_000, ...byTimeout.options });
    expect(cut.checks[0].detail).toBe(`the revoked token is not refused at: ${hung.url} (no answer within 150 ms)`);
    expect(hung.requests).toHaveLength(2);
    const byDeadline = clock(300);
    const short = await refused({ urls: [], goneUrls: [hung.url], deadlineMs: 300, ...byDeadline.options });
    expect(short.checks[1].detail).toBe(`still routing: ${hung.url} (no answer within 300 ms)`);
  });
});

describe("options and resources", () => {
  test.each([
    // No URL: the token is checked before (and without) any URL's validation.
    ["an empty token", { token: "", urls: [] }, "options.token must be a non-empty string"],
    ["a token that is not a string", { token: 42 as unknown as string, urls: [] }, "options.token must be a non-empty string"],
    [
      "a token with a line break",
      { token: "abc\r\nx-injected: 1" },
      "options.token must be printable ASCII without spaces, line breaks or control characters",
    ],
    ["a URL that is not http", { urls: ["ftp://127.0.0.1/"] }, "options.baseUrl must be an http or https URL"],
    ["a gone URL with a query", { goneUrls: ["http://127.0.0.1:1/?a=1"] }, "options.baseUrl must not have a query or fragment"],
  ])("%s is refused before anything is sent", async (_what, bad: Partial<RefusedEverywhereOptions>, message) => {
    const main = await answering(401);
    const attempt = verifyRefusedEverywhere({ urls: [main.url], token: REVOKED, ...bad });
    await expect(attempt).rejects.toThrow(VerifyOptionsError);
    await expect(attempt).rejects.toThrow(message);
    expect(main.requests).toEqual([]);
  });

  test("its own pool is destroyed at the end (no connection lingers); a caller's pool is left open", async () => {
    const main = await answering(401);
    await refused({ urls: [main.url] });
    expect(await eventually(() => main.openConnections() === 0, 2_000)).toBe(true);
    const pool = clock(0);
    await refused({ urls: [main.url], ...pool.options });
    expect(main.openConnections()).toBe(1);
  });
});
