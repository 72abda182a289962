/**
 * The drill (issue 7): engine events -> timeline, the report, the stack-file edits, the flow over
 * a recorded stand-in workspace, and `--from-events` as a real process. Nothing here needs a
 * Pulumi CLI.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { phaseOf } from "../../stack/phases";
import { buildTimeline, parseEventLog, phaseTiming, splitRuns, RUNBOOK_PHASES, type Timeline } from "../../ops/drill/timeline";
import { assessDrill, buildDrillReport, renderDrillJson, renderDrillMarkdown, renderDrillTimelineSvg } from "../../ops/drill/report";
import { bumpTokenGeneration, readTokenGenerations, setRevokePrevious } from "../../ops/drill/config";
import { ConfigError } from "../../stack/config";
import {
  runDrill,
  summarizeCommandError,
  type DrillWorkspace,
  type GateRequest,
  type PreviewOutcome,
  type UpOutcome,
} from "../../ops/drill/flow";
import { main, parseArgs, UsageError } from "../../ops/drill/cli";

const ROOT = path.resolve(__dirname, "../..");
const FIXTURES = path.join(ROOT, "tests/fixtures/events");
const EXAMPLE_LOG = path.join(ROOT, "drills/examples/staging-rotation.events.jsonl");

function readLog(file: string): EngineEvent[] {
  return parseEventLog(fs.readFileSync(file, "utf8")).events;
}
function fixture(name: string): EngineEvent[] {
  return readLog(path.join(FIXTURES, `${name}.jsonl`));
}
function timelineOf(...names: string[]): Timeline {
  return buildTimeline(names.map(fixture));
}
/** Phase rows as offsets from the first event: [phase, start, end, duration, status]. */
function phaseRows(timeline: Timeline): Array<[string, number | null, number | null, number | null, string]> {
  const base = timeline.totals.start as number;
  return timeline.phases.map((p) => [
    p.phase,
    p.start === null ? null : p.start - base,
    p.end === null ? null : p.end - base,
    p.durationSeconds,
    p.status,
  ]);
}

