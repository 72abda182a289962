/**
 * Cloud Run workloads as the policies see them: their env vars (literal or from Secret Manager),
 * their secret volumes, their service account, and which of them is the wallet executor or the
 * control service that calls it. Reads Cloud Run v2 services and jobs and Cloud Run v1 services,
 * with the shapes of @pulumi/gcp's `.d.ts` files.
 */
import {
  StackGraph,
  StackNode,
  TYPES,
  UNKNOWN,
  Unknown,
  VERSION_NUMBER,
  VERSION_PATH,
  at,
  isRecord,
  isUnknown,
  isWithin,
  list,
  parseSecretName,
  text,
  versionNumberOf,
} from "./graph";

/** The executor's environment, from its contract (docs/reference/executor-contract.md). */
export const ENV = {
  mode: "OA_LIGHTNING_WALLET_EXECUTOR_MODE",
  token: "OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN",
  tokenVersion: "OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN_VERSION",
  sparkApiKey: "OA_LIGHTNING_SPARK_API_KEY",
  mnemonicProvider: "OA_LIGHTNING_WALLET_MNEMONIC_PROVIDER",
  mnemonicSecretVersion: "OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION",
  /**
   * Not in the contract's table: where a mnemonic would sit as plain words (provider `env`). The
   * pack forbids it as a literal whatever the executor build reads, so the words never sit in a
   * Cloud Run revision.
   */
  mnemonic: "OA_LIGHTNING_WALLET_MNEMONIC",
} as const;

/**
 * Names under which a control service reads its outbound token (the contract: canonical and
 * legacy; configurable per policy with `controlTokenEnvNames`).
 */
export const DEFAULT_CONTROL_TOKEN_ENV_NAMES: readonly string[] = ["OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN", "SPARK_EXECUTOR_AUTH_TOKEN"];

/** Names under which a control service reads the executor's URL (canonical and legacy). */
export const CONTROL_BASE_URL_ENV_NAMES: readonly string[] = ["OA_LIGHTNING_WALLET_EXECUTOR_BASE_URL", "SPARK_EXECUTOR_BASE_URL"];

/** Env vars only the executor reads: a workload that sets one of them is an executor. */
const EXECUTOR_ONLY_ENV: readonly string[] = [
  ENV.mode,
  ENV.tokenVersion,
  ENV.sparkApiKey,
  ENV.mnemonicProvider,
  ENV.mnemonicSecretVersion,
  ENV.mnemonic,
  "OA_LIGHTNING_WALLET_ALLOWED_HOSTS",
];

/** Cloud Run workload types the pack reads. */
export const WORKLOAD_TYPES: readonly string[] = [TYPES.cloudRunService, TYPES.cloudRunJob, TYPES.cloudRunV1Service];

export interface SecretKeyRef {
  readonly secret: string | Unknown | undefined;
  /** The version: a number, `latest`, an alias, or undefined (Cloud Run v2 then reads latest). */
  readonly version: string | Unknown | undefined;
}

export interface EnvVar {
  /** Where it is, for messages: `container 0 env OA_...`. */
  readonly where: string;
  readonly name: string | Unknown;
  /** A literal `value` is set, known or not: the value sits in the revision's config. */
  readonly literal: boolean;
  readonly value: string | Unknown | undefined;
  readonly secretKeyRef?: SecretKeyRef;
}

export interface SecretVolumeItem {
  readonly where: string;
  readonly version: string | Unknown | undefined;
}

export interface SecretVolume {
  readonly where: string;
  readonly secret: string | Unknown | undefined;
  /** undefined when the volume lists no items (Cloud Run then mounts the latest version). */
  readonly items: readonly SecretVolumeItem[] | Unknown | undefined;
}

export interface Workload {
  readonly type: string;
  readonly envs: readonly EnvVar[];
  readonly volumes: readonly SecretVolume[];
  readonly serviceAccount: string | Unknown | undefined;
  /** Parts that are unknown as a whole during preview (their env vars cannot be listed). */
  readonly unknownParts: readonly string[];
}

/** Where each workload type keeps its pieces. */
interface WorkloadShape {
  readonly template: readonly string[];
  readonly serviceAccount: string;
  /** v1 names a secret reference `valueFrom.secretKeyRef { name, key }`, v2 `valueSource.secretKeyRef { secret, version }`. */
  readonly v1: boolean;
}

const SHAPES: Readonly<Record<string, WorkloadShape>> = {
  [TYPES.cloudRunService]: { template: ["template"], serviceAccount: "serviceAccount", v1: false },
  [TYPES.cloudRunJob]: { template: ["template", "template"], serviceAccount: "serviceAccount", v1: false },
  [TYPES.cloudRunV1Service]: { template: ["template", "spec"], serviceAccount: "serviceAccountName", v1: true },
};

