/**
 * A rehearsal's report: what the runbook says the scenario ends with, checked against what
 * happened, with the applies' phases in milliseconds (the engine's event log), the local cloud's
 * timeline, the control's live traffic per phase, the failure window, when the old token stopped
 * being accepted anywhere, the verification's checks, the pack's verdicts per preview and what was
 * revoked. Same family as the drill report (ops/drill/report.ts): the JSON embeds one, built from
 * the scenario's updates. Pure. No secret value is ever in a RehearsalRun.
 */
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { DRILL_REPORT_SCHEMA, DrillReport, buildDrillReport } from "../ops/drill/report";
import { PHASE_LABELS, RUNBOOK_PHASES, RunbookPhase, Timeline, buildTimeline } from "../ops/drill/timeline";
import type { LocalCloudEvent } from "../localcloud/events";
import { PredictionReport, comparePrediction } from "./prediction";
import { isService, verdictsIn } from "./rehearse";
import type { ApplyRecord, PolicyVerdict, RehearsalRun, VersionInfo } from "./rehearse";
import {
  FailureWindow,
  OldTokenVerdict,
  Span,
  SpanTally,
  TrafficTally,
  failureWindow,
  oldTokenVerdict,
  tally,
  tallyBySpan,
} from "./traffic";

export const REHEARSAL_REPORT_SCHEMA = "wallet-executor/rehearsal-report/v1";

const VERSION_TYPE = "gcp:secretmanager/secretVersion:SecretVersion";

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface PhaseMs {
  readonly phase: RunbookPhase;
  readonly label: string;
  /** Milliseconds since the rehearsal's scenario began. */
  readonly startMs: number;
  readonly endMs: number | null;
  readonly ms: number | null;
  readonly status: string;
}

export interface AttemptReport {
  /** Null when no preview ran: the baseline is one `pulumi up` with the pack. */
  readonly previewMs: number | null;
  readonly preview: "passed" | "refused" | "not run";
  /** The preview's verdicts; the baseline's, those of its update. */
  readonly verdicts: readonly PolicyVerdict[];
  readonly error: string | null;
  readonly upMs: number | null;
  readonly up: "applied" | "failed" | "interrupted" | "not run";
  readonly phases: readonly PhaseMs[];
}

export interface ApplyReport {
  readonly index: number;
  readonly title: string;
  readonly baseline: boolean;
  readonly expected: string;
  readonly outcome: string;
  readonly attempts: readonly AttemptReport[];
}

export interface RehearsalReport {
  readonly schema: typeof REHEARSAL_REPORT_SCHEMA;
  /** The drill report's schema, which `drill` follows. */
  readonly family: typeof DRILL_REPORT_SCHEMA;
  readonly title: string;
  readonly stack: string;
  readonly scenario: string;
  readonly summary: string;
  readonly runbook: string;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly wallMs: number;
  /** Baseline apply excluded: the scenario's own applies. */
  readonly scenarioMs: number;
  readonly settings: {
    readonly load: number;
    readonly payRate: number;
    readonly rolloutMs: number;
    readonly shutdownGraceMs: number;
    readonly controlTimeoutMs: number;
    readonly executorCommand: string | null;
    /** `wallet-executor:rotation`'s strategy. */
    readonly rotation: string;
  };
  readonly ok: boolean;
  readonly headline: string;
  readonly checks: readonly Check[];
  readonly applies: readonly ApplyReport[];
  readonly traffic: {
    readonly total: TrafficTally;
    /** First to last failed call (401, 403, 404, refused), ms since the scenario began. */
    readonly failureWindow: (FailureWindow & { readonly firstAtMs: number; readonly lastAtMs: number }) | null;
    readonly perPhase: readonly (Omit<SpanTally, "startMs" | "endMs"> & { readonly startAtMs: number; readonly endAtMs: number })[];
  };
  /**
   * The offline plan's predicted failed-call window (`npm run plan` on the apply's stack file) next
   * to the measured one; null when no apply moves the token.
   */
  readonly prediction: PredictionReport | null;
  readonly oldToken: {
    readonly generation: number;
    readonly lastAcceptedAtMs: number | null;
    readonly refusedEverywhereFromMs: number | null;
    readonly stillAcceptedAt: readonly string[];
    /** The last probe round: the old token's answer at every URL of the executor (`main`, `tag:<name>`). */
    readonly lastAnswers: Readonly<Record<string, string>>;
    readonly probeRounds: number;
  };
  readonly verification: { readonly checks: readonly { name: string; ok: boolean; ms: number }[]; readonly failures: readonly string[] };
  readonly revoked: readonly { credential: string; generation: number; version: string }[];
  readonly cloud: readonly { atMs: number; type: string; service: string; revision: string | null; detail: string }[];
  readonly drill: DrillReport | null;
  readonly error: string | null;
}

