/**
 * Workloads as the policies see them: their env vars (literal or from Secret Manager), their
 * secret volumes, their service account, and which of them is the wallet executor or the control
 * service that calls it. Reads Cloud Run v2 services, jobs and worker pools, Cloud Run v1
 * services, and Cloud Functions (1st and 2nd gen), with the shapes of @pulumi/gcp's `.d.ts` files.
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

/** The workload types the pack reads: everything that can run code with a credential. */
export const WORKLOAD_TYPES: readonly string[] = [
  TYPES.cloudRunService,
  TYPES.cloudRunJob,
  TYPES.cloudRunWorkerPool,
  TYPES.cloudRunV1Service,
  TYPES.cloudFunction,
  TYPES.cloudFunctionV2,
];

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
  /** The top-level properties that hold its runtime configuration (env, containers, ...). */
  readonly configProperties: readonly string[];
}

/** Where each Cloud Run workload type keeps its pieces. */
interface CloudRunShape {
  readonly template: readonly string[];
  readonly serviceAccount: string;
  /** v1 names a secret reference `valueFrom.secretKeyRef { name, key }`, v2 `valueSource.secretKeyRef { secret, version }`. */
  readonly v1: boolean;
}

const CLOUD_RUN_SHAPES: Readonly<Record<string, CloudRunShape>> = {
  [TYPES.cloudRunService]: { template: ["template"], serviceAccount: "serviceAccount", v1: false },
  [TYPES.cloudRunJob]: { template: ["template", "template"], serviceAccount: "serviceAccount", v1: false },
  [TYPES.cloudRunWorkerPool]: { template: ["template"], serviceAccount: "serviceAccount", v1: false },
  [TYPES.cloudRunV1Service]: { template: ["template", "spec"], serviceAccount: "serviceAccountName", v1: true },
};

/** Where each Cloud Functions generation keeps its pieces (v2 under serviceConfig and buildConfig). */
interface FunctionShape {
  readonly runtime: readonly string[];
  readonly build: readonly string[];
  readonly configProperties: readonly string[];
}

const FUNCTION_SHAPES: Readonly<Record<string, FunctionShape>> = {
  [TYPES.cloudFunction]: {
    runtime: [],
    build: ["buildEnvironmentVariables"],
    configProperties: ["environmentVariables", "buildEnvironmentVariables", "secretEnvironmentVariables", "secretVolumes"],
  },
  [TYPES.cloudFunctionV2]: {
    runtime: ["serviceConfig"],
    build: ["buildConfig", "environmentVariables"],
    configProperties: ["serviceConfig", "buildConfig"],
  },
};

/** Reads a workload's env, secret volumes and account; undefined for types that are no workload. */
export function readWorkload(type: string, props: Readonly<Record<string, unknown>>): Workload | undefined {
  const cloudRun = CLOUD_RUN_SHAPES[type];
  if (cloudRun) return readCloudRun(type, cloudRun, props);
  const fn = FUNCTION_SHAPES[type];
  return fn ? readFunction(type, fn, props) : undefined;
}

function readCloudRun(type: string, shape: CloudRunShape, props: Readonly<Record<string, unknown>>): Workload {
  const unknownParts: string[] = [];
  const templatePath = shape.template.join(".");
  const configProperties = ["template"];
  const template = at(props, ...shape.template);
  if (isUnknown(template)) return { type, envs: [], volumes: [], serviceAccount: UNKNOWN, unknownParts: [templatePath], configProperties };
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
  return { type, envs, volumes, serviceAccount: text(at(template, shape.serviceAccount)), unknownParts, configProperties };
}

/**
 * A Cloud Function: plain env vars in maps (runtime and build), secrets as
 * `secretEnvironmentVariables { key, secret, version }` and `secretVolumes { mountPath, secret,
 * versions[] { path, version } }`, where `secret` is the secret's id (never its full name).
 */
