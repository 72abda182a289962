/**
 * The offline plan's predicted failed-call window next to the rehearsal's measured one. Before each
 * of the scenario's applies the rehearsal runs `npm run plan` on the very stack file the apply uses
 * (`planPrediction`); the apply whose plan predicts a token rotation is the one the prediction is
 * about. `comparePrediction` (pure) says whether the measurement matches: `tagged` predicts 0
 * failed calls, so any failed call is a mismatch; `in-place` predicts about one control rollout,
 * so the measured window must be there and last no longer than that apply's control rollout plus
 * the cloud's shutdown grace (the old control revision's calls still in flight when its traffic
 * moved).
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import type { RoutingPrediction } from "../ops/plan/plan";
import { sanitizeMessage } from "../ops/drill/timeline";

/** What the plan said before one of the scenario's applies (1-based, as in the report). */
export interface PlanPrediction {
  readonly apply: number;
  /** The plan's routing prediction; null when the apply moves no token generation. */
  readonly routing: RoutingPrediction | null;
  /** Set when the plan could not be made (the comparison then fails). */
  readonly error: string | null;
}

export interface PredictionReport {
  /** The apply the prediction is about. */
  readonly apply: number;
  readonly strategy: RoutingPrediction["strategy"];
  /** 0, or 1 (about one control rollout). */
  readonly predictedRollouts: 0 | 1;
  readonly predicted: string;
  readonly measuredFailed: number;
  /** First to last failed call; 0 when none failed. */
  readonly measuredWindowMs: number;
  /** That apply's control rollout (its deploy-control phase), ms; null when not measured. */
  readonly controlRolloutMs: number | null;
  /** The longest window `in-place` may show: the control rollout plus the shutdown grace. */
  readonly allowedWindowMs: number;
  readonly matches: boolean;
  readonly detail: string;
}

export interface Measured {
  readonly failed: number;
  readonly windowMs: number | null;
  /** The deploy-control phase's duration of each apply, by apply number (1-based). */
  readonly controlRolloutMs: Readonly<Record<number, number | null>>;
  /** The cloud's shutdown grace: an old revision's in-flight calls may still fail for this long. */
  readonly shutdownGraceMs: number;
}

/**
 * The prediction for the scenario and whether the measurement matches it; null when no apply's
 * plan predicts a token rotation (a Spark key or mnemonic scenario, a rollback).
 */
export function comparePrediction(predictions: readonly PlanPrediction[], measured: Measured): PredictionReport | null {
  const failedPlan = predictions.find((p) => p.error !== null);
  const about = predictions.find((p) => p.routing !== null);
  if (!about || !about.routing) {
    if (!failedPlan) return null;
    return {
      apply: failedPlan.apply,
      strategy: "tagged",
      predictedRollouts: 0,
      predicted: "unknown",
      measuredFailed: measured.failed,
      measuredWindowMs: measured.windowMs ?? 0,
      controlRolloutMs: null,
      allowedWindowMs: 0,
      matches: false,
      detail: `the plan for apply ${failedPlan.apply} could not be made: ${failedPlan.error}`,
    };
  }
  const routing = about.routing;
  const windowMs = measured.windowMs ?? 0;
  const controlRolloutMs = measured.controlRolloutMs[about.apply] ?? null;
  const allowedWindowMs = routing.failedCallWindowRollouts === 0 ? 0 : (controlRolloutMs ?? 0) + measured.shutdownGraceMs;
  let matches: boolean;
  let detail: string;
  if (routing.failedCallWindowRollouts === 0) {
    matches = measured.failed === 0;
    detail = matches ? "predicted 0, measured 0 failed calls" : `predicted 0, measured ${measured.failed} failed calls over ${windowMs} ms`;
  } else if (controlRolloutMs === null) {
    matches = false;
    detail = `predicted about one control rollout, but apply ${about.apply} has no measured control rollout`;
  } else {
    matches = measured.failed > 0 && windowMs <= allowedWindowMs;
    detail =
      measured.failed === 0
        ? `predicted about one control rollout (${controlRolloutMs} ms), measured no failed call`
        : `predicted about one control rollout (${controlRolloutMs} ms, + ${measured.shutdownGraceMs} ms shutdown grace = ${allowedWindowMs} ms), ` +
          `measured ${measured.failed} failed calls over ${windowMs} ms${matches ? "" : ": longer than one rollout"}`;
  }
  return {
    apply: about.apply,
    strategy: routing.strategy,
    predictedRollouts: routing.failedCallWindowRollouts,
    predicted: routing.failedCallWindow,
    measuredFailed: measured.failed,
    measuredWindowMs: windowMs,
    controlRolloutMs,
    allowedWindowMs,
    matches,
    detail,
  };
}

/**
 * `npm run plan -- --stack <stack> --config-file <stackFile> --json` of the project at `sourceDir`,
 * as a process (the plan evaluates the program under mocks: never in the rehearsal's own process).
 * What the stack last applied is, as for any plan, the project's stack file at its git HEAD.
 */
export function planPrediction(sourceDir: string, stack: string, stackFile: string, apply: number): Promise<PlanPrediction> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        "--require",
        path.join(sourceDir, "tools", "register.js"),
        path.join(sourceDir, "ops", "plan", "cli.ts"),
        "--stack",
        stack,
        "--config-file",
        stackFile,
        "--json",
      ],
      { cwd: sourceDir, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", (err) => resolve({ apply, routing: null, error: sanitizeMessage(err.message) }));
    child.once("close", (code) => {
      // 1 is a mandatory finding (the plan is still printed); 2 a usage or config error.
      if (code !== 0 && code !== 1) {
        const line = stderr.split("\n").find((l) => l.trim() !== "") ?? `exit ${String(code)}`;
        resolve({ apply, routing: null, error: sanitizeMessage(line.trim()) });
        return;
      }
      try {
        const plan = JSON.parse(stdout) as { routing?: RoutingPrediction | null };
        resolve({ apply, routing: plan.routing ?? null, error: null });
      } catch {
        resolve({ apply, routing: null, error: "the plan printed no JSON" });
      }
    });
  });
}
