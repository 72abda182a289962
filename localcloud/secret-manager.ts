/**
 * Secret Manager: secrets, and their versions numbered 1, 2, 3, ... in creation order, never
 * reused; each ENABLED, DISABLED or DESTROYED. Accessing a disabled or destroyed version fails with
 * FAILED_PRECONDITION. With a `versionDestroyTtl` on the secret, destroying a version disables it
 * and schedules the destruction; enabling or disabling it before the TTL ends cancels that.
 * The TTL is settled lazily against the injected clock: no timers, and a test can move time.
 */
import { createHash } from "node:crypto";
import { ApiError, invalid, notFound } from "./errors";
import { Iam, Principal, describePrincipal } from "./iam";
import { Projects } from "./projects";

export type VersionState = "ENABLED" | "DISABLED" | "DESTROYED";

interface VersionRecord {
  readonly number: number;
  readonly createTime: number;
  state: VersionState;
  payload?: Buffer;
  destroyTime?: number;
  scheduledDestroyTime?: number;
}

interface SecretRecord {
  readonly projectId: string;
  readonly secretId: string;
  readonly createTime: number;
  readonly replication: unknown;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  versionAliases: Record<string, string>;
  /** Seconds a destroyed version stays recoverable; undefined = destroy at once. */
  versionDestroyTtlSeconds?: number;
  readonly versions: VersionRecord[];
  etag: number;
}

/** The JSON of a secret, as the REST API answers it. */
export interface SecretJson {
  name: string;
  replication: unknown;
  createTime: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  versionAliases: Record<string, string>;
  versionDestroyTtl?: string;
  etag: string;
}

/** The JSON of a version (never its payload). */
export interface SecretVersionJson {
  name: string;
  createTime: string;
  state: VersionState;
  destroyTime?: string;
  scheduledDestroyTime?: string;
  etag: string;
}

const SECRET_ID_PATTERN = /^[a-zA-Z0-9_-]{1,255}$/;
const MAX_PAYLOAD_BYTES = 64 * 1024;

export const ACCESS_PERMISSION = "secretmanager.versions.access";

export class SecretManager {
  private readonly secrets = new Map<string, SecretRecord>();

  constructor(
    private readonly projects: Projects,
    private readonly iam: Iam,
    private readonly now: () => number,
  ) {}

  /** The canonical key and IAM resource of a secret: `projects/<id>/secrets/<secret>`. */
  static resourceOf(projectId: string, secretId: string): string {
    return `projects/${projectId}/secrets/${secretId}`;
  }

  createSecret(projectId: string, secretId: string, body: Record<string, unknown>): SecretJson {
    if (!SECRET_ID_PATTERN.test(secretId)) throw invalid(`Secret id ${JSON.stringify(secretId)} must match [a-zA-Z0-9_-]{1,255}.`);
    if (body.replication === undefined || body.replication === null) throw invalid("Secret.replication is required.");
    const key = SecretManager.resourceOf(projectId, secretId);
    if (this.secrets.has(key)) {
      throw new ApiError("ALREADY_EXISTS", `Secret [projects/${this.projects.numberOf(projectId)}/secrets/${secretId}] already exists.`);
    }
    const record: SecretRecord = {
      projectId,
      secretId,
      createTime: this.now(),
      replication: body.replication,
      labels: stringMap(body.labels, "labels"),
      annotations: stringMap(body.annotations, "annotations"),
      versionAliases: stringMap(body.versionAliases, "versionAliases"),
      versionDestroyTtlSeconds: parseDuration(body.versionDestroyTtl, "versionDestroyTtl"),
      versions: [],
      etag: 1,
    };
    this.secrets.set(key, record);
    return this.secretJson(record);
  }

  getSecret(projectId: string, secretId: string): SecretJson {
    return this.secretJson(this.secret(projectId, secretId));
  }

  listSecrets(projectId: string): SecretJson[] {
    return [...this.secrets.values()].filter((s) => s.projectId === projectId).map((s) => this.secretJson(s));
  }

