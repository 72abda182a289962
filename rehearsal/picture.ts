/**
 * The rehearsal's timeline picture: each apply's phases as a Gantt and the control's live traffic
 * in calls per second with the failed calls marked, on one clock (milliseconds since the
 * scenario's first apply began, as in the report). Drawn by the drill's renderer
 * (ops/drill/timeline-svg.ts). Pure.
 */
import { GanttBar, CallBin, renderTimelineSvg, type TimelineChart } from "../ops/drill/timeline-svg";
import type { RehearsalReport } from "./report";
import { classify, type TrafficCall } from "./traffic";

/** The file next to report.md. */
export const TIMELINE_SVG = "timeline.svg";

/** Calls counted per `binMs` from `startMs` (absolute ms) to `endMs`, failed ones apart; calls before the start are left out. */
export function callsPerInterval(calls: readonly TrafficCall[], startMs: number, endMs: number, binMs = 1000): CallBin[] {
  const count = Math.max(1, Math.ceil((endMs - startMs) / binMs));
  const bins = Array.from({ length: count }, (_, i) => ({ startMs: i * binMs, calls: 0, failed: 0 }));
  for (const call of calls) {
    const at = call.atMs - startMs;
    if (at < 0 || at >= count * binMs) continue;
    const bin = bins[Math.floor(at / binMs)];
    bin.calls += 1;
    if (classify(call) === "failed") bin.failed += 1;
  }
  return bins;
}

/** What the picture reads of the report. */
export type PictureInput = Pick<RehearsalReport, "title" | "applies">;

/** Every phase of every attempt of every scenario apply (the baseline ran before the clock starts). */
export function rehearsalBars(report: PictureInput): GanttBar[] {
  const bars: GanttBar[] = [];
  for (const apply of report.applies.filter((a) => !a.baseline)) {
    apply.attempts.forEach((attempt, i) => {
      const prefix = `${apply.index}${apply.attempts.length > 1 ? `.${i + 1}` : ""}`;
      for (const phase of attempt.phases) {
        const status = phase.status === "succeeded" || phase.status === "failed" || phase.status === "open" ? phase.status : "not-run";
        bars.push({
          label: `${prefix} ${phase.label}`,
          startMs: phase.startMs,
          endMs: phase.endMs,
          status,
          note: phase.ms === null ? `${phase.status}, never finished` : `${phase.ms} ms${status === "failed" ? ", FAILED" : ""}`,
        });
      }
    });
  }
  return bars;
}

/** The chart: the scenario's clock from 0 to its last phase or call. */
export function rehearsalChart(report: PictureInput, calls: readonly TrafficCall[], scenarioStartMs: number): TimelineChart {
  const bars = rehearsalBars(report);
  const lastPhase = Math.max(0, ...bars.map((b) => b.endMs ?? b.startMs ?? 0));
  const lastCall = Math.max(0, ...calls.map((c) => c.atMs - scenarioStartMs));
  const endMs = Math.max(1000, lastPhase, Math.min(lastCall, lastPhase + 10_000));
  return {
    title: `${report.title}: phases and live traffic`,
    startMs: 0,
    endMs,
    bars,
    rate: { binMs: 1000, bins: callsPerInterval(calls, scenarioStartMs, scenarioStartMs + endMs) },
  };
}

/** The SVG document. */
export function renderRehearsalTimelineSvg(report: PictureInput, calls: readonly TrafficCall[], scenarioStartMs: number): string {
  return renderTimelineSvg(rehearsalChart(report, calls, scenarioStartMs));
}
