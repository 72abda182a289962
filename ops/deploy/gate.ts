/**
 * The deploy gate, for every path that applies a change from code (the drill, `npm run deploy`):
 *
 *   1. `pulumi preview` with the policy pack and its config, saving the update plan;
 *   2. a mandatory violation (or any preview failure) stops here: nothing is applied;
 *   3. `pulumi up` with the same pack and config, constrained to the saved plan.
 *
 * Why not `stack.up()` alone: the Automation API runs `pulumi up --yes --skip-preview`
 * (@pulumi/pulumi automation/stack.js), so the pack's stack policies would run only at the end of
 * the update, after a revocation. With `--plan`, the CLI refuses any step the gated preview did not
 * show (pkg/resource/deploy/plan.go: "violates plan"); values unknown at preview may still resolve
 * to anything. The deploy workflow runs the same two commands (.github/workflows/deploy.yml), with
 * the same pack and config; tests/ops/deploy-gate.test.ts holds both to this.
 */
import { promises as fs, readFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { sanitizeMessage } from "../../lib/redact";

/** The policy pack and its config, relative to the project: the same for the PR preview and every deploy. */
export const POLICY_PACK = "policy";
export const POLICY_PACK_CONFIG = "policy/policy-config.json";

/**
 * The `@pulumi/policy` version installed for the pack of `projectDir` (`policy/node_modules`: the
 * pack is a package of its own, which the project's `npm ci` does not install), or undefined when
 * it is not: the CLI cannot run the pack then.
 */
export function installedPolicySdk(projectDir: string): string | undefined {
  try {
    const manifest = path.join(projectDir, POLICY_PACK, "node_modules", "@pulumi", "policy", "package.json");
    const version = (JSON.parse(readFileSync(manifest, "utf8")) as { version?: unknown }).version;
    return typeof version === "string" ? version : undefined;
  } catch {
    return undefined;
  }
}

/** A mandatory policy violation the preview reported. */
export interface PolicyRefusal {
  readonly policy: string;
  /** The resource's logical name, when the violation is about one. */
  readonly resource?: string;
  readonly message: string;
}

/** How the gated preview ended. A failed preview is a result, not an exception. */
export interface PreviewOutcome {
  readonly ok: boolean;
  /** One line on why it failed (no secrets: the CLI masks them, and it is sanitised again). */
  readonly error?: string;
  /** The mandatory violations it reported (empty when it failed for another reason). */
  readonly refusals: readonly PolicyRefusal[];
}

/** How one `pulumi up` ended. Engine failures are results, not exceptions. */
export interface UpOutcome {
  ok: boolean;
  error?: string;
}

/** The policy packs an engine run is given, each with its config file: absolute paths. */
export interface PolicyPacks {
  readonly policyPacks: readonly string[];
  readonly policyPackConfigs: readonly string[];
}

/** What both commands are given: absolute paths. */
export interface GateRequest extends PolicyPacks {
  /** Where the preview saves the update plan and where the update reads it. */
  readonly planFile: string;
  /** Ctrl-C: the running command gets SIGINT (Pulumi then cancels cleanly) and no further command starts. */
  readonly signal?: AbortSignal;
}

/** A stack the gate can preview and update (the Automation API's, or a test's recording one). */
export interface GatedStack {
  /** `pulumi preview --policy-pack … --policy-pack-config … --save-plan <planFile>`. */
  preview(request: GateRequest): Promise<PreviewOutcome>;
  /** `pulumi up --policy-pack … --policy-pack-config … --plan <planFile>`, passing every engine event on. */
  up(request: GateRequest, onEvent: (event: EngineEvent) => void): Promise<UpOutcome>;
}

export type GatedOutcome =
  /** The preview failed or the pack refused: nothing was applied. */
  | { readonly stage: "refused"; readonly ok: false; readonly error: string; readonly refusals: readonly PolicyRefusal[] }
  /** The update ran and failed (part of it may have been applied). */
  | { readonly stage: "update-failed"; readonly ok: false; readonly error: string }
  | { readonly stage: "applied"; readonly ok: true };

/** One line per refusal, for logs and reports: `policy (resource): message`. */
export function describeRefusals(refusals: readonly PolicyRefusal[]): string {
  return refusals.map((r) => `${r.policy}${r.resource ? ` (${r.resource})` : ""}: ${r.message}`).join("; ");
}

/**
 * The project's pack with its config. `policyPackConfig`: another config file for the same pack (a
 * rehearsal's, which only adds `rehearsal: true` for the revocation endpoint).
 */
export function projectPolicyPacks(projectDir: string, policyPackConfig?: string): PolicyPacks {
  return {
    policyPacks: [path.join(projectDir, POLICY_PACK)],
    policyPackConfigs: [policyPackConfig ?? path.join(projectDir, POLICY_PACK_CONFIG)],
  };
}

/** The request for a project directory and a plan file: the project's pack (see projectPolicyPacks). */
export function gateRequest(projectDir: string, planFile: string, policyPackConfig?: string): GateRequest {
  return { ...projectPolicyPacks(projectDir, policyPackConfig), planFile };
}

/**
 * Preview with the pack, then (only if it passed) the update constrained to its plan. The plan file
 * lives in a private temporary directory, removed afterwards (the CLI encrypts its secrets with the
 * stack's secrets provider; it is still nobody else's business).
 */
export async function gatedUpdate(
  stack: GatedStack,
  options: {
    readonly projectDir: string;
    readonly onEvent: (event: EngineEvent) => void;
    readonly log?: (line: string) => void;
    readonly signal?: AbortSignal;
    /** The pack's config file, when not the shipped one (see gateRequest). */
    readonly policyPackConfig?: string;
  },
): Promise<GatedOutcome> {
  const log = options.log ?? ((): void => undefined);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "wallet-executor-plan-"));
  try {
    const request = {
      ...gateRequest(options.projectDir, path.join(dir, "update-plan.json"), options.policyPackConfig),
      ...(options.signal ? { signal: options.signal } : {}),
    };
    const config = options.policyPackConfig ? path.basename(options.policyPackConfig) : POLICY_PACK_CONFIG;
    log(`  pulumi preview with the policy pack (${POLICY_PACK}, ${config}), saving the update plan`);
    let preview: PreviewOutcome;
    try {
      preview = await stack.preview(request);
    } catch (error) {
      preview = { ok: false, error: summarizeCommandError(error), refusals: [] };
    }
    if (!preview.ok || preview.refusals.length > 0) {
      const error =
        preview.refusals.length > 0
          ? `the policy pack refused the update at preview: ${describeRefusals(preview.refusals)}`
          : `pulumi preview failed${preview.error ? `: ${preview.error}` : ""}`;
      log(`  ${error}; nothing applied`);
      return { stage: "refused", ok: false, error, refusals: preview.refusals };
    }
    if (options.signal?.aborted) {
      log("  interrupted (Ctrl-C) after the preview; nothing applied");
      return { stage: "refused", ok: false, error: "interrupted (Ctrl-C) before the update", refusals: [] };
    }
    log("  pulumi up, constrained to the previewed plan");
    let up: UpOutcome;
    try {
      up = await stack.up(request, options.onEvent);
    } catch (error) {
      up = { ok: false, error: summarizeCommandError(error) };
    }
    return up.ok ? { stage: "applied", ok: true } : { stage: "update-failed", ok: false, error: up.error ?? "update failed" };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** The mandatory violations in a preview's engine events. */
export function refusalsIn(events: readonly EngineEvent[]): PolicyRefusal[] {
  const refusals: PolicyRefusal[] = [];
  for (const event of events) {
    const policy = event.policyEvent;
    if (policy?.enforcementLevel !== "mandatory") continue;
    const resource = policy.resourceUrn ? policy.resourceUrn.split("::").pop() : undefined;
    refusals.push({ policy: policy.policyName, ...(resource ? { resource } : {}), message: sanitizeMessage(policy.message) });
  }
  return refusals;
}

/**
 * One line out of an Automation API CommandError, whose message is the CLI's whole output
 * (`code: …\n stdout: …\n stderr: …\n err?: …`): the most specific `error:` line.
 */
export function summarizeCommandError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const lines = text
    .split("\n")
    .map((line) => line.trim().replace(/^(stdout|stderr|err\?):\s*/, ""))
    .filter((line) => line !== "");
  const errors = lines.filter((line) => /^error:/.test(line)); // Pulumi diagnostics, lower case
  const generic = new Set(["error: update failed", "error: preview failed"]);
  const specific = errors.filter((line) => !generic.has(line));
  const pick =
    specific[specific.length - 1] ??
    errors[errors.length - 1] ??
    [...lines].reverse().find((line) => /error|ENOENT|not found/i.test(line)) ??
    lines[0] ??
    "unknown error";
  return sanitizeMessage(pick);
}