const rel = (ms: number, base: number): number => Math.round(ms - base);

function phasesOf(timeline: Timeline, run: number, base: number): PhaseMs[] {
  const phases: PhaseMs[] = [];
  for (const phase of RUNBOOK_PHASES) {
    const steps = timeline.steps.filter((s) => s.run === run && s.phase === phase && s.timed);
    if (steps.length === 0) continue;
    const start = Math.min(...steps.map((s) => s.start)) * 1000;
    const open = steps.some((s) => s.end === null);
    const end = open ? null : Math.max(...steps.map((s) => s.end as number)) * 1000;
    const status = steps.some((s) => s.status === "failed") ? "failed" : open ? "open" : "succeeded";
    phases.push({
      phase,
      label: PHASE_LABELS[phase],
      startMs: rel(start, base),
      endMs: end === null ? null : rel(end, base),
      ms: end === null ? null : Math.round(end - start),
      status,
    });
  }
  return phases;
}

function versionState(versions: readonly VersionInfo[], credential: string, generation: number): string {
  return versions.find((v) => v.credential === credential && v.generation === generation)?.state ?? "absent";
}

const CLOUD_TYPES = new Set([
  "revision-created",
  "revision-reselected",
  "revision-ready",
  "revision-failed",
  "traffic-shift-started",
  "traffic-changed",
  "tag-routed",
  "tag-removed",
]);

