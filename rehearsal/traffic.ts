/**
 * The control's live traffic during a rehearsal, read back from the records each control instance
 * appends (JSON lines, one call per line), and the old-token probes the rehearsal makes itself.
 * Pure: parsing and counting. A failed call is a 401, 403 or 404, or a refused connection: what a
 * rotation breaks. Timeouts (a busy machine) and other transport errors are counted apart.
 */

/** One call of a control revision to the executor (harness/stand-in-control.ts writes these). */
export interface TrafficCall {
  readonly atMs: number;
  readonly path: string;
  readonly controlRevision: string;
  readonly executorRevision?: string;
  readonly status?: number;
  readonly failure?: string;
  readonly durationMs: number;
}

export type CallKind = "ok" | "failed" | "timeout" | "other";

const FAILED_STATUSES: ReadonlySet<number> = new Set([401, 403, 404]);

export function classify(call: TrafficCall): CallKind {
  if (call.status !== undefined) {
    if (FAILED_STATUSES.has(call.status)) return "failed";
    return call.status < 400 ? "ok" : "other";
  }
  if (call.failure === "refused") return "failed";
  if (call.failure === "timeout") return "timeout";
  return "other";
}

/** What a call is counted as: its status code, or its failure (`refused`, `timeout`, ...). */
export const outcomeOf = (call: TrafficCall): string => (call.status !== undefined ? String(call.status) : (call.failure ?? "error"));

/** Parses record files' text; a cut-off last line (the instance was stopping) is skipped. */
export function parseTrafficRecords(texts: readonly string[]): TrafficCall[] {
  const calls: TrafficCall[] = [];
  for (const text of texts) {
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      try {
        const parsed = JSON.parse(line) as Partial<TrafficCall>;
        if (typeof parsed.atMs !== "number" || typeof parsed.controlRevision !== "string") continue;
        calls.push({ path: "/status", durationMs: 0, ...parsed } as TrafficCall);
      } catch {
        // A line cut off by a stopping instance.
      }
    }
  }
  return calls.sort((a, b) => a.atMs - b.atMs);
}

/** A span of the rehearsal's time a call can fall into (a phase of an apply, or the time between). */
export interface Span {
  readonly label: string;
  readonly startMs: number;
  readonly endMs: number;
}

export interface RoutePair {
  readonly controlRevision: string;
  readonly executorRevision: string | null;
  readonly outcome: string;
  readonly count: number;
}

export interface TrafficTally {
  readonly calls: number;
  readonly ok: number;
  readonly failed: number;
  readonly timeouts: number;
  readonly other: number;
  /** Count per status code or failure. */
  readonly outcomes: Readonly<Record<string, number>>;
  /** Which control revision reached which executor revision, with what outcome (failed calls only). */
  readonly failedRoutes: readonly RoutePair[];
}

export function tally(calls: readonly TrafficCall[]): TrafficTally {
  const outcomes: Record<string, number> = {};
  const routes = new Map<string, RoutePair>();
  let ok = 0;
  let failed = 0;
  let timeouts = 0;
  let other = 0;
  for (const call of calls) {
    const outcome = outcomeOf(call);
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    const kind = classify(call);
    if (kind === "ok") ok += 1;
    else if (kind === "timeout") timeouts += 1;
    else if (kind === "other") other += 1;
    else {
      failed += 1;
      const key = `${call.controlRevision}\u0000${call.executorRevision ?? ""}\u0000${outcome}`;
      const known = routes.get(key);
      routes.set(key, {
        controlRevision: call.controlRevision,
        executorRevision: call.executorRevision ?? null,
        outcome,
        count: (known?.count ?? 0) + 1,
      });
    }
  }
  return { calls: calls.length, ok, failed, timeouts, other, outcomes, failedRoutes: [...routes.values()] };
}

export interface SpanTally extends TrafficTally {
  readonly label: string;
  readonly startMs: number;
  readonly endMs: number;
}

/**
 * Calls per span: each call goes to the LAST span (by start) that contains its time, so a phase
 * nested in an apply wins over the apply; calls in no span are left out.
 */
export function tallyBySpan(calls: readonly TrafficCall[], spans: readonly Span[]): SpanTally[] {
  const ordered = [...spans].sort((a, b) => a.startMs - b.startMs);
  const buckets = ordered.map(() => [] as TrafficCall[]);
  for (const call of calls) {
    for (let i = ordered.length - 1; i >= 0; i -= 1) {
      if (call.atMs >= ordered[i].startMs && call.atMs <= ordered[i].endMs) {
        buckets[i].push(call);
        break;
      }
    }
  }
  return ordered.map((span, i) => ({ ...span, ...tally(buckets[i]) }));
}

export interface FailureWindow {
  readonly firstMs: number;
  readonly lastMs: number;
  readonly ms: number;
  readonly failed: number;
}

/** First to last failed call: the measured failure window (null when nothing failed). */
export function failureWindow(calls: readonly TrafficCall[]): FailureWindow | null {
  const failed = calls.filter((call) => classify(call) === "failed");
  if (failed.length === 0) return null;
  const firstMs = failed[0].atMs;
  const lastMs = failed[failed.length - 1].atMs;
  return { firstMs, lastMs, ms: lastMs - firstMs, failed: failed.length };
}

/** One round of the rehearsal's own probes: the old token against every URL of the executor. */
export interface ProbeRound {
  readonly atMs: number;
  /** Per URL label (`main`, `tag:<name>`): the status, or the failure. */
  readonly answers: Readonly<Record<string, string>>;
}

export interface OldTokenVerdict {
  /** The last round in which some URL still accepted the old token (null: never seen accepted). */
  readonly lastAcceptedMs: number | null;
  /** The first round after that, when no URL accepted it any more (null: still accepted at the end, or no rounds). */
  readonly refusedEverywhereFromMs: number | null;
  /** URLs that accepted it in the last round. */
  readonly stillAcceptedAt: readonly string[];
  /** The last round's answer at every URL it probed (`main`, `tag:<name>`): the executor's URLs at the end. */
  readonly lastAnswers: Readonly<Record<string, string>>;
  readonly rounds: number;
}

export function oldTokenVerdict(rounds: readonly ProbeRound[]): OldTokenVerdict {
  const accepted = (round: ProbeRound): string[] =>
    Object.entries(round.answers)
      .filter(([, answer]) => answer === "200")
      .map(([url]) => url);
  let lastAccepted = -1;
  rounds.forEach((round, i) => {
    if (accepted(round).length > 0) lastAccepted = i;
  });
  const last = rounds[rounds.length - 1];
  const stillAcceptedAt = last ? accepted(last) : [];
  const after = rounds[lastAccepted + 1];
  return {
    lastAcceptedMs: lastAccepted >= 0 ? rounds[lastAccepted].atMs : null,
    refusedEverywhereFromMs: stillAcceptedAt.length === 0 && after !== undefined ? after.atMs : null,
    stillAcceptedAt,
    lastAnswers: last ? { ...last.answers } : {},
    rounds: rounds.length,
  };
}