describe("timeline from recorded engine events", () => {
  test("clean rotation: every phase timed from its steps' pre/outputs events", () => {
    const timeline = timelineOf("clean-rotation");
    expect(phaseRows(timeline)).toEqual([
      ["stage-secret", 2, 4, 2, "succeeded"],
      ["grant-access", 4, 10, 6, "succeeded"],
      ["deploy-executor", 10, 58, 48, "succeeded"],
      ["deploy-control", 58, 101, 43, "succeeded"],
      ["verify", 101, 126, 25, "succeeded"],
      ["revoke", null, null, null, "not-run"],
    ]);
    const base = timeline.totals.start as number;
    expect(timeline.window401).toEqual({ start: base + 58, end: base + 101, durationSeconds: 43, atLeastSeconds: null });
    expect(timeline.runs).toHaveLength(1);
    expect(timeline.runs[0]).toMatchObject({
      outcome: "succeeded",
      endedBy: "summary",
      durationSeconds: 135,
      engineDurationSeconds: 135,
      tokenConfig: { current: 4, previous: 3, revokePrevious: false },
    });
    expect(timeline.totals).toMatchObject({ spanSeconds: 135, phaseSecondsSum: 124, phaseOverlapSeconds: 0, outsidePhasesSeconds: 11 });
    expect(timeline.totals.rotationSeconds).toBe(124);
    expect(timeline.steps.filter((s) => s.status !== "succeeded")).toEqual([]);
    // The deletes of the replaced grants run at the end of the update: listed, not counted.
    const cleanup = timeline.steps.filter((s) => !s.timed);
    expect(cleanup.map((s) => [s.name, s.op, s.phase])).toEqual([
      ["control-auth-token-access", "delete-replaced", "grant-access"],
      ["executor-auth-token-access", "delete-replaced", "grant-access"],
    ]);
    expect(timeline.stack).toBe("staging");
    expect(timeline.warnings).toEqual([]);
  });

  test("failed verification: the failed step ends the phase, revocation never runs, the error is sanitised", () => {
    const timeline = timelineOf("failed-verification");
    expect(phaseRows(timeline)).toEqual([
      ["stage-secret", 2, 4, 2, "succeeded"],
      ["grant-access", 4, 10, 6, "succeeded"],
      ["deploy-executor", 10, 57, 47, "succeeded"],
      ["deploy-control", 57, 99, 42, "succeeded"],
      ["verify", 99, 121, 22, "failed"],
      ["revoke", null, null, null, "not-run"],
    ]);
    const failed = timeline.steps.filter((s) => s.status === "failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ name: "verification", op: "update", phase: "verify", durationSeconds: 22 });
    expect(failed[0].error).toContain("authTokenVersion=3, expected 4");
    expect(failed[0].error).toContain("Bearer [redacted]");
    expect(failed[0].error).not.toContain("3f9a8c7d6e5b4a39");
    expect(failed[0].error).not.toContain("<{%");
    expect(timeline.runs[0]).toMatchObject({ outcome: "failed", errors: ["update failed"] });
    expect(timeline.window401?.durationSeconds).toBe(42);
    expect(timeline.totals.oldTokenValidSeconds).toBeNull();
  });

  test("parallel grants: interleaved steps pair up by resource and operation; overlap is accounted", () => {
    const timeline = timelineOf("parallel-grants");
    expect(phaseRows(timeline)).toEqual([
      ["stage-secret", 2, 4, 2, "succeeded"],
      ["grant-access", 4, 15, 11, "succeeded"],
      ["deploy-executor", 8, 56, 48, "succeeded"],
      ["deploy-control", 56, 99, 43, "succeeded"],
      ["verify", 99, 121, 22, "succeeded"],
      ["revoke", null, null, null, "not-run"],
    ]);
    const base = timeline.totals.start as number;
    const grants = timeline.steps.filter((s) => s.phase === "grant-access" && s.op === "create-replacement");
    expect(grants.map((s) => [s.name, s.start - base, (s.end as number) - base])).toEqual([
      ["executor-auth-token-access", 4, 8],
      ["control-auth-token-access", 4, 15],
    ]);
    // The control grant finished 7s into the executor rollout.
    expect(timeline.totals).toMatchObject({ phaseSecondsSum: 126, phaseOverlapSeconds: 7, outsidePhasesSeconds: 11, spanSeconds: 130 });
  });

  test("cancelled run: the in-flight step stays open (no end, no duration), the 401 window stays open", () => {
    const timeline = timelineOf("cancelled-run");
    expect(phaseRows(timeline)).toEqual([
      ["stage-secret", 2, 4, 2, "succeeded"],
      ["grant-access", 4, 10, 6, "succeeded"],
      ["deploy-executor", 10, 58, 48, "succeeded"],
      ["deploy-control", 58, null, null, "open"],
      ["verify", null, null, null, "not-run"],
      ["revoke", null, null, null, "not-run"],
    ]);
    const open = timeline.steps.filter((s) => s.status === "open");
    expect(open.map((s) => [s.name, s.end, s.durationSeconds])).toEqual([["control-service", null, null]]);
    expect(timeline.runs[0]).toMatchObject({ outcome: "cancelled", endedBy: "summary", durationSeconds: 71 });
    const base = timeline.totals.start as number;
    expect(timeline.window401).toEqual({ start: base + 58, end: null, durationSeconds: null, atLeastSeconds: 13 });
  });

  test("a cancel marker without a summary ends the run as cancelled; a cut-off log is incomplete", () => {
    const events = fixture("cancelled-run");
    const withoutSummary = events.filter((e) => !e.summaryEvent);
    const cancelled = buildTimeline([withoutSummary]);
    expect(cancelled.runs[0]).toMatchObject({ outcome: "cancelled", endedBy: "cancel", durationSeconds: 71 });

    const cut = events.filter((e) => !e.summaryEvent && !e.cancelEvent);
    const incomplete = buildTimeline([cut]);
    expect(incomplete.runs[0]).toMatchObject({ outcome: "incomplete", endedBy: "end-of-log", end: null, durationSeconds: null });
    expect(incomplete.totals.spanSeconds).toBeNull();
    expect(phaseTiming(incomplete, "deploy-control").status).toBe("open");
  });

  test("any order of the same events (by file position) gives the same timeline", () => {
    for (const name of ["clean-rotation", "parallel-grants", "failed-verification", "cancelled-run"]) {
      const events = fixture(name);
      const expected = buildTimeline([events]);
      fc.assert(
        fc.property(fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }), (shuffled) => {
          expect(buildTimeline([shuffled])).toEqual(expected);
        }),
        { numRuns: 25 },
      );
    }
  });

  test("invariants hold for random interleavings of steps, failures and missing ends", () => {
    const phaseUrns = [
      "urn:pulumi:staging::wallet-executor::wallet:rotation:RotatingSecret$gcp:secretmanager/secretVersion:SecretVersion::auth-token-g4",
      "urn:pulumi:staging::wallet-executor::wallet:service:ExecutorService$gcp:secretmanager/secretIamMember:SecretIamMember::executor-auth-token-access",
      "urn:pulumi:staging::wallet-executor::wallet:service:ControlService$gcp:secretmanager/secretIamMember:SecretIamMember::control-auth-token-access",
      "urn:pulumi:staging::wallet-executor::wallet:service:ExecutorService$gcp:cloudrunv2/service:Service::executor-service",
      "urn:pulumi:staging::wallet-executor::wallet:service:ControlService$gcp:cloudrunv2/service:Service::control-service",
      "urn:pulumi:staging::wallet-executor::pulumi-nodejs:dynamic/rotation:Verification::verification",
    ];
    const stepArb = fc.record({
      urn: fc.constantFrom(...phaseUrns),
      start: fc.integer({ min: 1, max: 300 }),
      length: fc.integer({ min: 0, max: 90 }),
      ending: fc.constantFrom("outputs", "failed", "none"),
    });
    fc.assert(
      fc.property(fc.uniqueArray(stepArb, { selector: (s) => s.urn, maxLength: 6 }), fc.boolean(), (specs, summarised) => {
        const t0 = 1_700_000_000;
        const raw: Array<{ at: number; body: Partial<EngineEvent> }> = [{ at: 0, body: { preludeEvent: { config: {} } } }];
        let last = 0;
        for (const s of specs) {
          const metadata = { op: "update" as const, urn: s.urn, type: s.urn.split("::")[2].split("$").pop() as string, provider: "" };
          raw.push({ at: s.start, body: { resourcePreEvent: { metadata } } });
          if (s.ending === "outputs") raw.push({ at: s.start + s.length, body: { resOutputsEvent: { metadata } } });
          if (s.ending === "failed") raw.push({ at: s.start + s.length, body: { resOpFailedEvent: { metadata, status: 2, steps: 0 } } });
          last = Math.max(last, s.start + s.length);
        }
        if (summarised)
          raw.push({
            at: last + 1,
            body: { summaryEvent: { maybeCorrupt: false, durationSeconds: last + 1, resourceChanges: {}, policyPacks: {} } },
          });
        // Engine order = time order; sequence numbers follow it.
        const events = raw
          .map((e, i) => ({ ...e, i }))
          .sort((a, b) => a.at - b.at || a.i - b.i)
          .map((e, sequence) => ({ sequence, timestamp: t0 + e.at, ...e.body }));
        const timeline = buildTimeline([events]);
        for (const step of timeline.steps) {
          const spec = specs.find((s) => s.urn === step.urn);
          expect(step.status).toBe(spec?.ending === "outputs" ? "succeeded" : spec?.ending === "failed" ? "failed" : "open");
          if (step.status === "open") expect(step.durationSeconds).toBeNull();
          else expect(step.durationSeconds).toBe(spec?.length);
        }
        for (const phase of timeline.phases) {
          const own = timeline.steps.filter((s) => s.phase === phase.phase);
          if (own.length === 0) {
            expect(phase.status).toBe("not-run");
            continue;
          }
          expect(phase.start).toBe(Math.min(...own.map((s) => s.start)));
          if (own.some((s) => s.status === "open")) expect(phase.end).toBeNull();
          else {
            expect(phase.end).toBe(Math.max(...own.map((s) => s.end as number)));
            expect(phase.durationSeconds).toBe((phase.end as number) - (phase.start as number));
          }
        }
        const t = timeline.totals;
        if (t.spanSeconds !== null) {
          expect(t.phaseOverlapSeconds).toBeGreaterThanOrEqual(0);
          expect(t.outsidePhasesSeconds).toBeGreaterThanOrEqual(0);
          expect(t.phaseSecondsSum - t.phaseOverlapSeconds + (t.outsidePhasesSeconds as number)).toBe(t.spanSeconds);
        }
      }),
      { numRuns: 200 },
    );
  });

  test("revocation is recognised from new inputs, or from a diff on `enabled` when inputs are missing", () => {
    const urn =
      "urn:pulumi:staging::wallet-executor::wallet:rotation:RotatingSecret$gcp:secretmanager/secretVersion:SecretVersion::auth-token-g3";
    const type = "gcp:secretmanager/secretVersion:SecretVersion";
    const run = (metadata: object): Timeline =>
      buildTimeline([
        [
          { sequence: 0, timestamp: 100, resourcePreEvent: { metadata } },
          { sequence: 1, timestamp: 102, resOutputsEvent: { metadata } },
        ] as unknown as EngineEvent[],
      ]);
    const state = (enabled: boolean): object => ({ type, urn, id: "v3", parent: "", inputs: { enabled }, outputs: {}, provider: "" });
    expect(run({ op: "update", urn, type, provider: "", old: state(true), new: state(false) }).steps[0].phase).toBe("revoke");
    expect(run({ op: "update", urn, type, provider: "", old: state(true), new: null, diffs: ["enabled"] }).steps[0].phase).toBe("revoke");
    // Re-enabling (a rollback) is not a revocation.
    expect(run({ op: "update", urn, type, provider: "", old: state(false), new: state(true), diffs: ["enabled"] }).steps[0].phase).toBe(
      "stage-secret",
    );
    expect(run({ op: "update", urn, type, provider: "", old: state(false), new: null, diffs: ["enabled"] }).steps[0].phase).toBe(
      "stage-secret",
    );
  });

  test("two updates (rotate, then revoke) make one timeline", () => {
    const timeline = timelineOf("clean-rotation", "revocation");
    expect(timeline.runs.map((r) => r.outcome)).toEqual(["succeeded", "succeeded"]);
    const revoke = phaseTiming(timeline, "revoke");
    expect(revoke).toMatchObject({ status: "succeeded", durationSeconds: 2, runs: [1] });
    const [first, second] = timeline.runs;
    expect(timeline.totals.spanSeconds).toBe((second.end as number) - first.start);
    expect(timeline.totals.updateSeconds).toBe(135 + 6);
    expect(timeline.totals.oldTokenValidSeconds).toBe((revoke.end as number) - first.start);
    // The 41s between the updates count as outside the phases.
    expect(timeline.totals.outsidePhasesSeconds).toBe((timeline.totals.spanSeconds as number) - 124 - 2);
  });

  test("event log parsing: names a bad line, tolerates a cut-off last line, skips previews, splits concatenated logs", () => {
    const text = fs.readFileSync(path.join(FIXTURES, "clean-rotation.jsonl"), "utf8");
    const lines = text.trimEnd().split("\n");
    const broken = [...lines.slice(0, 3), "{not json", ...lines.slice(3)].join("\n");
    expect(() => parseEventLog(broken)).toThrow("line 4");
    expect(() => parseEventLog('{"sequence":0,"timestamp":1}\n')).toThrow("exactly one event field");

    const cut = `${lines.join("\n")}\n{"sequence":99,"timest`;
    const parsed = parseEventLog(cut);
    expect(parsed.events).toHaveLength(lines.length);
    expect(parsed.warnings).toEqual([`line ${lines.length + 1}: cut off (not JSON), ignored`]);

    const preview = fixture("clean-rotation").map((e) =>
      e.resourcePreEvent ? { ...e, resourcePreEvent: { ...e.resourcePreEvent, planning: true } } : e,
    );
    const both = buildTimeline(splitRuns([...preview, ...fixture("revocation")]));
    expect(both.runs).toHaveLength(1);
    expect(both.warnings[0]).toMatch(/preview/);

    const concatenated = splitRuns([...fixture("clean-rotation"), ...fixture("revocation")]);
    expect(concatenated.map((r) => r.length)).toEqual([fixture("clean-rotation").length, fixture("revocation").length]);
  });
});

