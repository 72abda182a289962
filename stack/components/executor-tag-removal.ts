import * as pulumi from "@pulumi/pulumi";
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import { TrafficStatus, tagUris } from "../tagged-routing";
import { RotationStep, nothingToDelete } from "./rotation-step";

/** Cloud Run Admin API v2; tests and rehearsals point the resource at the local cloud. */
export const CLOUD_RUN_API = "https://run.googleapis.com/v2";

/**
 * The API base a tag removal calls: Google's, unless the stack sets `gcp:cloudRunV2CustomEndpoint`
 * (the gcp provider's own setting for Cloud Run v2's endpoint, e.g. `http://127.0.0.1:4100/v2/`
 * for a rehearsal on the local cloud; the policy pack refuses any non-Google endpoint outside one).
 */
export function cloudRunApiBase(customEndpoint: string | undefined): string {
  const endpoint = customEndpoint?.trim();
  return endpoint ? endpoint.replace(/\/+$/, "") : CLOUD_RUN_API;
}

/** The removal's inputs, as the provider receives them (the access token unwrapped). */
export interface TagRemovalInputs {
  /** `projects/<p>/locations/<l>/services/<s>`. */
  readonly service: string;
  /** The tag to remove (the revoked generation's, `g4`). */
  readonly tag: string;
  /**
   * How long the control's calls may still use the tag after its rollout: its request timeout +
   * Cloud Run's shutdown grace. What is left of it is waited before the removal.
   */
  readonly drainMs: number;
  /**
   * The control service's full name: the drain runs from the end of its last rollout (its Ready
   * condition's transition). Absent (a state written before it existed): the whole drain is waited.
   */
  readonly controlService?: string;
  /** OAuth2 access token of the deploying identity (the gcp provider's own), secret. */
  readonly accessToken: string;
  readonly apiBase: string;
}

export interface TagRemovalOutputs {
  readonly service: string;
  readonly tag: string;
  readonly drainMs: number;
  /** What was left of the drain when the removal ran, and was waited. */
  readonly waitedMs: number;
  readonly apiBase: string;
  /** The URL the tag had (empty when it was already gone). */
  readonly removedUri: string;
  /** The service's main URL and every tag URL left, after the removal. */
  readonly mainUri: string;
  readonly remainingUris: readonly string[];
}

interface Answer {
  readonly status: number;
  readonly json: Record<string, unknown>;
}

