/**
 * Cloud Run v2 service specs as the REST API takes them (`template`, `traffic`, ...): validation,
 * the defaults Cloud Run applies, and what counts as a change of the template (any change of it
 * makes a new revision). Pure functions: no processes, no sockets.
 */
import { invalid } from "../errors";

export type TrafficType = "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST" | "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION";
export const LATEST: TrafficType = "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST";
export const REVISION: TrafficType = "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION";

export interface SecretKeyRefJson {
  readonly secret: string;
  readonly version?: string;
}

export interface EnvVarJson {
  readonly name: string;
  readonly value?: string;
  readonly valueSource?: { readonly secretKeyRef?: SecretKeyRefJson };
}

export interface ContainerJson {
  readonly name?: string;
  readonly image: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly env?: readonly EnvVarJson[];
  readonly ports?: readonly { readonly containerPort?: number; readonly name?: string }[];
  readonly [field: string]: unknown;
}

export interface TemplateJson {
  readonly revision?: string;
  readonly serviceAccount?: string;
  readonly scaling?: { readonly minInstanceCount?: number; readonly maxInstanceCount?: number };
  readonly timeout?: string;
  readonly maxInstanceRequestConcurrency?: number;
  readonly containers: readonly ContainerJson[];
  readonly [field: string]: unknown;
}

export interface TrafficTargetJson {
  readonly type?: TrafficType;
  readonly revision?: string;
  readonly percent?: number;
  readonly tag?: string;
}

/** A validated service spec, Cloud Run's defaults applied. */
export interface ServiceSpec {
  readonly description?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly ingress: string;
  readonly launchStage?: string;
  readonly invokerIamDisabled?: boolean;
  readonly template: TemplateJson;
  readonly traffic: readonly TrafficTargetJson[];
}

const INGRESS = ["INGRESS_TRAFFIC_ALL", "INGRESS_TRAFFIC_INTERNAL_ONLY", "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"];
const NAME_PATTERN = /^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const TAG_PATTERN = /^[a-z](?:[-a-z0-9]{0,45}[a-z0-9])?$/;
const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Variables Cloud Run sets itself; a template may not set them. */
const RESERVED_ENV = ["PORT", "K_SERVICE", "K_REVISION", "K_CONFIGURATION"];
export const DEFAULT_TIMEOUT = "300s";
export const DEFAULT_MAX_INSTANCES = 100;

export function isValidServiceName(name: string): boolean {
  return NAME_PATTERN.test(name) && name.length <= 49;
}

/** Validates a service body and applies Cloud Run's defaults; INVALID_ARGUMENT on bad input. */
export function normalizeSpec(serviceName: string, body: Record<string, unknown>): ServiceSpec {
  const template = normalizeTemplate(serviceName, body.template);
  const ingress = body.ingress === undefined || body.ingress === "" ? "INGRESS_TRAFFIC_ALL" : body.ingress;
  if (typeof ingress !== "string" || !INGRESS.includes(ingress)) throw invalid(`ingress must be one of ${INGRESS.join(", ")}.`);
  const traffic = normalizeTraffic(body.traffic);
  return {
    ...(typeof body.description === "string" ? { description: body.description } : {}),
    labels: stringMap(body.labels, "labels"),
    annotations: stringMap(body.annotations, "annotations"),
    ingress,
    ...(typeof body.launchStage === "string" ? { launchStage: body.launchStage } : {}),
    ...(typeof body.invokerIamDisabled === "boolean" ? { invokerIamDisabled: body.invokerIamDisabled } : {}),
    template,
    traffic,
  };
}

function normalizeTemplate(serviceName: string, value: unknown): TemplateJson {
  if (!isObject(value)) throw invalid("template is required.");
  const containers = value.containers;
  if (!Array.isArray(containers) || containers.length !== 1) {
    throw invalid("template.containers must hold exactly one container (the local cloud runs no sidecars).");
  }
  const container = containers[0] as unknown;
  if (!isObject(container) || typeof container.image !== "string" || container.image === "") {
    throw invalid("template.containers[0].image is required.");
  }
  const env = normalizeEnv(container.env);
  if (value.revision !== undefined && value.revision !== "") {
    const revision = value.revision;
    if (typeof revision !== "string" || !NAME_PATTERN.test(revision) || !revision.startsWith(`${serviceName}-`)) {
      throw invalid(
        `template.revision ${JSON.stringify(revision)} must start with the service name and a hyphen (${serviceName}-...) and use lowercase letters, digits and hyphens (at most 63).`,
      );
    }
  }
  const scaling = isObject(value.scaling) ? value.scaling : {};
  const min = integer(scaling.minInstanceCount, "template.scaling.minInstanceCount", 0);
  const max = integer(scaling.maxInstanceCount, "template.scaling.maxInstanceCount", DEFAULT_MAX_INSTANCES);
  if (max < 1 || min > max)
    throw invalid(`template.scaling: minInstanceCount ${min} must not exceed maxInstanceCount ${max} (at least 1).`);
  timeoutMs(typeof value.timeout === "string" ? value.timeout : DEFAULT_TIMEOUT);
  const normalized: Record<string, unknown> = {
    ...value,
    scaling: { minInstanceCount: min, maxInstanceCount: max },
    timeout: typeof value.timeout === "string" ? value.timeout : DEFAULT_TIMEOUT,
    containers: [{ ...container, env }],
  };
  if (normalized.revision === "" || normalized.revision === undefined) delete normalized.revision;
  return normalized as unknown as TemplateJson;
}

