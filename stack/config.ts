/**
 * Stack configuration: read from plain values, validated completely, before any resource is
 * registered. No Pulumi in here, so every rule is testable in milliseconds.
 *
 * Every error names the key (as written in `Pulumi.<stack>.yaml`), what is wrong with the value,
 * and what is allowed. All problems are collected and reported together, so one `pulumi preview`
 * shows everything a config change got wrong.
 */

import { ENGINE_NAMESPACE, PROVIDER_NAMESPACES, SECRET_PROVIDER_KEYS, closest, providerConfigKeys } from "./provider-config";
import { CLOUD_RUN_SHUTDOWN_GRACE_MS } from "./tagged-routing";
import { EXECUTOR_MODES, type ExecutorMode } from "../verification/options";

export const PROJECT = "wallet-executor";

export const ENVIRONMENTS = ["staging", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

// The executor's modes are the verification's (it checks `/status.mode` against them).
export { EXECUTOR_MODES, type ExecutorMode };

export const SPARK_NETWORKS = ["mainnet", "regtest"] as const;
export type SparkNetwork = (typeof SPARK_NETWORKS)[number];

export const INGRESS_SETTINGS = ["all", "internal", "internal-and-cloud-load-balancing"] as const;
export type Ingress = (typeof INGRESS_SETTINGS)[number];

/** Cloud Run's ingress enum values, by our short config names. */
export const CLOUD_RUN_INGRESS: Readonly<Record<Ingress, string>> = {
  all: "INGRESS_TRAFFIC_ALL",
  internal: "INGRESS_TRAFFIC_INTERNAL_ONLY",
  "internal-and-cloud-load-balancing": "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
};

/** The executor reads its own port variable, not Cloud Run's PORT: both must be the container port. */
export const EXECUTOR_PORT = 8080;

/**
 * How a token rotation reaches the control service (docs/design/zero-downtime.md): `tagged` gives
 * each token generation's executor revision a name and a tag URL of its own and points the control
 * at the tag of the generation whose token it holds (no failed call); `in-place` replaces the one
 * revision behind the main URL (calls fail for about one control rollout).
 */
export const ROTATION_STRATEGIES = ["tagged", "in-place"] as const;
export type RotationStrategy = (typeof ROTATION_STRATEGIES)[number];

/** `wallet-executor:rotation`, defaulted. */
export interface RotationConfig {
  readonly strategy: RotationStrategy;
  /**
   * The first token generation deployed `tagged` (a stack moving from `in-place` sets it to its
   * current generation): an older previous generation has no named revision to keep a tag on.
   */
  readonly taggedSince: number;
  /** Cloud Run's shutdown grace (10 s); only a rehearsal on the local cloud sets less. */
  readonly shutdownGraceMs: number;
}

/** The credential config keys, in rotation order of risk. */
export const CREDENTIALS = ["authToken", "sparkApiKey", "mnemonic"] as const;
export type CredentialKey = (typeof CREDENTIALS)[number];

/** The canonical names under which the control service reads its executor settings. */
export const CANONICAL_CONTROL_ENV_NAMES: ControlEnvNames = {
  baseUrl: "OA_LIGHTNING_WALLET_EXECUTOR_BASE_URL",
  authToken: "OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN",
  timeoutMs: "OA_LIGHTNING_WALLET_EXECUTOR_TIMEOUT_MS",
};

/** Upper bound of OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN_VERSION, from the executor's contract. */
export const MAX_GENERATION = 1_000_000;

/** One credential's generations: which one both services use, which is being rotated out. */
export interface CredentialGenerations {
  /** The generation both services are pinned to. */
  readonly current: number;
  /** The generation being rotated out; still enabled unless `revokePrevious`. */
  readonly previous?: number;
  /**
   * Disable the previous generation's version, after verification of `current`. Always true when
   * the previous generation is compromised: a compromised generation is never left enabled.
   */
  readonly revokePrevious: boolean;
  /**
   * Generations known to be compromised (sorted): never current again, disabled whenever the
   * program registers them, and once applied never dropped from this list.
   */
  readonly compromised: readonly number[];
}

/** Generations of the Spark key or the mnemonic: their values may come from two sources. */
export interface SourcedGenerations extends CredentialGenerations {
  /**
   * Generations already published in the secret out of band (`gcloud secrets versions add`), by
   * Secret Manager version number: the stack references them and never holds their value. Every
   * other generation's value comes from the encrypted config key `<credential>G<generation>`.
   */
  readonly published: Readonly<Record<number, number>>;
}

/** The approval a mnemonic rotation needs: the runbook's "business approval" and window. */
export interface MnemonicApproval {
  readonly ticket: string;
  readonly approver: string;
  /** Maintenance window, ISO 8601 with a zone. */
  readonly windowStart: string;
  readonly windowEnd: string;
  /** Why the rotation runs outside its window; required only then. */
  readonly overrideReason?: string;
}

/** The reconciliation sign-off that revoking the previous mnemonic needs. */
export interface ReconciliationSignoff {
  readonly by: string;
  /** ISO 8601 with a zone. */
  readonly at: string;
  /** Where the reconciliation is recorded (ticket, document). */
  readonly reference: string;
}

export interface MnemonicGenerations extends SourcedGenerations {
  readonly approval?: MnemonicApproval;
  readonly reconciliationSignoff?: ReconciliationSignoff;
  /** The wallet identity the new mnemonic must show in `/status.identityPubkey`, when known. */
  readonly expectIdentity?: string;
}

export interface ControlEnvNames {
  readonly baseUrl: string;
  readonly authToken: string;
  readonly timeoutMs: string;
}

export interface ScalingConfig {
  readonly minInstances: number;
  readonly maxInstances: number;
}

export interface ExecutorConfig extends ScalingConfig {
  readonly image: string;
  readonly serviceName: string;
  readonly serviceAccountId: string;
  readonly walletId: string;
  readonly mode: ExecutorMode;
  readonly sparkNetwork: SparkNetwork;
  readonly allowedHosts: readonly string[];
  readonly requestCapMsats: number;
  readonly windowCapMsats: number;
  readonly windowMs: number;
  readonly paymentTimeoutSecs: number;
  readonly port: number;
  readonly ingress: Ingress;
  /** Grant `roles/run.invoker` to `allUsers`: the executor's own bearer token is then its gate. */
  readonly publicInvoker: boolean;
}

export interface ControlConfig extends ScalingConfig {
  readonly image: string;
  readonly serviceName: string;
  readonly serviceAccountId: string;
  readonly port: number;
  readonly timeoutMs: number;
  readonly envNames: ControlEnvNames;
  readonly ingress: Ingress;
  readonly publicInvoker: boolean;
}

/** The payment probe of the verification gate. */
export interface PaymentProbeConfig {
  /** Name of the secret config key that holds the smoke-test BOLT11 invoice. */
  readonly invoiceConfigKey: string;
  readonly host: string;
  readonly maxAmountMsats: number;
}

export interface VerificationConfig {
  /** Absent when the payment probe is disabled for this environment. */
  readonly payment?: PaymentProbeConfig;
  /** How long verification waits for a new revision to become ready. */
  readonly deadlineMs: number;
}

export interface StackConfig {
  readonly gcpProject: string;
  readonly region: string;
  readonly environment: Environment;
  readonly executor: ExecutorConfig;
  readonly control: ControlConfig;
  readonly authToken: CredentialGenerations;
  readonly sparkApiKey: SourcedGenerations;
  readonly mnemonic: MnemonicGenerations;
  readonly verification: VerificationConfig;
  /** `wallet-executor:rotation`: how the token reaches the control service during a rotation. */
  readonly rotation: RotationConfig;
  /**
   * prod only: the staging stack whose verified generations gate a mnemonic rotation
   * (`<org>/<project>/<stack>`); unset means `<this org>/wallet-executor/staging`.
   */
  readonly stagingStack?: string;
}

/**
 * The raw values, keyed as in the stack file (`gcp:project`, `wallet-executor:executor`, ...),
 * already decoded from YAML/JSON. Secure values are never needed here: only their key names.
 */
export type RawConfig = Readonly<Record<string, unknown>>;

/** What parsing needs to know besides the values. */
export interface ParseOptions {
  /**
   * The stack's name (`staging`, `org/staging`, `org/project/staging`): the environment must be
   * its last part. Unchecked when absent (pure parsing, as in the property tests).
   */
  readonly stack?: string;
  /**
   * The keys set with `--secret` (their values are never in `raw`). When given, every key is
   * checked for its kind: a key that holds a secret must be one, a plain key must not be.
   */
  readonly secretKeys?: ReadonlySet<string>;
}

/** Thrown for bad configuration; `problems` holds one line per bad key. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(
      problems.length === 1
        ? `invalid stack configuration: ${problems[0]}`
        : `invalid stack configuration (${problems.length} problems):\n  - ${problems.join("\n  - ")}`,
    );
    this.name = "ConfigError";
    this.problems = problems;
  }

  /** The problems on one line, without the "invalid stack configuration" lead (for a message that has its own). */
  get summary(): string {
    return this.problems.join("; ");
  }
}

