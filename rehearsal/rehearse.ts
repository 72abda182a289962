/**
 * A whole rehearsal on one machine: the local cloud, a copy of the project with its own stack, the
 * baseline (one real `pulumi up` with the policy pack: the environment as it already runs), the
 * scenario's applies (each a real gated preview with the policy pack, then a real
 * `pulumi up --plan --event-log`), live traffic from the control's revisions, the old token probed
 * at every URL of the executor, and the facts the report is built from.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { request } from "undici";
import { LocalCloudClient, LocalCloudState, ServiceState } from "../localcloud/client";
import type { LocalCloudEvent } from "../localcloud/events";
import { STAND_IN_EXECUTOR_COMMAND, shellQuote } from "../localcloud/runners";
import { LocalCloud, startLocalCloud } from "../localcloud/server";
import { phaseInProgress, sanitizeMessage } from "../ops/drill/timeline";
import {
  type GateRequest,
  type GatedStack,
  type PolicyPacks,
  type PreviewOutcome,
  type UpOutcome,
  gatedUpdate,
  projectPolicyPacks,
  refusalsIn,
} from "../ops/deploy/gate";
import { PulumiCli } from "../pulumi-cli/setup";
import { followEventLog } from "./event-log";
import { PlanPrediction, planPrediction } from "./prediction";
import { Scenario, ScenarioApply, ScenarioName, scenarioFor } from "./scenarios";
import { ProbeRound, TrafficCall, parseTrafficRecords } from "./traffic";
import { RunningCommand, Workspace, createWorkspace, readProjectConfig, setThrowawaySecrets, writeConfig } from "./workspace";

export interface RehearsalOptions {
  readonly cli: PulumiCli;
  readonly stack: string;
  readonly scenario: ScenarioName;
  readonly out: string;
  /** Calls per second of each control revision to the executor's /status. */
  readonly load: number;
  /** The local cloud's rollout time (a revision ready -> its traffic moves). */
  readonly rolloutMs: number;
  /** An outside executor, run by the shell in each executor instance; default the stand-in. */
  readonly executorCommand?: string;
  readonly log?: (line: string) => void;
  /** The project to copy (default this checkout). */
  readonly sourceDir?: string;
  /** `wallet-executor:rotation`'s strategy for the rehearsal; default: the stack file's. */
  readonly rotation?: "tagged" | "in-place";
  /** Ctrl-C: the running `pulumi up` gets SIGINT, nothing further runs, the run ends with `error` set to INTERRUPTED. */
  readonly signal?: AbortSignal;
}

/** The run's `error` when Ctrl-C stopped it: the report built from it is partial. */
export const INTERRUPTED = "interrupted (Ctrl-C): the rehearsal stopped early and this report is partial";

export interface PolicyVerdict {
  readonly policy: string;
  readonly level: string;
  readonly resource?: string;
  readonly message: string;
}

export interface PreviewRecord {
  readonly ok: boolean;
  readonly ms: number;
  readonly error?: string;
  readonly verdicts: readonly PolicyVerdict[];
}

export interface UpRecord {
  readonly ok: boolean;
  readonly ms: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly error?: string;
  /** Interrupted on purpose (SIGINT midway). */
  readonly interrupted?: boolean;
  readonly events: readonly EngineEvent[];
}

export interface ApplyRecord {
  readonly title: string;
  readonly baseline: boolean;
  readonly expect: ScenarioApply["expect"];
  /** Each attempt's gated preview (null for the baseline: one `pulumi up` with the pack, no gate) and its update. */
  readonly attempts: readonly { preview: PreviewRecord | null; up: UpRecord | null }[];
  /** How the last attempt ended. */
  readonly outcome: "applied" | "refused" | "update-failed";
}

export interface VersionInfo {
  readonly credential: string;
  readonly generation: number;
  /** Full version name as Secret Manager answers it. */
  readonly name: string;
  readonly state: string;
}

export interface EndState {
  readonly versions: readonly VersionInfo[];
  readonly outputs: Record<string, unknown>;
  readonly verificationChecks: readonly { name: string; ok: boolean; ms: number }[];
  readonly executor: ServiceState | null;
  readonly control: ServiceState | null;
  /** The executor's main URL with the current token, and the control's own /status. */
  readonly executorAnswers: number | string;
  /** The token generation the executor's main URL accepts (of the token versions still enabled); null when none. */
  readonly executorAcceptsGeneration: number | null;
  readonly controlAnswers: number | string;
}