function readFunction(type: string, shape: FunctionShape, props: Readonly<Record<string, unknown>>): Workload {
  const runtimePath = shape.runtime.join(".");
  const runtime = at(props, ...shape.runtime);
  const unknownParts: string[] = [];
  const envs: EnvVar[] = [];
  const volumes: SecretVolume[] = [];
  const plainMap = (value: unknown, path: string, label: string): void => {
    if (isUnknown(value)) {
      unknownParts.push(path);
      return;
    }
    if (!isRecord(value)) return;
    for (const [name, item] of Object.entries(value)) {
      envs.push({ where: `${label} ${name}`, name, literal: item !== undefined && item !== null, value: text(item) });
    }
  };
  const prefix = runtimePath === "" ? "" : `${runtimePath}.`;
  if (isUnknown(runtime)) {
    unknownParts.push(runtimePath);
  } else {
    plainMap(at(runtime, "environmentVariables"), `${prefix}environmentVariables`, "env");
    const secretEnvs = list(at(runtime, "secretEnvironmentVariables"));
    if (isUnknown(secretEnvs)) unknownParts.push(`${prefix}secretEnvironmentVariables`);
    else {
      for (const entry of secretEnvs) {
        if (isUnknown(entry)) {
          unknownParts.push(`${prefix}secretEnvironmentVariables[]`);
          continue;
        }
        const name = text(at(entry, "key"));
        envs.push({
          where: `secret env ${typeof name === "string" ? name : "(name unknown)"}`,
          name: name === undefined ? "" : name,
          literal: false,
          value: undefined,
          secretKeyRef: { secret: text(at(entry, "secret")), version: text(at(entry, "version")) },
        });
      }
    }
    const secretVolumes = list(at(runtime, "secretVolumes"));
    if (isUnknown(secretVolumes)) unknownParts.push(`${prefix}secretVolumes`);
    else {
      for (const volume of secretVolumes) {
        const mountPath = text(at(volume, "mountPath"));
        const where = `volume ${typeof mountPath === "string" ? mountPath : "(path unknown)"}`;
        const rawVersions = at(volume, "versions");
        const items: SecretVolume["items"] = isUnknown(rawVersions)
          ? rawVersions
          : Array.isArray(rawVersions) && rawVersions.length > 0
            ? rawVersions.map((item, i): SecretVolumeItem => ({ where: `${where} version ${i}`, version: text(at(item, "version")) }))
            : undefined;
        volumes.push({ where, secret: text(at(volume, "secret")), items });
      }
    }
  }
  plainMap(at(props, ...shape.build), shape.build.join("."), "build env");
  const serviceAccount = isUnknown(runtime) ? UNKNOWN : text(at(runtime, "serviceAccountEmail"));
  return { type, envs, volumes, serviceAccount, unknownParts, configProperties: shape.configProperties };
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
   * while that number is unknown (preview), because the workload's config is built from the
   * outputs of exactly this one version of the secret (`byDependency` true).
   */
  | { readonly kind: "version"; readonly where: string; readonly version: StackNode; readonly byDependency: boolean }
  /** Something else: `latest`, an alias, a number no version resource of the stack has. */
  | { readonly kind: "other"; readonly where: string; readonly text: string }
  /** Cannot tell until apply. */
  | { readonly kind: "unknown"; readonly where: string };

/**
 * What a workload pins of a secret: one entry per reference to it (none if it does not read it).
 * A known reference resolves by version NUMBER to the version resource whose `version` output has
 * that number. A reference whose secret or version is unknown during preview (computed from some
 * output) resolves only when the workload is built from the outputs of exactly one version of the
 * secret; otherwise, as does a hand-written number while some version's number is unknown, it
 * stays "unknown".
 */
export function pinsOf(graph: StackGraph, workload: StackWorkload, secret: StackNode): Pin[] {
  const pins: Pin[] = [];
  const versions = graph.versionsOf(secret);
  const numbers = versions.map(versionNumberOf);
  const someNumberUnknown = numbers.some(isUnknown);
  // Props without version numbers at all (inputs, not outputs: no number to compare with): the dependency tells.
  const someNumberMissing = numbers.some((number) => number === undefined);
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
    // A number written by hand may be that of a version whose number is not known yet: only apply tells.
    else if (VERSION_NUMBER.test(ref.version) && someNumberUnknown) pins.push({ kind: "unknown", where: ref.where });
    else if (VERSION_NUMBER.test(ref.version) && someNumberMissing) undetermined ??= ref.where;
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