/**
 * The real stack: the project's own directory through the Automation API. `preview({ plan })` is
 * `pulumi preview --save-plan`, `up({ plan })` is `pulumi up --plan` (automation/stack.js). Needs
 * the Pulumi CLI and the stack's backend login; loaded lazily so tests never touch it.
 */
export async function openLocalGatedStack(args: { stackName: string; workDir: string; message: string }): Promise<GatedStack> {
  const { LocalWorkspace } = await import("@pulumi/pulumi/automation");
  const stack = await LocalWorkspace.selectStack({ stackName: args.stackName, workDir: args.workDir });
  return {
    async preview(request) {
      const events: EngineEvent[] = [];
      try {
        await stack.preview({
          policyPacks: [...request.policyPacks],
          policyPackConfigs: [...request.policyPackConfigs],
          plan: request.planFile,
          message: args.message,
          onEvent: (event) => events.push(event),
          ...(request.signal ? { signal: request.signal } : {}),
        });
        return { ok: true, refusals: refusalsIn(events) };
      } catch (error) {
        return { ok: false, error: summarizeCommandError(error), refusals: refusalsIn(events) };
      }
    },
    async up(request, onEvent) {
      try {
        const result = await stack.up({
          policyPacks: [...request.policyPacks],
          policyPackConfigs: [...request.policyPackConfigs],
          plan: request.planFile,
          message: args.message,
          onEvent,
          ...(request.signal ? { signal: request.signal } : {}),
        });
        return result.summary.result === "succeeded" ? { ok: true } : { ok: false, error: `update ${result.summary.result}` };
      } catch (error) {
        return { ok: false, error: summarizeCommandError(error) };
      }
    },
  };
}