export interface RehearsalRun {
  readonly scenario: Scenario;
  readonly stack: string;
  readonly out: string;
  readonly executorCommand: string | null;
  readonly load: number;
  readonly payRate: number;
  readonly rolloutMs: number;
  /** The local cloud's shutdown grace and the control's request timeout (the tag removal's drain). */
  readonly shutdownGraceMs: number;
  readonly controlTimeoutMs: number;
  /** The rotation strategy the stack ran with. */
  readonly rotation: string;
  /** The offline plan before each of the scenario's applies. */
  readonly predictions: readonly PlanPrediction[];
  readonly startedMs: number;
  /** When the scenario's first apply began (after the baseline). */
  readonly scenarioStartMs: number;
  readonly endedMs: number;
  readonly applies: readonly ApplyRecord[];
  readonly traffic: readonly TrafficCall[];
  readonly probes: readonly ProbeRound[];
  readonly cloudEvents: readonly LocalCloudEvent[];
  readonly afterBaseline: EndState;
  readonly end: EndState;
  /** Set when the run stopped for a reason that is not an apply's outcome. */
  readonly error?: string;
}

/**
 * The local cloud's shutdown grace (SIGTERM to SIGKILL) in a rehearsal, and the rehearsal's control
 * request timeout. Their sum is how long a call the old control revision sent with the retiring
 * token can still be in flight, which is what the program waits before it removes the revoked
 * generation's tag (`rotation.shutdownGraceMs` + `control.timeoutMs`; Cloud Run's are 10 s and the
 * stack's 12 s). The rehearsal's cloud and control really behave this way, so the drain still covers
 * them; a call slower than the timeout is reported as a timeout, apart from the rotation's failures.
 */
export const REHEARSAL_SHUTDOWN_GRACE_MS = 1_000;
export const REHEARSAL_CONTROL_TIMEOUT_MS = 3_000;

/** The rehearsal's settings of the stack's drain: the local cloud's grace and the rehearsal's control timeout. */
export function drainSettings(raw: Readonly<Record<string, unknown>>, strategy?: string): Record<string, unknown> {
  const rotation = raw.rotation;
  const base = typeof rotation === "string" ? { strategy: rotation } : typeof rotation === "object" && rotation !== null ? rotation : {};
  return {
    "wallet-executor:rotation": { ...base, ...(strategy === undefined ? {} : { strategy }), shutdownGraceMs: REHEARSAL_SHUTDOWN_GRACE_MS },
    "wallet-executor:control": { ...(raw.control as Record<string, unknown>), timeoutMs: REHEARSAL_CONTROL_TIMEOUT_MS },
  };
}

const EXECUTOR_VERSION_ENV = "OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN_VERSION";

/** The executor command with the failed-verification fault: generation `to` reports another version. */
export function misreportingCommand(command: string, generation: number): string {
  return `if [ "$${EXECUTOR_VERSION_ENV}" = ${shellQuote(String(generation))} ]; then ${EXECUTOR_VERSION_ENV}=${generation + 1000}; export ${EXECUTOR_VERSION_ENV}; fi; ${/^exec\s/.test(command) ? command : `exec ${command}`}`;
}

/** A violation's event message is the policy's description, a newline, then what is wrong: keep what is wrong. */
export function violationText(message: string): string {
  const lines = message
    .replace(/<\{%[^%]*%\}>/g, "")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
  return lines.length > 1 ? lines.slice(1).join(" ") : (lines[0] ?? "");
}

/** The policy pack's verdicts in an engine run's events (a preview's, or an update's), secrets redacted. */
export function verdictsIn(events: readonly EngineEvent[]): PolicyVerdict[] {
  return events
    .filter((event) => event.policyEvent !== undefined)
    .map((event) => {
      const policy = event.policyEvent!;
      const resource = policy.resourceUrn ? policy.resourceUrn.split("::").pop() : undefined;
      return {
        policy: policy.policyName,
        level: policy.enforcementLevel,
        ...(resource ? { resource } : {}),
        message: sanitizeMessage(violationText(policy.message)),
      };
    });
}

