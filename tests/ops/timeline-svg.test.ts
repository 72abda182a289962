/**
 * The timeline picture (ops/drill/timeline-svg.ts): read back with a strict XML reader, it shows
 * every phase, bars in proportion to the phases' times, calls per interval with the failed ones
 * marked, and any text escaped. The reader itself is checked to refuse what is not well-formed.
 */
import * as fs from "fs";
import * as path from "path";
import { buildDrillReport, drillTimelineChart, renderDrillTimelineSvg } from "../../ops/drill/report";
import { buildTimeline, parseEventLog, splitRuns, RUNBOOK_PHASES, PHASE_LABELS } from "../../ops/drill/timeline";
import { formatOffset, renderTimelineSvg, tickStep, type TimelineChart } from "../../ops/drill/timeline-svg";
import { allElements, parseXml, type XmlElement } from "../support/xml";
import { ROOT } from "../support/project";

const example = () => {
  const text = fs.readFileSync(path.join(ROOT, "drills/examples/staging-rotation.events.jsonl"), "utf8");
  return buildDrillReport({
    stack: "staging",
    mode: "recorded",
    source: { kind: "event-log", file: "drills/examples/staging-rotation.events.jsonl" },
    generation: null,
    timeline: buildTimeline(splitRuns(parseEventLog(text).events)),
  });
};

const phaseGroups = (svg: XmlElement): XmlElement[] => allElements(svg).filter((e) => e.name === "g" && e.attributes.class === "phase");
const labelOf = (group: XmlElement): string => group.children.find((c) => c.name === "text")?.text ?? "";
const barOf = (group: XmlElement): XmlElement | undefined => group.children.find((c) => c.name === "rect");

describe("the strict XML reader refuses what is not well-formed", () => {
  test.each([
    ["a mismatched tag", "<svg><g></svg></g>", "does not close"],
    ["an unclosed tag", "<svg><g>", "never closed"],
    ["a raw ampersand", "<svg><text>a & b</text></svg>", "raw '&'"],
    ["an unquoted attribute", "<svg width=10></svg>", "malformed tag"],
    ["a raw < in an attribute", '<svg><text x="<"/></svg>', "raw '<'"],
    ["a duplicate attribute", '<svg a="1" a="2"></svg>', "duplicate attribute"],
    ["an unknown entity", "<svg><text>&nbsp;</text></svg>", "unknown entity"],
    ["two roots", "<svg/><svg/>", "second root"],
  ])("%s", (_what, text, problem) => {
    expect(() => parseXml(text)).toThrow(problem);
  });

  test("and reads a well-formed one, entities decoded", () => {
    const root = parseXml('<?xml version="1.0"?><svg a="x &amp; y"><!-- c --><text>1 &lt; 2</text></svg>');
    expect(root.attributes.a).toBe("x & y");
    expect(root.children[0].text).toBe("1 < 2");
  });
});

describe("the drill's picture", () => {
  const report = example();
  const svg = parseXml(renderDrillTimelineSvg(report));

  test("is one SVG document showing every runbook phase, in the runbook's order", () => {
    expect(svg.name).toBe("svg");
    expect(svg.attributes.xmlns).toBe("http://www.w3.org/2000/svg");
    expect(phaseGroups(svg).map(labelOf)).toEqual(RUNBOOK_PHASES.map((p) => PHASE_LABELS[p]));
    expect(svg.children.find((c) => c.name === "title")?.text).toBe("Token rotation drill: staging, 2026-02-24: phases");
  });

  test("each bar starts and lasts in proportion to its phase's time, and says its duration", () => {
    const groups = phaseGroups(svg);
    const widths = groups.map((g) => Number(barOf(g)?.attributes.width));
    const durations = report.timeline.phases.map((p) => p.durationSeconds as number);
    // The executor rollout (48s) against the control rollout (43s), and the access grants (7s).
    expect(widths[2] / widths[3]).toBeCloseTo(durations[2] / durations[3], 1);
    expect(widths[2] / widths[1]).toBeCloseTo(durations[2] / durations[1], 0);
    const starts = groups.map((g) => Number(barOf(g)?.attributes.x));
    expect([...starts].sort((a, b) => a - b)).toEqual(starts);
    expect(groups.map((g) => g.children.filter((c) => c.name === "text")[1]?.text)).toEqual(["2s", "7s", "48s", "43s", "27s", "2s"]);
  });

  test("a phase that did not run is still shown, without a bar; a failed one is marked", () => {
    const failed = {
      ...report,
      timeline: {
        ...report.timeline,
        phases: report.timeline.phases.map((p, i) =>
          i === 5
            ? { ...p, start: null, end: null, durationSeconds: null, status: "not-run" as const }
            : i === 4
              ? { ...p, status: "failed" as const }
              : p,
        ),
      },
    };
    const groups = phaseGroups(parseXml(renderDrillTimelineSvg(failed)));
    expect(groups.map(labelOf)).toContain("Revocation");
    expect(barOf(groups[5])).toBeUndefined();
    expect(groups[5].children.map((c) => c.text)).toContain("not run");
    expect(groups[4].attributes["data-status"]).toBe("failed");
    expect(groups[4].children.map((c) => c.text)).toContain("27s, FAILED");
    expect(drillTimelineChart(failed).bars[5]).toMatchObject({ startMs: null, status: "not-run" });
  });
});

