/** Counting the control's calls: what is a failure, per span, the window, and the old token's end. */
import {
  ProbeRound,
  TrafficCall,
  classify,
  failureWindow,
  oldTokenVerdict,
  parseTrafficRecords,
  tally,
  tallyBySpan,
} from "../../rehearsal/traffic";

const call = (atMs: number, outcome: number | string, control = "c1", executor?: string): TrafficCall => ({
  atMs,
  path: "/status",
  controlRevision: control,
  ...(executor ? { executorRevision: executor } : {}),
  ...(typeof outcome === "number" ? { status: outcome } : { failure: outcome }),
  durationMs: 1,
});

test("failed: 401, 403, 404 and refused; timeouts apart; other errors and 5xx are neither", () => {
  expect([401, 403, 404, "refused"].map((o) => classify(call(0, o)))).toEqual(["failed", "failed", "failed", "failed"]);
  expect(classify(call(0, "timeout"))).toBe("timeout");
  expect([200, 503, "reset"].map((o) => classify(call(0, o)))).toEqual(["ok", "other", "other"]);
});

test("records: JSON lines from several files, sorted by time, a cut-off line skipped", () => {
  const a = `${JSON.stringify(call(30, 200))}\n${JSON.stringify(call(10, 401))}\n{"atMs":`;
  const b = `${JSON.stringify(call(20, 200, "c2"))}\n\n`;
  expect(parseTrafficRecords([a, b]).map((c) => c.atMs)).toEqual([10, 20, 30]);
});

test("tally: counts per outcome and which control revision reached which executor revision when failing", () => {
  const t = tally([
    call(1, 200, "c1", "e1"),
    call(2, 401, "c1", "e2"),
    call(3, 401, "c1", "e2"),
    call(4, "refused", "c2"),
    call(5, "timeout"),
  ]);
  expect(t).toMatchObject({ calls: 5, ok: 1, failed: 3, timeouts: 1, other: 0, outcomes: { "200": 1, "401": 2, refused: 1, timeout: 1 } });
  expect(t.failedRoutes).toEqual([
    { controlRevision: "c1", executorRevision: "e2", outcome: "401", count: 2 },
    { controlRevision: "c2", executorRevision: null, outcome: "refused", count: 1 },
  ]);
});

test("per span: a call goes to the innermost (latest-starting) span holding it; calls outside every span are left out", () => {
  const spans = [
    { label: "phase", startMs: 20, endMs: 30 },
    { label: "up", startMs: 10, endMs: 50 },
  ];
  const result = tallyBySpan([call(5, 200), call(15, 200), call(25, 401), call(30, 401), call(45, 200)], spans);
  expect(result.map((s) => [s.label, s.calls, s.failed])).toEqual([
    ["up", 2, 0],
    ["phase", 2, 2],
  ]);
});

test("the failure window runs from the first to the last failed call; none without failures", () => {
  expect(failureWindow([call(1, 200), call(5, 401), call(7, 200), call(9, 404), call(12, "timeout")])).toEqual({
    firstMs: 5,
    lastMs: 9,
    ms: 4,
    failed: 2,
  });
  expect(failureWindow([call(1, 200), call(2, "timeout")])).toBeNull();
});

test("the old token: last accepted anywhere, then refused at every URL; still accepted somewhere names where", () => {
  const rounds: ProbeRound[] = [
    { atMs: 1, answers: { main: "200" } },
    { atMs: 2, answers: { main: "401", "tag:g4": "200" } },
    { atMs: 3, answers: { main: "401", "tag:g4": "404" } },
    { atMs: 4, answers: { main: "401" } },
  ];
  expect(oldTokenVerdict(rounds)).toEqual({
    lastAcceptedMs: 2,
    refusedEverywhereFromMs: 3,
    stillAcceptedAt: [],
    lastAnswers: { main: "401" },
    rounds: 4,
  });
  expect(oldTokenVerdict(rounds.slice(0, 2))).toEqual({
    lastAcceptedMs: 2,
    refusedEverywhereFromMs: null,
    stillAcceptedAt: ["tag:g4"],
    lastAnswers: { main: "401", "tag:g4": "200" },
    rounds: 2,
  });
  expect(oldTokenVerdict([])).toEqual({
    lastAcceptedMs: null,
    refusedEverywhereFromMs: null,
    stillAcceptedAt: [],
    lastAnswers: {},
    rounds: 0,
  });
});