/** The first specific error of a CLI run (Pulumi's diagnostics start with `error:`), with its `- ` detail lines. */
export function errorLine(stdout: string, stderr: string): string {
  const lines = `${stdout}\n${stderr}`
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
  const generic = /^error: (update|preview) failed$/;
  // The first specific error is the cause (a later one may be its consequence, e.g. a plan left unfinished).
  const at = lines.findIndex((line) => /^error:/i.test(line) && !generic.test(line));
  if (at < 0) return sanitizeMessage(lines.filter((l) => /error/i.test(l)).pop() ?? "failed");
  const details: string[] = [];
  for (let i = at + 1; i < lines.length && details.length < 8 && lines[i].startsWith("- "); i += 1) details.push(lines[i]);
  return sanitizeMessage([lines[at], ...details].join(" "));
}

async function fetchStatus(url: string, token: string | undefined): Promise<number | string> {
  try {
    const response = await request(`${url.replace(/\/+$/, "")}/status`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    await response.body.dump();
    return response.statusCode;
  } catch (err) {
    const code = (err as { code?: string }).code ?? "error";
    return code === "ECONNREFUSED" ? "refused" : /TIMEOUT/.test(code) ? "timeout" : code;
  }
}

/** Finds a service of the stack in the local cloud by its Cloud Run name. */
function serviceNamed(state: LocalCloudState, name: string): ServiceState | null {
  return state.services.find((s) => s.name.endsWith(`/services/${name}`)) ?? null;
}

interface ExportedResource {
  readonly type: string;
  readonly urn: string;
  readonly outputs?: Record<string, unknown>;
}

const VERSION_TYPE = "gcp:secretmanager/secretVersion:SecretVersion";

export async function rehearse(options: RehearsalOptions): Promise<RehearsalRun> {
  const log = options.log ?? ((): void => undefined);
  const startedMs = Date.now();
  const out = path.resolve(options.out);
  fs.mkdirSync(out, { recursive: true });
  const source = options.sourceDir ?? path.resolve(__dirname, "..");
  const rawSource = readProjectConfig(path.join(source, `Pulumi.${options.stack}.yaml`));
  const scenario = scenarioFor(options.scenario, rawSource);
  const sourceRotation = rawSource.rotation;
  const sourceStrategy =
    typeof sourceRotation === "object" && sourceRotation !== null ? (sourceRotation as { strategy?: unknown }).strategy : sourceRotation;
  const rotation = options.rotation ?? (typeof sourceStrategy === "string" ? sourceStrategy : "tagged");
  const predictions: PlanPrediction[] = [];
  const executor = rawSource.executor as Record<string, unknown>;
  const control = rawSource.control as Record<string, unknown>;
  const executorName = String(executor.serviceName);
  const controlName = String(control.serviceName);
  const allowedHosts = Array.isArray(executor.allowedHosts) ? (executor.allowedHosts as string[]) : [];
  const payRate = allowedHosts.length > 0 ? Math.max(0.2, options.load / 10) : 0;

  const baseCommand = options.executorCommand ?? STAND_IN_EXECUTOR_COMMAND;
  const executorCommand = scenario.fault === "executor-misreports-generation" ? misreportingCommand(baseCommand, scenario.to) : baseCommand;
  const recordDir = path.join(out, "traffic");
  const logDir = path.join(out, "instances");
  fs.mkdirSync(recordDir, { recursive: true });
  log(`starting the local cloud (rollout ${options.rolloutMs} ms, control load ${options.load}/s, payments ${payRate}/s)`);
  const cloud: LocalCloud = await startLocalCloud({
    rolloutMs: options.rolloutMs,
    // Instances here answer SIGTERM at once; a short grace keeps a rehearsal's end quick.
    shutdownGraceMs: REHEARSAL_SHUTDOWN_GRACE_MS,
    controlRatePerSec: options.load,
    ...(payRate > 0 ? { controlPayRatePerSec: payRate, controlPayHost: allowedHosts[0] } : {}),
    commands: { executorCommand },
    recordDir,
    logDir,
  });
  const api = new LocalCloudClient(cloud.url, cloud.token);
  const applies: ApplyRecord[] = [];
  const probes: ProbeRound[] = [];
  let prober: Prober | undefined;
  const known = new Map<string, Omit<VersionInfo, "state">>();
  let error: string | undefined;
  let scenarioStartMs = Date.now();
  let afterBaseline: EndState | undefined;
  let end: EndState | undefined;
  let workspace: Workspace | undefined;
  try {
    workspace = await createWorkspace({
      cli: options.cli,
      out,
      stack: options.stack,
      cloudEnv: cloud.env,
      ...(options.sourceDir ? { sourceDir: options.sourceDir } : {}),
    });
    const ws = workspace;
    log(`project copied to ${ws.project}; stack ${options.stack} on a file backend (passphrase provider)`);
    writeConfig(ws.stackFile, {
      "gcp:secretManagerCustomEndpoint": `${cloud.secretManagerApi}/`,
      // The tagged strategy removes a revoked generation's tag through the Cloud Run Admin API.
      "gcp:cloudRunV2CustomEndpoint": `${cloud.url}/v2/`,
      "wallet-executor:executor": { ...executor, mode: "mock" },
      ...drainSettings(rawSource, options.rotation),
      ...Object.fromEntries(Object.entries(scenario.baseline).map(([k, v]) => [`wallet-executor:${k}`, v])),
    });
    await setThrowawaySecrets(ws);

    const apply = async (step: ScenarioApply, baseline: boolean, index: number): Promise<ApplyRecord> => {
      writeConfig(ws.stackFile, Object.fromEntries(Object.entries(step.changes).map(([k, v]) => [`wallet-executor:${k}`, v])));
      await setThrowawaySecrets(ws);
      const attempts: { preview: PreviewRecord | null; up: UpRecord | null }[] = [];
      let outcome: ApplyRecord["outcome"] = "update-failed";
      for (let attempt = 0; attempt < (step.interrupt ? 2 : 1); attempt += 1) {
        const stem = path.join(out, "events", `${String(index).padStart(2, "0")}-${baseline ? "baseline" : "apply"}-${attempt + 1}`);
        fs.mkdirSync(path.dirname(stem), { recursive: true });
        log(`${baseline ? "baseline" : `apply ${index}`}: ${step.title}${attempt > 0 ? " (again, after the interruption)" : ""}`);
        const showPhase = phaseInProgress((_phase, label) => log(`  phase in progress: ${label}`));
        if (baseline) {
          // The environment as it runs before the scenario, not a change to one: one `pulumi up`
          // with the pack, which checks each resource before its step (a mandatory violation fails
          // it). The gate is for changes to what runs; every scenario apply goes through it.
          log("  pulumi up with the policy pack (the baseline: what already runs, so no gate)");
          const upRecord = await baselineUp(ws, stem, options.signal, showPhase);
          attempts.push({ preview: null, up: upRecord });
          log(`  ${upRecord.ok ? "applied" : `failed: ${upRecord.error ?? ""}`} (${upRecord.ms} ms)`);
          outcome = upRecord.ok ? "applied" : "update-failed";
          break;
        }
        // Midway: once the executor's new revision exists, the job is cancelled (SIGINT, as CI does).
        const interruptMidway = async (running: RunningCommand): Promise<boolean> => {
          const after = cloud.events.since(0).pop()?.seq ?? 0;
          const seen = await Promise.race([
            waitForEvent(cloud, after, (e) => e.type === "revision-created" && isService(e, executorName), 240_000),
            running.done.then(() => false),
          ]);
          if (!seen) return false;
          log("  interrupting the update (SIGINT) while the executor rolls out");
          running.child.kill("SIGINT");
          return true;
        };
        // The offline plan of the same stack file, alongside: its predicted failed-call window.
        const planned = attempt > 0 ? undefined : planPrediction(source, options.stack, ws.stackFile, index);
        const record: CliGateRecord = { preview: null, up: null };
        const gated = await gatedUpdate(
          cliGatedStack(ws, stem, record, step.interrupt && attempt === 0 ? interruptMidway : undefined, options.signal, showPhase),
          {
            projectDir: ws.project,
            policyPackConfig: ws.policyConfig,
            onEvent: () => undefined,
            log,
          },
        );
        if (planned) predictions.push(await planned);
        if (gated.stage === "refused" || record.up === null) {
          attempts.push({
            preview: record.preview ?? { ok: false, ms: 0, error: sanitizeMessage(gated.ok ? "" : gated.error), verdicts: [] },
            up: null,
          });
          outcome = "refused";
          break;
        }
        const upRecord = record.up;
        attempts.push({ preview: record.preview!, up: upRecord });
        log(`  ${upRecord.ok ? "applied" : `failed: ${upRecord.error ?? ""}`} (${upRecord.ms} ms)`);
        outcome = upRecord.ok ? "applied" : "update-failed";
        if (options.signal?.aborted) break;
        if (upRecord.ok) break;
      }
      return { title: step.title, baseline, expect: step.expect, attempts, outcome };
    };

    const baselineApply = await apply(
      { title: "baseline: the stack as it runs before the scenario", changes: {}, expect: "applied" },
      true,
      0,
    );
    applies.push(baselineApply);
    if (baselineApply.outcome !== "applied") throw new Error(`the baseline apply did not succeed: ${lastError(baselineApply)}`);
    if (options.signal?.aborted) throw new Error(INTERRUPTED);
    afterBaseline = await endState(ws, api, executorName, controlName, known);

    // The token the control holds now is the one the rotation retires: probed at every executor URL.
    const oldVersion = afterBaseline.versions.find((v) => v.credential === "authToken" && v.generation === scenario.from);
    const oldToken = oldVersion ? await api.accessSecretVersion(oldVersion.name) : undefined;
    if (oldToken !== undefined) prober = startProber(api, executorName, oldToken, probes);

    if (scenario.fault === "executor-grant-removed") {
      const tokenSecret = oldVersion?.name.replace(/\/versions\/[^/]+$/, "");
      const account = afterBaseline.outputs.executorServiceAccount;
      if (!tokenSecret || typeof account !== "string")
        throw new Error("cannot find the token's secret or the executor's account to remove the grant");
      await removeGrant(api, tokenSecret, `serviceAccount:${account}`);
      log(`fault: removed ${account}'s access to the token's secret out of band`);
    }

    scenarioStartMs = Date.now();
    let index = 1;
    for (const step of scenario.applies) {
      if (options.signal?.aborted) throw new Error(INTERRUPTED);
      const record = await apply(step, false, index);
      applies.push(record);
      // Versions the update wrote, from its own events (a version later dropped from config leaves the state).
      for (const attempt of record.attempts) for (const version of versionsIn(attempt.up?.events ?? [])) known.set(version.name, version);
      index += 1;
      if (record.outcome !== "applied") break;
    }
    if (options.signal?.aborted) throw new Error(INTERRUPTED);
    // Let the last rollout's traffic settle (every stopped instance's calls answered), and the probes see the end state.
    await settle(api, probes, Date.now(), prober !== undefined);
    end = await endState(ws, api, executorName, controlName, known);
  } catch (err) {
    error = sanitizeMessage(err instanceof Error ? err.message : String(err));
    log(`stopped: ${error}`);
  } finally {
    await prober?.stop();
  }
  const cloudEvents = await api.call<{ events: LocalCloudEvent[] }>("GET", "/localcloud/v1/events").then(
    (body) => body.events,
    () => cloud.events.since(0),
  );
  await cloud.close();
  const traffic = parseTrafficRecords(
    fs
      .readdirSync(recordDir)
      .filter((f) => f.endsWith(".jsonl"))
      .map((f) => fs.readFileSync(path.join(recordDir, f), "utf8")),
  );
  const empty: EndState = {
    versions: [],
    outputs: {},
    verificationChecks: [],
    executor: null,
    control: null,
    executorAnswers: "not checked",
    executorAcceptsGeneration: null,
    controlAnswers: "not checked",
  };
  return {
    scenario,
    stack: options.stack,
    out,
    executorCommand: options.executorCommand ?? null,
    load: options.load,
    payRate,
    rolloutMs: options.rolloutMs,
    shutdownGraceMs: REHEARSAL_SHUTDOWN_GRACE_MS,
    controlTimeoutMs: REHEARSAL_CONTROL_TIMEOUT_MS,
    rotation,
    predictions,
    startedMs,
    scenarioStartMs,
    endedMs: Date.now(),
    applies,
    traffic,
    probes,
    cloudEvents,
    afterBaseline: afterBaseline ?? empty,
    end: end ?? afterBaseline ?? empty,
    ...(error ? { error } : {}),
  };
}

/** What one gated apply through the workspace's CLI recorded, beside the gate's own outcome. */
export interface CliGateRecord {
  /** Every verdict of the preview (mandatory and advisory), its time, its error; null until it ran. */
  preview: PreviewRecord | null;
  /** The update's outcome and its millisecond-stamped events; null when the gate did not run it. */
  up: UpRecord | null;
}

/** What every `pulumi` command of the rehearsal passes: its stack, no prompt, no colour. */
const commonArgs = (ws: Workspace): string[] => ["--stack", ws.stack, "--non-interactive", "--color", "never"];

/** `--policy-pack P --policy-pack-config C` for each pack. */
function packArgs(request: PolicyPacks): string[] {
  return request.policyPacks.flatMap((pack, i) => [
    "--policy-pack",
    pack,
    ...(request.policyPackConfigs[i] ? ["--policy-pack-config", request.policyPackConfigs[i]] : []),
  ]);
}

/**
 * The workspace's Pulumi CLI as the deploy gate's stack (ops/deploy/gate.ts decides: preview with
 * the pack saving the plan, then, only if it passed, the update constrained to that plan). Each
 * command is a real process in the project copy with `--event-log <stem>.{preview,up}.jsonl`,
 * followed with millisecond stamps into `record`. `duringUp` sees the running update (the
 * interrupted scenario cancels it midway) and says whether it interrupted it.
 */
export function cliGatedStack(
  ws: Workspace,
  stem: string,
  record: CliGateRecord,
  duringUp?: (running: RunningCommand) => Promise<boolean>,
  signal?: AbortSignal,
  onUpEvent?: (event: EngineEvent) => void,
): GatedStack {
  return {
    async preview(request: GateRequest): Promise<PreviewOutcome> {
      const started = Date.now();
      const eventLog = `${stem}.preview.jsonl`;
      const followed = followEventLog(eventLog);
      const result = await ws.pulumi([
        "preview",
        ...commonArgs(ws),
        ...packArgs(request),
        "--save-plan",
        request.planFile,
        "--event-log",
        eventLog,
      ]);
      const events = followed.stop();
      const refusals = refusalsIn(events);
      const ok = result.status === 0;
      const passed = ok && refusals.length === 0;
      record.preview = {
        ok: passed,
        ms: Date.now() - started,
        ...(passed ? {} : { error: errorLine(result.stdout, result.stderr) }),
        verdicts: verdictsIn(events),
      };
      return { ok, ...(ok ? {} : { error: errorLine(result.stdout, result.stderr) }), refusals };
    },
    async up(request: GateRequest, onEvent: (event: EngineEvent) => void): Promise<UpOutcome> {
      const up = await followedUp(ws, stem, [...packArgs(request), "--plan", request.planFile], duringUp, signal, onUpEvent);
      for (const event of up.events) onEvent(event);
      record.up = up;
      return { ok: up.ok, ...(up.error !== undefined ? { error: up.error } : {}) };
    },
  };
}

/**
 * The rehearsal's baseline: one real `pulumi up --yes --skip-preview` with the policy pack (the
 * engine runs the pack on each resource before its step, and on the whole stack after), followed
 * like a gated apply's update. Not through the gate: it creates the environment as it already runs,
 * before the scenario changes it.
 */
export function baselineUp(ws: Workspace, stem: string, signal?: AbortSignal, onUpEvent?: (event: EngineEvent) => void): Promise<UpRecord> {
  return followedUp(ws, stem, packArgs(projectPolicyPacks(ws.project, ws.policyConfig)), undefined, signal, onUpEvent);
}

/** `pulumi up --yes --skip-preview <extra> --event-log <stem>.up.jsonl` in the workspace, followed with millisecond stamps. */
async function followedUp(
  ws: Workspace,
  stem: string,
  extra: readonly string[],
  duringUp?: (running: RunningCommand) => Promise<boolean>,
  signal?: AbortSignal,
  onUpEvent?: (event: EngineEvent) => void,
): Promise<UpRecord> {
  const startMs = Date.now();
  const eventLog = `${stem}.up.jsonl`;
  const followed = followEventLog(eventLog, undefined, undefined, onUpEvent);
  const running = ws.start(["up", ...commonArgs(ws), "--yes", "--skip-preview", ...extra, "--event-log", eventLog]);
  // Ctrl-C: the update is cancelled as CI would (SIGINT), then the run stops.
  const cancel = (): void => void running.child.kill("SIGINT");
  signal?.addEventListener("abort", cancel);
  // Ctrl-C before it started (the baseline has no preview to stop at): cancelled at once.
  if (signal?.aborted) cancel();
  const uncancel = (): void => signal?.removeEventListener("abort", cancel);
  running.done.then(uncancel, uncancel);
  const interrupted = duringUp ? await duringUp(running) : false;
  const result = await running.done;
  const endMs = Date.now();
  const events = followed.stop();
  const ok = result.status === 0;
  const error = ok ? undefined : errorLine(result.stdout, result.stderr);
  return {
    ok,
    ms: endMs - startMs,
    startMs,
    endMs,
    ...(error !== undefined ? { error } : {}),
    ...(interrupted ? { interrupted } : {}),
    events,
  };
}

/** Whether a local cloud event is about this service (events name it short, or by its full name). */
export function isService(event: LocalCloudEvent, name: string): boolean {
  const service = String(event.service ?? "");
  return service === name || service.endsWith(`/services/${name}`);
}

function lastError(apply: ApplyRecord): string {
  const last = apply.attempts[apply.attempts.length - 1];
  return last?.up?.error ?? last?.preview?.error ?? "unknown";
}

/** The longest a rehearsal waits for its end state to settle; then it reports what it has. */
const SETTLE_TIMEOUT_MS = 30_000;

/**
 * Resolves once no instance of the local cloud is still draining or stopping (their last calls are
 * answered and recorded) and, when the old token is being probed, once a probe round has started
 * after `sinceMs` (the end state is seen at every URL). Waits on the cloud's state, not a clock.
 */
async function settle(api: LocalCloudClient, probes: readonly ProbeRound[], sinceMs: number, probing: boolean): Promise<void> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const state = await api.state().catch(() => undefined);
    const stopping = state?.services.some((service) =>
      service.revisions.some((revision) => revision.instances.some((i) => i.state === "draining" || i.state === "stopping")),
    );
    if (state !== undefined && !stopping && (!probing || probes.some((round) => round.atMs >= sinceMs))) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function waitForEvent(cloud: LocalCloud, after: number, match: (event: LocalCloudEvent) => boolean, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const deadline = Date.now() + timeoutMs;
    const timer = setInterval(() => {
      if (cloud.events.since(after).some(match)) {
        clearInterval(timer);
        resolve(true);
      } else if (Date.now() > deadline) {
        clearInterval(timer);
        resolve(false);
      }
    }, 25);
  });
}