/** Reads a Cloud Run workload's env, volumes and account; undefined for other types. */
export function readWorkload(type: string, props: Readonly<Record<string, unknown>>): Workload | undefined {
  const shape = SHAPES[type];
  if (!shape) return undefined;
  const unknownParts: string[] = [];
  const templatePath = shape.template.join(".");
  const template = at(props, ...shape.template);
  if (isUnknown(template)) return { type, envs: [], volumes: [], serviceAccount: UNKNOWN, unknownParts: [templatePath] };
  const containers = list(at(template, "containers"));
  const envs: EnvVar[] = [];
  if (isUnknown(containers)) {
    unknownParts.push(`${templatePath}.containers`);
  } else {
    containers.forEach((container, c) => {
      const entries = list(at(container, "envs"));
      if (isUnknown(entries)) {
        unknownParts.push(`${templatePath}.containers[${c}].envs`);
        return;
      }
      for (const entry of entries) {
        if (isUnknown(entry)) {
          unknownParts.push(`${templatePath}.containers[${c}].envs[]`);
          continue;
        }
        const name = text(at(entry, "name"));
        const shownName = typeof name === "string" ? name : "(name unknown)";
        const ref = shape.v1 ? at(entry, "valueFrom", "secretKeyRef") : at(entry, "valueSource", "secretKeyRef");
        // A whole `secretKeyRef` unknown: both its parts are.
        const secretKeyRef: SecretKeyRef | undefined = isUnknown(ref)
          ? { secret: UNKNOWN, version: UNKNOWN }
          : isRecord(ref)
            ? shape.v1
              ? { secret: text(ref.name), version: text(ref.key) }
              : { secret: text(ref.secret), version: text(ref.version) }
            : undefined;
        envs.push({
          where: `container ${c} env ${shownName}`,
          name: name === undefined ? "" : name,
          literal: isRecord(entry) && "value" in entry && entry.value !== undefined && entry.value !== null,
          value: text(at(entry, "value")),
          secretKeyRef,
        });
      }
    });
  }
  const volumes: SecretVolume[] = [];
  const volumeList = list(at(template, "volumes"));
  if (isUnknown(volumeList)) {
    unknownParts.push(`${templatePath}.volumes`);
  } else {
    for (const volume of volumeList) {
      const secretSource = at(volume, "secret");
      if (secretSource === undefined || secretSource === null) continue;
      const volumeName = text(at(volume, "name"));
      const where = `volume ${typeof volumeName === "string" ? volumeName : "(name unknown)"}`;
      const rawItems = at(secretSource, "items");
      const items: SecretVolume["items"] = isUnknown(rawItems)
        ? rawItems
        : Array.isArray(rawItems) && rawItems.length > 0
          ? rawItems.map((item, i): SecretVolumeItem => ({
              where: `${where} item ${i}`,
              version: text(at(item, shape.v1 ? "key" : "version")),
            }))
          : undefined;
      volumes.push({ where, secret: text(at(secretSource, shape.v1 ? "secretName" : "secret")), items });
    }
  }
  return { type, envs, volumes, serviceAccount: text(at(template, shape.serviceAccount)), unknownParts };
}

/** The env var with this exact name (the first, as Cloud Run keeps one). */
export function envNamed(workload: Workload, name: string): EnvVar | undefined {
  return workload.envs.find((env) => env.name === name);
}

/** True for the wallet executor: within an ExecutorService component, or setting an executor-only variable. */
export function isExecutor(urn: string, workload: Workload): boolean {
  return (
    isWithin(urn, TYPES.executorService) ||
    workload.envs.some((env) => typeof env.name === "string" && EXECUTOR_ONLY_ENV.includes(env.name))
  );
}

/** A reference from a workload to a secret: an env var, a volume item, or the mnemonic's version path. */
export interface SecretRef {
  readonly where: string;
  readonly secret: string | Unknown | undefined;
  readonly version: string | Unknown | undefined;
}

/** Every secret reference of a workload. */
export function secretRefsOf(workload: Workload): SecretRef[] {
  const refs: SecretRef[] = [];
  for (const env of workload.envs) {
    if (env.secretKeyRef) refs.push({ where: env.where, secret: env.secretKeyRef.secret, version: env.secretKeyRef.version });
    if (env.name === ENV.mnemonicSecretVersion && env.literal) {
      if (isUnknown(env.value)) {
        refs.push({ where: env.where, secret: env.value, version: env.value });
      } else if (typeof env.value === "string") {
        const path = VERSION_PATH.exec(env.value);
        if (path) refs.push({ where: env.where, secret: `projects/${path[1]}/secrets/${path[2]}`, version: path[3] });
      }
    }
  }
  for (const volume of workload.volumes) {
    if (volume.items === undefined || isUnknown(volume.items)) {
      refs.push({ where: volume.where, secret: volume.secret, version: isUnknown(volume.items) ? volume.items : undefined });
    } else {
      for (const item of volume.items) refs.push({ where: item.where, secret: volume.secret, version: item.version });
    }
  }
  return refs;
}