export function buildRehearsalReport(run: RehearsalRun): RehearsalReport {
  const { scenario } = run;
  const base = run.scenarioStartMs;
  const scenarioApplies = run.applies.filter((a) => !a.baseline);
  // Every update of the scenario, in order: the timeline's run index is this list's index.
  const ups: { apply: number; attempt: number; events: readonly EngineEvent[] }[] = [];
  scenarioApplies.forEach((apply, i) =>
    apply.attempts.forEach((attempt, j) => {
      if (attempt.up) ups.push({ apply: i, attempt: j, events: attempt.up.events });
    }),
  );
  const timeline = buildTimeline(ups.map((u) => u.events));
  const applies: ApplyReport[] = run.applies.map((apply, index) => ({
    index,
    title: apply.title,
    baseline: apply.baseline,
    expected: apply.expect,
    outcome: apply.outcome,
    attempts: apply.attempts.map((attempt, j) => {
      const runIndex = apply.baseline ? -1 : ups.findIndex((u) => u.apply === index - 1 && u.attempt === j);
      return {
        previewMs: attempt.preview?.ms ?? null,
        preview: attempt.preview === null ? "not run" : attempt.preview.ok ? "passed" : "refused",
        verdicts: attempt.preview?.verdicts ?? (attempt.up ? verdictsIn(attempt.up.events) : []),
        error: attempt.up?.error ?? attempt.preview?.error ?? null,
        upMs: attempt.up?.ms ?? null,
        up: attempt.up === null ? "not run" : attempt.up.interrupted ? "interrupted" : attempt.up.ok ? "applied" : "failed",
        phases: runIndex >= 0 ? phasesOf(timeline, runIndex, base) : [],
      };
    }),
  }));

  // Spans for the traffic: each up, and each phase inside it (a phase wins over its up).
  const spans: Span[] = [];
  run.applies.forEach((apply, index) =>
    apply.attempts.forEach((attempt, j) => {
      if (!attempt.up || apply.baseline) return;
      const name = `apply ${index}${apply.attempts.length > 1 ? ` (attempt ${j + 1})` : ""}`;
      spans.push({ label: `${name}: other steps`, startMs: attempt.up.startMs, endMs: attempt.up.endMs });
      for (const phase of applies[index].attempts[j].phases) {
        spans.push({
          label: `${name}: ${phase.label}`,
          startMs: phase.startMs + base,
          endMs: (phase.endMs ?? rel(attempt.up.endMs, base)) + base,
        });
      }
    }),
  );
  const calls = run.traffic.filter((c) => c.atMs >= base);
  const window = failureWindow(calls);
  const perPhase = tallyBySpan(calls, spans).map(({ startMs, endMs, ...rest }) => ({
    ...rest,
    startAtMs: rel(startMs, base),
    endAtMs: rel(endMs, base),
  }));
  const probes = oldTokenVerdict(run.probes.filter((p) => p.atMs >= base));

  const controlRolloutMs: Record<number, number | null> = {};
  applies.forEach((apply) => {
    if (apply.baseline) return;
    const last = apply.attempts[apply.attempts.length - 1];
    controlRolloutMs[apply.index] = last?.phases.find((p) => p.phase === "deploy-control")?.ms ?? null;
  });
  const prediction = comparePrediction(run.predictions, {
    failed: tally(calls).failed,
    windowMs: window?.ms ?? null,
    controlRolloutMs,
    shutdownGraceMs: run.shutdownGraceMs,
  });
  const checks = assess(run, timeline, probes);
  checks.push(...taggedRollbackChecks(run, tally(calls).failed));
  if (prediction)
    checks.push({
      name: `the plan's predicted failed-call window (${prediction.strategy}: ${prediction.predicted}) matches the measured one`,
      ok: prediction.matches,
      detail: prediction.detail,
    });
  const ok = checks.every((c) => c.ok);
  const revoked = run.end.versions
    .filter((v) => v.state !== "ENABLED" && versionState(run.afterBaseline.versions, v.credential, v.generation) !== v.state)
    .map((v) => ({ credential: v.credential, generation: v.generation, version: v.name.split("/").pop() ?? v.name }));
  const verifyFailures = timeline.steps.filter((s) => s.phase === "verify" && s.status === "failed").map((s) => s.error ?? "failed");
  const cloud = run.cloudEvents
    .filter((e) => e.atMs >= base && CLOUD_TYPES.has(e.type))
    .map((e) => ({
      atMs: rel(e.atMs, base),
      type: e.type,
      service:
        String(e.service ?? "")
          .split("/")
          .pop() ?? "",
      revision: typeof e.revision === "string" ? (e.revision.split("/").pop() ?? null) : null,
      detail: describeCloudEvent(e),
    }));
  let drill: DrillReport | null = null;
  if (scenario.credential === "authToken" && ups.length > 0) {
    drill = buildDrillReport({
      stack: run.stack,
      mode: scenario.applies.length === 1 ? "compromised" : "standard",
      source: { kind: "drill" },
      generation: { from: scenario.from, to: scenario.to },
      timeline,
      flowError: run.error ?? null,
    });
  }
  const failing = checks.filter((c) => !c.ok);
  const headline = ok
    ? `${scenario.name} ended as the runbook says (${scenario.runbook}); ${window ? `${window.failed} failed calls over ${window.ms} ms` : "no failed call"}.`
    : `${scenario.name} did NOT end as the runbook says: ${failing.map((c) => c.name).join("; ")}.`;
  return {
    schema: REHEARSAL_REPORT_SCHEMA,
    family: DRILL_REPORT_SCHEMA,
    title: `Rehearsal: ${scenario.name} on ${run.stack}, ${new Date(run.startedMs).toISOString().slice(0, 10)}`,
    stack: run.stack,
    scenario: scenario.name,
    summary: scenario.summary,
    runbook: scenario.runbook,
    startedAt: new Date(run.startedMs).toISOString(),
    endedAt: new Date(run.endedMs).toISOString(),
    wallMs: run.endedMs - run.startedMs,
    scenarioMs: ups.length > 0 ? Math.max(...scenarioApplies.flatMap((a) => a.attempts.map((t) => t.up?.endMs ?? base))) - base : 0,
    settings: {
      load: run.load,
      payRate: run.payRate,
      rolloutMs: run.rolloutMs,
      shutdownGraceMs: run.shutdownGraceMs,
      controlTimeoutMs: run.controlTimeoutMs,
      executorCommand: run.executorCommand,
      rotation: run.rotation,
    },
    ok,
    headline,
    checks,
    applies,
    traffic: {
      total: tally(calls),
      failureWindow: window ? { ...window, firstAtMs: rel(window.firstMs, base), lastAtMs: rel(window.lastMs, base) } : null,
      perPhase,
    },
    prediction,
    oldToken: {
      generation: scenario.credential === "authToken" ? scenario.from : scenario.from,
      lastAcceptedAtMs: probes.lastAcceptedMs === null ? null : rel(probes.lastAcceptedMs, base),
      refusedEverywhereFromMs: probes.refusedEverywhereFromMs === null ? null : rel(probes.refusedEverywhereFromMs, base),
      stillAcceptedAt: probes.stillAcceptedAt,
      lastAnswers: probes.lastAnswers,
      probeRounds: probes.rounds,
    },
    verification: { checks: run.end.verificationChecks, failures: verifyFailures },
    revoked,
    cloud,
    drill,
    error: run.error ?? null,
  };
}