interface Prober {
  /** Stops probing; resolves once the round in flight (if any) is recorded. */
  stop(): Promise<void>;
}

/** Every 250 ms: the old token against the executor's main URL and every tag URL. */
function startProber(api: LocalCloudClient, executorName: string, token: string, rounds: ProbeRound[]): Prober {
  let inFlight: Promise<void> | undefined;
  let stopped = false;
  const round = async (): Promise<void> => {
    try {
      const service = serviceNamed(await api.state(), executorName);
      if (!service) return;
      const urls: [string, string][] = [
        ["main", service.url],
        ...Object.entries(service.tagUrls).map(([tag, url]): [string, string] => [`tag:${tag}`, url]),
      ];
      const atMs = Date.now();
      const answers = await Promise.all(urls.map(async ([label, url]) => [label, String(await fetchStatus(url, token))] as const));
      // A round that ends after the stop is not a fact about the rotation (the cloud may be closing).
      if (!stopped) rounds.push({ atMs, answers: Object.fromEntries(answers) });
    } catch {
      // The local cloud is closing.
    }
  };
  const timer = setInterval(() => {
    if (inFlight || stopped) return;
    inFlight = round().finally(() => (inFlight = undefined));
  }, 250);
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
      stopped = true;
    },
  };
}

async function removeGrant(api: LocalCloudClient, secret: string, member: string): Promise<void> {
  const policy = await api.call<{ etag: string; bindings?: { role: string; members: string[] }[] }>(
    "POST",
    `/v1/${secret}:getIamPolicy`,
    {},
  );
  const bindings = (policy.bindings ?? [])
    .map((b) => ({ ...b, members: b.members.filter((m) => m !== member) }))
    .filter((b) => b.members.length > 0);
  await api.call("POST", `/v1/${secret}:setIamPolicy`, { policy: { etag: policy.etag, bindings } });
}

