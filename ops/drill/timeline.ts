/**
 * Engine events -> the drill's timeline. Pure: no Pulumi runtime, no I/O (the event types are
 * imported as types only).
 *
 * Where the numbers come from: a step STARTS at its `resourcePreEvent` (the engine emits it right
 * before the provider call) and ENDS at its `resOutputsEvent` (success) or `resOpFailedEvent`
 * (failure). A step with a start and no end is "open": the run stopped (cancelled, killed, log cut
 * off) while it was in flight; it is reported as such, never as a zero-length success. Timestamps
 * are whole unix seconds, as the engine writes them.
 *
 * Events are ordered by `sequence`, not by their position in the log, so any interleaving the engine
 * produces (parallel steps, out-of-order delivery) gives the same timeline.
 */
import type { EngineEvent, OpType, StepEventMetadata } from "@pulumi/pulumi/automation";
import { holdsSecret } from "../../stack/config";
import { PHASES, parseUrn, phaseOf, type Phase } from "../../stack/phases";
import { sanitizeMessage } from "../../lib/redact";

/** The runbook phases the drill times, in the runbook's order ("other" is not timed). */
export type RunbookPhase = Exclude<Phase, "other">;
export const RUNBOOK_PHASES: readonly RunbookPhase[] = PHASES.filter((p): p is RunbookPhase => p !== "other");

/** How the report names each phase (the runbook's words). */
export const PHASE_LABELS: Readonly<Record<RunbookPhase, string>> = {
  "stage-secret": "Secret publish",
  "grant-access": "Access grants",
  "deploy-executor": "Executor rollout",
  "deploy-control": "Control rollout",
  verify: "Verification",
  revoke: "Revocation",
};

/** Operations that change a resource; their spans are the phases' time. */
const TIMED_OPS: ReadonlySet<OpType> = new Set<OpType>([
  "create",
  "update",
  "replace",
  "create-replacement",
  "import",
  "import-replacement",
]);
/** True for an operation whose time counts towards its phase (not cleanup, not unchanged). */
export function isTimedOp(op: OpType): boolean {
  return TIMED_OPS.has(op);
}

/**
 * Follows engine events as they arrive and calls `onPhase` when a step of another runbook phase
 * starts: the phase in progress, for a terminal. Cleanup (deleting what was replaced, at the end
 * of an update) is no phase's work, as in the timeline.
 */
export function phaseInProgress(onPhase: (phase: RunbookPhase, label: string) => void): (event: EngineEvent) => void {
  let current: Phase | undefined;
  return (event) => {
    const started = event.resourcePreEvent?.metadata;
    if (!started || !isTimedOp(started.op)) return;
    const phase = phaseOfStep(started);
    if (phase === "other" || phase === current) return;
    current = phase;
    onPhase(phase, PHASE_LABELS[phase]);
  };
}

/** Operations that change nothing; only counted. */
const UNCHANGED_OPS: ReadonlySet<OpType> = new Set<OpType>(["same", "read", "refresh"]);
// Everything else (delete, delete-replaced, discard, ...) is cleanup: listed, not counted in a phase,
// because the engine runs deletes at the END of an update, which would stretch e.g. "verification"
// over the revocation when the old verification resource is deleted after a replace.

export type StepStatus = "succeeded" | "failed" | "open";

/** One engine step (one operation on one resource) with its timing. */
export interface StepTiming {
  /** 0-based index of the update (`pulumi up`) the step belongs to. */
  run: number;
  urn: string;
  name: string;
  type: string;
  op: OpType;
  phase: Phase;
  /** False for cleanup operations, which do not count towards their phase's time. */
  timed: boolean;
  /** Unix seconds of the step's `resourcePreEvent`. */
  start: number;
  /** Unix seconds of its `resOutputsEvent` / `resOpFailedEvent`; null while open. */
  end: number | null;
  durationSeconds: number | null;
  status: StepStatus;
  /** The engine's error for a failed step (colour codes stripped, bearer tokens redacted). */
  error?: string;
}

export type PhaseStatus = StepStatus | "not-run";