/**
 * `tagged` rollback (docs/runbooks/rollback.md): the control moved back with no failed call, and the
 * tag of the generation rolled back from went only after the control's traffic was back.
 */
export function taggedRollbackChecks(run: RehearsalRun, failed: number): Check[] {
  if (run.scenario.name !== "rollback" || run.rotation !== "tagged") return [];
  const { from, to } = run.scenario;
  const executorName = run.afterBaseline.executor?.name.split("/").pop() ?? "?";
  const controlName = run.afterBaseline.control?.name.split("/").pop() ?? "?";
  const later = run.cloudEvents.filter((e) => e.atMs >= run.scenarioStartMs);
  const removed = later.find((e) => e.type === "tag-removed" && e.tag === `g${to}` && isService(e, executorName));
  const controlMoves = later.filter((e) => e.type === "traffic-changed" && isService(e, controlName));
  const lastControlMove = controlMoves[controlMoves.length - 1];
  return [
    {
      name: `no call failed while the control moved back to generation ${from}`,
      ok: failed === 0,
      detail: `${failed} failed calls`,
    },
    {
      name: `tag g${to} (the generation rolled back from) removed after the control was back`,
      ok: removed !== undefined && lastControlMove !== undefined && removed.atMs > lastControlMove.atMs,
      detail: removed
        ? `removed ${removed.atMs - (lastControlMove?.atMs ?? removed.atMs)} ms after the control's last traffic change`
        : `tag g${to} never removed`,
    },
  ];
}

