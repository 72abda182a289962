/**
 * The rehearsal's picture (rehearsal/picture.ts): calls binned per second with the failed ones
 * apart, every phase of every scenario apply as a bar (the baseline left out), read back from the
 * SVG with the strict XML reader.
 */
import { callsPerInterval, rehearsalBars, renderRehearsalTimelineSvg, type PictureInput } from "../../rehearsal/picture";
import type { PhaseMs } from "../../rehearsal/report";
import type { TrafficCall } from "../../rehearsal/traffic";
import { allElements, parseXml } from "../support/xml";

const START = 1_700_000_000_000;
const call = (atMs: number, status?: number, failure?: string): TrafficCall => ({
  atMs: START + atMs,
  path: "/status",
  controlRevision: "control-00001",
  durationMs: 3,
  ...(status === undefined ? {} : { status }),
  ...(failure === undefined ? {} : { failure }),
});
const phase = (label: string, startMs: number, endMs: number | null, status = "succeeded"): PhaseMs => ({
  phase: "deploy-executor",
  label,
  startMs,
  endMs,
  ms: endMs === null ? null : endMs - startMs,
  status,
});
const attempt = (phases: PhaseMs[]) => ({
  previewMs: 10,
  preview: "passed" as const,
  verdicts: [],
  error: null,
  upMs: 100,
  up: "applied" as const,
  phases,
});
const report: PictureInput = {
  title: "Rehearsal: rotate on staging",
  applies: [
    {
      index: 0,
      title: "baseline",
      baseline: true,
      expected: "applied",
      outcome: "applied",
      // The baseline is one up with the pack, no preview.
      attempts: [{ ...attempt([phase("Baseline phase", -5000, -4000)]), previewMs: null, preview: "not run" as const }],
    },
    {
      index: 1,
      title: "rotation",
      baseline: false,
      expected: "applied",
      outcome: "applied",
      attempts: [attempt([phase("Secret publish", 0, 400), phase("Executor rollout", 400, 1900), phase("Control rollout", 1900, 3100)])],
    },
    {
      index: 2,
      title: "revocation",
      baseline: false,
      expected: "applied",
      outcome: "update-failed",
      attempts: [attempt([phase("Revocation", 3500, null, "open")])],
    },
  ],
};

test("calls per second: each call in its second, failed ones (401, 403, 404, refused) counted apart; calls before the clock left out", () => {
  const calls = [
    call(-10, 200),
    call(5, 200),
    call(999, 401),
    call(1000, 200),
    call(1500, undefined, "refused"),
    call(1600, undefined, "timeout"),
    call(2999, 404),
  ];
  expect(callsPerInterval(calls, START, START + 3000)).toEqual([
    { startMs: 0, calls: 2, failed: 1 },
    { startMs: 1000, calls: 3, failed: 1 },
    { startMs: 2000, calls: 1, failed: 1 },
  ]);
});

test("every phase of every scenario apply is a bar, numbered by its apply; the baseline is not", () => {
  expect(rehearsalBars(report).map((b) => [b.label, b.status, b.note])).toEqual([
    ["1 Secret publish", "succeeded", "400 ms"],
    ["1 Executor rollout", "succeeded", "1500 ms"],
    ["1 Control rollout", "succeeded", "1200 ms"],
    ["2 Revocation", "open", "open, never finished"],
  ]);
});

test("the SVG parses, shows every phase and marks the seconds with failed calls", () => {
  const svg = parseXml(renderRehearsalTimelineSvg(report, [call(100, 200), call(1200, 401), call(1300, 200), call(3600, 200)], START));
  const labels = allElements(svg)
    .filter((e) => e.name === "g" && e.attributes.class === "phase")
    .map((g) => g.children.find((c) => c.name === "text")?.text);
  expect(labels).toEqual(["1 Secret publish", "1 Executor rollout", "1 Control rollout", "2 Revocation"]);
  const failed = allElements(svg).filter((e) => e.attributes.class === "failed");
  expect(failed.map((e) => e.children[0].text)).toEqual(["+1s: 2 calls, 1 failed"]);
  expect(allElements(svg).filter((e) => e.attributes.class === "calls").length).toBeGreaterThanOrEqual(4);
});