describe("the shipped example", () => {
  const events = readLog(EXAMPLE_LOG);
  const timeline = buildTimeline(splitRuns(events));
  const report = buildDrillReport({
    stack: "staging",
    mode: "recorded",
    source: { kind: "event-log", file: "drills/examples/staging-rotation.events.jsonl" },
    generation: null,
    timeline,
  });

  test("phase durations add up to the timestamps in the log", () => {
    // Recomputed from the raw log with phaseOf, independently of ops/drill/timeline.ts.
    const starts = new Map<string, number>();
    const ends = new Map<string, number>();
    const timedOps = new Set(["create", "update", "replace", "create-replacement"]);
    for (const event of events) {
      const pre = event.resourcePreEvent?.metadata;
      const done = event.resOutputsEvent?.metadata;
      const metadata = pre ?? done;
      if (!metadata || !timedOps.has(metadata.op)) continue;
      const phase = phaseOf({ urn: metadata.urn, inputs: metadata.new?.inputs });
      if (pre) starts.set(phase, Math.min(starts.get(phase) ?? Infinity, event.timestamp));
      else ends.set(phase, Math.max(ends.get(phase) ?? -Infinity, event.timestamp));
    }
    for (const phase of RUNBOOK_PHASES) {
      const row = phaseTiming(timeline, phase);
      expect([phase, row.start, row.end]).toEqual([phase, starts.get(phase), ends.get(phase)]);
      expect(row.durationSeconds).toBe((ends.get(phase) as number) - (starts.get(phase) as number));
    }
    const first = events[0].timestamp;
    const summary = events.find((e) => e.summaryEvent) as EngineEvent;
    const sum = timeline.phases.reduce((total, p) => total + (p.durationSeconds as number), 0);
    expect(sum).toBe(129);
    // The phases run one after another: their durations plus the time outside them is the update.
    expect(timeline.totals.phaseOverlapSeconds).toBe(0);
    expect(sum + (timeline.totals.outsidePhasesSeconds as number)).toBe(summary.timestamp - first);
    expect(summary.timestamp - first).toBe(summary.summaryEvent?.durationSeconds);
    expect(timeline.window401?.durationSeconds).toBe(ends.get("deploy-control")! - ends.get("deploy-executor")!);
  });

  test("the verdict: rotated, verified and revoked in one update", () => {
    expect(report.verdict).toMatchObject({ status: "completed", rotated: true, verified: true, revoked: true, oldGeneration: 3 });
    expect(report.generation).toEqual({ from: 3, to: 4 });
  });

  test("the shipped rendered report is what the tool renders today", () => {
    expect(fs.readFileSync(path.join(ROOT, "drills/examples/staging-rotation.md"), "utf8")).toBe(
      renderDrillMarkdown(report, { timelineSvg: "staging-rotation.timeline.svg" }),
    );
    expect(fs.readFileSync(path.join(ROOT, "drills/examples/staging-rotation.timeline.svg"), "utf8")).toBe(renderDrillTimelineSvg(report));
    expect(fs.readFileSync(path.join(ROOT, "drills/examples/staging-rotation.json"), "utf8")).toBe(renderDrillJson(report));
  });

  test("the report shows the timeline table, totals, 401 window, failed step and gaps", () => {
    const markdown = renderDrillMarkdown(report);
    for (const heading of ["## Timeline", "## Totals", "## 401 window", "## Failed step", "## Gaps"]) expect(markdown).toContain(heading);
    expect(markdown).toContain("| Executor rollout | 09:30:13 (+13s) | 09:31:01 (+1m 01s) | 48s | 1 | ok |");
    expect(markdown).toContain("| Check | 2m 09s + 13s = 2m 22s |");
    expect(markdown).toContain("**43s**: executor rollout finished at 09:31:01, control rollout finished at 09:31:44.");
  });

  test("no resource input or output reaches the report (secrets stay out)", () => {
    const sentinel = "SENTINEL-TOKEN-5b0d8f1e";
    const poisoned = events.map((e) => {
      const pre = e.resourcePreEvent;
      if (!pre?.metadata.new) return e;
      const inputs = { ...pre.metadata.new.inputs, secretData: sentinel, authToken: sentinel };
      return { ...e, resourcePreEvent: { ...pre, metadata: { ...pre.metadata, new: { ...pre.metadata.new, inputs } } } };
    });
    const poisonedReport = buildDrillReport({
      stack: "staging",
      mode: "recorded",
      source: { kind: "drill" },
      generation: null,
      timeline: buildTimeline([poisoned]),
    });
    expect(renderDrillMarkdown(poisonedReport)).not.toContain(sentinel);
    expect(renderDrillJson(poisonedReport)).not.toContain(sentinel);
    expect(renderDrillJson(poisonedReport)).not.toContain("ciphertext");
  });
});