export interface PhaseTiming {
  phase: RunbookPhase;
  label: string;
  /** Earliest start of its timed steps. */
  start: number | null;
  /** Latest end of its timed steps; null while any of them is open. */
  end: number | null;
  durationSeconds: number | null;
  /** failed if any step failed, else open if any is open, else succeeded; not-run without steps. */
  status: PhaseStatus;
  steps: number;
  /** The updates (0-based) its steps ran in. */
  runs: number[];
}

/**
 * succeeded: ended normally with no failure. failed: a step failed or the engine reported an error.
 * cancelled: the engine ended the update while steps were in flight, or sent its cancel marker
 * without a summary. incomplete: the log stops before the update ended.
 */
export type RunOutcome = "succeeded" | "failed" | "cancelled" | "incomplete";

/** The token config the engine ran with (from the prelude), when the log has it. */
export interface TokenConfigSeen {
  current: number;
  previous?: number;
  revokePrevious?: boolean;
}

export interface RunTiming {
  index: number;
  /** Unix seconds of its first event. */
  start: number;
  /** Unix seconds of its summary (or, without one, its cancel marker); null if the log stops first. */
  end: number | null;
  endedBy: "summary" | "cancel" | "end-of-log";
  /** Unix seconds of its last event, whatever it was. */
  lastEventAt: number;
  durationSeconds: number | null;
  /** What the engine itself reported in its summary. */
  engineDurationSeconds: number | null;
  resourceChanges: Partial<Record<OpType, number>> | null;
  maybeCorrupt: boolean;
  outcome: RunOutcome;
  /** Error diagnostics not tied to one step (e.g. the stack's "update failed"). */
  errors: string[];
  unchangedSteps: number;
  tokenConfig: TokenConfigSeen | null;
}

/** Executor rollout finished -> control rollout finished: the control service still sent a token the executor no longer accepted. */
export interface Window401 {
  start: number;
  /** null while open: the control rollout never finished in these events. */
  end: number | null;
  durationSeconds: number | null;
  /** For an open window: how long it had lasted at the last event. */
  atLeastSeconds: number | null;
}

export interface TimelineTotals {
  /** First event of the first update. */
  start: number | null;
  /** End of the last update; null if it never ended. */
  end: number | null;
  spanSeconds: number | null;
  /** Sum of the (ended) updates' durations; less than the span when there are several updates. */
  updateSeconds: number;
  /** Sum of the finished phases' durations. */
  phaseSecondsSum: number;
  /** Time counted by more than one finished phase (phases that ran in parallel). */
  phaseOverlapSeconds: number;
  /** Span minus the union of the finished phases: start-up, program run, other resources, cleanup, between updates. */
  outsidePhasesSeconds: number | null;
  /** Secret publish started -> verification finished (successfully). */
  rotationSeconds: number | null;
  /** First event -> revocation finished: how long the old token stayed valid once the drill began. */
  oldTokenValidSeconds: number | null;
  unchangedSteps: number;
}

export interface Timeline {
  stack: string | null;
  project: string | null;
  runs: RunTiming[];
  /** Every non-unchanged step, in start order. */
  steps: StepTiming[];
  /** One entry per runbook phase, in the runbook's order (not-run ones included). */
  phases: PhaseTiming[];
  window401: Window401 | null;
  totals: TimelineTotals;
  /** Anything odd in the events (orphan ends, clock going backwards, skipped preview). */
  warnings: string[];
}