async function call(inputs: TagRemovalInputs, method: "GET" | "PATCH", path: string, body?: unknown): Promise<Answer> {
  const response = await request(`${inputs.apiBase}/${path}`, {
    method,
    headers: { authorization: `Bearer ${inputs.accessToken}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  const text = await response.body.text();
  if (response.statusCode !== 200) {
    const detail = text.split(inputs.accessToken).join("[redacted]").slice(0, 300);
    throw new Error(`Cloud Run refused ${method} ${path}: HTTP ${response.statusCode} ${detail}`);
  }
  return { status: response.statusCode, json: JSON.parse(text) as Record<string, unknown> };
}

/** The traffic without the target that carries `tag` (its percent, if any, goes to the first remaining target). */
export function trafficWithout(traffic: readonly Record<string, unknown>[], tag: string): Record<string, unknown>[] {
  const removed = traffic.find((target) => target.tag === tag);
  const kept = traffic.filter((target) => target.tag !== tag).map((target) => ({ ...target }));
  const freed = typeof removed?.percent === "number" ? removed.percent : 0;
  if (freed > 0 && kept.length > 0) kept[0].percent = (typeof kept[0].percent === "number" ? kept[0].percent : 0) + freed;
  return kept;
}

/**
 * Clocks differ between this machine and Cloud Run's: a rollout's end is taken this much later than
 * reported, so a clock ahead of Google's never cuts the drain short.
 */
export const CLOCK_SKEW_ALLOWANCE_MS = 1_000;

/** The control service's Ready condition, as Cloud Run v2 reports it (`terminalCondition`). */
export interface ReadyCondition {
  readonly state?: unknown;
  readonly lastTransitionTime?: unknown;
}

/**
 * What is left of the drain at `nowMs`: the old token's last calls come from the control's previous
 * revision, which stops getting requests when the control's rollout ends (Cloud Run's Ready
 * condition turns CONDITION_SUCCEEDED) and ends its calls within the drain after that. A rollout
 * that has not succeeded, a time missing, unreadable or in the future: the whole drain. Pure.
 */
export function remainingDrainMs(drainMs: number, ready: ReadyCondition | undefined, nowMs: number): number {
  if (ready?.state !== "CONDITION_SUCCEEDED" || typeof ready.lastTransitionTime !== "string") return drainMs;
  const readySince = Date.parse(ready.lastTransitionTime);
  if (!Number.isFinite(readySince) || readySince > nowMs) return drainMs;
  const elapsed = nowMs - readySince - CLOCK_SKEW_ALLOWANCE_MS;
  return Math.min(drainMs, Math.max(0, drainMs - elapsed));
}

/**
 * Removes one tag (and its traffic) from the executor service through the Admin API, after what is
 * left of the drain: read the service, write it back without that traffic target, wait for the
 * operation. A tag already gone is a success (the step is idempotent: an interrupted `up` runs it
 * again). A revocation applied long after the rotation waits nothing; an emergency (one apply)
 * waits nearly the whole drain.
 */
export async function removeTag(
  inputs: TagRemovalInputs,
  wait: (ms: number) => Promise<unknown> = sleep,
  now: () => number = Date.now,
): Promise<TagRemovalOutputs> {
  const ready = inputs.controlService
    ? ((await call(inputs, "GET", inputs.controlService)).json.terminalCondition as ReadyCondition | undefined)
    : undefined;
  const waitedMs = remainingDrainMs(inputs.drainMs, ready, now());
  await wait(waitedMs);
  const before = (await call(inputs, "GET", inputs.service)).json;
  const traffic = Array.isArray(before.traffic) ? (before.traffic as Record<string, unknown>[]) : [];
  const removedUri = tagUris(before.trafficStatuses as TrafficStatus[] | undefined)[inputs.tag] ?? "";
  if (traffic.some((target) => target.tag === inputs.tag)) {
    let op = (await call(inputs, "PATCH", inputs.service, { ...before, traffic: trafficWithout(traffic, inputs.tag) })).json;
    for (let delay = 100; op.done !== true; delay = Math.min(2_000, delay * 2)) {
      await sleep(delay);
      op = (await call(inputs, "GET", String(op.name))).json;
    }
    if (op.error)
      throw new Error(`Cloud Run could not remove tag ${inputs.tag} from ${inputs.service}: ${JSON.stringify(op.error).slice(0, 300)}`);
  }
  const after = (await call(inputs, "GET", inputs.service)).json;
  const remaining = tagUris(after.trafficStatuses as TrafficStatus[] | undefined);
  if (remaining[inputs.tag] !== undefined) throw new Error(`tag ${inputs.tag} of ${inputs.service} is still reported after its removal`);
  return {
    service: inputs.service,
    tag: inputs.tag,
    drainMs: inputs.drainMs,
    waitedMs,
    apiBase: inputs.apiBase,
    removedUri,
    mainUri: typeof after.uri === "string" ? after.uri : "",
    remainingUris: Object.values(remaining),
  };
}

/**
 * Revoked means refused everywhere: a revision keeps the token it loaded at start, so disabling
 * the secret version does not stop a tagged revision from accepting it. This step removes the
 * revoked generation's tag, after verification, as a step of its own (Pulumi updates the Service
 * at most once per `up`, and that update happened before the control moved). Delete does
 * nothing: putting a revoked tag back must be a deliberate act, not a side effect of a config edit.
 */
export const tagRemovalProvider: pulumi.dynamic.ResourceProvider = {
  diff(_id: string, olds: TagRemovalOutputs, news: TagRemovalInputs): Promise<pulumi.dynamic.DiffResult> {
    // The token changes every run; only another tag or service means another removal.
    const replace = olds.tag !== news.tag || olds.service !== news.service;
    return Promise.resolve({ changes: replace, replaces: replace ? ["tag"] : [], deleteBeforeReplace: false });
  },
  async create(inputs: TagRemovalInputs): Promise<pulumi.dynamic.CreateResult> {
    const outs = await removeTag(inputs);
    return { id: `${inputs.service}#${inputs.tag}`, outs };
  },
  delete: nothingToDelete,
};

export interface ExecutorTagRemovalArgs {
  /** The executor service's full name, `projects/<p>/locations/<l>/services/<s>`. */
  readonly service: pulumi.Input<string>;
  readonly tag: pulumi.Input<string>;
  readonly drainMs: pulumi.Input<number>;
  /** The control service's full name: the drain runs from the end of its last rollout. */
  readonly controlService: pulumi.Input<string>;
  /** The deploying identity's access token (kept secret). */
  readonly accessToken: pulumi.Input<string>;
  /** Cloud Run Admin API base; defaults to Google's. */
  readonly apiBase?: pulumi.Input<string>;
}

/** Removes a revoked generation's tag from the executor service, after the gate it depends on. */
export class ExecutorTagRemoval extends RotationStep {
  declare readonly removedUri: pulumi.Output<string>;
  declare readonly mainUri: pulumi.Output<string>;
  declare readonly remainingUris: pulumi.Output<string[]>;
  /** What was left of the drain when the removal ran. */
  declare readonly waitedMs: pulumi.Output<number>;

  constructor(name: string, args: ExecutorTagRemovalArgs, opts: pulumi.CustomResourceOptions) {
    super(
      tagRemovalProvider,
      "ExecutorTagRemoval",
      name,
      {
        service: args.service,
        tag: args.tag,
        drainMs: args.drainMs,
        controlService: args.controlService,
        accessToken: args.accessToken,
        apiBase: args.apiBase ?? CLOUD_RUN_API,
        waitedMs: undefined,
        removedUri: undefined,
        mainUri: undefined,
        remainingUris: undefined,
      },
      ["accessToken"],
      opts,
    );
  }
}