/** A Cloud Run workload in the stack. */
export interface StackWorkload {
  readonly node: StackNode;
  readonly workload: Workload;
}

export function workloadsOf(graph: StackGraph): StackWorkload[] {
  const found: StackWorkload[] = [];
  for (const node of graph.ofType(...WORKLOAD_TYPES)) {
    const workload = readWorkload(node.type, node.props);
    if (workload) found.push({ node, workload });
  }
  return found;
}

/** Does the workload's template use this secret's (or one of its versions') outputs? Known in preview. */
export function buildsOn(graph: StackGraph, workload: StackWorkload, secret: StackNode): boolean {
  const versions = new Set(graph.versionsOf(secret).map((version) => version.urn));
  return graph.inputsFrom(workload.node).some((node) => node === secret || versions.has(node.urn));
}

/** How a reference relates to a secret of the stack. */
export type RefMatch = "yes" | "no" | "unknown";

export function refNames(graph: StackGraph, ref: SecretRef, secret: StackNode): RefMatch {
  if (isUnknown(ref.secret)) return "unknown";
  if (ref.secret === undefined) return "no";
  const name = parseSecretName(ref.secret);
  const own = graph.secretNameOf(secret);
  if (!name) return "no";
  if (!own) return "unknown";
  return graph.sameSecret(name, own) ? "yes" : "no";
}

/**
 * Does the workload read this secret? By its references when they are known; when some are unknown
 * (preview), by whether its template is built from the secret's outputs, which is a superset: a
 * policy that asks "does it read it at all?" then never reports a false violation.
 */
export function reads(graph: StackGraph, workload: StackWorkload, secret: StackNode): boolean {
  const matches = secretRefsOf(workload.workload).map((ref) => refNames(graph, ref, secret));
  if (matches.includes("yes")) return true;
  if (matches.includes("unknown") || workload.workload.unknownParts.length > 0) return buildsOn(graph, workload, secret);
  return false;
}

/** What one reference pins, of one secret. */
export type Pin =
  /**
   * A version resource of the stack: by the reference's version NUMBER (`byDependency` false), or,
   * while that number is unknown (preview), because the workload's template is built from the
   * outputs of exactly this one version of the secret (`byDependency` true: good enough to confirm
   * a pin, not to report one as wrong).
   */
  | { readonly kind: "version"; readonly where: string; readonly version: StackNode; readonly byDependency: boolean }
  /** Something else: `latest`, an alias, a number no version resource of the stack has. */
  | { readonly kind: "other"; readonly where: string; readonly text: string }
  /** Cannot tell until apply. */
  | { readonly kind: "unknown"; readonly where: string };

/**
 * What a workload pins of a secret: one entry per reference to it (none if it does not read it).
 * A known reference resolves by version NUMBER to the version resource whose `version` output has
 * that number. A reference whose secret or version is unknown during preview (or whose number no
 * version resource has yet) resolves only when the template is built from the outputs of exactly
 * one version of the secret; otherwise it stays "unknown".
 */
export function pinsOf(graph: StackGraph, workload: StackWorkload, secret: StackNode): Pin[] {
  const pins: Pin[] = [];
  const versions = graph.versionsOf(secret);
  const someNumberUnknown = versions.some((version) => typeof versionNumberOf(version) !== "string");
  let undetermined: string | undefined;
  for (const ref of secretRefsOf(workload.workload)) {
    const match = refNames(graph, ref, secret);
    if (match === "no") continue;
    if (match === "unknown") {
      if (buildsOn(graph, workload, secret)) undetermined ??= ref.where;
      continue;
    }
    if (isUnknown(ref.version)) {
      undetermined ??= ref.where;
      continue;
    }
    if (ref.version === undefined || ref.version === "") {
      pins.push({ kind: "other", where: ref.where, text: "latest (no version)" });
      continue;
    }
    const version = graph.versionNumbered(secret, ref.version);
    if (version) pins.push({ kind: "version", where: ref.where, version, byDependency: false });
    else if (VERSION_NUMBER.test(ref.version) && someNumberUnknown) undetermined ??= ref.where;
    else pins.push({ kind: "other", where: ref.where, text: ref.version });
  }
  if (workload.workload.unknownParts.length > 0 && buildsOn(graph, workload, secret)) undetermined ??= workload.workload.unknownParts[0];
  if (undetermined !== undefined) {
    const own = new Set(versions);
    const used = graph.inputsFrom(workload.node).filter((node) => own.has(node));
    if (used.length === 1) pins.push({ kind: "version", where: undetermined, version: used[0], byDependency: true });
    else pins.push({ kind: "unknown", where: undetermined });
  }
  return pins;
}