/** A token, key or mnemonic version resource (`auth-token-g4`): its credential, generation and full version name. */
function versionOf(type: string, urn: string, outputs: Record<string, unknown> | undefined): Omit<VersionInfo, "state"> | undefined {
  if (type !== VERSION_TYPE) return undefined;
  const match = /^(.*)-g([0-9]+)$/.exec(urn.split("::").pop() ?? "");
  const versionName = outputs?.name;
  if (!match || typeof versionName !== "string") return undefined;
  return { credential: credentialOf(match[1]), generation: Number(match[2]), name: versionName };
}

/** The versions an update's engine events show (each step's new state). */
export function versionsIn(events: readonly EngineEvent[]): Omit<VersionInfo, "state">[] {
  const versions: Omit<VersionInfo, "state">[] = [];
  for (const event of events) {
    const metadata = event.resOutputsEvent?.metadata;
    const version = metadata ? versionOf(metadata.type, metadata.urn, metadata.new?.outputs) : undefined;
    if (version) versions.push(version);
  }
  return versions;
}

/**
 * The stack's resources, the versions they hold, and the stack's outputs, from one `pulumi stack
 * export` (the outputs read from there are plain values: generations, names, the verification's).
 */
async function stackVersions(
  ws: Workspace,
): Promise<{ resources: ExportedResource[]; versions: Omit<VersionInfo, "state">[]; outputs: Record<string, unknown> }> {
  const exported = await ws.pulumi(["stack", "export", "--stack", ws.stack]);
  const deployment = (JSON.parse(exported.stdout || "{}") as { deployment?: { resources?: ExportedResource[] } }).deployment;
  const resources = deployment?.resources ?? [];
  const versions = resources.flatMap((r) => versionOf(r.type, r.urn, r.outputs) ?? []);
  const outputs = resources.find((r) => r.type === "pulumi:pulumi:Stack")?.outputs ?? {};
  return { resources, versions, outputs };
}