/** A parsed event log. */
export interface ParsedEventLog {
  events: EngineEvent[];
  warnings: string[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Parses the JSON-lines file `pulumi up --event-log <file>` writes. Throws on a malformed line,
 * naming it, except for a cut-off LAST line (the CLI was killed mid-write), which is skipped with a
 * warning. Event kinds this tool does not know are kept (and ignored by the timeline).
 */
export function parseEventLog(text: string): ParsedEventLog {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1].trim() === "") lines.pop();
  const events: EngineEvent[] = [];
  const warnings: string[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    const isLast = i === lines.length - 1;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      if (isLast) {
        warnings.push(`line ${i + 1}: cut off (not JSON), ignored`);
        return;
      }
      throw new Error(`event log line ${i + 1}: not JSON`);
    }
    if (!isRecord(parsed) || typeof parsed.sequence !== "number" || typeof parsed.timestamp !== "number") {
      throw new Error(`event log line ${i + 1}: not an engine event (needs numeric "sequence" and "timestamp")`);
    }
    const kinds = Object.keys(parsed).filter((k) => k !== "sequence" && k !== "timestamp" && isRecord(parsed[k]));
    if (kinds.length !== 1) {
      throw new Error(`event log line ${i + 1}: an engine event carries exactly one event field, found ${kinds.length}`);
    }
    for (const kind of ["resourcePreEvent", "resOutputsEvent", "resOpFailedEvent"] as const) {
      const payload = parsed[kind];
      if (payload !== undefined) {
        const metadata = isRecord(payload) ? payload.metadata : undefined;
        if (!isRecord(metadata) || typeof metadata.urn !== "string" || typeof metadata.op !== "string") {
          throw new Error(`event log line ${i + 1}: ${kind} without metadata.urn/op`);
        }
      }
    }
    events.push(parsed as unknown as EngineEvent);
  });
  return { events, warnings };
}

/**
 * Splits a log (in file order) into updates: a `preludeEvent` opens an update and the engine's
 * `cancelEvent` (sent at the end of EVERY update, not only cancelled ones) closes it. One
 * `pulumi up --event-log` file holds one update; concatenated logs hold several.
 */
export function splitRuns(events: readonly EngineEvent[]): EngineEvent[][] {
  const runs: EngineEvent[][] = [];
  let current: EngineEvent[] = [];
  for (const event of events) {
    if (event.preludeEvent && current.length > 0) {
      runs.push(current);
      current = [];
    }
    current.push(event);
    if (event.cancelEvent) {
      runs.push(current);
      current = [];
    }
  }
  if (current.length > 0) runs.push(current);
  return runs;
}

// The engine message sanitizer lives with the other redaction helpers (the deploy gate, below the
// drill, uses it too); re-exported for the drill's and the rehearsal's callers.
export { sanitizeMessage } from "../../lib/redact";

/**
 * Secret values an event log shows in plaintext: the prelude's config values of keys that hold
 * secrets (a stack that stored one without --secret; the engine shows real secrets as "[secret]").
 * Reports redact them wherever they appear, engine messages included.
 */
export function secretsInEvents(events: readonly EngineEvent[]): string[] {
  const found = new Set<string>();
  for (const event of events) {
    const config = event.preludeEvent?.config;
    if (!isRecord(config)) continue;
    const raw: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(config)) {
      try {
        raw[key] = typeof value === "string" && value.startsWith("{") ? JSON.parse(value) : value;
      } catch {
        raw[key] = value;
      }
    }
    for (const [key, value] of Object.entries(config)) {
      if (typeof value === "string" && value !== "" && value !== "[secret]" && holdsSecret(key, raw)) found.add(value);
    }
  }
  return [...found];
}

/**
 * Revocation is a SecretVersion update to `enabled: false`. The new inputs say so; if a log lacks
 * them, an update whose diff touches `enabled` on a version that was enabled turns it off.
 */
function phaseOfStep(metadata: StepEventMetadata): Phase {
  const newInputs = metadata.new?.inputs;
  if (newInputs) return phaseOf({ urn: metadata.urn, inputs: newInputs });
  const touchesEnabled = (metadata.diffs ?? []).includes("enabled") || metadata.detailedDiff?.enabled !== undefined;
  const wasEnabled = metadata.old?.inputs?.enabled !== false;
  const inputs = metadata.op === "update" && touchesEnabled && wasEnabled ? { enabled: false } : undefined;
  return phaseOf({ urn: metadata.urn, inputs });
}

function parseTokenConfig(value: string | undefined): TokenConfigSeen | null {
  if (value === undefined) return null;
  try {
    const parsed: unknown = JSON.parse(value);
    if (!isRecord(parsed) || typeof parsed.current !== "number") return null;
    const seen: TokenConfigSeen = { current: parsed.current };
    if (typeof parsed.previous === "number") seen.previous = parsed.previous;
    if (typeof parsed.revokePrevious === "boolean") seen.revokePrevious = parsed.revokePrevious;
    return seen;
  } catch {
    return null; // "[secret]" or not JSON: the engine did not show it
  }
}

