/**
 * Timeline -> the drill report: a verdict, a markdown page for people and the same data as JSON.
 * Pure. Nothing here reads resource inputs or outputs; engine error messages are sanitised by the
 * timeline, and the finished report has every string value passed through the shared redaction
 * module (configured secrets, credential shapes) and made one printable line, before either
 * rendering: the markdown and the JSON show the same redacted values.
 */
import { Redactor, printable, redactValues } from "../../lib/redact";
import { GanttBar, TimelineChart, renderTimelineSvg } from "./timeline-svg";
import { PHASE_LABELS, phaseTiming, type PhaseStatus, type PhaseTiming, type RunOutcome, type StepTiming, type Timeline } from "./timeline";

export const DRILL_REPORT_SCHEMA = "wallet-executor/drill-report/v1";

/**
 * standard: rotate + verify in one `up`, revoke in a second. compromised: all in one `up`.
 * recorded: built from an event log after the fact (`--from-events`).
 */
export type DrillMode = "standard" | "compromised" | "recorded";

export type DrillSource = { kind: "drill" } | { kind: "event-log"; file: string };

export interface GenerationChange {
  /** The generation rotated out (the "old version"). */
  from: number;
  to: number;
}

export interface DrillReportInput {
  stack: string;
  mode: DrillMode;
  source: DrillSource;
  /** Known for a live drill (from the config edit); inferred from the events when null. */
  generation: GenerationChange | null;
  timeline: Timeline;
  /** Why the live drill stopped, when it was not an engine failure (e.g. the CLI could not run). */
  flowError?: string | null;
  /** Unix seconds; used for the date when there are no events at all. */
  fallbackStart?: number;
  /** Secret values to remove wherever they appear (e.g. the event log's plaintext secrets: `secretsInEvents`). */
  secrets?: readonly string[];
}

/** Report fields that hold this tool's own vocabulary (enumerations, the date): never redacted. */
const OWN_VOCABULARY: ReadonlySet<string> = new Set(["schema", "date", "mode", "kind", "status", "phase", "op", "outcome", "endedBy"]);

export type DrillStatus = "completed" | "failed" | "incomplete";

export interface DrillVerdict {
  /** completed: rotated, verified and revoked. failed: something failed or was cancelled. incomplete: no failure, but not all done. */
  status: DrillStatus;
  rotated: boolean;
  verified: boolean;
  revoked: boolean;
  /** The generation that must end up disabled; null when neither config nor events say. */
  oldGeneration: number | null;
  oldVersionStillEnabled: boolean;
  /** One or two sentences: what happened and, if not completed, where it stopped. */
  headline: string;
}

export interface DrillReport {
  schema: typeof DRILL_REPORT_SCHEMA;
  title: string;
  stack: string;
  /** YYYY-MM-DD (UTC) of the first event. */
  date: string;
  mode: DrillMode;
  source: DrillSource;
  generation: GenerationChange | null;
  startedAt: string | null;
  endedAt: string | null;
  verdict: DrillVerdict;
  /** Why a live drill stopped when the engine events do not show it (e.g. the CLI could not run). */
  stoppedBecause: string | null;
  /** Filled by the tool from the timeline, for the "gaps" section. */
  observations: string[];
  timeline: Timeline;
}

const STATUS_WORDS: Readonly<Record<PhaseStatus, string>> = {
  succeeded: "ok",
  failed: "**FAILED**",
  open: "**open** (never finished)",
  "not-run": "not run",
};