/** The secret config key that holds the value of a generation of a config-sourced credential. */
export function generationValueKey(credential: "sparkApiKey" | "mnemonic", generation: number): string {
  return `${credential}G${generation}`;
}

/** `wallet-executor:<key>`, as the key is written in the stack file. */
export function projectKey(key: string): string {
  return `${PROJECT}:${key}`;
}

/** YAML's spelling of the numbers JSON has none for (`.inf`, `.nan`), so a message shows what was written. */
function yamlNumber(value: number): string {
  return Number.isNaN(value) ? ".nan" : value > 0 ? ".inf" : "-.inf";
}

const show = (value: unknown): string => {
  if (value === undefined) return "undefined";
  if (typeof value === "number" && !Number.isFinite(value)) return yamlNumber(value);
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === "number" && !Number.isFinite(item) ? yamlNumber(item) : item));
};

/** Collects problems while reading one object; each reader returns a value even on error. */
class Reader {
  constructor(
    private readonly problems: string[],
    readonly path: string,
    private readonly obj: Readonly<Record<string, unknown>>,
  ) {}

  private key(name: string): string {
    return `${this.path}.${name}`;
  }

  private fail(name: string, message: string): void {
    this.problems.push(`${this.key(name)}: ${message}`);
  }

  /** Reports keys that are not allowed here (a typo like `revokePrevios` must not be ignored). */
  onlyKeys(allowed: readonly string[]): void {
    for (const name of Object.keys(this.obj)) {
      if (!allowed.includes(name)) {
        this.problems.push(`${this.path}: unknown key ${show(name)}; allowed keys: ${allowed.join(", ")}`);
      }
    }
  }