function describeCloudEvent(e: LocalCloudEvent): string {
  const parts = Object.entries(e)
    .filter(([k]) => !["seq", "atMs", "type", "service", "revision"].includes(k))
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(",") : String(v)}`);
  return parts.join(" ").slice(0, 200);
}

/** The runbook's promises for the scenario, each checked. */
export function assess(run: RehearsalRun, timeline: Timeline, probes: OldTokenVerdict): Check[] {
  const { scenario, end } = run;
  const checks: Check[] = [];
  const add = (name: string, ok: boolean, detail: string): void => void checks.push({ name, ok, detail });
  if (run.error) add("the rehearsal ran to its end", false, run.error);
  const scenarioApplies = run.applies.filter((a) => !a.baseline);
  scenario.applies.forEach((step, i) => {
    const apply: ApplyRecord | undefined = scenarioApplies[i];
    const outcome = apply?.outcome ?? "not run";
    add(
      `apply ${i + 1} ${step.expect === "applied" ? "applied" : "stopped with a failed update"}`,
      outcome === step.expect,
      `${step.title}: ${outcome}`,
    );
    if (step.interrupt) {
      const interrupted = apply?.attempts[0]?.up?.interrupted === true;
      add(
        `apply ${i + 1} was interrupted midway, then ran again`,
        interrupted && (apply?.attempts.length ?? 0) === 2,
        interrupted ? "interrupted, re-run" : "not interrupted",
      );
    }
  });
  const credential = scenario.end.credential;
  for (const generation of scenario.end.disabled) {
    const state = versionState(end.versions, credential, generation);
    add(`${credential} generation ${generation} disabled`, state === "DISABLED", `version state ${state}`);
  }
  for (const generation of scenario.end.enabled) {
    const state = versionState(end.versions, credential, generation);
    add(`${credential} generation ${generation} still enabled`, state === "ENABLED", `version state ${state}`);
  }
  if (scenario.end.disabled.length === 0) {
    const revoked = end.versions.filter((v) => v.state !== "ENABLED");
    add(
      "nothing revoked",
      revoked.length === 0,
      revoked.length === 0 ? "every version enabled" : revoked.map((v) => `${v.credential} g${v.generation} ${v.state}`).join(", "),
    );
  }
  const verified = (end.outputs.verifiedGenerations as Record<string, unknown> | undefined)?.[credential];
  add(
    `the last passing verification vouched for ${credential} generation ${scenario.end.current}`,
    verified === scenario.end.current,
    `verifiedGenerations.${credential} = ${String(verified)}`,
  );

  // In each update: executor before control, control before verification, verification before revocation.
  timeline.runs.forEach((r) => {
    const phase = (p: RunbookPhase): { start: number; end: number | null } | null => {
      const steps = timeline.steps.filter((s) => s.run === r.index && s.phase === p && s.timed);
      if (steps.length === 0) return null;
      return {
        start: Math.min(...steps.map((s) => s.start)),
        end: steps.some((s) => s.end === null) ? null : Math.max(...steps.map((s) => s.end as number)),
      };
    };
    const order: [RunbookPhase, RunbookPhase][] = [
      ["deploy-executor", "deploy-control"],
      ["deploy-control", "verify"],
      ["verify", "revoke"],
    ];
    for (const [before, after] of order) {
      const a = phase(before);
      const b = phase(after);
      if (!a || !b) continue;
      add(
        `update ${r.index + 1}: ${PHASE_LABELS[before]} finished before ${PHASE_LABELS[after]} began`,
        a.end !== null && a.end <= b.start,
        "",
      );
    }
    const verify = phase("verify");
    const revoke = phase("revoke");
    if (revoke && verify && timeline.steps.some((s) => s.run === r.index && s.phase === "verify" && s.status === "failed")) {
      add(`update ${r.index + 1}: no revocation after a failed verification`, false, "revoke ran");
    }
  });

  if (scenario.end.oldTokenRefused) {
    add(
      `the old token (generation ${scenario.from}) is refused at every URL of the executor`,
      probes.rounds > 0 && probes.stillAcceptedAt.length === 0,
      probes.stillAcceptedAt.length > 0 ? `still accepted at ${probes.stillAcceptedAt.join(", ")}` : `${probes.rounds} probe rounds`,
    );
  }
  add(
    `the executor answers the token of generation ${scenario.end.serving}`,
    end.executorAcceptsGeneration === scenario.end.serving,
    `GET /status accepts generation ${String(end.executorAcceptsGeneration)}; with the stack's current token: ${end.executorAnswers}`,
  );
  add("the control service answers", end.controlAnswers === 200, `GET /status: ${end.controlAnswers}`);

  if (scenario.end.executorRevisionFails) {
    const failedRevision = run.cloudEvents.find(
      (e) =>
        e.atMs >= run.scenarioStartMs &&
        e.type === "revision-failed" &&
        isService(e, run.afterBaseline.executor?.name.split("/").pop() ?? "?"),
    );
    add(
      "the new executor revision never started",
      failedRevision !== undefined,
      failedRevision ? `${String(failedRevision.revision)}: ${String(failedRevision.reason ?? "")}`.slice(0, 200) : "no failed revision",
    );
    const before = run.afterBaseline.control?.latestReadyRevision ?? null;
    const after = end.control?.latestReadyRevision ?? null;
    add(
      "the apply stopped before the control rollout",
      before !== null && before === after,
      `control revision ${String(before)} -> ${String(after)}`,
    );
    const oldExecutor = run.afterBaseline.executor?.latestReadyRevision?.split("/").pop();
    const failedAt = scenarioApplies[scenarioApplies.length - 1]?.attempts.slice(-1)[0]?.up?.endMs ?? run.endedMs;
    const later = run.traffic.filter((c) => c.atMs > failedAt);
    const served = later.filter((c) => c.status === 200 && c.executorRevision === oldExecutor).length;
    add(
      "traffic keeps flowing to the old executor revision",
      later.length > 0 && served === later.length,
      `${served} of ${later.length} calls after the failure answered 200 by ${String(oldExecutor)}`,
    );
  }
  if (scenario.name === "rollback") {
    // The rollback's update: the control is pinned back to the previous generation's token before the
    // rolled-back generation's version is disabled (it leaves the program: a delete, run last).
    const last = timeline.runs.length - 1;
    const steps = timeline.steps.filter((s) => s.run === last);
    const control = steps.filter((s) => s.phase === "deploy-control" && s.op !== "same");
    const dropped = steps.find((s) => s.type === VERSION_TYPE && s.name.endsWith(`-g${scenario.to}`) && /delete/.test(s.op));
    const controlEnd = control.length > 0 && control.every((s) => s.end !== null) ? Math.max(...control.map((s) => s.end as number)) : null;
    add(
      `the control points back at generation ${scenario.from} before generation ${scenario.to} is disabled`,
      controlEnd !== null && dropped !== undefined && controlEnd <= dropped.start,
      `control rollout ${control.length > 0 ? `ended at ${String(controlEnd)}` : "not run"}; generation ${scenario.to}'s version ${dropped ? `${dropped.op} at ${dropped.start}` : "not dropped"}`,
    );
  }
  if (scenario.name === "rollback" || scenario.name === "missing-grant") {
    add(
      `the token of generation ${scenario.from} is accepted again at the end`,
      probes.stillAcceptedAt.includes("main"),
      probes.stillAcceptedAt.join(", ") || "refused everywhere",
    );
  }
  return checks;
}

