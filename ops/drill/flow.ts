/**
 * The drill's orchestration: bump the token generation in the stack file, `up`, check the
 * verification, then ask for revocation and `up` again (or all in one `up` when simulating a
 * compromise). Every `up` is gated (ops/deploy/gate.ts): a preview with the policy pack runs
 * first, a refusal stops the drill before anything changes, and the update applies the plan that
 * preview saved. Runs over the small `DrillWorkspace` interface so the order of calls and the
 * failure handling are testable without a Pulumi CLI; `openLocalDrillWorkspace` is the real one.
 *
 * Config is changed by rewriting `Pulumi.<stack>.yaml` (ops/drill/config.ts), not with
 * `stack.setConfig`: the file is what gets committed, one rewrite is the exact diff a reviewer sees
 * (comments and layout kept), and the CLI reads that file at `up`. `setConfig` would go through the
 * CLI once per key and reformat the file its own way.
 */
import { promises as fs } from "node:fs";
import * as path from "node:path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { bumpTokenGeneration, setRevokePrevious } from "./config";
import { ConfigError } from "../../stack/config";
import { parseUrn } from "../../stack/phases";
import { buildTimeline, phaseInProgress, phaseTiming, type Timeline } from "./timeline";
import { type GatedOutcome, type GatedStack, gatedUpdate, openLocalGatedStack, summarizeCommandError } from "../deploy/gate";

export type { GateRequest, PreviewOutcome, UpOutcome } from "../deploy/gate";
export { summarizeCommandError };

/**
 * What the drill needs from Pulumi: the stack file, and the gated preview and update
 * (ops/deploy/gate.ts). Every `up` of the drill runs only after a preview with the policy pack
 * passed, constrained to the plan that preview saved.
 */
export interface DrillWorkspace extends GatedStack {
  /** The stack file's path (in the project's directory, where the policy pack is too). */
  readonly stackConfigPath: string;
  readStackConfig(): Promise<string>;
  writeStackConfig(yamlText: string): Promise<void>;
}

export interface DrillOptions {
  /** Rotation and revocation in one `up` (a compromised token must not wait for a second one). */
  compromised: boolean;
  /** Progress lines for the terminal. */
  log?: (line: string) => void;
  /** Unix milliseconds; stamps an event that arrives without a timestamp. */
  now?: () => number;
  /** Ctrl-C: the running `pulumi` command is cancelled, nothing further runs, the run says it was interrupted. */
  signal?: AbortSignal;
}

export interface DrillRun {
  /** True when rotated, verified and revoked. */
  ok: boolean;
  generation: { from: number; to: number };
  /** Each `up`'s events, as received. */
  runs: EngineEvent[][];
  timeline: Timeline;
  /** Why the drill stopped, when it stopped; always says whether the old version is still enabled. */
  failure: string | null;
  /** The same without the "still enabled" part (the report adds its own). */
  reason: string | null;
  /** What the drill wrote to the stack file, in order (for the terminal and the tests). */
  configChanges: string[];
}

/** The reason a drill stopped on Ctrl-C. */
export const INTERRUPTED = "interrupted (Ctrl-C)";

async function collectUp(
  workspace: DrillWorkspace,
  now: () => number,
  log: (line: string) => void,
  signal?: AbortSignal,
): Promise<{ events: EngineEvent[]; outcome: GatedOutcome }> {
  const events: EngineEvent[] = [];
  const showPhase = phaseInProgress((_phase, label) => log(`  phase in progress: ${label}`));
  const onEvent = (event: EngineEvent): void => {
    showPhase(event);
    // A line per finished change, so a several-minute `up` shows progress (names and ops only).
    const finished = event.resOutputsEvent?.metadata ?? event.resOpFailedEvent?.metadata;
    if (finished && finished.op !== "same") {
      log(`  ${event.resOpFailedEvent ? "FAILED" : "done  "} ${finished.op} ${parseUrn(finished.urn).name}`);
    }
    // Newer CLIs stream events over gRPC; keep the order and timing usable even if an event lacks them.
    const complete =
      typeof event.timestamp === "number" && typeof event.sequence === "number"
        ? event
        : {
            ...event,
            sequence: typeof event.sequence === "number" ? event.sequence : events.length,
            timestamp: typeof event.timestamp === "number" ? event.timestamp : Math.floor(now() / 1000),
          };
    events.push(complete);
  };
  const outcome = await gatedUpdate(workspace, {
    projectDir: path.dirname(workspace.stackConfigPath),
    onEvent,
    log,
    ...(signal ? { signal } : {}),
  });
  return { events, outcome };
}

/** Why an update did not apply, in one phrase (`prefix` names the update when it applied and failed). */
function notApplied(outcome: Exclude<GatedOutcome, { ok: true }>, prefix: string): string {
  return outcome.stage === "refused" ? `${outcome.error}; nothing applied` : `${prefix}: ${outcome.error}`;
}