  /** PATCH with an update mask: only the named fields change (replication cannot). */
  updateSecret(projectId: string, secretId: string, body: Record<string, unknown>, updateMask: readonly string[]): SecretJson {
    const record = this.secret(projectId, secretId);
    if (updateMask.length === 0) throw invalid("update_mask is required.");
    for (const field of updateMask) {
      switch (field) {
        case "labels":
          record.labels = stringMap(body.labels, "labels");
          break;
        case "annotations":
          record.annotations = stringMap(body.annotations, "annotations");
          break;
        case "versionAliases":
        case "version_aliases":
          record.versionAliases = stringMap(body.versionAliases, "versionAliases");
          break;
        case "versionDestroyTtl":
        case "version_destroy_ttl":
          record.versionDestroyTtlSeconds = parseDuration(body.versionDestroyTtl, "versionDestroyTtl");
          break;
        default:
          throw invalid(`Field ${JSON.stringify(field)} cannot be updated.`);
      }
    }
    record.etag += 1;
    return this.secretJson(record);
  }

  /** Deletes a secret with all its versions, at once (no TTL applies to the secret itself). */
  deleteSecret(projectId: string, secretId: string): void {
    this.secret(projectId, secretId);
    this.secrets.delete(SecretManager.resourceOf(projectId, secretId));
    this.iam.dropPolicy(SecretManager.resourceOf(projectId, secretId));
  }

  addVersion(projectId: string, secretId: string, payloadBase64: unknown): SecretVersionJson {
    const record = this.secret(projectId, secretId);
    if (typeof payloadBase64 !== "string") throw invalid("payload.data is required.");
    const payload = Buffer.from(payloadBase64, "base64");
    if (payload.length > MAX_PAYLOAD_BYTES) throw invalid("Secret payload is larger than 64KiB.");
    const version: VersionRecord = { number: record.versions.length + 1, createTime: this.now(), state: "ENABLED", payload };
    record.versions.push(version);
    return this.versionJson(record, version);
  }

  getVersion(projectId: string, secretId: string, versionRef: string): SecretVersionJson {
    const record = this.secret(projectId, secretId);
    return this.versionJson(record, this.version(record, versionRef));
  }

  listVersions(projectId: string, secretId: string): SecretVersionJson[] {
    const record = this.secret(projectId, secretId);
    return [...record.versions].reverse().map((v) => this.versionJson(record, this.settle(v)));
  }

  /**
   * The payload of a version, for a principal that holds `secretmanager.versions.access` on the
   * secret. Disabled and destroyed versions fail with FAILED_PRECONDITION (the deployer too).
   */
  access(principal: Principal, projectId: string, secretId: string, versionRef: string): { name: string; payload: Buffer } {
    const resource = SecretManager.resourceOf(projectId, secretId);
    if (!this.iam.allows(principal, ACCESS_PERMISSION, resource)) {
      throw new ApiError(
        "PERMISSION_DENIED",
        `Permission '${ACCESS_PERMISSION}' denied for resource '${this.versionPath(projectId, secretId, versionRef)}' (or it may not exist). Caller: ${describePrincipal(principal)}.`,
      );
    }
    const record = this.secret(projectId, secretId);
    const version = this.version(record, versionRef);
    if (version.state !== "ENABLED") {
      throw new ApiError(
        "FAILED_PRECONDITION",
        `Secret Version [${this.versionPath(projectId, secretId, String(version.number))}] is in ${version.state} state.`,
      );
    }
    return { name: this.versionPath(projectId, secretId, String(version.number)), payload: version.payload ?? Buffer.alloc(0) };
  }

  /** `:enable` / `:disable`: also cancels a scheduled destruction. */
  setEnabled(projectId: string, secretId: string, versionRef: string, enabled: boolean): SecretVersionJson {
    const record = this.secret(projectId, secretId);
    const version = this.version(record, versionRef);
    if (version.state === "DESTROYED") {
      throw new ApiError(
        "FAILED_PRECONDITION",
        `Secret Version [${this.versionPath(projectId, secretId, String(version.number))}] is in DESTROYED state.`,
      );
    }
    version.state = enabled ? "ENABLED" : "DISABLED";
    version.scheduledDestroyTime = undefined;
    return this.versionJson(record, version);
  }

  /** `:destroy`: at once, or (with a destroy TTL on the secret) disabled now and destroyed when it ends. */
  destroy(projectId: string, secretId: string, versionRef: string): SecretVersionJson {
    const record = this.secret(projectId, secretId);
    const version = this.version(record, versionRef);
    if (version.state === "DESTROYED") {
      throw new ApiError(
        "FAILED_PRECONDITION",
        `Secret Version [${this.versionPath(projectId, secretId, String(version.number))}] is in DESTROYED state.`,
      );
    }
    if (record.versionDestroyTtlSeconds !== undefined && record.versionDestroyTtlSeconds > 0) {
      if (version.scheduledDestroyTime === undefined) version.scheduledDestroyTime = this.now() + record.versionDestroyTtlSeconds * 1000;
      version.state = "DISABLED";
    } else {
      destroyNow(version, this.now());
    }
    return this.versionJson(record, version);
  }