function normalizeEnv(value: unknown): EnvVarJson[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid("template.containers[0].env must be a list.");
  const seen = new Set<string>();
  return value.map((entry: unknown, index) => {
    const where = `template.containers[0].env[${index}]`;
    if (!isObject(entry) || typeof entry.name !== "string" || !ENV_NAME_PATTERN.test(entry.name))
      throw invalid(`${where}.name must be a variable name.`);
    if (RESERVED_ENV.includes(entry.name)) throw invalid(`${where}.name: ${entry.name} is reserved by Cloud Run.`);
    if (seen.has(entry.name)) throw invalid(`${where}.name: ${entry.name} is set twice.`);
    seen.add(entry.name);
    const ref = isObject(entry.valueSource) ? entry.valueSource.secretKeyRef : undefined;
    if (ref !== undefined) {
      if (entry.value !== undefined && entry.value !== "") throw invalid(`${where}: value and valueSource are mutually exclusive.`);
      if (!isObject(ref) || typeof ref.secret !== "string" || ref.secret === "")
        throw invalid(`${where}.valueSource.secretKeyRef.secret is required.`);
      const version = ref.version === undefined || ref.version === "" ? "latest" : ref.version;
      if (typeof version !== "string") throw invalid(`${where}.valueSource.secretKeyRef.version must be a string.`);
      return { name: entry.name, valueSource: { secretKeyRef: { secret: ref.secret, version } } };
    }
    if (entry.value !== undefined && typeof entry.value !== "string") throw invalid(`${where}.value must be a string.`);
    return { name: entry.name, value: typeof entry.value === "string" ? entry.value : "" };
  });
}

function normalizeTraffic(value: unknown): TrafficTargetJson[] {
  if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) return [{ type: LATEST, percent: 100 }];
  if (!Array.isArray(value)) throw invalid("traffic must be a list.");
  const tags = new Set<string>();
  let total = 0;
  const targets = value.map((entry: unknown, index) => {
    const where = `traffic[${index}]`;
    if (!isObject(entry)) throw invalid(`${where} must be an object.`);
    const revision = typeof entry.revision === "string" && entry.revision !== "" ? entry.revision : undefined;
    const type: TrafficType = entry.type === LATEST || entry.type === REVISION ? (entry.type as TrafficType) : revision ? REVISION : LATEST;
    if (entry.type !== undefined && entry.type !== "" && entry.type !== LATEST && entry.type !== REVISION) {
      throw invalid(`${where}.type must be ${LATEST} or ${REVISION}.`);
    }
    if (type === REVISION && !revision) throw invalid(`${where}: a ${REVISION} target needs a revision.`);
    if (type === LATEST && revision) throw invalid(`${where}: a ${LATEST} target names no revision.`);
    const percent = integer(entry.percent, `${where}.percent`, 0);
    if (percent < 0 || percent > 100) throw invalid(`${where}.percent must be 0-100.`);
    total += percent;
    const tag = typeof entry.tag === "string" && entry.tag !== "" ? entry.tag : undefined;
    if (tag !== undefined) {
      if (!TAG_PATTERN.test(tag))
        throw invalid(`${where}.tag ${JSON.stringify(tag)} must be lowercase letters, digits and hyphens, starting with a letter.`);
      if (tags.has(tag)) throw invalid(`${where}.tag ${tag} is used twice.`);
      tags.add(tag);
    }
    if (percent === 0 && tag === undefined) throw invalid(`${where}: a target with no traffic needs a tag.`);
    return { type, ...(revision ? { revision } : {}), percent, ...(tag ? { tag } : {}) };
  });
  if (total !== 100) throw invalid(`traffic percents must add up to 100, got ${total}.`);
  return targets;
}

/** Whether two templates make the same revision (any difference is a new revision). */
export function sameTemplate(a: TemplateJson, b: TemplateJson): boolean {
  return stableJson(a) === stableJson(b);
}

export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(value[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** A protobuf Duration string in milliseconds ("300s", "1.5s"). */
export function timeoutMs(duration: string): number {
  const match = /^([0-9]+)(?:\.([0-9]{1,9}))?s$/.exec(duration);
  if (!match) throw invalid(`template.timeout must be a duration like "300s", got ${JSON.stringify(duration)}.`);
  const ms = Number(match[1]) * 1000 + Math.round(Number(`0.${match[2] ?? "0"}`) * 1000);
  if (ms <= 0 || ms > 3_600_000) throw invalid("template.timeout must be between 1 ms and 3600 s.");
  return ms;
}

/** The secret a `secretKeyRef.secret` names: `S` (the service's project) or `projects/P/secrets/S`. */
export function secretOfRef(ref: string, serviceProject: string): { project: string; secretId: string } {
  const full = /^projects\/([^/]+)\/secrets\/([^/]+)$/.exec(ref);
  if (full) return { project: full[1], secretId: full[2] };
  if (/^[a-zA-Z0-9_-]+$/.test(ref)) return { project: serviceProject, secretId: ref };
  throw invalid(`secretKeyRef.secret ${JSON.stringify(ref)} must be a secret id or projects/<project>/secrets/<id>.`);
}

/** A revision name Cloud Run generates: `<service>-<5-digit generation>-<3 letters>`. */
export function generatedRevisionName(serviceName: string, generation: number, random: () => number = Math.random): string {
  const letters = Array.from({ length: 3 }, () => "abcdefghijklmnopqrstuvwxyz"[Math.floor(random() * 26)]).join("");
  return `${serviceName}-${String(generation).padStart(5, "0")}-${letters}`;
}

function integer(value: unknown, field: string, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  const n = typeof value === "string" && /^-?[0-9]+$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n)) throw invalid(`${field} must be an integer.`);
  return n;
}

function stringMap(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw invalid(`${field} must be a map of strings.`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string") throw invalid(`${field}.${k} must be a string.`);
    out[k] = v;
  }
  return out;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
