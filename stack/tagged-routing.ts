/**
 * The `tagged` rotation strategy's logic, apart from Pulumi (docs/design/zero-downtime.md): the
 * executor revision of each token generation has an explicit name and a tag of its own, and the
 * control service calls the tag URL of the generation whose token it holds. Pure functions.
 */
import { createHash } from "crypto";
import { EXECUTOR_ENV } from "./contract";

/** Cloud Run's shutdown grace: a revision that loses its traffic may still answer for this long. */
export const CLOUD_RUN_SHUTDOWN_GRACE_MS = 10_000;

/** The env vars that differ between two generations of the same template (left out of its hash). */
export const TOKEN_ENV_NAMES: readonly string[] = [EXECUTOR_ENV.token, EXECUTOR_ENV.tokenVersion];

/** The tag of a token generation's executor revision: `g5`. */
export function generationTag(generation: number): string {
  return `g${generation}`;
}

/** The generation a tag names, or undefined for a tag that is not a generation's. */
export function tagGeneration(tag: string | undefined): number | undefined {
  const match = tag === undefined ? null : /^g([1-9][0-9]*)$/.exec(tag);
  return match ? Number(match[1]) : undefined;
}

/**
 * A short hash of the executor's template without the token's env vars: the same for every
 * generation of one template, so the previous generation's revision name is known without
 * reading the cloud (`<service>-g<generation>-<hash>` names both). Key order does not matter.
 */
export function templateHash(template: unknown): string {
  return createHash("sha256")
    .update(canonicalJson(withoutTokenEnv(template)))
    .digest("hex")
    .slice(0, 7);
}

function withoutTokenEnv(template: unknown): unknown {
  if (!isRecord(template) || !Array.isArray(template.containers)) return template;
  return {
    ...template,
    containers: template.containers.map((container: unknown) =>
      isRecord(container) && Array.isArray(container.envs)
        ? { ...container, envs: container.envs.filter((env: unknown) => !(isRecord(env) && TOKEN_ENV_NAMES.includes(String(env.name)))) }
        : container,
    ),
  };
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (isRecord(value))
    return `{${Object.keys(value)
      .filter((key) => value[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`)
      .join(",")}}`;
  return JSON.stringify(value) ?? "null";
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * A generation's revision name. Cloud Run wants the service name as its prefix and at most 63
 * characters; a long service name is cut (the generation and hash keep it unique).
 */
export function revisionName(serviceName: string, generation: number, hash: string): string {
  const suffix = `-g${generation}-${hash}`;
  return `${serviceName.slice(0, 63 - suffix.length).replace(/-+$/, "")}${suffix}`;
}

/** A Cloud Run v2 traffic target, as the gcp provider takes it. */
export interface TrafficTarget {
  readonly type: "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST" | "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION";
  readonly revision?: string;
  readonly percent: number;
  readonly tag?: string;
}

/** Which generations' revisions the executor service routes to, and by name. */
export interface TaggedGenerations {
  readonly current: { readonly generation: number; readonly revision: string };
  /** The previous generation, while its tag is kept (until its token is revoked). */
  readonly previous?: { readonly generation: number; readonly revision: string };
  /**
   * A rollback before revocation: the generation rolled back from. Its revision keeps its tag at
   * 0% during the apply (the control's revision of that generation still calls it until the
   * control has moved back); a step of its own removes the tag after the drain.
   */
  readonly rolledBackFrom?: { readonly generation: number; readonly revision: string };
}

/**
 * The executor's traffic: all of the main URL's traffic on the current generation's revision,
 * tagged `g<current>`; the previous generation's revision keeps its tag at 0% (its token's last
 * callers still reach a revision that accepts it), and so does, in a rollback, the revision of
 * the generation rolled back from.
 */
export function taggedTraffic(generations: TaggedGenerations): TrafficTarget[] {
  const targets: TrafficTarget[] = [
    {
      type: "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION",
      revision: generations.current.revision,
      percent: 100,
      tag: generationTag(generations.current.generation),
    },
  ];
  for (const kept of [generations.previous, generations.rolledBackFrom])
    if (kept)
      targets.push({
        type: "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION",
        revision: kept.revision,
        percent: 0,
        tag: generationTag(kept.generation),
      });
  return targets;
}

/** `in-place`: one unnamed revision at a time, all traffic on the latest. */
export const IN_PLACE_TRAFFIC: readonly TrafficTarget[] = [{ type: "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", percent: 100 }];

/** A traffic status as the gcp provider reports it. */
export interface TrafficStatus {
  readonly tag?: string;
  readonly uri?: string;
  readonly revision?: string;
  readonly percent?: number;
}

/**
 * The URL Cloud Run reports for `tag` (never built: host formats vary). Throws, naming the tags
 * it has, when the service reports none: the control must never be pointed at a guessed URL.
 */
export function tagUri(statuses: readonly TrafficStatus[] | undefined, tag: string): string {
  const found = (statuses ?? []).find((status) => status.tag === tag && typeof status.uri === "string" && status.uri !== "");
  if (!found?.uri) {
    const tags = (statuses ?? []).map((status) => status.tag).filter((t): t is string => typeof t === "string");
    throw new Error(`the executor service reports no URL for tag ${tag} (its tags: ${tags.join(", ") || "none"})`);
  }
  return found.uri;
}

/** Every tag URL a service reports, by tag. */
export function tagUris(statuses: readonly TrafficStatus[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const status of statuses ?? []) if (status.tag && status.uri) out[status.tag] = status.uri;
  return out;
}

/** How long the old tag must stay after the control's traffic has moved wholly to its new revision. */
export function drainMs(controlTimeoutMs: number, shutdownGraceMs: number = CLOUD_RUN_SHUTDOWN_GRACE_MS): number {
  return controlTimeoutMs + shutdownGraceMs;
}

/**
 * A rollback before revocation: the generation the executor last ran (as the stack last applied
 * it), when `current` now names an older one and that generation was deployed tagged. Its
 * revision keeps its tag until the control has moved back; otherwise undefined.
 */
export function rolledBackGeneration(current: number, lastApplied: number | undefined, taggedSince: number): number | undefined {
  return lastApplied !== undefined && lastApplied > current && lastApplied >= taggedSince ? lastApplied : undefined;
}