  /** Every secret with its versions' states (never a payload), for the state snapshot. */
  snapshot(): { name: string; versions: { number: number; state: VersionState; scheduledDestroyTime?: string }[] }[] {
    return [...this.secrets.values()].map((record) => ({
      name: SecretManager.resourceOf(record.projectId, record.secretId),
      versions: record.versions.map((v) => {
        this.settle(v);
        return {
          number: v.number,
          state: v.state,
          ...(v.scheduledDestroyTime !== undefined ? { scheduledDestroyTime: new Date(v.scheduledDestroyTime).toISOString() } : {}),
        };
      }),
    }));
  }

  // ----------------------------------------------------------------------------------------------

  private secret(projectId: string, secretId: string): SecretRecord {
    const record = this.secrets.get(SecretManager.resourceOf(projectId, secretId));
    if (!record) throw notFound(`Secret [projects/${this.projects.numberOf(projectId)}/secrets/${secretId}]`);
    return record;
  }

  /** A version by number, alias, or `latest` (the most recently created version, whatever its state). */
  private version(record: SecretRecord, ref: string): VersionRecord {
    let number: number | undefined;
    if (ref === "latest") number = record.versions.length > 0 ? record.versions.length : undefined;
    else if (/^[1-9][0-9]*$/.test(ref)) number = Number(ref);
    else if (record.versionAliases[ref] !== undefined) number = Number(record.versionAliases[ref]);
    const version = number === undefined ? undefined : record.versions[number - 1];
    if (!version) throw notFound(`Secret Version [${this.versionPath(record.projectId, record.secretId, ref)}]`);
    return this.settle(version);
  }

  private settle(version: VersionRecord): VersionRecord {
    if (version.scheduledDestroyTime !== undefined && this.now() >= version.scheduledDestroyTime)
      destroyNow(version, version.scheduledDestroyTime);
    return version;
  }

  private versionPath(projectId: string, secretId: string, ref: string): string {
    return `projects/${this.projects.numberOf(projectId)}/secrets/${secretId}/versions/${ref}`;
  }

  private secretJson(record: SecretRecord): SecretJson {
    return {
      name: `projects/${this.projects.numberOf(record.projectId)}/secrets/${record.secretId}`,
      replication: record.replication,
      createTime: new Date(record.createTime).toISOString(),
      labels: { ...record.labels },
      annotations: { ...record.annotations },
      versionAliases: { ...record.versionAliases },
      ...(record.versionDestroyTtlSeconds !== undefined ? { versionDestroyTtl: `${record.versionDestroyTtlSeconds}s` } : {}),
      etag: `"${record.etag}"`,
    };
  }

  private versionJson(record: SecretRecord, version: VersionRecord): SecretVersionJson {
    return {
      name: this.versionPath(record.projectId, record.secretId, String(version.number)),
      createTime: new Date(version.createTime).toISOString(),
      state: version.state,
      ...(version.destroyTime !== undefined ? { destroyTime: new Date(version.destroyTime).toISOString() } : {}),
      ...(version.scheduledDestroyTime !== undefined ? { scheduledDestroyTime: new Date(version.scheduledDestroyTime).toISOString() } : {}),
      etag: `"${createHash("sha256")
        .update(`${version.number}:${version.state}:${version.scheduledDestroyTime ?? ""}`)
        .digest("hex")
        .slice(0, 16)}"`,
    };
  }
}

function destroyNow(version: VersionRecord, at: number): void {
  version.state = "DESTROYED";
  version.payload = undefined;
  version.destroyTime = at;
  version.scheduledDestroyTime = undefined;
}

function stringMap(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw invalid(`${field} must be a map of strings.`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== "string") throw invalid(`${field}.${k} must be a string.`);
    out[k] = v;
  }
  return out;
}

/** A protobuf Duration in JSON (`"2592000s"`, `"3.5s"`), in whole seconds; undefined when absent. */
export function parseDuration(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const match = typeof value === "string" ? /^([0-9]+)(?:\.[0-9]{1,9})?s$/.exec(value) : null;
  if (!match) throw invalid(`${field} must be a duration like "86400s", got ${JSON.stringify(value)}.`);
  return Number(match[1]);
}