describe("verdicts", () => {
  test("failed verification: failed, old version still enabled", () => {
    const verdict = assessDrill(timelineOf("failed-verification"), { from: 3, to: 4 });
    expect(verdict).toMatchObject({ status: "failed", verified: false, revoked: false, oldVersionStillEnabled: true });
    expect(verdict.headline).toMatch(/^Verification failed: verification failed: GET \/status/);
    expect(verdict.headline).toMatch(/Stopped before revocation: old version 3 still enabled\.$/);
  });

  test("cancelled: failed, names the phase it stopped in", () => {
    const verdict = assessDrill(timelineOf("cancelled-run"), { from: 3, to: 4 });
    expect(verdict.status).toBe("failed");
    expect(verdict.headline).toBe(
      "The update was cancelled during the control rollout. Stopped before revocation: old version 3 still enabled.",
    );
  });

  test("only the first update of a standard drill: incomplete, not revoked", () => {
    const verdict = assessDrill(timelineOf("clean-rotation"), { from: 3, to: 4 });
    expect(verdict).toMatchObject({ status: "incomplete", rotated: true, verified: true, revoked: false });
    expect(verdict.headline).toBe(
      "Rotated and verified, but revocation did not run in these events. Not revoked: old version 3 still enabled.",
    );
  });

  test("both updates: completed; generation inferred from the prelude's config", () => {
    const report = buildDrillReport({
      stack: "staging",
      mode: "standard",
      source: { kind: "drill" },
      generation: null,
      timeline: timelineOf("clean-rotation", "revocation"),
    });
    expect(report.generation).toEqual({ from: 3, to: 4 });
    expect(report.verdict.status).toBe("completed");
    expect(renderDrillMarkdown(report)).toContain("| Phase | Update | Started |");
  });
});

const STACK_FILE = `# wallet-executor staging. Reviewed config only; secrets are encrypted.
secretsprovider: gcpkms://projects/wallet-staging-4821/locations/global/keyRings/pulumi/cryptoKeys/stack
config:
  gcp:project: wallet-staging-4821 # staging project
  gcp:region: europe-west1
  # Executor auth token generations (docs/design/rotation-model.md).
  wallet-executor:authToken:
    current: 3 # bump to rotate
    previous: 2
    revokePrevious: true # generation 2 is disabled
  wallet-executor:sparkApiKey:
    secure: v1:9yXq0d3VbA7w1lC2nJt4Hg==:AAAAAQE7v3sPq6cRz0KcbmZq2m1c7vC0gQ6fWm8Qy0iF8b1r4z9e0d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2
  wallet-executor:allowedCallers:
  - wallet-control@wallet-staging-4821.iam.gserviceaccount.com
`;

/** The lines that differ between two texts of equal length. */
function changedLines(before: string, after: string): Array<[string, string]> {
  const a = before.split("\n");
  const b = after.split("\n");
  expect(b).toHaveLength(a.length);
  return a.map((line, i) => [line, b[i]] as [string, string]).filter(([x, y]) => x !== y);
}