  string(name: string, opts: { default?: string; pattern?: RegExp; allowed?: string } = {}): string {
    const value = this.obj[name];
    if (value === undefined) {
      if (opts.default !== undefined) return opts.default;
      this.fail(name, `is required${opts.allowed ? `; allowed: ${opts.allowed}` : ""}`);
      return "";
    }
    if (typeof value !== "string" || value.trim() === "") {
      this.fail(name, `must be a non-empty string, got ${show(value)}`);
      return "";
    }
    if (opts.pattern && !opts.pattern.test(value)) {
      this.fail(name, `${show(value)} is not allowed; allowed: ${opts.allowed ?? String(opts.pattern)}`);
    }
    return value;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback?: T): T {
    const value = this.obj[name];
    if (value === undefined && fallback !== undefined) return fallback;
    if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
      this.fail(name, `${value === undefined ? "is required" : `${show(value)} is not allowed`}; allowed: ${allowed.join(", ")}`);
      return allowed[0];
    }
    return value as T;
  }

  integer(name: string, opts: { min: number; max?: number; default?: number }): number {
    const value = this.obj[name];
    if (value === undefined && opts.default !== undefined) return opts.default;
    const range = opts.max === undefined ? `an integer >= ${opts.min}` : `an integer from ${opts.min} to ${opts.max}`;
    if (value === undefined) {
      this.fail(name, `is required; allowed: ${range}`);
      return opts.min;
    }
    if (typeof value !== "number" || !Number.isInteger(value) || value < opts.min || (opts.max !== undefined && value > opts.max)) {
      this.fail(name, `${show(value)} is not allowed; allowed: ${range}`);
      return opts.min;
    }
    return value;
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.obj[name];
    if (value === undefined) return fallback;
    if (typeof value !== "boolean") {
      this.fail(name, `${show(value)} is not allowed; allowed: true, false`);
      return fallback;
    }
    return value;
  }

  stringList(name: string): string[] {
    const value = this.obj[name];
    if (value === undefined) return [];
    if (!Array.isArray(value) || !value.every((v) => typeof v === "string" && v.trim() !== "")) {
      this.fail(name, `must be a list of non-empty strings, got ${show(value)}`);
      return [];
    }
    return value as string[];
  }

  object(name: string, required: boolean): Reader | undefined {
    const value = this.obj[name];
    if (value === undefined) {
      if (required) this.fail(name, "is required");
      return undefined;
    }
    if (!isPlainObject(value)) {
      this.fail(name, `must be an object, got ${show(value)}`);
      return undefined;
    }
    return new Reader(this.problems, this.key(name), value);
  }

  problem(name: string, message: string): void {
    this.fail(name, message);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An image must be pinned: by digest (preferred) or at least by an explicit tag, never implicitly `latest`. */
const IMAGE_PATTERN =
  /^[a-z0-9][a-z0-9.-]*(:[0-9]+)?(\/[a-z0-9._-]+)+(@sha256:[a-f0-9]{64}|:(?!latest$)[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$/;
const IMAGE_ALLOWED = "a registry image pinned by digest (…@sha256:<64 hex>) or by tag (…:<tag>), not `latest`";
/** Cloud Run service names. */
const SERVICE_NAME_PATTERN = /^[a-z]([-a-z0-9]{0,47}[a-z0-9])?$/;
const SERVICE_NAME_ALLOWED = "lowercase letters, digits and hyphens, starting with a letter, at most 49 characters";
/** IAM service account ids. */
const ACCOUNT_ID_PATTERN = /^[a-z]([-a-z0-9]{4,28}[a-z0-9])$/;
const ACCOUNT_ID_ALLOWED = "6 to 30 lowercase letters, digits and hyphens, starting with a letter";
/** Environment variable names. */
const ENV_NAME_PATTERN = /^[A-Z_][A-Z0-9_]*$/;
/** GCP project ids and Cloud Run regions. */
const GCP_PROJECT_PATTERN = /^[a-z][-a-z0-9]{4,28}[a-z0-9]$/;
const REGION_PATTERN = /^[a-z]+-[a-z]+[0-9]+$/;
/** A host for OA_LIGHTNING_WALLET_ALLOWED_HOSTS: a DNS name, no scheme, no path, no comma. */
const HOST_PATTERN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
/** Secret config key names (for the smoke invoice). */
const CONFIG_KEY_PATTERN = /^[A-Za-z][A-Za-z0-9_-]*$/;

/** A service account id derived from a service name: `<name>-run`, trimmed to IAM's 30 characters. */
export function defaultServiceAccountId(serviceName: string): string {
  return `${serviceName.slice(0, 26).replace(/-+$/, "")}-run`;
}

const CREDENTIAL_SHAPE =
  "an object { current: <integer >= 1>, previous?: <integer < current>, revokePrevious?: <boolean>, compromised?: [<generation>, ...] }";

/** `compromised: [3, 5]`: distinct generations, never the current one. */
function readCompromised(r: Reader, value: unknown, current: number): number[] {
  if (value === undefined) return [];
  const allowed = `a list of distinct generations (integers from 1 to ${MAX_GENERATION}), not the current one`;
  if (!Array.isArray(value)) {
    r.problem("compromised", `must be ${allowed}, got ${show(value)}`);
    return [];
  }
  const generations: number[] = [];
  for (const item of value) {
    if (typeof item !== "number" || !Number.isInteger(item) || item < 1 || item > MAX_GENERATION) {
      r.problem("compromised", `${show(item)} is not allowed; allowed: ${allowed}`);
    } else if (generations.includes(item)) {
      r.problem("compromised", `generation ${item} is listed twice; allowed: ${allowed}`);
    } else {
      generations.push(item);
    }
  }
  if (generations.includes(current)) {
    r.problem(
      "compromised",
      `generation ${current} is the current one; allowed: ${allowed} (a compromised generation is never used again: rotate to a new generation)`,
    );
  }
  return generations.sort((a, b) => a - b);
}

/** Reads `{ current, previous?, revokePrevious? }` and, for sourced credentials, `published`. */
function readGenerations(
  problems: string[],
  raw: RawConfig,
  key: CredentialKey,
  extraKeys: readonly string[],
): { reader: Reader; generations: CredentialGenerations } | undefined {
  const path = projectKey(key);
  const value = raw[path];
  if (value === undefined) {
    problems.push(`${path}: is required; allowed: ${CREDENTIAL_SHAPE}`);
    return undefined;
  }
  if (!isPlainObject(value)) {
    problems.push(`${path}: must be ${CREDENTIAL_SHAPE}, got ${show(value)}`);
    return undefined;
  }
  const r = new Reader(problems, path, value);
  r.onlyKeys(["current", "previous", "revokePrevious", "compromised", ...extraKeys]);
  const current = r.integer("current", { min: 1, max: MAX_GENERATION });
  let previous: number | undefined;
  if (value.previous !== undefined) {
    previous = r.integer("previous", { min: 1, max: MAX_GENERATION });
    if (Number.isInteger(value.current) && Number.isInteger(value.previous) && previous >= current) {
      r.problem("previous", `${previous} is not allowed; allowed: an integer < current (${current})`);
    }
  }
  const revokePrevious = r.boolean("revokePrevious", false);
  if (revokePrevious && value.previous === undefined) {
    r.problem("revokePrevious", "is true but there is no previous generation to revoke; set previous, or remove revokePrevious");
  }
  const compromised = readCompromised(r, value.compromised, current);
  return {
    reader: r,
    generations: previous === undefined ? { current, revokePrevious, compromised } : { current, previous, revokePrevious, compromised },
  };
}

function readCredential(problems: string[], raw: RawConfig, key: CredentialKey): CredentialGenerations {
  return readGenerations(problems, raw, key, [])?.generations ?? { current: 1, revokePrevious: false, compromised: [] };
}

/** `published: { "<generation>": <version number> }`, only for the configured generations. */
function readPublished(r: Reader, value: unknown, generations: CredentialGenerations): Record<number, number> {
  if (value === undefined) return {};
  const allowed = 'an object { "<generation>": <Secret Manager version number> } for the current or previous generation';
  if (!isPlainObject(value)) {
    r.problem("published", `must be ${allowed}, got ${show(value)}`);
    return {};
  }
  const configured = [generations.current, generations.previous].filter((g): g is number => g !== undefined);
  const published: Record<number, number> = {};
  for (const [generationText, version] of Object.entries(value)) {
    const generation = Number(generationText);
    if (!configured.includes(generation)) {
      r.problem(
        "published",
        `generation ${show(generationText)} is not allowed; allowed: ${configured.join(" or ")} (the configured generations)`,
      );
    } else if (typeof version !== "number" || !Number.isInteger(version) || version < 1) {
      r.problem(
        `published.${generationText}`,
        `${show(version)} is not allowed; allowed: a Secret Manager version number (an integer >= 1)`,
      );
    } else {
      published[generation] = version;
    }
  }
  return published;
}

function readSparkApiKey(problems: string[], raw: RawConfig): SourcedGenerations {
  const read = readGenerations(problems, raw, "sparkApiKey", ["published"]);
  if (!read) return { current: 1, revokePrevious: false, compromised: [], published: {} };
  const value = raw[projectKey("sparkApiKey")] as Record<string, unknown>;
  return { ...read.generations, published: readPublished(read.reader, value.published, read.generations) };
}

/** ISO 8601 timestamps with an explicit zone: a window without a zone is ambiguous at 3 a.m. */
const ISO_TIMESTAMP = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}:[0-9]{2})$/;
const ISO_ALLOWED = "an ISO 8601 timestamp with a zone, e.g. 2026-12-01T02:00:00Z";

function readTimestamp(r: Reader, name: string): string {
  const text = r.string(name, { pattern: ISO_TIMESTAMP, allowed: ISO_ALLOWED });
  if (text && ISO_TIMESTAMP.test(text) && Number.isNaN(Date.parse(text)))
    r.problem(name, `${show(text)} is not a real date; allowed: ${ISO_ALLOWED}`);
  return text;
}

const approvalRequired = (why: string): string =>
  `is required while a mnemonic rotation is in progress (${why}); allowed: { ticket, approver, windowStart, windowEnd, overrideReason? }`;

const outsideWindow = (now: Date, windowStart: string, windowEnd: string): string =>
  `now (${now.toISOString()}) is outside the approved maintenance window ${windowStart} .. ${windowEnd}; allowed: run inside the window, or record why in approval.overrideReason`;

/**
 * The controls a mnemonic rotation needs, whatever made it one (`why`: previous is set, `current`
 * differs from what the stack last applied, that is unknown): an approval, and now inside its
 * window unless an override reason is recorded.
 */
export function mnemonicRotationProblems(mnemonic: MnemonicGenerations, now: Date, why: string): string[] {
  const key = projectKey("mnemonic");
  const approval = mnemonic.approval;
  if (!approval) return [`${key}.approval: ${approvalRequired(why)}`];
  const start = Date.parse(approval.windowStart);
  const end = Date.parse(approval.windowEnd);
  if (approval.overrideReason === undefined && (now.getTime() < start || now.getTime() > end)) {
    return [`${key}.approval.windowStart: ${outsideWindow(now, approval.windowStart, approval.windowEnd)}`];
  }
  return [];
}

function readMnemonic(problems: string[], raw: RawConfig, now: Date): MnemonicGenerations {
  const read = readGenerations(problems, raw, "mnemonic", ["published", "approval", "reconciliationSignoff", "expectIdentity"]);
  if (!read) return { current: 1, revokePrevious: false, compromised: [], published: {} };
  const { reader: r, generations } = read;
  const value = raw[projectKey("mnemonic")] as Record<string, unknown>;
  const result: { -readonly [K in keyof MnemonicGenerations]: MnemonicGenerations[K] } = {
    ...generations,
    published: readPublished(r, value.published, generations),
  };
  if (value.expectIdentity !== undefined) {
    result.expectIdentity = r.string("expectIdentity", {
      pattern: /^[0-9a-f]{66}$/,
      allowed: "a 33-byte compressed public key in hex (66 characters)",
    });
  }

  // A rotation in progress (a previous generation still configured) is a controlled migration.
  const approval = r.object("approval", false);
  if (generations.previous !== undefined && !approval) r.problem("approval", approvalRequired("previous is set"));
  if (approval) {
    approval.onlyKeys(["ticket", "approver", "windowStart", "windowEnd", "overrideReason"]);
    const ticket = approval.string("ticket");
    const approver = approval.string("approver");
    const windowStart = readTimestamp(approval, "windowStart");
    const windowEnd = readTimestamp(approval, "windowEnd");
    const overrideReason =
      (value.approval as Record<string, unknown>).overrideReason === undefined ? undefined : approval.string("overrideReason");
    const start = Date.parse(windowStart);
    const end = Date.parse(windowEnd);
    if (!Number.isNaN(start) && !Number.isNaN(end)) {
      if (end <= start) {
        approval.problem("windowEnd", `${windowEnd} is not allowed; allowed: a time after windowStart (${windowStart})`);
      } else if (generations.previous !== undefined && (now.getTime() < start || now.getTime() > end) && overrideReason === undefined) {
        approval.problem("windowStart", outsideWindow(now, windowStart, windowEnd));
      }
    }
    result.approval =
      overrideReason === undefined
        ? { ticket, approver, windowStart, windowEnd }
        : { ticket, approver, windowStart, windowEnd, overrideReason };
  }

  // Revoking the previous mnemonic ends the old wallet's recoverability window: finance signs off first.
  const signoff = r.object("reconciliationSignoff", false);
  if (generations.revokePrevious && !signoff) {
    r.problem(
      "reconciliationSignoff",
      "is required to revoke the previous mnemonic; allowed: { by, at, reference } recording the reconciliation sign-off",
    );
  }
  if (signoff) {
    signoff.onlyKeys(["by", "at", "reference"]);
    result.reconciliationSignoff = { by: signoff.string("by"), at: readTimestamp(signoff, "at"), reference: signoff.string("reference") };
  }
  return result;
}

/** A reader over a required object-valued project key; reports it missing or not an object. */
function requiredObject(problems: string[], raw: RawConfig, key: string): Reader {
  const path = projectKey(key);
  const value = raw[path];
  if (!isPlainObject(value)) {
    problems.push(`${path}: ${value === undefined ? "is required" : `must be an object, got ${show(value)}`}`);
  }
  return new Reader(problems, path, isPlainObject(value) ? value : {});
}

/** A service's pinned image and its own account id (default derived from its name). */
function readImageAndAccount(r: Reader, serviceName: string): { image: string; serviceAccountId: string } {
  return {
    image: r.string("image", { pattern: IMAGE_PATTERN, allowed: IMAGE_ALLOWED }),
    serviceAccountId: r.string("serviceAccountId", {
      default: defaultServiceAccountId(serviceName),
      pattern: ACCOUNT_ID_PATTERN,
      allowed: ACCOUNT_ID_ALLOWED,
    }),
  };
}

/** Instance counts of a Cloud Run service: 0..100, max >= min. */
function readScaling(r: Reader): ScalingConfig {
  const minInstances = r.integer("minInstances", { min: 0, max: 100, default: 1 });
  const maxInstances = r.integer("maxInstances", { min: 1, max: 100, default: 3 });
  if (maxInstances < minInstances) {
    r.problem("maxInstances", `${maxInstances} is not allowed; allowed: an integer >= minInstances (${minInstances})`);
  }
  return { minInstances, maxInstances };
}

function readExecutor(problems: string[], raw: RawConfig): ExecutorConfig {
  const r = requiredObject(problems, raw, "executor");
  r.onlyKeys([
    "image",
    "serviceName",
    "serviceAccountId",
    "walletId",
    "mode",
    "sparkNetwork",
    "allowedHosts",
    "requestCapMsats",
    "windowCapMsats",
    "windowMs",
    "paymentTimeoutSecs",
    "port",
    "minInstances",
    "maxInstances",
    "ingress",
    "publicInvoker",
  ]);
  const serviceName = r.string("serviceName", { pattern: SERVICE_NAME_PATTERN, allowed: SERVICE_NAME_ALLOWED });
  const mode = r.oneOf("mode", EXECUTOR_MODES, "spark");
  const allowedHosts = r.stringList("allowedHosts");
  for (const host of allowedHosts) {
    if (!HOST_PATTERN.test(host)) {
      r.problem("allowedHosts", `${show(host)} is not allowed; allowed: lowercase DNS names without scheme, port or path`);
    }
  }
  if (mode === "spark" && allowedHosts.length === 0) {
    r.problem("allowedHosts", "is empty, but mode is spark; allowed: at least one host whose invoices may be paid");
  }
  const requestCapMsats = r.integer("requestCapMsats", { min: 1, default: 200_000 });
  const windowCapMsats = r.integer("windowCapMsats", { min: 1, default: 1_000_000 });
  if (windowCapMsats < requestCapMsats) {
    r.problem("windowCapMsats", `${windowCapMsats} is not allowed; allowed: an integer >= requestCapMsats (${requestCapMsats})`);
  }
  const port = r.integer("port", { min: 1, max: 65535, default: EXECUTOR_PORT });
  if (port !== EXECUTOR_PORT) {
    r.problem(
      "port",
      `${port} is not allowed; allowed: ${EXECUTOR_PORT} (the container port; the executor does not read Cloud Run's PORT)`,
    );
  }
  const { minInstances, maxInstances } = readScaling(r);
  return {
    ...readImageAndAccount(r, serviceName),
    serviceName,
    walletId: r.string("walletId", {
      pattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/,
      allowed: "letters, digits, '.', '_' and '-', at most 63 characters",
    }),
    mode,
    sparkNetwork: r.oneOf("sparkNetwork", SPARK_NETWORKS),
    allowedHosts,
    requestCapMsats,
    windowCapMsats,
    windowMs: r.integer("windowMs", { min: 1000, default: 300_000 }),
    paymentTimeoutSecs: r.integer("paymentTimeoutSecs", { min: 1, max: 600, default: 45 }),
    port,
    minInstances,
    maxInstances,
    ingress: r.oneOf("ingress", INGRESS_SETTINGS, "all"),
    publicInvoker: r.boolean("publicInvoker", true),
  };
}

function readControl(problems: string[], raw: RawConfig): ControlConfig {
  const r = requiredObject(problems, raw, "control");
  r.onlyKeys([
    "image",
    "serviceName",
    "serviceAccountId",
    "port",
    "timeoutMs",
    "envNames",
    "minInstances",
    "maxInstances",
    "ingress",
    "publicInvoker",
  ]);
  const serviceName = r.string("serviceName", { pattern: SERVICE_NAME_PATTERN, allowed: SERVICE_NAME_ALLOWED });
  const names = r.object("envNames", false);
  names?.onlyKeys(["baseUrl", "authToken", "timeoutMs"]);
  const envName = (key: keyof ControlEnvNames): string =>
    names
      ? names.string(key, {
          default: CANONICAL_CONTROL_ENV_NAMES[key],
          pattern: ENV_NAME_PATTERN,
          allowed: "an environment variable name (A-Z, 0-9, _)",
        })
      : CANONICAL_CONTROL_ENV_NAMES[key];
  const envNames = { baseUrl: envName("baseUrl"), authToken: envName("authToken"), timeoutMs: envName("timeoutMs") };
  if (new Set(Object.values(envNames)).size !== 3) {
    r.problem("envNames", `must be three different names, got ${show(envNames)}`);
  }
  const { minInstances, maxInstances } = readScaling(r);
  return {
    ...readImageAndAccount(r, serviceName),
    serviceName,
    port: r.integer("port", { min: 1, max: 65535, default: 8080 }),
    timeoutMs: r.integer("timeoutMs", { min: 100, max: 600_000, default: 12_000 }),
    envNames,
    minInstances,
    maxInstances,
    ingress: r.oneOf("ingress", INGRESS_SETTINGS, "all"),
    publicInvoker: r.boolean("publicInvoker", false),
  };
}

function readVerification(problems: string[], raw: RawConfig, executor: ExecutorConfig): VerificationConfig {
  const path = projectKey("verification");
  const value = raw[path];
  if (value !== undefined && !isPlainObject(value)) {
    problems.push(`${path}: must be an object, got ${show(value)}`);
    return { deadlineMs: 180_000 };
  }
  const r = new Reader(problems, path, value ?? {});
  if (isPlainObject(value) && "enabled" in value) {
    // The gate between rollout and revocation is not optional; only its payment probe is.
    r.problem("enabled", "verification cannot be disabled; to skip only the payment probe, set verification.payment.enabled: false");
  }
  r.onlyKeys(["payment", "deadlineMs", "enabled"]);
  const deadlineMs = r.integer("deadlineMs", { min: 1000, max: 900_000, default: 180_000 });
  const payment = r.object("payment", false);
  if (!payment) return { deadlineMs };
  payment.onlyKeys(["enabled", "invoiceConfigKey", "host", "maxAmountMsats"]);
  if (!payment.boolean("enabled", true)) return { deadlineMs };
  const host = payment.string("host");
  if (host && !executor.allowedHosts.includes(host)) {
    payment.problem(
      "host",
      `${show(host)} is not allowed; allowed: one of executor.allowedHosts (${executor.allowedHosts.join(", ") || "none"})`,
    );
  }
  const maxAmountMsats = payment.integer("maxAmountMsats", { min: 1 });
  if (maxAmountMsats > executor.requestCapMsats) {
    payment.problem(
      "maxAmountMsats",
      `${maxAmountMsats} is not allowed; allowed: an integer <= executor.requestCapMsats (${executor.requestCapMsats})`,
    );
  }
  return {
    deadlineMs,
    payment: {
      invoiceConfigKey: payment.string("invoiceConfigKey", {
        default: "smokeInvoice",
        pattern: CONFIG_KEY_PATTERN,
        allowed: "a config key name",
      }),
      host,
      maxAmountMsats,
    },
  };
}

/** The project's keys that hold plain (reviewable) values. */
const PLAIN_PROJECT_KEYS = ["environment", "executor", "control", "verification", "stagingStack", "rotation", ...CREDENTIALS] as const;

/** Keys of the project that hold secret values: a generation's value, the smoke invoice. */
const GENERATION_VALUE_KEY = /^(sparkApiKey|mnemonic)G([1-9][0-9]*)$/;

/** The invoice keys this config may name: the default, and whatever `verification.payment.invoiceConfigKey` says. */
function invoiceKeys(raw: RawConfig): string[] {
  const verification = raw[projectKey("verification")];
  const payment = isPlainObject(verification) ? verification.payment : undefined;
  const configured = isPlainObject(payment) ? payment.invoiceConfigKey : undefined;
  return typeof configured === "string" && configured !== "smokeInvoice" ? ["smokeInvoice", configured] : ["smokeInvoice"];
}

/** The secret-holding key a mistyped project key most likely meant (`mnemnicG2` -> `mnemonicG2`). */
function projectKeySuggestion(name: string, invoices: readonly string[]): string | undefined {
  const generation = /G([0-9]+)$/.exec(name)?.[1];
  const secretKeys = generation === undefined ? [] : [`sparkApiKeyG${generation}`, `mnemonicG${generation}`];
  return closest(name, [...PLAIN_PROJECT_KEYS, ...secretKeys, ...invoices]);
}

const NAMESPACES = [PROJECT, ...PROVIDER_NAMESPACES, ENGINE_NAMESPACE];

/**
 * True when a config key holds a secret value: a generation's value (`sparkApiKeyG<n>`,
 * `mnemonicG<n>`), the smoke invoice (its configured key, or the default), a provider credential
 * (`gcp:accessToken`, ...). `raw` is the config the invoice key is read from.
 */
export function holdsSecret(key: string, raw: RawConfig): boolean {
  if (SECRET_PROVIDER_KEYS.has(key)) return true;
  if (!key.startsWith(`${PROJECT}:`)) return false;
  const name = key.slice(PROJECT.length + 1);
  return GENERATION_VALUE_KEY.test(name) || invoiceKeys(raw).includes(name);
}

const plaintextProblem = (key: string, setName: string): string =>
  `${key}: is stored in plaintext; allowed: an encrypted value, set with: pulumi config set --secret ${setName} < <file holding the value>`;
const secretProblem = (key: string): string =>
  `${key}: is stored as a secret; allowed: plain config (it holds no secret, and must be reviewable in PRs)`;

/**
 * Every key's identity: a known namespace; a key its provider (or this project) declares, with a
 * suggestion for a typo; a secret where the key holds one (whether or not that generation is in
 * use: a plaintext secret in a stack file is in git either way) and plain config where it does not.
 * Values are never quoted: the value of a mistyped key may be a secret.
 */
function keyProblems(raw: RawConfig, secretKeys: ReadonlySet<string> | undefined): string[] {
  const problems: string[] = [];
  const invoices = invoiceKeys(raw);
  const keys = [...new Set([...Object.keys(raw), ...(secretKeys ?? [])])].sort();
  for (const key of keys) {
    const colon = key.indexOf(":");
    const namespace = colon === -1 ? "" : key.slice(0, colon);
    const name = key.slice(colon + 1);
    const secret = secretKeys?.has(key);
    if (namespace === PROJECT) {
      if ((PLAIN_PROJECT_KEYS as readonly string[]).includes(name)) {
        // Object-valued keys stored as secrets are refused while decoding (decodeConfigMap).
        if (secret && (name === "environment" || name === "stagingStack")) problems.push(secretProblem(key));
      } else if (holdsSecret(key, raw)) {
        if (secret === false) problems.push(plaintextProblem(key, name));
      } else {
        const suggestion = projectKeySuggestion(name, invoices);
        problems.push(
          `${key}: unknown key${suggestion ? ` (did you mean ${projectKey(suggestion)}?)` : ""}; allowed: ` +
            `${PLAIN_PROJECT_KEYS.map(projectKey).join(", ")}, and the secret values sparkApiKeyG<n>, mnemonicG<n>, ${invoices.join(", ")}`,
        );
      }
    } else if ((PROVIDER_NAMESPACES as readonly string[]).includes(namespace)) {
      const declared = providerConfigKeys(namespace);
      if (!declared.has(name)) {
        const suggestion = closest(name, declared);
        problems.push(
          `${key}: unknown key of the ${namespace} provider${suggestion ? ` (did you mean ${namespace}:${suggestion}?)` : ""}; allowed: ` +
            (declared.size === 0 ? `none (the ${namespace} provider takes no config)` : `the keys @pulumi/${namespace} declares`),
        );
      } else if (SECRET_PROVIDER_KEYS.has(key)) {
        if (secret === false) problems.push(plaintextProblem(key, key));
      } else if (secret && (key === "gcp:project" || key === "gcp:region")) {
        problems.push(secretProblem(key));
      }
    } else if (namespace !== ENGINE_NAMESPACE) {
      const suggestion = closest(namespace, NAMESPACES);
      problems.push(
        `${key}: unknown namespace ${show(namespace)}${suggestion ? ` (did you mean ${suggestion}:${name}?)` : ""}; allowed namespaces: ${NAMESPACES.join(", ")}`,
      );
    }
  }
  return problems;
}

/** The environment a stack is, by its name (`org/project/prod` -> prod); undefined for any other name. */
export function environmentOfStack(stack: string): Environment | undefined {
  const name = stack.split("/").pop() ?? "";
  return (ENVIRONMENTS as readonly string[]).includes(name) ? (name as Environment) : undefined;
}

const ROTATION_SHAPE = `one of ${ROTATION_STRATEGIES.join(", ")} (default tagged), or { strategy, taggedSince?, shutdownGraceMs? }`;

function readRotation(problems: string[], raw: RawConfig): RotationConfig {
  const key = projectKey("rotation");
  const value = raw[key];
  const fallback: RotationConfig = { strategy: "tagged", taggedSince: 1, shutdownGraceMs: CLOUD_RUN_SHUTDOWN_GRACE_MS };
  if (value === undefined) return fallback;
  if (typeof value === "string") {
    if ((ROTATION_STRATEGIES as readonly string[]).includes(value)) return { ...fallback, strategy: value as RotationStrategy };
    problems.push(`${key}: ${show(value)} is not allowed; allowed: ${ROTATION_SHAPE}`);
    return fallback;
  }
  if (!isPlainObject(value)) {
    problems.push(`${key}: ${show(value)} is not allowed; allowed: ${ROTATION_SHAPE}`);
    return fallback;
  }
  const r = new Reader(problems, key, value);
  r.onlyKeys(["strategy", "taggedSince", "shutdownGraceMs"]);
  return {
    strategy: r.oneOf("strategy", ROTATION_STRATEGIES, "tagged"),
    taggedSince: r.integer("taggedSince", { min: 1, max: MAX_GENERATION, default: 1 }),
    shutdownGraceMs: r.integer("shutdownGraceMs", { min: 0, max: 600_000, default: CLOUD_RUN_SHUTDOWN_GRACE_MS }),
  };
}

/**
 * Parses and validates the whole stack configuration. Throws one `ConfigError` listing every
 * problem; returns a fully-defaulted, typed config otherwise.
 */
export function parseStackConfig(raw: RawConfig, now: Date = new Date(), options: ParseOptions = {}): StackConfig {
  if (Object.keys(raw).length === 0 && (options.secretKeys?.size ?? 0) === 0) {
    throw new ConfigError([
      `config: is empty; allowed: a config: section in Pulumi.<stack>.yaml with at least gcp:project, gcp:region, ` +
        `${projectKey("environment")}, ${projectKey("executor")}, ${projectKey("control")} and the credentials ` +
        `(${CREDENTIALS.map(projectKey).join(", ")}): see docs/reference/config.md`,
    ]);
  }
  const problems: string[] = keyProblems(raw, options.secretKeys);
  const gcpProject = raw["gcp:project"];
  if (!options.secretKeys?.has("gcp:project") && (typeof gcpProject !== "string" || !GCP_PROJECT_PATTERN.test(gcpProject))) {
    problems.push(
      `gcp:project: ${gcpProject === undefined ? "is required" : `${show(gcpProject)} is not allowed`}; allowed: a GCP project id (6 to 30 lowercase letters, digits, hyphens)`,
    );
  }
  const region = raw["gcp:region"];
  if (!options.secretKeys?.has("gcp:region") && (typeof region !== "string" || !REGION_PATTERN.test(region))) {
    problems.push(
      `gcp:region: ${region === undefined ? "is required" : `${show(region)} is not allowed`}; allowed: a Cloud Run region such as us-central1`,
    );
  }
  const environmentValue = raw[projectKey("environment")];
  const validEnvironment = typeof environmentValue === "string" && (ENVIRONMENTS as readonly string[]).includes(environmentValue);
  if (!validEnvironment && !options.secretKeys?.has(projectKey("environment"))) {
    problems.push(
      `${projectKey("environment")}: ${environmentValue === undefined ? "is required" : `${show(environmentValue)} is not allowed`}; allowed: ${ENVIRONMENTS.join(", ")}`,
    );
  }
  if (options.stack !== undefined) {
    // The environment picks the gates (prod's staging-first rule): a prod stack must not call itself staging.
    const expected = environmentOfStack(options.stack);
    if (expected === undefined) {
      problems.push(
        `${projectKey("environment")}: the stack ${show(options.stack)} names no environment; allowed stack names: ` +
          `${ENVIRONMENTS.join(", ")} (optionally as <org>/<name> or <org>/${PROJECT}/<name>)`,
      );
    } else if (validEnvironment && environmentValue !== expected) {
      problems.push(
        `${projectKey("environment")}: ${show(environmentValue)} does not match the stack ${show(options.stack)}; allowed: ${expected} (a stack's environment is its name)`,
      );
    }
  }
  const executor = readExecutor(problems, raw);
  const config: StackConfig = {
    gcpProject: typeof gcpProject === "string" ? gcpProject : "",
    region: typeof region === "string" ? region : "",
    environment: (environmentValue as Environment) ?? "staging",
    executor,
    control: readControl(problems, raw),
    authToken: readCredential(problems, raw, "authToken"),
    sparkApiKey: readSparkApiKey(problems, raw),
    mnemonic: readMnemonic(problems, raw, now),
    verification: readVerification(problems, raw, executor),
    rotation: readRotation(problems, raw),
  };
  const stagingStack = raw[projectKey("stagingStack")];
  if (stagingStack !== undefined) {
    if (typeof stagingStack !== "string" || !/^[A-Za-z0-9._-]+\/[A-Za-z0-9._-]+\/[A-Za-z0-9._-]+$/.test(stagingStack)) {
      problems.push(
        `${projectKey("stagingStack")}: ${show(stagingStack)} is not allowed; allowed: a fully qualified stack name <org>/<project>/<stack>`,
      );
    } else if (config.environment !== "prod") {
      problems.push(
        `${projectKey("stagingStack")}: is set, but only a prod stack reads staging's verified generations; allowed: remove it`,
      );
    } else {
      (config as { stagingStack?: string }).stagingStack = stagingStack;
    }
  }
  if (config.executor.serviceName && config.executor.serviceName === config.control.serviceName) {
    problems.push(
      `${projectKey("control")}.serviceName: ${show(config.control.serviceName)} is not allowed; allowed: a name different from executor.serviceName`,
    );
  }
  if (config.executor.serviceAccountId && config.executor.serviceAccountId === config.control.serviceAccountId) {
    problems.push(
      `${projectKey("control")}.serviceAccountId: ${show(config.control.serviceAccountId)} is not allowed; allowed: an account different from the executor's (each service reads only its own secrets)`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  // A compromised previous generation is disabled whatever revokePrevious says (after verification,
  // like any revocation: the policy pack requires the gate).
  for (const credential of CREDENTIALS) {
    const generations = config[credential];
    if (generations.previous !== undefined && generations.compromised.includes(generations.previous) && !generations.revokePrevious) {
      (config as { -readonly [K in CredentialKey]: CredentialGenerations })[credential] = { ...generations, revokePrevious: true };
    }
  }
  return config;
}

/** The secret config keys whose values the program needs for this config. */
export function requiredSecretKeys(config: StackConfig): string[] {
  const keys: string[] = [];
  for (const credential of ["sparkApiKey", "mnemonic"] as const) {
    const generations = config[credential];
    for (const generation of [generations.current, generations.previous]) {
      // A published generation's value is never in config: the stack only references its version.
      if (generation !== undefined && generations.published[generation] === undefined) {
        keys.push(projectKey(generationValueKey(credential, generation)));
      }
    }
  }
  if (config.verification.payment) keys.push(projectKey(config.verification.payment.invoiceConfigKey));
  return keys;
}

/**
 * How to set a secret value: read from stdin (a file or a pipe), never given on the command line,
 * where shell history and the process list would keep it.
 */
export function setSecretCommand(name: string): string {
  return `pulumi config set --secret ${name} < <file holding the value>`;
}

/**
 * Checks that every secret value the config needs is present and was stored encrypted.
 * `secretKeys` is the engine's list of keys set with `--secret` (PULUMI_CONFIG_SECRET_KEYS).
 */
export function checkSecretKeys(config: StackConfig, present: ReadonlySet<string>, secretKeys: ReadonlySet<string>): void {
  const problems: string[] = [];
  for (const key of requiredSecretKeys(config)) {
    const name = key.slice(PROJECT.length + 1);
    if (!present.has(key)) {
      problems.push(`${key}: is required (a secret value); set it with: ${setSecretCommand(name)}`);
    } else if (!secretKeys.has(key)) {
      problems.push(`${key}: is stored in plaintext; allowed: an encrypted value, set with: ${setSecretCommand(name)}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
}

/** Project keys whose values are objects, stored by Pulumi as JSON text. */
const OBJECT_KEYS = new Set(["executor", "control", "verification", ...CREDENTIALS].map(projectKey));
/** Keys that hold either a plain string or an object (stored as JSON text). */
const STRING_OR_OBJECT_KEYS = new Set([projectKey("rotation")]);

/**
 * Turns the engine's config map (every value a string; objects as JSON text) into `RawConfig`.
 * Secret values are never decoded: they are left out, and only their presence is reported.
 */
export function decodeConfigMap(
  all: Readonly<Record<string, string>>,
  isSecret: (key: string) => boolean,
): { raw: RawConfig; present: Set<string>; secretKeys: Set<string> } {
  const raw: Record<string, unknown> = {};
  const present = new Set<string>();
  const secretKeys = new Set<string>();
  const problems: string[] = [];
  for (const [key, text] of Object.entries(all)) {
    present.add(key);
    if (isSecret(key)) {
      secretKeys.add(key);
      if (OBJECT_KEYS.has(key))
        problems.push(`${key}: is stored as a secret; allowed: plain config (it holds no secret, and must be reviewable in PRs)`);
      continue;
    }
    if (OBJECT_KEYS.has(key)) {
      try {
        raw[key] = JSON.parse(text);
      } catch {
        problems.push(`${key}: is not valid structured config; allowed: a YAML object under the key in Pulumi.<stack>.yaml`);
      }
    } else if (STRING_OR_OBJECT_KEYS.has(key) && text.trimStart().startsWith("{")) {
      try {
        raw[key] = JSON.parse(text);
      } catch {
        problems.push(`${key}: is not valid structured config; allowed: a YAML object under the key in Pulumi.<stack>.yaml`);
      }
    } else {
      raw[key] = text;
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { raw, present, secretKeys };
}

/** The default staging stack a prod stack reads: same organization and project, stack `staging`. */
export function defaultStagingStack(organization: string): string {
  return `${organization}/${PROJECT}/staging`;
}

/** True when this stack must see staging's verification before registering anything. */
export function needsStagingVerification(config: StackConfig, mnemonicChanged = false): boolean {
  return config.environment === "prod" && (mnemonicChanged || config.mnemonic.current > 1 || config.mnemonic.previous !== undefined);
}

/**
 * A prod mnemonic generation must have been verified in staging first (the same rotation,
 * rehearsed). `verifiedMnemonic` is the generation staging's last verification vouched for
 * (its `verifiedGenerations.mnemonic` output), undefined when staging exports none.
 */
export function checkStagingVerified(config: StackConfig, stagingStack: string, verifiedMnemonic: unknown, mnemonicChanged = false): void {
  if (!needsStagingVerification(config, mnemonicChanged)) return;
  const current = config.mnemonic.current;
  if (typeof verifiedMnemonic !== "number" || verifiedMnemonic < current) {
    const seen =
      typeof verifiedMnemonic === "number" ? `verified mnemonic generation ${verifiedMnemonic}` : "exports no verified mnemonic generation";
    throw new ConfigError([
      `${projectKey("mnemonic")}.current: generation ${current} has not been verified in staging (${stagingStack} ${seen}); ` +
        `allowed: a generation staging has verified: rotate and verify staging first`,
    ]);
  }
}