interface RunResult {
  run: RunTiming;
  steps: StepTiming[];
  stack: string | null;
  project: string | null;
}

/** A run's timing before its events are read: no end, no outcome yet. */
function newRunTiming(index: number, ordered: readonly EngineEvent[]): RunTiming {
  return {
    index,
    start: ordered[0].timestamp,
    end: null,
    endedBy: "end-of-log",
    lastEventAt: ordered[ordered.length - 1].timestamp,
    durationSeconds: null,
    engineDurationSeconds: null,
    resourceChanges: null,
    maybeCorrupt: false,
    outcome: "incomplete",
    errors: [],
    unchangedSteps: 0,
    tokenConfig: null,
  };
}

/** What reading one update's events collects, event by event. */
class RunReader {
  readonly steps: StepTiming[] = [];
  /** Started steps not ended yet, by URN and operation (one resource can have several, e.g. a replace). */
  private readonly open = new Map<string, StepTiming[]>();
  readonly stepErrors = new Map<string, string>();
  preludeConfig: Record<string, string> | null = null;
  stack: string | null = null;
  project: string | null = null;
  sawCancel = false;
  sawError = false;

  constructor(
    readonly run: RunTiming,
    private readonly warnings: string[],
  ) {}

  read(event: EngineEvent): void {
    if (event.preludeEvent) this.preludeConfig = event.preludeEvent.config ?? null;
    else if (event.resourcePreEvent) this.startStep(event.resourcePreEvent.metadata, event.timestamp);
    else if (event.resOutputsEvent) this.endStep(event.resOutputsEvent.metadata, event.timestamp, "succeeded");
    else if (event.resOpFailedEvent) {
      this.endStep(event.resOpFailedEvent.metadata, event.timestamp, "failed");
      this.sawError = true;
    } else if (event.diagnosticEvent) this.diagnostic(event.diagnosticEvent);
    else if (event.summaryEvent) this.summary(event.summaryEvent, event.timestamp);
    else if (event.cancelEvent) this.cancel(event.timestamp);
  }

  private keyOf(metadata: StepEventMetadata): string {
    return `${metadata.urn}\u0000${metadata.op}`;
  }

  private startStep(metadata: StepEventMetadata, at: number): void {
    if (this.stack === null) {
      const parsed = parseUrn(metadata.urn);
      this.stack = parsed.stack;
      this.project = parsed.project;
    }
    if (UNCHANGED_OPS.has(metadata.op)) {
      this.run.unchangedSteps += 1;
      return;
    }
    const parsed = parseUrn(metadata.urn);
    const step: StepTiming = {
      run: this.run.index,
      urn: metadata.urn,
      name: parsed.name,
      type: parsed.type,
      op: metadata.op,
      phase: phaseOfStep(metadata),
      timed: TIMED_OPS.has(metadata.op),
      start: at,
      end: null,
      durationSeconds: null,
      status: "open",
    };
    this.steps.push(step);
    const key = this.keyOf(metadata);
    this.open.set(key, [...(this.open.get(key) ?? []), step]);
  }

  private endStep(metadata: StepEventMetadata, at: number, status: StepStatus): void {
    const update = this.run.index + 1;
    const step = this.open.get(this.keyOf(metadata))?.shift();
    if (!step) {
      if (!UNCHANGED_OPS.has(metadata.op)) {
        this.warnings.push(`update ${update}: ${metadata.op} of ${parseUrn(metadata.urn).name} ended without a start; ignored`);
      }
      return;
    }
    if (at < step.start) {
      this.warnings.push(`update ${update}: ${step.name} ends before it starts (clock went back); counted as 0s`);
    }
    step.end = Math.max(at, step.start);
    step.durationSeconds = step.end - step.start;
    step.status = status;
  }

  /** Errors only: the stack's go to the run, a resource's (first one) to its step. */
  private diagnostic(diagnostic: NonNullable<EngineEvent["diagnosticEvent"]>): void {
    if (diagnostic.severity !== "error") return;
    this.sawError = true;
    const message = sanitizeMessage(diagnostic.message);
    if (message === "") return;
    const isStack =
      diagnostic.urn === undefined || !diagnostic.urn.startsWith("urn:pulumi:") || parseUrn(diagnostic.urn).type === "pulumi:pulumi:Stack";
    if (isStack) {
      if (!this.run.errors.includes(message)) this.run.errors.push(message);
    } else if (!this.stepErrors.has(diagnostic.urn as string)) {
      this.stepErrors.set(diagnostic.urn as string, message);
    }
  }