/** `142` -> `2m 22s`. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const pad = (n: number): string => String(n).padStart(2, "0");
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  return `${Math.floor(s / 3600)}h ${pad(Math.floor((s % 3600) / 60))}m ${pad(s % 60)}s`;
}

/** Unix seconds -> `2026-02-24T09:30:00Z`. */
export function isoTime(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function clock(unixSeconds: number): string {
  return isoTime(unixSeconds).slice(11, 19);
}

/** Old and new generation: the config edit's if known, else the prelude's config, else step names. */
export function inferGeneration(timeline: Timeline): GenerationChange | null {
  for (const run of timeline.runs) {
    const config = run.tokenConfig;
    if (config?.previous !== undefined) return { from: config.previous, to: config.current };
  }
  const generationOf = (step: StepTiming): number | null => {
    const match = /^auth-token-g(\d+)$/.exec(step.name);
    return match ? Number(match[1]) : null;
  };
  const revoked = timeline.steps.find((s) => s.phase === "revoke" && generationOf(s) !== null);
  const created = timeline.steps.find((s) => s.phase === "stage-secret" && s.op === "create" && generationOf(s) !== null);
  const to = created ? generationOf(created) : null;
  const from = revoked ? generationOf(revoked) : to !== null ? to - 1 : null;
  if (from === null || from < 1) return null;
  return { from, to: to ?? from + 1 };
}

function describeRun(outcome: RunOutcome, index: number, total: number): string {
  const which = total > 1 ? `update ${index + 1}` : "the update";
  switch (outcome) {
    case "succeeded":
      return `${which} succeeded`;
    case "failed":
      return `${which} failed`;
    case "cancelled":
      return `${which} was cancelled`;
    case "incomplete":
      return `the event log of ${which} stops before it ended`;
  }
}

/** What the drill achieved, from the timeline alone (the flow and `--from-events` agree). */
export function assessDrill(timeline: Timeline, generation: GenerationChange | null, flowError?: string | null): DrillVerdict {
  const phase = (p: Parameters<typeof phaseTiming>[1]): PhaseTiming => phaseTiming(timeline, p);
  const ok = (p: Parameters<typeof phaseTiming>[1]): boolean => phase(p).status === "succeeded";
  const rotated = ok("stage-secret") && ok("deploy-executor") && ok("deploy-control");
  const verified = ok("verify");
  const revoked = ok("revoke");
  const runsOk = timeline.runs.length > 0 && timeline.runs.every((r) => r.outcome === "succeeded");
  const somethingFailed =
    Boolean(flowError) ||
    timeline.runs.some((r) => r.outcome !== "succeeded") ||
    timeline.phases.some((p) => p.status === "failed" || p.status === "open");
  const completed = rotated && verified && revoked && runsOk && !flowError;
  const status: DrillStatus = completed ? "completed" : somethingFailed ? "failed" : "incomplete";
  const oldGeneration = generation?.from ?? null;
  const oldLabel = oldGeneration === null ? "the old version" : `old version ${oldGeneration}`;

  let headline: string;
  if (completed) {
    headline =
      generation === null
        ? "Rotated, verified, and the previous version revoked."
        : `Rotated generation ${generation.from} → ${generation.to}, verified, ${oldLabel} revoked.`;
  } else {
    const what: string[] = [];
    const failedStep = timeline.steps.find((s) => s.status === "failed");
    const openStep = timeline.steps.find((s) => s.status === "open");
    if (failedStep) {
      const label = failedStep.phase === "other" ? failedStep.name : PHASE_LABELS[failedStep.phase];
      what.push(failedStep.error ? `${label} failed: ${failedStep.error.replace(/\.$/, "")}.` : `${label} failed (${failedStep.name}).`);
    }
    const badRun = timeline.runs.find((r) => r.outcome !== "succeeded");
    if (badRun && !(failedStep && badRun.outcome === "failed")) {
      const during = openStep && openStep.phase !== "other" ? ` during the ${PHASE_LABELS[openStep.phase].toLowerCase()}` : "";
      const firstError = badRun.errors[0] ? ` (${badRun.errors[0]})` : "";
      what.push(`${capitalize(describeRun(badRun.outcome, badRun.index, timeline.runs.length))}${during}${firstError}.`);
    }
    if (flowError) what.push(`${flowError.replace(/\.$/, "")}.`);
    if (what.length === 0) {
      const missing = timeline.phases.filter((p) => p.status === "not-run").map((p) => p.label.toLowerCase());
      what.push(
        timeline.runs.length === 0
          ? "No update ran."
          : `${rotated && verified ? "Rotated and verified, but " : ""}${missing.join(", ")} did not run in these events.`,
      );
    }
    const stop = revoked
      ? `${oldLabel[0].toUpperCase()}${oldLabel.slice(1)} was revoked.`
      : verified
        ? `Not revoked: ${oldLabel} still enabled.`
        : `Stopped before revocation: ${oldLabel} still enabled.`;
    headline = `${what.join(" ")} ${stop}`;
  }
  return { status, rotated, verified, revoked, oldGeneration, oldVersionStillEnabled: !revoked, headline };
}

function capitalize(text: string): string {
  return text.length === 0 ? text : `${text[0].toUpperCase()}${text.slice(1)}`;
}

function observe(timeline: Timeline, verdict: DrillVerdict): string[] {
  const notes: string[] = [];
  const w = timeline.window401;
  if (w && w.durationSeconds !== null && w.end !== null) {
    if (w.durationSeconds > 0) {
      notes.push(
        `401 window of ${formatDuration(w.durationSeconds)}: from ${clock(w.start)} to ${clock(w.end)} the control service ` +
          "still sent a token the executor no longer accepted. Check for 401s and payment retries in that window.",
      );
    }
  } else if (w) {
    notes.push(
      `The 401 window never closed in these events (control rollout did not finish); it had lasted at least ` +
        `${formatDuration(w.atLeastSeconds ?? 0)} at the last event.`,
    );
  }
  const closed = timeline.phases.filter((p) => p.durationSeconds !== null);
  const span = timeline.totals.spanSeconds;
  if (closed.length > 0) {
    const slowest = closed.reduce((a, b) => ((b.durationSeconds ?? 0) > (a.durationSeconds ?? 0) ? b : a));
    const share = span ? ` (${Math.round(((slowest.durationSeconds ?? 0) / span) * 100)}% of the drill)` : "";
    notes.push(`Slowest phase: ${slowest.label}, ${formatDuration(slowest.durationSeconds ?? 0)}${share}.`);
  }
  if (timeline.totals.phaseOverlapSeconds > 0) {
    notes.push(`Phases ran in parallel for ${formatDuration(timeline.totals.phaseOverlapSeconds)} (see the step table).`);
  }
  for (const step of timeline.steps.filter((s) => s.status === "failed")) {
    notes.push(`Failed step: ${step.name} (${step.op})${step.error ? `: ${step.error}` : ""}.`);
  }
  for (const step of timeline.steps.filter((s) => s.status === "open")) {
    notes.push(`Open step: ${step.name} (${step.op}) started at ${clock(step.start)} and never finished; check its real state in GCP.`);
  }
  if (timeline.totals.oldTokenValidSeconds !== null) {
    notes.push(
      `The old token stayed valid for ${formatDuration(timeline.totals.oldTokenValidSeconds)} after the first update began ` +
        "(for a real compromise, add the time from detection to starting the rotation).",
    );
  }
  if (verdict.oldVersionStillEnabled && verdict.status !== "completed") {
    const g = verdict.oldGeneration;
    notes.push(
      `${g === null ? "The old version" : `Old version ${g}`} is still enabled. Once the cause is fixed, finish with ` +
        `revokePrevious: true and \`pulumi up\`, or roll back by pointing current at ${g ?? "the previous generation"}.`,
    );
  }
  for (const warning of timeline.warnings) notes.push(`Event log: ${warning}.`);
  return notes;
}

/** Assembles the report (the JSON file is exactly this object). */
export function buildDrillReport(input: DrillReportInput): DrillReport {
  const { timeline } = input;
  const generation = input.generation ?? inferGeneration(timeline);
  const verdict = assessDrill(timeline, generation, input.flowError);
  const start = timeline.totals.start ?? input.fallbackStart ?? null;
  const date = start === null ? "unknown-date" : isoTime(start).slice(0, 10);
  const redactor = new Redactor(input.secrets);
  const safe = (text: string): string => printable(redactor.text(text));
  const report: DrillReport = {
    schema: DRILL_REPORT_SCHEMA,
    title: `Token rotation drill: ${input.stack}, ${date}`,
    stack: input.stack,
    date,
    mode: input.mode,
    source: input.source,
    generation,
    startedAt: start === null ? null : isoTime(start),
    endedAt: timeline.totals.end === null ? null : isoTime(timeline.totals.end),
    verdict,
    stoppedBecause: input.flowError ?? null,
    observations: observe(timeline, verdict),
    timeline,
  };
  return redactValues(report, safe, OWN_VOCABULARY);
}

/** `2026-02-24-staging`: the report's file name without extension (a stack path keeps its last part). */
export function reportFileStem(report: DrillReport): string {
  const stack =
    report.stack
      .split("/")
      .pop()
      ?.replace(/[^A-Za-z0-9._-]/g, "-") || "stack";
  return `${report.date}-${stack}`;
}

const MODE_WORDS: Readonly<Record<DrillMode, string>> = {
  standard: "standard: rotate and verify in one `pulumi up`, then revoke in a second",
  compromised: "compromised: rotation and revocation in one `pulumi up`",
  recorded: "from a recorded engine event log",
};

function row(cells: readonly string[]): string {
  return `| ${cells.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`;
}

function at(unixSeconds: number | null, base: number | null): string {
  if (unixSeconds === null) return "—";
  return base === null ? clock(unixSeconds) : `${clock(unixSeconds)} (+${formatDuration(unixSeconds - base)})`;
}

function shortType(type: string): string {
  return type.split(":").pop()?.split("/").pop() ?? type;
}

/** True when the revocation ran in the same update as the executor rollout (compromised-style). */
function revokedWithRotation(timeline: Timeline): boolean {
  const revoke = phaseTiming(timeline, "revoke").runs;
  return phaseTiming(timeline, "deploy-executor").runs.some((run) => revoke.includes(run));
}

/** What every section needs: the report, its first event and whether it spans several updates. */
interface RenderContext {
  readonly report: DrillReport;
  readonly timeline: Timeline;
  readonly base: number | null;
  readonly multiRun: boolean;
}

/** The title and the outcome, generation, mode, source and dates. */
function headerSection({ report, timeline }: RenderContext): string[] {
  const { verdict } = report;
  const lines = [`# ${report.title}`, "", `- **Outcome: ${verdict.status}.** ${verdict.headline}`];
  if (report.generation) lines.push(`- Generation: ${report.generation.from} → ${report.generation.to}`);
  const updates = `${timeline.runs.length} update${timeline.runs.length === 1 ? "" : "s"}`;
  const together = report.mode === "recorded" && revokedWithRotation(timeline) ? " (rotation and revocation in the same update)" : "";
  lines.push(`- Mode: ${MODE_WORDS[report.mode]}; ${updates}${together}`);
  lines.push(`- Source: ${report.source.kind === "drill" ? "live drill (Automation API)" : `event log \`${report.source.file}\``}`);
  if (report.startedAt) lines.push(`- Started ${report.startedAt}${report.endedAt ? `, ended ${report.endedAt}` : ", end not recorded"}`);
  lines.push("");
  return lines;
}

/** The phases, one row each, in the runbook's order (the picture, when there is one, above them). */
function phasesSection({ timeline, base, multiRun }: RenderContext, picture: readonly string[]): string[] {
  const lines = ["## Timeline", ""];
  lines.push(
    `Times are UTC; (+…) is the offset from the first engine event${base === null ? "" : ` (${clock(base)})`}. Engine timestamps have 1-second resolution.`,
    "",
    ...picture,
  );
  const header = ["Phase", ...(multiRun ? ["Update"] : []), "Started", "Finished", "Duration", "Steps", "Status"];
  lines.push(row(header), row(header.map(() => "---")));
  for (const phase of timeline.phases) {
    lines.push(
      row([
        phase.label,
        ...(multiRun ? [phase.runs.map((r) => String(r + 1)).join(", ") || "—"] : []),
        at(phase.start, base),
        at(phase.end, base),
        phase.durationSeconds === null ? "—" : formatDuration(phase.durationSeconds),
        String(phase.steps),
        STATUS_WORDS[phase.status],
      ]),
    );
  }
  lines.push("");
  return lines;
}

/** Every step that changed something, and how many did not. */
function stepsSection({ timeline, base, multiRun }: RenderContext): string[] {
  const lines = ["### Steps", ""];
  if (timeline.steps.length === 0) {
    lines.push("No resource changed.", "");
  } else {
    const header = [...(multiRun ? ["Update"] : []), "Phase", "Resource", "Operation", "Started", "Finished", "Duration", "Status"];
    lines.push(row(header), row(header.map(() => "---")));
    for (const step of timeline.steps) {
      const phase = step.phase === "other" ? "—" : PHASE_LABELS[step.phase];
      lines.push(
        row([
          ...(multiRun ? [String(step.run + 1)] : []),
          step.timed ? phase : `${phase} (cleanup, not counted)`,
          `${step.name} (${shortType(step.type)})`,
          step.op,
          at(step.start, base),
          at(step.end, base),
          step.durationSeconds === null ? "—" : formatDuration(step.durationSeconds),
          STATUS_WORDS[step.status],
        ]),
      );
    }
    lines.push("");
  }
  if (timeline.totals.unchangedSteps > 0)
    lines.push(`${timeline.totals.unchangedSteps} unchanged resources (\`same\`) are not listed.`, "");
  return lines;
}

/** Each update's length, the whole span split into phases and the rest, the rotation and the old token's life. */
function totalsSection({ timeline, multiRun }: RenderContext): string[] {
  const lines = ["## Totals", "", row(["", ""]), row(["---", "---"])];
  for (const run of timeline.runs) {
    const engine = run.engineDurationSeconds === null ? "" : `; engine summary ${run.engineDurationSeconds}s`;
    const length = run.durationSeconds === null ? "not ended" : formatDuration(run.durationSeconds);
    lines.push(row([`Update ${run.index + 1}`, `${length} (${run.outcome}${engine})`]));
  }
  const t = timeline.totals;
  if (t.spanSeconds !== null) {
    lines.push(row([multiRun ? "Whole drill (first event → end of last update)" : "Whole update", formatDuration(t.spanSeconds)]));
    const inPhases = t.phaseSecondsSum - t.phaseOverlapSeconds;
    const overlap =
      t.phaseOverlapSeconds > 0
        ? ` (phase durations add up to ${formatDuration(t.phaseSecondsSum)}, ${formatDuration(t.phaseOverlapSeconds)} of it in parallel)`
        : "";
    lines.push(row(["In the runbook phases", `${formatDuration(inPhases)}${overlap}`]));
    lines.push(
      row(["Outside them (engine start-up, unchanged resources, cleanup, between updates)", formatDuration(t.outsidePhasesSeconds ?? 0)]),
    );
    lines.push(
      row(["Check", `${formatDuration(inPhases)} + ${formatDuration(t.outsidePhasesSeconds ?? 0)} = ${formatDuration(t.spanSeconds)}`]),
    );
  }
  lines.push(
    row([
      "Rotation (secret publish started → verification finished)",
      t.rotationSeconds === null ? "—" : formatDuration(t.rotationSeconds),
    ]),
  );
  lines.push(
    row([
      "Old token valid after the first update began (→ revocation finished)",
      t.oldTokenValidSeconds === null ? "— (not revoked)" : formatDuration(t.oldTokenValidSeconds),
    ]),
  );
  lines.push("");
  return lines;
}

/** Executor rollout finished → control rollout finished. */
function window401Section({ timeline }: RenderContext): string[] {
  const w = timeline.window401;
  if (w === null) {
    return [
      "## 401 window",
      "",
      "None measured: the executor rollout did not finish in these events, so the executor kept accepting the old token.",
      "",
    ];
  }
  if (w.end === null) {
    return [
      "## 401 window",
      "",
      `**Open.** The executor rollout finished at ${clock(w.start)} but the control rollout never finished: the control service ` +
        `kept sending a token the executor no longer accepted, at least ${formatDuration(w.atLeastSeconds ?? 0)} by the last event.`,
      "",
    ];
  }
  return [
    "## 401 window",
    "",
    `**${formatDuration(w.durationSeconds ?? 0)}**: executor rollout finished at ${clock(w.start)}, control rollout finished at ` +
      `${clock(w.end)}. In between, the control service still sent a token the executor no longer accepted.`,
    "",
  ];
}

/** Why the drill stopped, failed steps, engine errors and steps left open. */
function failedSection({ report, timeline, base, multiRun }: RenderContext): string[] {
  const lines = ["## Failed step", ""];
  const failed = timeline.steps.filter((s) => s.status === "failed");
  if (failed.length === 0 && report.stoppedBecause === null) lines.push("None.");
  if (report.stoppedBecause !== null) lines.push(`- Drill stopped: ${report.stoppedBecause}`);
  for (const step of failed) {
    const phase = step.phase === "other" ? "" : `${PHASE_LABELS[step.phase]}: `;
    lines.push(`- ${phase}\`${step.name}\` (${step.op}) failed at ${at(step.end, base)}${step.error ? `: ${step.error}` : ""}`);
  }
  const runErrors = timeline.runs.flatMap((r) => r.errors.map((e) => `${multiRun ? `update ${r.index + 1}: ` : ""}${e}`));
  for (const error of runErrors) lines.push(`- Engine: ${error}`);
  const open = timeline.steps.filter((s) => s.status === "open");
  if (open.length > 0) {
    lines.push("", "Open steps (started, never finished; their real state is unknown until checked):", "");
    for (const step of open) lines.push(`- \`${step.name}\` (${step.op}) started at ${at(step.start, base)}`);
  }
  lines.push("");
  return lines;
}

/** What the tool observed, and the questions the people who ran the drill answer. */
function gapsSection({ report }: RenderContext): string[] {
  const lines = ["## Gaps", "", "Observed by the tool:", ""];
  for (const note of report.observations) lines.push(`- ${note}`);
  if (report.observations.length === 0) lines.push("- Nothing unusual.");
  lines.push(
    "",
    "To fill in after the drill (then update the runbook):",
    "",
    "- [ ] Detection: how was the (simulated) compromise noticed, and how long before the rotation started?",
    "- [ ] What took longer than expected, and why?",
    "- [ ] What needed a manual step, a missing permission or knowledge that is not written down?",
    "- [ ] What did callers see during the 401 window (errors, retries, alerts)?",
    "- [ ] Runbook changes:",
    "- [ ] Follow-up issues and owners:",
    "",
  );
  return lines;
}

/** The drill's clock, in unix seconds: first event to the end of the last update (or its last event). */
function chartSpan(timeline: Timeline): { start: number; end: number } | null {
  const start = timeline.totals.start;
  if (start === null) return null;
  const last = timeline.runs[timeline.runs.length - 1];
  const end = Math.max(timeline.totals.end ?? last?.lastEventAt ?? start, ...timeline.phases.map((p) => p.end ?? p.start ?? start));
  return { start, end: Math.max(end, start + 1) };
}

/** Every runbook phase as a Gantt bar (not-run ones included, so the picture shows every phase). */
export function drillTimelineChart(report: DrillReport): TimelineChart {
  const span = chartSpan(report.timeline) ?? { start: 0, end: 1 };
  const bars: GanttBar[] = report.timeline.phases.map((phase) => ({
    label: phase.label,
    startMs: phase.start === null ? null : phase.start * 1000,
    endMs: phase.end === null ? null : phase.end * 1000,
    status: phase.status,
    note:
      phase.status === "not-run"
        ? "not run"
        : phase.durationSeconds === null
          ? `${phase.status}, never finished`
          : `${formatDuration(phase.durationSeconds)}${phase.status === "failed" ? ", FAILED" : ""}`,
  }));
  return { title: `${report.title}: phases`, startMs: span.start * 1000, endMs: span.end * 1000, bars };
}

/** The drill's timeline picture (an SVG document). */
export function renderDrillTimelineSvg(report: DrillReport): string {
  return renderTimelineSvg(drillTimelineChart(report));
}

/** The markdown that shows the picture: a link to the SVG and, for GitHub, the same Gantt in Mermaid. */
function timelinePicture(timeline: Timeline, svgFile: string): string[] {
  const lines = [`![Timeline: the phases as a Gantt](${svgFile})`, ""];
  const ran = timeline.phases.filter((p) => p.start !== null);
  if (ran.length === 0) return lines;
  const span = chartSpan(timeline);
  lines.push("```mermaid", "gantt", "  dateFormat X", "  axisFormat %H:%M:%S");
  for (const phase of ran) {
    const tag = phase.status === "failed" ? "crit, " : phase.status === "open" ? "active, " : "done, ";
    const end = phase.end ?? span?.end ?? (phase.start as number);
    lines.push(`  ${phase.label} :${tag}${phase.start}, ${Math.max(1, end - (phase.start as number))}s`);
  }
  lines.push("```", "");
  return lines;
}

export interface DrillMarkdownOptions {
  /** The timeline picture's file name, next to the .md: linked under "Timeline", with a Mermaid Gantt. */
  readonly timelineSvg?: string;
}

/** The human-readable report: its sections, in order. */
export function renderDrillMarkdown(report: DrillReport, options: DrillMarkdownOptions = {}): string {
  const { timeline } = report;
  const context: RenderContext = { report, timeline, base: timeline.totals.start, multiRun: timeline.runs.length > 1 };
  const picture = options.timelineSvg === undefined ? [] : timelinePicture(timeline, options.timelineSvg);
  return [
    ...headerSection(context),
    ...phasesSection(context, picture),
    ...stepsSection(context),
    ...totalsSection(context),
    ...window401Section(context),
    ...failedSection(context),
    ...gapsSection(context),
  ].join("\n");
}

/** The JSON twin of the markdown. */
export function renderDrillJson(report: DrillReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
