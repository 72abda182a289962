/**
 * The plan's predicted failed-call window against the rehearsal's measured one: 0 must be 0; about
 * one control rollout must be a window no longer than that apply's control rollout plus the
 * shutdown grace.
 */
import type { RoutingPrediction } from "../../ops/plan/plan";
import { Measured, PlanPrediction, comparePrediction } from "../../rehearsal/prediction";

const routing = (strategy: "tagged" | "in-place", rollouts: 0 | 1): RoutingPrediction => ({
  strategy,
  fromGeneration: 4,
  toGeneration: 5,
  waves: [],
  failedCallWindowRollouts: rollouts,
  failedCallWindow: rollouts === 0 ? "0" : "about one control rollout",
});
const measured = (failed: number, windowMs: number | null, controlMs: number | null = 2_000): Measured => ({
  failed,
  windowMs,
  controlRolloutMs: { 1: controlMs, 2: 500 },
  shutdownGraceMs: 3_000,
});
const plans = (first: RoutingPrediction | null, second: RoutingPrediction | null = null): PlanPrediction[] => [
  { apply: 1, routing: first, error: null },
  { apply: 2, routing: second, error: null },
];

test("tagged: predicted 0 matches only 0 failed calls", () => {
  expect(comparePrediction(plans(routing("tagged", 0)), measured(0, null))).toMatchObject({
    apply: 1,
    strategy: "tagged",
    predictedRollouts: 0,
    matches: true,
    detail: "predicted 0, measured 0 failed calls",
  });
  expect(comparePrediction(plans(routing("tagged", 0)), measured(1, 0))).toMatchObject({
    matches: false,
    detail: "predicted 0, measured 1 failed calls over 0 ms",
  });
});

test("in-place: a window within the rotating apply's control rollout plus the shutdown grace matches; a longer one or none does not", () => {
  const inPlace = plans(routing("in-place", 1));
  expect(comparePrediction(inPlace, measured(40, 4_900))).toMatchObject({
    controlRolloutMs: 2_000,
    allowedWindowMs: 5_000,
    matches: true,
  });
  const tooLong = comparePrediction(inPlace, measured(40, 5_001));
  expect(tooLong?.matches).toBe(false);
  expect(tooLong?.detail).toContain("longer than one rollout");
  const none = comparePrediction(inPlace, measured(0, null));
  expect(none?.matches).toBe(false);
  expect(none?.detail).toContain("measured no failed call");
  expect(comparePrediction(inPlace, measured(40, 100, null))).toMatchObject({ matches: false });
});

test("the prediction is the one of the apply that moves the token, with that apply's control rollout", () => {
  // The first apply whose plan predicts a rotation (a scenario whose first apply moves no token).
  const report = comparePrediction(plans(null, routing("in-place", 1)), measured(10, 900));
  expect(report).toMatchObject({ apply: 2, controlRolloutMs: 500, allowedWindowMs: 3_500, matches: true });
});

test("no apply moves the token: nothing to compare; a plan that could not be made is a mismatch", () => {
  expect(comparePrediction(plans(null), measured(0, null))).toBeNull();
  expect(comparePrediction([{ apply: 1, routing: null, error: "error: boom" }], measured(0, null))).toMatchObject({
    matches: false,
    detail: "the plan for apply 1 could not be made: error: boom",
  });
});