  private summary(summary: NonNullable<EngineEvent["summaryEvent"]>, at: number): void {
    if (this.run.end === null) {
      this.run.end = at;
      this.run.endedBy = "summary";
    }
    this.run.engineDurationSeconds = summary.durationSeconds;
    this.run.resourceChanges = summary.resourceChanges;
    this.run.maybeCorrupt = summary.maybeCorrupt;
  }

  private cancel(at: number): void {
    this.sawCancel = true;
    if (this.run.end === null) {
      this.run.end = at;
      this.run.endedBy = "cancel";
    }
  }
}

/** Each resource's error on its (not succeeded) step; errors of resources without a step stay visible on the run. */
function attachStepErrors(run: RunTiming, steps: readonly StepTiming[], stepErrors: ReadonlyMap<string, string>): void {
  for (const step of steps) {
    const error = stepErrors.get(step.urn);
    if (error !== undefined && step.status !== "succeeded") step.error = error;
  }
  // Errors for resources that never got a step of their own (e.g. a program error) stay visible.
  for (const [urn, message] of stepErrors) {
    if (!steps.some((s) => s.urn === urn && s.error !== undefined)) run.errors.push(`${parseUrn(urn).name}: ${message}`);
  }
}

/** The run's outcome, duration, end-of-stream warning and token config, once every event is read. */
function concludeRun(reader: RunReader, warnings: string[]): void {
  const { run, steps } = reader;
  const hasOpen = steps.some((s) => s.status === "open");
  if (reader.sawError || steps.some((s) => s.status === "failed")) run.outcome = "failed";
  else if (run.endedBy === "cancel" || (run.end !== null && hasOpen)) run.outcome = "cancelled";
  else if (run.end === null) run.outcome = "incomplete";
  else run.outcome = "succeeded";
  if (run.end !== null) run.durationSeconds = Math.max(0, run.end - run.start);
  if (!reader.sawCancel && run.end !== null) {
    warnings.push(`update ${run.index + 1}: no end-of-stream marker after the summary (log cut off?)`);
  }
  if (reader.preludeConfig !== null && reader.project !== null) {
    run.tokenConfig = parseTokenConfig(reader.preludeConfig[`${reader.project}:authToken`]);
  }
}

/** One update's timing and steps; null for a preview (planning events), which is skipped with a warning. */
function timeRun(index: number, events: readonly EngineEvent[], warnings: string[]): RunResult | null {
  // Sequence numbers give the engine's total order; a stable sort keeps file order on ties.
  const ordered = [...events].sort((a, b) => a.sequence - b.sequence);
  const isPlanning = (e: EngineEvent): boolean => e.resourcePreEvent?.planning === true || e.resOutputsEvent?.planning === true;
  if (ordered.some(isPlanning)) {
    warnings.push(`update ${index + 1}: a preview (planning events), not an update; skipped`);
    return null;
  }
  const reader = new RunReader(newRunTiming(index, ordered), warnings);
  for (const event of ordered) reader.read(event);
  attachStepErrors(reader.run, reader.steps, reader.stepErrors);
  concludeRun(reader, warnings);
  return { run: reader.run, steps: reader.steps, stack: reader.stack, project: reader.project };
}

function timePhase(phase: RunbookPhase, steps: readonly StepTiming[]): PhaseTiming {
  const own = steps.filter((s) => s.timed && s.phase === phase);
  const base: PhaseTiming = {
    phase,
    label: PHASE_LABELS[phase],
    start: null,
    end: null,
    durationSeconds: null,
    status: "not-run",
    steps: own.length,
    runs: [...new Set(own.map((s) => s.run))].sort((a, b) => a - b),
  };
  if (own.length === 0) return base;
  base.start = Math.min(...own.map((s) => s.start));
  const anyOpen = own.some((s) => s.status === "open");
  if (!anyOpen) {
    base.end = Math.max(...own.map((s) => s.end as number));
    base.durationSeconds = base.end - base.start;
  }
  base.status = own.some((s) => s.status === "failed") ? "failed" : anyOpen ? "open" : "succeeded";
  return base;
}