describe("stack file edits", () => {
  test("bump: only the token's values change; comments, other keys and layout are untouched", () => {
    const bump = bumpTokenGeneration(STACK_FILE, { compromised: false });
    expect([bump.from, bump.to, bump.revokePrevious]).toEqual([3, 4, false]);
    expect(changedLines(STACK_FILE, bump.yamlText)).toEqual([
      ["    current: 3 # bump to rotate", "    current: 4 # bump to rotate"],
      ["    previous: 2", "    previous: 3"],
      ["    revokePrevious: true # generation 2 is disabled", "    revokePrevious: false # generation 2 is disabled"],
    ]);
    expect(readTokenGenerations(bump.yamlText)).toEqual({ current: 4, previous: 3, revokePrevious: false });
  });

  test("compromised bump sets revokePrevious in the same edit; then setRevokePrevious is a no-op", () => {
    const bump = bumpTokenGeneration(STACK_FILE, { compromised: true });
    expect(readTokenGenerations(bump.yamlText)).toEqual({ current: 4, previous: 3, revokePrevious: true });
    expect(setRevokePrevious(bump.yamlText).yamlText).toBe(bump.yamlText);
  });

  test("missing keys are added after their neighbours at the map's indentation", () => {
    const first = "config:\n    # token\n    wallet-executor:authToken:\n        current: 1 # first\n    other:key: x\n";
    const bump = bumpTokenGeneration(first, { compromised: false });
    expect(bump.yamlText).toBe(
      "config:\n    # token\n    wallet-executor:authToken:\n        current: 2 # first\n        previous: 1\n    other:key: x\n",
    );
    const revoke = setRevokePrevious(bump.yamlText);
    expect(revoke).toMatchObject({ previous: 1, current: 2 });
    expect(revoke.yamlText).toBe(
      "config:\n    # token\n    wallet-executor:authToken:\n        current: 2 # first\n        previous: 1\n        revokePrevious: true\n    other:key: x\n",
    );
  });

  test("flow style and CRLF files are edited too, with nothing else changed", () => {
    const flow = "config:\n  wallet-executor:authToken: { current: 5 }\n  other: 'quoted'\n";
    expect(bumpTokenGeneration(flow, { compromised: true }).yamlText).toBe(
      "config:\n  wallet-executor:authToken: { current: 6, previous: 5, revokePrevious: true }\n  other: 'quoted'\n",
    );
    const crlf = "config:\r\n  wallet-executor:authToken:\r\n    current: 7\r\n  b: 1\r\n";
    expect(bumpTokenGeneration(crlf, { compromised: false }).yamlText).toBe(
      "config:\r\n  wallet-executor:authToken:\r\n    current: 8\r\n    previous: 7\r\n  b: 1\r\n",
    );
  });

  test("a bare `authToken` key (read by the CLI as the project's) is edited in place", () => {
    const bare = "config:\n  authToken:\n    current: 9\n";
    expect(bumpTokenGeneration(bare, { compromised: false }).yamlText).toBe("config:\n  authToken:\n    current: 10\n    previous: 9\n");
    expect(() => bumpTokenGeneration(`${bare}  wallet-executor:authToken:\n    current: 1\n`, { compromised: false })).toThrow(/keep one/);
  });

  test("refuses an open rotation, a missing or malformed token, and revoking without previous", () => {
    const open = STACK_FILE.replace("revokePrevious: true", "revokePrevious: false");
    expect(() => bumpTokenGeneration(open, { compromised: false })).toThrow(/rotation is still open: previous 2/);
    expect(() => bumpTokenGeneration("config:\n  gcp:project: x\n", { compromised: false })).toThrow(ConfigError);
    expect(() =>
      bumpTokenGeneration("config:\n  wallet-executor:authToken:\n    current: 2\n    previous: 2\n", { compromised: false }),
    ).toThrow(/previous must be an integer >= 1 and below current/);
    expect(() => bumpTokenGeneration("config:\n  wallet-executor:authToken:\n    secure: v1:abc\n", { compromised: false })).toThrow(
      /plain mapping/,
    );
    expect(() => setRevokePrevious("config:\n  wallet-executor:authToken:\n    current: 2\n")).toThrow(/no previous generation/);
  });
});

/** A recorded stand-in for the Automation API: replays event logs and records every call. */
class RecordedWorkspace implements DrillWorkspace {
  readonly stackConfigPath = "/project/Pulumi.staging.yaml";
  readonly calls: string[] = [];
  readonly writes: string[] = [];
  /** What each preview and up was asked for, in order. */
  readonly requests: Array<{ command: "preview" | "up"; request: GateRequest }> = [];
  constructor(
    public text: string,
    private readonly ups: Array<{ events: EngineEvent[]; outcome: UpOutcome } | Error>,
    /** Answers of the gated previews, in order; a preview passes when none is left. */
    private readonly previews: Array<PreviewOutcome | Error> = [],
  ) {}
  readStackConfig(): Promise<string> {
    this.calls.push("read config");
    return Promise.resolve(this.text);
  }
  writeStackConfig(yamlText: string): Promise<void> {
    const t = readTokenGenerations(yamlText);
    this.calls.push(`write config current=${t.current} previous=${t.previous} revokePrevious=${t.revokePrevious}`);
    this.writes.push(yamlText);
    this.text = yamlText;
    return Promise.resolve();
  }
  preview(request: GateRequest): Promise<PreviewOutcome> {
    this.calls.push("preview");
    this.requests.push({ command: "preview", request });
    const next = this.previews.shift() ?? { ok: true, refusals: [] };
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
  }
  up(request: GateRequest, onEvent: (event: EngineEvent) => void): Promise<UpOutcome> {
    this.calls.push("up");
    this.requests.push({ command: "up", request });
    const next = this.ups.shift();
    if (next === undefined) return Promise.reject(new Error("unexpected extra up"));
    if (next instanceof Error) return Promise.reject(next);
    next.events.forEach(onEvent);
    return Promise.resolve(next.outcome);
  }
}
const ok = (name: string): { events: EngineEvent[]; outcome: UpOutcome } => ({ events: fixture(name), outcome: { ok: true } });
const failed = (name: string): { events: EngineEvent[]; outcome: UpOutcome } => ({
  events: fixture(name),
  outcome: { ok: false, error: "update failed" },
});