const ms = (value: number | null): string => (value === null ? "—" : `${value} ms`);
const at = (value: number | null): string => (value === null ? "—" : `+${value} ms`);
const cell = (text: string): string => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

export interface RehearsalMarkdownOptions {
  /** The timeline picture's file name, next to report.md (rehearsal/picture.ts): linked under the summary. */
  readonly timelineSvg?: string;
}

export function renderRehearsalMarkdown(report: RehearsalReport, options: RehearsalMarkdownOptions = {}): string {
  const lines: string[] = [];
  const push = (...more: string[]): void => void lines.push(...more);
  push(`# ${report.title}`, "");
  push(`**${report.ok ? "As the runbook says" : "NOT as the runbook says"}.** ${report.headline}`, "");
  push(`Scenario: ${report.summary} ([runbook](${report.runbook})).`);
  push(
    `Wall time ${report.wallMs} ms (the scenario's applies: ${report.scenarioMs} ms). Control load ${report.settings.load}/s per revision, payments ${report.settings.payRate}/s, rollout ${report.settings.rolloutMs} ms, rotation ${report.settings.rotation}, control timeout ${report.settings.controlTimeoutMs} ms, shutdown grace ${report.settings.shutdownGraceMs} ms, executor: ${report.settings.executorCommand ? "outside command" : "stand-in"}.`,
    "",
  );
  if (options.timelineSvg !== undefined) {
    push(
      `![Timeline: each apply's phases, and the live traffic in calls per second with the failed calls marked](${options.timelineSvg})`,
      "",
    );
  }
  push("## Checks", "", "| check | result | detail |", "| --- | --- | --- |");
  for (const c of report.checks) push(`| ${cell(c.name)} | ${c.ok ? "ok" : "**FAILED**"} | ${cell(c.detail)} |`);
  push("", "## Applies", "", "Times are milliseconds since the scenario's first apply began (the baseline ran before it).", "");
  for (const apply of report.applies) {
    push(`### ${apply.baseline ? "Baseline" : `Apply ${apply.index}`}: ${apply.title}`, "");
    push(`Expected: ${apply.expected}; outcome: **${apply.outcome}**.`, "");
    apply.attempts.forEach((attempt, i) => {
      if (apply.attempts.length > 1) push(`Attempt ${i + 1}:`, "");
      push(
        attempt.previewMs === null
          ? "- preview: none (the baseline is one `pulumi up` with the policy pack, which checks each resource before its step)"
          : `- preview with the policy pack: ${attempt.preview} in ${attempt.previewMs} ms`,
      );
      const verdicts =
        attempt.verdicts.length === 0
          ? "no violation"
          : attempt.verdicts.map((v) => `${v.level} ${v.policy}${v.resource ? ` (${v.resource})` : ""}: ${v.message}`).join("; ");
      push(`- policy verdicts: ${verdicts}`);
      push(`- up: ${attempt.up}${attempt.upMs === null ? "" : ` in ${attempt.upMs} ms`}${attempt.error ? ` (${attempt.error})` : ""}`, "");
      if (attempt.phases.length > 0) {
        push("| phase | start | end | duration | status |", "| --- | --- | --- | --- | --- |");
        for (const p of attempt.phases) push(`| ${p.label} | ${at(p.startMs)} | ${at(p.endMs)} | ${ms(p.ms)} | ${p.status} |`);
        push("");
      }
    });
  }
  const t = report.traffic;
  push("## Live traffic", "");
  push(
    `${t.total.calls} calls from the control's revisions after the baseline: ${t.total.ok} answered, **${t.total.failed} failed** (401, 403, 404, refused), ${t.total.timeouts} timeouts (counted apart: a busy machine), ${t.total.other} other. Outcomes: ${
      Object.entries(t.total.outcomes)
        .map(([k, v]) => `${k} x${v}`)
        .join(", ") || "none"
    }.`,
    "",
  );
  push(
    t.failureWindow
      ? `Measured failure window: ${at(t.failureWindow.firstAtMs)} to ${at(t.failureWindow.lastAtMs)} (**${t.failureWindow.ms} ms**, ${t.failureWindow.failed} failed calls).`
      : "Measured failure window: **none** (no failed call).",
    "",
  );
  if (t.total.failedRoutes.length > 0) {
    push("| control revision | executor revision | outcome | calls |", "| --- | --- | --- | --- |");
    for (const r of t.total.failedRoutes)
      push(`| ${r.controlRevision} | ${r.executorRevision ?? "none (no answer)"} | ${r.outcome} | ${r.count} |`);
    push("");
  }
  push("| span | from | to | calls | failed | timeouts |", "| --- | --- | --- | --- | --- | --- |");
  for (const s of t.perPhase) push(`| ${s.label} | ${at(s.startAtMs)} | ${at(s.endAtMs)} | ${s.calls} | ${s.failed} | ${s.timeouts} |`);
  const p = report.prediction;
  push("", "## Predicted and measured", "");
  push(
    p === null
      ? "No apply of this scenario moves the token: the plan predicts no failed-call window."
      : `The plan (\`npm run plan\` on apply ${p.apply}'s stack file, ${p.strategy}) predicted a failed-call window of **${p.predicted}**; ` +
          `measured: **${p.measuredFailed} failed calls over ${p.measuredWindowMs} ms** (control rollout ${ms(p.controlRolloutMs)}). ` +
          `${p.matches ? "They match" : "They do NOT match"}: ${p.detail}.`,
  );
  push("", "## The old token", "");
  const o = report.oldToken;
  push(
    o.stillAcceptedAt.length > 0
      ? `Generation ${o.generation}'s token is still accepted at the end, at: ${o.stillAcceptedAt.join(", ")} (${o.probeRounds} probe rounds of every executor URL).`
      : o.refusedEverywhereFromMs !== null
        ? `Generation ${o.generation}'s token was last accepted at ${at(o.lastAcceptedAtMs)} and refused at every executor URL from ${at(o.refusedEverywhereFromMs)} (${o.probeRounds} probe rounds).`
        : `Generation ${o.generation}'s token was not seen accepted (${o.probeRounds} probe rounds).`,
    "",
  );
  push("## Verification", "");
  if (report.verification.checks.length > 0) {
    push("| check | ok | ms |", "| --- | --- | --- |");
    for (const c of report.verification.checks) push(`| ${cell(c.name)} | ${c.ok ? "ok" : "FAILED"} | ${c.ms} |`);
    push("");
  }
  for (const f of report.verification.failures) push(`- failed: ${cell(f)}`);
  push("", "## Revoked", "");
  push(
    report.revoked.length === 0
      ? "Nothing was revoked."
      : report.revoked.map((r) => `- ${r.credential} generation ${r.generation} (version ${r.version})`).join("\n"),
    "",
  );
  push("## The local cloud's timeline", "", "| at | event | service | revision | detail |", "| --- | --- | --- | --- | --- |");
  for (const e of report.cloud) push(`| ${at(e.atMs)} | ${e.type} | ${e.service} | ${e.revision ?? ""} | ${cell(e.detail)} |`);
  if (report.error) push("", `Stopped: ${report.error}`);
  push("");
  return lines.join("\n");
}

export function renderRehearsalJson(report: RehearsalReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