/** Length of the union of closed intervals [start, end]. */
function unionSeconds(intervals: ReadonlyArray<readonly [number, number]>): number {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  let total = 0;
  let cursor = -Infinity;
  for (const [start, end] of sorted) {
    const from = Math.max(start, cursor);
    if (end > from) total += end - from;
    cursor = Math.max(cursor, end);
  }
  return total;
}

/**
 * Builds the timeline of one or more updates (e.g. the drill's rotate `up` and revoke `up`); each
 * element is one update's events, in any order. Updates that are previews are skipped.
 */
export function buildTimeline(runs: ReadonlyArray<readonly EngineEvent[]>): Timeline {
  const warnings: string[] = [];
  const timedRuns: RunTiming[] = [];
  const steps: StepTiming[] = [];
  let stack: string | null = null;
  let project: string | null = null;
  for (const events of runs) {
    if (events.length === 0) continue;
    const result = timeRun(timedRuns.length, events, warnings);
    if (result === null) continue;
    timedRuns.push(result.run);
    steps.push(...result.steps);
    stack ??= result.stack;
    project ??= result.project;
  }
  steps.sort((a, b) => a.run - b.run || a.start - b.start);

  const phases = RUNBOOK_PHASES.map((phase) => timePhase(phase, steps));
  const byPhase = (phase: RunbookPhase): PhaseTiming => phases.find((p) => p.phase === phase) as PhaseTiming;

  const last = timedRuns[timedRuns.length - 1];
  const lastEventAt = last?.lastEventAt ?? null;
  const executor = byPhase("deploy-executor");
  const control = byPhase("deploy-control");
  let window401: Window401 | null = null;
  if (executor.status === "succeeded" && executor.end !== null) {
    if (control.status === "succeeded" && control.end !== null) {
      if (control.end < executor.end) warnings.push("control rollout finished before executor rollout: the runbook order was not kept");
      const end = Math.max(control.end, executor.end);
      window401 = { start: executor.end, end, durationSeconds: end - executor.end, atLeastSeconds: null };
    } else {
      window401 = {
        start: executor.end,
        end: null,
        durationSeconds: null,
        atLeastSeconds: lastEventAt === null ? null : Math.max(0, lastEventAt - executor.end),
      };
    }
  }

  const start = timedRuns.length > 0 ? timedRuns[0].start : null;
  const end = last?.end ?? null;
  const spanSeconds = start !== null && end !== null ? end - start : null;
  const closed = phases.filter((p) => p.start !== null && p.end !== null);
  const phaseSecondsSum = closed.reduce((sum, p) => sum + (p.durationSeconds ?? 0), 0);
  const union = unionSeconds(closed.map((p) => [p.start as number, p.end as number] as const));
  const stage = byPhase("stage-secret");
  const verify = byPhase("verify");
  const revoke = byPhase("revoke");
  const totals: TimelineTotals = {
    start,
    end,
    spanSeconds,
    updateSeconds: timedRuns.reduce((sum, r) => sum + (r.durationSeconds ?? 0), 0),
    phaseSecondsSum,
    phaseOverlapSeconds: phaseSecondsSum - union,
    outsidePhasesSeconds: spanSeconds === null ? null : spanSeconds - union,
    rotationSeconds: stage.start !== null && verify.status === "succeeded" && verify.end !== null ? verify.end - stage.start : null,
    oldTokenValidSeconds: start !== null && revoke.status === "succeeded" && revoke.end !== null ? revoke.end - start : null,
    unchangedSteps: timedRuns.reduce((sum, r) => sum + r.unchangedSteps, 0),
  };

  return { stack, project, runs: timedRuns, steps, phases, window401, totals, warnings };
}

/** The timing of one phase. */
export function phaseTiming(timeline: Timeline, phase: RunbookPhase): PhaseTiming {
  return timeline.phases.find((p) => p.phase === phase) ?? timePhase(phase, []);
}