describe("drill flow over a recorded workspace", () => {
  test("standard: config change, up, verified, revokePrevious, up", async () => {
    const workspace = new RecordedWorkspace(STACK_FILE, [ok("clean-rotation"), ok("revocation")]);
    const run = await runDrill(workspace, { compromised: false });
    expect(workspace.calls).toEqual([
      "read config",
      "write config current=4 previous=3 revokePrevious=false",
      "preview",
      "up",
      "read config",
      "write config current=4 previous=3 revokePrevious=true",
      "preview",
      "up",
    ]);
    expect(run).toMatchObject({ ok: true, failure: null, generation: { from: 3, to: 4 } });
    expect(run.runs).toHaveLength(2);
    expect(phaseTiming(run.timeline, "revoke").status).toBe("succeeded");
    // What ends up in the file is what a person would commit.
    expect(changedLines(STACK_FILE, workspace.text).map(([, after]) => after)).toEqual([
      "    current: 4 # bump to rotate",
      "    previous: 3",
    ]);
  });

  test("failed verification: stops after the first up, never sets revokePrevious, says the old version is still enabled", async () => {
    const workspace = new RecordedWorkspace(STACK_FILE, [failed("failed-verification")]);
    const run = await runDrill(workspace, { compromised: false });
    expect(workspace.calls).toEqual(["read config", "write config current=4 previous=3 revokePrevious=false", "preview", "up"]);
    expect(readTokenGenerations(workspace.text).revokePrevious).toBe(false);
    expect(run.ok).toBe(false);
    expect(run.failure).toBe("pulumi up failed: update failed; stopped, old version 3 still enabled (revokePrevious not set)");
    expect(phaseTiming(run.timeline, "verify").status).toBe("failed");
  });

  test("an up that succeeds without running the verification does not lead to revocation", async () => {
    // E.g. the verification resource's inputs did not change, so the engine had nothing to run.
    const withoutVerification = fixture("clean-rotation").filter(
      (e) => !(e.resourcePreEvent ?? e.resOutputsEvent)?.metadata.urn.endsWith("::verification"),
    );
    const workspace = new RecordedWorkspace(STACK_FILE, [{ events: withoutVerification, outcome: { ok: true } }]);
    const run = await runDrill(workspace, { compromised: false });
    expect(workspace.calls.filter((c) => c === "up")).toHaveLength(1);
    expect(run.failure).toMatch(/^the verification did not run in this update; stopped, old version 3 still enabled/);
  });

  test("a crashed up (no CLI, lost backend) is a failure, not an exception", async () => {
    const workspace = new RecordedWorkspace(STACK_FILE, [
      new Error("Command failed with exit code 255: pulumi up\nerror: could not find pulumi"),
    ]);
    const run = await runDrill(workspace, { compromised: false });
    expect(run.ok).toBe(false);
    expect(run.failure).toContain("old version 3 still enabled");
    expect(run.timeline.runs).toEqual([]);
  });

  test("a failed revocation update says the old version is still enabled", async () => {
    const workspace = new RecordedWorkspace(STACK_FILE, [
      ok("clean-rotation"),
      { events: [], outcome: { ok: false, error: "update failed" } },
    ]);
    const run = await runDrill(workspace, { compromised: false });
    expect(workspace.calls.filter((c) => c === "up")).toHaveLength(2);
    expect(run.failure).toBe("the revocation update failed: update failed; old version 3 still enabled");
  });

  test("a stack file changed under the drill after the first up is a failure, not an exception", async () => {
    const workspace = new RecordedWorkspace(STACK_FILE, [ok("clean-rotation")]);
    const original = workspace.readStackConfig.bind(workspace);
    let reads = 0;
    workspace.readStackConfig = async () => (++reads === 2 ? "config: {}\n" : original());
    const run = await runDrill(workspace, { compromised: false });
    expect(run.failure).toBe(
      "could not set revokePrevious in Pulumi.staging.yaml: wallet-executor:authToken is not set in the stack file; old version 3 still enabled",
    );
  });

  test("compromised: one config change with revokePrevious, one up", async () => {
    const workspace = new RecordedWorkspace(STACK_FILE, [{ events: readLog(EXAMPLE_LOG), outcome: { ok: true } }]);
    const run = await runDrill(workspace, { compromised: true });
    expect(workspace.calls).toEqual(["read config", "write config current=4 previous=3 revokePrevious=true", "preview", "up"]);
    expect(run.ok).toBe(true);
    expect(phaseTiming(run.timeline, "revoke").status).toBe("succeeded");
  });

  test("compromised with a failed verification: the old version is still enabled", async () => {
    const workspace = new RecordedWorkspace(STACK_FILE, [failed("failed-verification")]);
    const run = await runDrill(workspace, { compromised: true });
    expect(workspace.calls.filter((c) => c === "up")).toHaveLength(1);
    expect(run.failure).toBe("pulumi up failed: update failed; stopped, old version 3 still enabled");
  });

  test("every up follows a preview with the policy pack and its config, and applies the plan that preview saved", async () => {
    const workspace = new RecordedWorkspace(STACK_FILE, [ok("clean-rotation"), ok("revocation")]);
    const run = await runDrill(workspace, { compromised: false });
    expect(run.ok).toBe(true);
    expect(workspace.requests.map((r) => r.command)).toEqual(["preview", "up", "preview", "up"]);
    for (const { request } of workspace.requests) {
      // The same pack and config as the PR preview and the deploy workflow.
      expect(request.policyPacks).toEqual(["/project/policy"]);
      expect(request.policyPackConfigs).toEqual(["/project/policy/policy-config.json"]);
    }
    const [firstPreview, firstUp, secondPreview, secondUp] = workspace.requests.map((r) => r.request.planFile);
    expect(firstUp).toBe(firstPreview);
    expect(secondUp).toBe(secondPreview);
    expect(secondPreview).not.toBe(firstPreview);
    // Each plan lives in a private temporary directory, gone once its update is over.
    for (const file of [firstPreview, secondPreview]) {
      expect(path.isAbsolute(file)).toBe(true);
      expect(fs.existsSync(path.dirname(file))).toBe(false);
    }
  });

  test("a preview the pack refuses stops the drill before any update: nothing applied, the old version still enabled", async () => {
    const refusal: PreviewOutcome = {
      ok: false,
      error: "error: preview failed",
      refusals: [
        { policy: "revocation-requires-verification", resource: "auth-token-g3", message: "Missing edge: auth-token-g3 -> verification" },
      ],
    };
    const workspace = new RecordedWorkspace(STACK_FILE, [], [refusal]);
    const run = await runDrill(workspace, { compromised: true });
    expect(workspace.calls).toEqual(["read config", "write config current=4 previous=3 revokePrevious=true", "preview"]);
    expect(run.ok).toBe(false);
    expect(run.failure).toBe(
      "the policy pack refused the update at preview: revocation-requires-verification (auth-token-g3): Missing edge: auth-token-g3 -> verification; " +
        "nothing applied; stopped, old version 3 still enabled",
    );
    expect(run.timeline.runs).toEqual([]);
  });

  test("a refused revocation preview leaves the rotation applied and the old version enabled", async () => {
    const refusal: PreviewOutcome = { ok: false, refusals: [{ policy: "secret-references-pinned", message: "pin a version number." }] };
    const workspace = new RecordedWorkspace(STACK_FILE, [ok("clean-rotation")], [{ ok: true, refusals: [] }, refusal]);
    const run = await runDrill(workspace, { compromised: false });
    expect(workspace.calls).toEqual([
      "read config",
      "write config current=4 previous=3 revokePrevious=false",
      "preview",
      "up",
      "read config",
      "write config current=4 previous=3 revokePrevious=true",
      "preview",
    ]);
    expect(run.failure).toBe(
      "the policy pack refused the update at preview: secret-references-pinned: pin a version number.; nothing applied; old version 3 still enabled",
    );
  });

  test("a preview that fails for any other reason (or crashes) stops the drill too", async () => {
    const workspace = new RecordedWorkspace(STACK_FILE, [], [new Error("code: 255\n stderr: error: could not load plugin gcp")]);
    const run = await runDrill(workspace, { compromised: false });
    expect(workspace.calls.filter((c) => c === "up")).toHaveLength(0);
    expect(run.failure).toBe(
      "pulumi preview failed: error: could not load plugin gcp; nothing applied; stopped, old version 3 still enabled (revokePrevious not set)",
    );
  });

  test("a CLI failure is reduced to its most specific error line", () => {
    const commandError = new Error(
      [
        "code: 255",
        " stdout: Updating (staging):",
        "Diagnostics:",
        "  pulumi:pulumi:Stack (wallet-executor-staging):",
        "    error: update failed",
        "  verification (pulumi-nodejs:dynamic/rotation:Verification):",
        "    error: verification failed: unauthorized with Bearer abc123def",
        "",
        " stderr: error: update failed",
        " err?: Error: Command failed with exit code 255",
      ].join("\n"),
    );
    expect(summarizeCommandError(commandError)).toBe("error: verification failed: unauthorized with Bearer [redacted]");
    expect(
      summarizeCommandError(
        new Error(
          "code: -2\n stdout: \n stderr: Command failed with ENOENT: pulumi version\nspawn pulumi ENOENT\n err?: Error: Command failed with ENOENT: pulumi version\n",
        ),
      ),
    ).toBe("Error: Command failed with ENOENT: pulumi version");
  });

  test("an open rotation is refused before anything changes", async () => {
    const workspace = new RecordedWorkspace(STACK_FILE.replace("revokePrevious: true", "revokePrevious: false"), []);
    await expect(runDrill(workspace, { compromised: false })).rejects.toThrow(ConfigError);
    expect(workspace.calls).toEqual(["read config"]);
  });
});

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drill-test-"));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe("the command", () => {
  test("argument errors name the flag", () => {
    expect(() => parseArgs([])).toThrow("--stack is required");
    expect(() => parseArgs(["--stack"])).toThrow("--stack needs a value");
    expect(() => parseArgs(["--stack", "staging", "--verbose"])).toThrow("unknown flag --verbose");
    expect(() => parseArgs(["--from-events", "x.jsonl", "--compromised"])).toThrow("--compromised applies to a live drill");
    expect(() => parseArgs(["--stack", "a", "--stack=b"])).toThrow("--stack is given twice");
    expect(() => parseArgs(["--compromised=yes", "--stack", "s"])).toThrow(UsageError);
    expect(parseArgs(["--stack=staging", "--compromised", "--out", "x"])).toEqual({
      kind: "drill",
      stack: "staging",
      compromised: true,
      out: "x",
    });
  });

  test("live drill in-process with the recorded workspace: report written, exit 0", async () => {
    const out = tempDir();
    const stdout: string[] = [];
    const code = await main(["--stack", "staging", "--out", out], {
      stdout: (t) => stdout.push(t),
      stderr: (t) => stdout.push(t),
      openWorkspace: () => Promise.resolve(new RecordedWorkspace(STACK_FILE, [ok("clean-rotation"), ok("revocation")])),
    });
    expect(code).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(["2026-03-12-staging.json", "2026-03-12-staging.md", "2026-03-12-staging.timeline.svg"]);
    const json = JSON.parse(fs.readFileSync(path.join(out, "2026-03-12-staging.json"), "utf8")) as {
      verdict: { status: string };
      mode: string;
    };
    expect(json.verdict.status).toBe("completed");
    expect(json.mode).toBe("standard");
    expect(stdout.join("")).toContain("drill staging: completed.");
  });

  test("live drill that fails: exit 1, the report and the message say the old version is still enabled", async () => {
    const out = tempDir();
    const stderr: string[] = [];
    const code = await main(["--stack", "staging", "--out", out], {
      stdout: () => undefined,
      stderr: (t) => stderr.push(t),
      openWorkspace: () => Promise.resolve(new RecordedWorkspace(STACK_FILE, [failed("failed-verification")])),
    });
    expect(code).toBe(1);
    expect(stderr.join("")).toContain("old version 3 still enabled");
    const markdown = fs.readFileSync(path.join(out, "2026-03-13-staging.md"), "utf8");
    expect(markdown).toContain("**Outcome: failed.**");
    expect(markdown).toContain("Stopped before revocation: old version 3 still enabled.");
  });

  test("live drill the policy pack refuses: exit 1, no update ran, the report says the pack refused it", async () => {
    const out = tempDir();
    const stderr: string[] = [];
    const refusal: PreviewOutcome = {
      ok: false,
      refusals: [
        { policy: "revocation-requires-verification", resource: "auth-token-g3", message: "Missing edge: auth-token-g3 -> verification" },
      ],
    };
    const workspace = new RecordedWorkspace(STACK_FILE, [], [refusal]);
    const code = await main(["--stack", "staging", "--compromised", "--out", out], {
      stdout: () => undefined,
      stderr: (t) => stderr.push(t),
      now: () => Date.UTC(2026, 3, 2, 8, 0, 0),
      openWorkspace: () => Promise.resolve(workspace),
    });
    expect(code).toBe(1);
    expect(workspace.calls).not.toContain("up");
    expect(stderr.join("")).toContain("the policy pack refused the update at preview: revocation-requires-verification (auth-token-g3)");
    const markdown = fs.readFileSync(path.join(out, "2026-04-02-staging.md"), "utf8");
    expect(markdown).toContain("- Drill stopped: the policy pack refused the update at preview: revocation-requires-verification");
    expect(markdown).toContain("Stopped before revocation: old version 3 still enabled.");
  });

  test("an up that crashes without events: exit 1, the report says why the drill stopped", async () => {
    const out = tempDir();
    const code = await main(["--stack", "staging", "--out", out], {
      stdout: () => undefined,
      stderr: () => undefined,
      now: () => Date.UTC(2026, 3, 1, 8, 0, 0),
      openWorkspace: () =>
        Promise.resolve(new RecordedWorkspace(STACK_FILE, [new Error("code: 255\n stderr: error: failed to load checkpoint")])),
    });
    expect(code).toBe(1);
    const markdown = fs.readFileSync(path.join(out, "2026-04-01-staging.md"), "utf8");
    expect(markdown).toContain("- Drill stopped: pulumi up failed: error: failed to load checkpoint");
    expect(markdown).toContain("Stopped before revocation: old version 3 still enabled.");
  });

  test("the phase in progress is shown as the update reaches it", async () => {
    const stdout: string[] = [];
    await main(["--stack", "staging", "--out", tempDir()], {
      stdout: (t) => stdout.push(t),
      stderr: () => undefined,
      openWorkspace: () => Promise.resolve(new RecordedWorkspace(STACK_FILE, [ok("clean-rotation"), ok("revocation")])),
    });
    const phases = stdout.join("").match(/phase in progress: [A-Za-z ]+/g);
    expect(phases).toEqual([
      "phase in progress: Secret publish",
      "phase in progress: Access grants",
      "phase in progress: Executor rollout",
      "phase in progress: Control rollout",
      "phase in progress: Verification",
      // Not the old grants' deletion at the end of the first update: cleanup, no phase's work.
      "phase in progress: Revocation",
    ]);
  });

  test("Ctrl-C during the rotation update: the update is cancelled, the partial report is written and says so, exit 130", async () => {
    const out = tempDir();
    const interrupt = new AbortController();
    const events = fixture("clean-rotation");
    // The CLI's cancel, as the Automation API does on the signal: the update stops where it is.
    class CancelledWorkspace extends RecordedWorkspace {
      override up(request: GateRequest, onEvent: (event: EngineEvent) => void): Promise<UpOutcome> {
        this.calls.push("up");
        expect(request.signal).toBe(interrupt.signal);
        return new Promise((resolve) => {
          for (const event of events) {
            if (interrupt.signal.aborted) break;
            onEvent(event);
          }
          resolve({ ok: false, error: "update canceled" });
        });
      }
    }
    const workspace = new CancelledWorkspace(STACK_FILE, []);
    const stdout: string[] = [];
    const stderr: string[] = [];
    const code = await main(["--stack", "staging", "--out", out], {
      stdout: (t) => {
        stdout.push(t);
        if (t.includes("phase in progress: Executor rollout")) interrupt.abort();
      },
      stderr: (t) => stderr.push(t),
      signal: interrupt.signal,
      openWorkspace: () => Promise.resolve(workspace),
    });
    expect(code).toBe(130);
    expect(workspace.calls.filter((c) => c === "up")).toHaveLength(1);
    expect(stderr.join("")).toContain("drill: interrupted: interrupted (Ctrl-C) during the rotation update");
    const files = fs.readdirSync(out).sort();
    expect(files.map((f) => f.replace(/^[0-9-]+staging/, "S"))).toEqual(["S.json", "S.md", "S.timeline.svg"]);
    const markdown = fs.readFileSync(path.join(out, files[1]), "utf8");
    expect(markdown).toContain("- Drill stopped: interrupted (Ctrl-C) during the rotation update: this report is partial");
    expect(markdown).toContain("**Outcome: failed.**");
    const report = JSON.parse(fs.readFileSync(path.join(out, files[0]), "utf8")) as { stoppedBecause: string };
    expect(report.stoppedBecause).toMatch(/this report is partial$/);
  });

  test("a stack that cannot be opened changes nothing: exit 1", async () => {
    const stderr: string[] = [];
    const code = await main(["--stack", "staging", "--out", tempDir()], {
      stdout: () => undefined,
      stderr: (t) => stderr.push(t),
      openWorkspace: () => Promise.reject(new Error("no pulumi CLI found")),
    });
    expect(code).toBe(1);
    expect(stderr.join("")).toContain("cannot open stack staging: no pulumi CLI found");
  });
});