/**
 * The stack's outputs and versions, the cloud's view, and whether both services answer. `known`:
 * versions seen in earlier states (a generation dropped from config leaves the state, its version
 * stays in Secret Manager, disabled).
 */
async function endState(
  ws: Workspace,
  api: LocalCloudClient,
  executorName: string,
  controlName: string,
  known: Map<string, Omit<VersionInfo, "state">>,
): Promise<EndState> {
  const { resources, versions: inState, outputs } = await stackVersions(ws);
  for (const version of inState) known.set(version.name, version);
  const state = await api.state();
  const versions: VersionInfo[] = [...known.values()].map((version) => {
    const [, secretId, number] = /^projects\/[^/]+\/secrets\/([^/]+)\/versions\/([0-9]+)$/.exec(version.name) ?? [];
    const secret = state.secrets.find((s) => s.name.split("/").pop() === secretId);
    const live = secret?.versions.find((v) => v.number === Number(number));
    return { ...version, state: live?.state ?? "unknown" };
  });
  const checks = resources
    .map((r) => r.outputs?.checks)
    .filter((c): c is { name: string; ok: boolean; ms: number }[] => Array.isArray(c))
    .flat()
    .map((c) => ({ name: String(c.name), ok: c.ok === true, ms: Number(c.ms) }));
  const executor = serviceNamed(state, executorName);
  const control = serviceNamed(state, controlName);
  const current = versions
    .filter((v) => v.credential === "authToken")
    .find(
      (v) =>
        v.generation === (outputs.credentials as { authToken?: { currentGeneration?: number } } | undefined)?.authToken?.currentGeneration,
    );
  const currentToken = current ? await api.accessSecretVersion(current.name).catch(() => undefined) : undefined;
  let executorAcceptsGeneration: number | null = null;
  for (const version of versions.filter((v) => v.credential === "authToken" && v.state === "ENABLED")) {
    const token = await api.accessSecretVersion(version.name).catch(() => undefined);
    if (executor && token !== undefined && (await fetchStatus(executor.url, token)) === 200) executorAcceptsGeneration = version.generation;
  }
  return {
    versions,
    outputs,
    verificationChecks: checks,
    executor,
    control,
    executorAnswers: executor ? await fetchStatus(executor.url, currentToken) : "no service",
    executorAcceptsGeneration,
    controlAnswers: control ? await fetchStatus(control.url, undefined) : "no service",
  };
}

/** `auth-token-g4` -> authToken; the version resources are named after their secret's credential. */
function credentialOf(prefix: string): string {
  if (/auth-token/.test(prefix)) return "authToken";
  if (/spark/.test(prefix)) return "sparkApiKey";
  if (/mnemonic/.test(prefix)) return "mnemonic";
  return prefix;
}