/**
 * Runs the drill. Throws only before anything changed (the stack file cannot be read or refuses
 * the bump, e.g. a rotation is still open); every later problem is a `failure` in the result.
 */
export async function runDrill(workspace: DrillWorkspace, options: DrillOptions): Promise<DrillRun> {
  const log = options.log ?? ((): void => undefined);
  const now = options.now ?? Date.now;
  const file = path.basename(workspace.stackConfigPath);

  const bump = bumpTokenGeneration(await workspace.readStackConfig(), { compromised: options.compromised });
  const { from, to } = bump;
  const stillEnabled = `old version ${from} still enabled`;
  await workspace.writeStackConfig(bump.yamlText);
  const configChanges = [
    `${file}: authToken current ${from} -> ${to}, previous ${from}${options.compromised ? ", revokePrevious true" : ""}`,
  ];
  log(configChanges[0]);

  const result = (runs: EngineEvent[][], stop: { reason: string; tail: string } | null): DrillRun => ({
    ok: stop === null,
    generation: { from, to },
    runs,
    timeline: buildTimeline(runs),
    failure: stop === null ? null : `${stop.reason}; ${stop.tail}`,
    reason: stop?.reason ?? null,
    configChanges,
  });

  log(options.compromised ? "pulumi up: rotate, verify and revoke" : "pulumi up: rotate and verify");
  const interrupted = (): boolean => options.signal?.aborted === true;
  const first = await collectUp(workspace, now, log, options.signal);
  const afterFirst = buildTimeline([first.events]);
  const verify = phaseTiming(afterFirst, "verify");
  const revokedInFirst = phaseTiming(afterFirst, "revoke").status === "succeeded";

  if (!first.outcome.ok || verify.status !== "succeeded") {
    const why = interrupted()
      ? `${INTERRUPTED} during the rotation update`
      : !first.outcome.ok
        ? notApplied(first.outcome, "pulumi up failed")
        : verify.status === "not-run"
          ? "the verification did not run in this update"
          : `the verification ${verify.status === "open" ? "never finished" : "failed"}`;
    const tail = revokedInFirst ? `old version ${from} was revoked` : `stopped, ${stillEnabled}`;
    const keep = options.compromised ? "" : " (revokePrevious not set)";
    return result([first.events], { reason: why, tail: `${tail}${keep}` });
  }
  if (options.compromised) {
    return result(
      [first.events],
      revokedInFirst ? null : { reason: "verified, but the revocation did not run in this update", tail: stillEnabled },
    );
  }

  if (interrupted())
    return result([first.events], { reason: `${INTERRUPTED} after the verification, before the revocation`, tail: stillEnabled });
  log(`verified generation ${to}; revoking generation ${from}`);
  try {
    await workspace.writeStackConfig(setRevokePrevious(await workspace.readStackConfig()).yamlText);
  } catch (error) {
    // The rotation is live by now, so this is a drill failure, not an untouched stack.
    return result([first.events], {
      reason: `could not set revokePrevious in ${file}: ${error instanceof ConfigError ? error.summary : (error as Error).message}`,
      tail: stillEnabled,
    });
  }
  configChanges.push(`${file}: authToken revokePrevious true`);
  log(configChanges[1]);

  log("pulumi up: revoke");
  const second = await collectUp(workspace, now, log, options.signal);
  const runs = [first.events, second.events];
  const revoked = phaseTiming(buildTimeline([second.events]), "revoke").status === "succeeded";
  if (!second.outcome.ok || !revoked) {
    const why = interrupted()
      ? `${INTERRUPTED} during the revocation update`
      : !second.outcome.ok
        ? notApplied(second.outcome, "the revocation update failed")
        : "the revocation did not run";
    return result(runs, { reason: why, tail: revoked ? `old version ${from} was revoked` : stillEnabled });
  }
  return result(runs, null);
}

/**
 * The real workspace: the project's own directory through the Automation API, previewing with the
 * pack and updating with the saved plan (ops/deploy/gate.ts). Needs the Pulumi CLI and the
 * stack's backend login; loaded lazily so `--from-events` and the tests never touch it.
 */
export async function openLocalDrillWorkspace(args: { stackName: string; workDir: string }): Promise<DrillWorkspace> {
  const gated = await openLocalGatedStack({ ...args, message: "wallet-executor token rotation drill" });
  // `org/project/staging` keeps its settings in Pulumi.staging.yaml.
  const stackConfigPath = path.join(args.workDir, `Pulumi.${args.stackName.split("/").pop()}.yaml`);
  return {
    stackConfigPath,
    readStackConfig: () => fs.readFile(stackConfigPath, "utf8"),
    writeStackConfig: (yamlText) => fs.writeFile(stackConfigPath, yamlText, "utf8"),
    preview: (request) => gated.preview(request),
    up: (request, onEvent) => gated.up(request, onEvent),
  };
}