describe("--from-events as a process", () => {
  const cli = (args: string[], cwd = ROOT): ReturnType<typeof spawnSync> =>
    spawnSync(process.execPath, ["--require", path.join(ROOT, "tools/register.js"), path.join(ROOT, "ops/drill/cli.ts"), ...args], {
      cwd,
      encoding: "utf8",
      timeout: 60_000,
    });

  test("renders the example log into --out (markdown and json), exit 0", () => {
    const out = tempDir();
    const result = cli(["--from-events", "drills/examples/staging-rotation.events.jsonl", "--out", out]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("drill staging: completed.");
    // The same report as the shipped example, linking its own picture.
    expect(fs.readFileSync(path.join(out, "2026-02-24-staging.md"), "utf8")).toBe(
      fs
        .readFileSync(path.join(ROOT, "drills/examples/staging-rotation.md"), "utf8")
        .replace("(staging-rotation.timeline.svg)", "(2026-02-24-staging.timeline.svg)"),
    );
    expect(fs.readFileSync(path.join(out, "2026-02-24-staging.timeline.svg"), "utf8")).toBe(
      fs.readFileSync(path.join(ROOT, "drills/examples/staging-rotation.timeline.svg"), "utf8"),
    );
    const json = JSON.parse(fs.readFileSync(path.join(out, "2026-02-24-staging.json"), "utf8")) as {
      timeline: { phases: { durationSeconds: number }[] };
    };
    expect(json.timeline.phases.map((p: { durationSeconds: number }) => p.durationSeconds)).toEqual([2, 7, 48, 43, 27, 2]);

    // A second run the same day keeps the first report.
    expect(cli(["--from-events", EXAMPLE_LOG, "--out", out]).status).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual([
      "2026-02-24-staging-2.json",
      "2026-02-24-staging-2.md",
      "2026-02-24-staging-2.timeline.svg",
      "2026-02-24-staging.json",
      "2026-02-24-staging.md",
      "2026-02-24-staging.timeline.svg",
    ]);
  });

  test("a recorded failed rotation still renders (exit 0) and says what stopped", () => {
    const out = tempDir();
    const result = cli(["--from-events", path.join(FIXTURES, "failed-verification.jsonl"), "--stack", "staging", "--out", out]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("drill staging: failed. Verification failed");
    expect(fs.readFileSync(path.join(out, "2026-03-13-staging.md"), "utf8")).toContain("old version 3 still enabled");
  });

  test("usage errors exit 2 and name the flag", () => {
    const bad = cli(["--from-events", EXAMPLE_LOG, "--bogus"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("unknown flag --bogus");
    const missing = cli(["--from-events"]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("--from-events needs a value");
    const unreadable = cli(["--from-events", "no/such/file.jsonl"]);
    expect(unreadable.status).toBe(2);
    expect(unreadable.stderr).toContain("--from-events: cannot read no/such/file.jsonl");
  });
});