describe("calls per interval with failures marked, and escaping", () => {
  const chart: TimelineChart = {
    title: 'Rehearsal <script>alert("x")</script> & co',
    startMs: 0,
    endMs: 4000,
    bars: [
      { label: "Executor rollout", startMs: 500, endMs: 2500, status: "succeeded", note: "2000 ms" },
      { label: "Control rollout & <drain>", startMs: 2500, endMs: null, status: "open", note: "open, never finished" },
    ],
    rate: {
      binMs: 1000,
      bins: [
        { startMs: 0, calls: 10, failed: 0 },
        { startMs: 1000, calls: 10, failed: 4 },
        { startMs: 2000, calls: 5, failed: 0 },
        { startMs: 3000, calls: 0, failed: 0 },
      ],
    },
  };
  const svg = parseXml(renderTimelineSvg(chart));

  test("every bin is drawn; only the bins with failures carry a failed bar and a mark", () => {
    const rects = allElements(svg).filter((e) => e.name === "rect");
    expect(rects.filter((r) => r.attributes.class === "calls")).toHaveLength(4);
    const failed = rects.filter((r) => r.attributes.class === "failed");
    expect(failed).toHaveLength(1);
    expect(failed[0].children[0].text).toBe("+1s: 10 calls, 4 failed");
    expect(allElements(svg).filter((e) => e.attributes.class === "failed-mark")).toHaveLength(1);
    // The failed part sits on top of the answered part, in proportion: 4 of 10.
    const answered = rects.find((r) => r.attributes.class === "calls" && r.children[0].text.startsWith("+1s")) as XmlElement;
    expect(Number(failed[0].attributes.height) / Number(answered.attributes.height)).toBeCloseTo(4 / 6, 2);
    expect(allElements(svg).some((e) => e.text === "failed (401, 403, 404, refused): 4 in all")).toBe(true);
  });

  test("text is escaped, never markup; an open bar runs to the end, dashed", () => {
    expect(svg.children.find((c) => c.name === "title")?.text).toBe(chart.title);
    expect(allElements(svg).some((e) => e.name === "script")).toBe(false);
    expect(phaseGroups(svg).map(labelOf)).toEqual(["Executor rollout", "Control rollout & <drain>"]);
    const open = barOf(phaseGroups(svg)[1]) as XmlElement;
    expect(open.attributes["stroke-dasharray"]).toBe("4 3");
    expect(Number(open.attributes.x) + Number(open.attributes.width)).toBeCloseTo(900 - 110, 0);
  });

  test("axis labels: offsets in ms, seconds and minutes, on 1-2-5 steps", () => {
    expect([0, 250, 1500, 20_000, 125_000].map(formatOffset)).toEqual(["+0s", "+250 ms", "+1.5s", "+20s", "+2m 05s"]);
    expect([tickStep(4000), tickStep(142_000), tickStep(900)]).toEqual([500, 20_000, 200]);
  });
});
