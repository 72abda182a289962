/**
 * Where a request goes: the service's applied routing (targets resolved to revision names), and,
 * while a traffic change is in progress, a mix of the old and the new routing in which the share of
 * new requests going to the new one grows from 0 to 1. The choices are deterministic (weighted
 * round robin, an accumulator for the mix), so a test sees exact shares, not random ones.
 */
import { TrafficType } from "./spec";

export interface ResolvedTarget {
  readonly type: TrafficType;
  readonly revision: string;
  readonly percent: number;
  readonly tag?: string;
}

export interface Routing {
  readonly targets: readonly ResolvedTarget[];
}

export const NO_ROUTING: Routing = { targets: [] };

/** Percent of the main URL's traffic per revision (revisions with 0 left out). */
export function percentsOf(routing: Routing): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of routing.targets) if (t.percent > 0) out.set(t.revision, (out.get(t.revision) ?? 0) + t.percent);
  return out;
}

export function tagsOf(routing: Routing): Map<string, string> {
  const out = new Map<string, string>();
  for (const t of routing.targets) if (t.tag !== undefined) out.set(t.tag, t.revision);
  return out;
}

/** Revisions a request can reach: with traffic, or with a tag. */
export function reachableRevisions(routing: Routing): Set<string> {
  return new Set([...percentsOf(routing).keys(), ...tagsOf(routing).values()]);
}

export function sameRouting(a: Routing, b: Routing): boolean {
  const key = (r: Routing): string =>
    r.targets
      .map((t) => `${t.revision}:${t.percent}:${t.tag ?? ""}`)
      .sort()
      .join("|");
  return key(a) === key(b);
}

/** Smooth weighted round robin (as nginx does): exact shares over every window of 100 picks. */
export class WeightedPicker {
  private readonly current = new Map<string, number>();

  pick(weights: ReadonlyMap<string, number>): string | undefined {
    let total = 0;
    let best: string | undefined;
    let bestScore = -Infinity;
    for (const [key, weight] of weights) {
      total += weight;
      const score = (this.current.get(key) ?? 0) + weight;
      this.current.set(key, score);
      if (score > bestScore) {
        bestScore = score;
        best = key;
      }
    }
    if (best !== undefined) this.current.set(best, bestScore - total);
    return best;
  }
}

/** Picks "new" for a `fraction` of the calls, spread evenly (an accumulator, not a coin). */
export class Mixer {
  private accumulated = 0;

  next(fraction: number): boolean {
    this.accumulated += Math.min(1, Math.max(0, fraction));
    if (this.accumulated >= 1) {
      this.accumulated -= 1;
      return true;
    }
    return false;
  }
}

export interface Transition {
  readonly from: Routing;
  readonly to: Routing;
  readonly startMs: number;
  readonly durationMs: number;
  readonly mixer: Mixer;
}

/** The routing a new request sees now: the applied one, or during a transition the old or the new. */
export function routingForRequest(applied: Routing, transition: Transition | undefined, nowMs: number): Routing {
  if (!transition) return applied;
  const fraction = transition.durationMs <= 0 ? 1 : (nowMs - transition.startMs) / transition.durationMs;
  return transition.mixer.next(fraction) ? transition.to : transition.from;
}
