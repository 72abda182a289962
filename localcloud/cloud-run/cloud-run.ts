/**
 * Cloud Run v2 services: every change of a service's template makes a new immutable revision
 * (named as the template says, or generated); a revision's instances are real child processes
 * whose secret env vars are resolved from Secret Manager, as the revision's service account, when
 * each instance starts; a revision that cannot become ready (an account that may not read a secret
 * it pins, a disabled version, a process that never answers) fails, and traffic stays where it
 * was. Traffic goes by LATEST, named revisions, percents and tags, each tag with a URL of its own.
 * A change is a long-running operation: the new revision is deployed, the rollout takes
 * `rolloutMs`, then traffic moves (mixed old/new for `trafficShiftMs`); the instances of revisions
 * nobody can reach any more then finish their in-flight requests and stop.
 */
import { randomUUID } from "node:crypto";
import * as path from "node:path";
import { ApiError, GRPC_CODE, invalid, notFound } from "../errors";
import { EventLog } from "../events";
import { Iam, Principal } from "../iam";
import { Instance, freePort } from "../instances";
import { Projects } from "../projects";
import { LOCAL_ENV, WorkloadCommands, WorkloadKind, commandFor, instanceEnv, workloadKind } from "../runners";
import { SecretManager, ACCESS_PERMISSION } from "../secret-manager";
import { Backend, Router } from "./router";
import {
  NO_ROUTING,
  ResolvedTarget,
  Routing,
  Transition,
  Mixer,
  WeightedPicker,
  percentsOf,
  reachableRevisions,
  routingForRequest,
  sameRouting,
  tagsOf,
} from "./routing";
import {
  LATEST,
  ServiceSpec,
  TemplateJson,
  generatedRevisionName,
  isValidServiceName,
  normalizeSpec,
  sameTemplate,
  secretOfRef,
  timeoutMs,
} from "./spec";

export interface CloudRunSettings {
  /** How long a rollout takes between the new revision being ready and traffic moving. */
  readonly rolloutMs: number;
  /** How long, once traffic moves, new requests may still reach the old target (0: at once). */
  readonly trafficShiftMs: number;
  /** How long an instance may take to answer GET /status after it starts. */
  readonly startupTimeoutMs: number;
  /** Between SIGTERM and SIGKILL (Cloud Run: 10 s). */
  readonly shutdownGraceMs: number;
  /** An idle instance above the revision's minimum stops after this long. */
  readonly idleTimeoutMs: number;
  readonly commands: WorkloadCommands;
  readonly controlRatePerSec: number;
  /** Payments per second of the stand-in control (0 or unset: none), naming `controlPayHost`. */
  readonly controlPayRatePerSec?: number;
  readonly controlPayHost?: string;
  /** When set, each stand-in control instance appends its record here as JSON lines. */
  readonly recordDir?: string;
  /** When set, each instance's stdout and stderr go to `<logDir>/<revision>/<instance>.log`. */
  readonly logDir?: string;
  readonly baseEnv: Readonly<Record<string, string>>;
}

type RevisionStatus = "DEPLOYING" | "READY" | "FAILED";

interface RevisionRecord {
  readonly name: string;
  readonly service: ServiceRecord;
  readonly generation: number;
  readonly template: TemplateJson;
  readonly createTime: number;
  readonly kind: WorkloadKind;
  readonly command: string;
  readonly serviceAccount: string;
  readonly minInstances: number;
  readonly maxInstances: number;
  readonly timeoutMs: number;
  status: RevisionStatus;
  failure?: string;
  readyTime?: number;
  readonly instances: Instance[];
  readonly tokens: Map<Instance, string>;
  instanceCounter: number;
  readonly answered: Map<number, number>;
}

interface ServiceRecord {
  readonly projectId: string;
  readonly location: string;
  readonly name: string;
  readonly uid: string;
  readonly createTime: number;
  updateTime: number;
  generation: number;
  observedGeneration: number;
  spec: ServiceSpec;
  readonly revisions: Map<string, RevisionRecord>;
  revisionCounter: number;
  latestCreatedRevision?: string;
  latestReadyRevision?: string;
  routing: Routing;
  transition?: Transition;
  readonly picker: WeightedPicker;
  readonly mainUrl: string;
  readonly tagUrls: Map<string, string>;
  busy?: string;
  terminal: {
    state: "CONDITION_SUCCEEDED" | "CONDITION_FAILED" | "CONDITION_RECONCILING";
    message?: string;
    reason?: string;
    time: number;
  };
  deleted: boolean;
}

interface OperationRecord {
  readonly name: string;
  done: boolean;
  error?: { code: number; message: string };
  response?: Record<string, unknown>;
  readonly target: string;
}

const SERVICE_TYPE = "type.googleapis.com/google.cloud.run.v2.Service";

/** The IAM resource (and REST name) of a service. */
export function serviceResource(projectId: string, location: string, name: string): string {
  return `projects/${projectId}/locations/${location}/services/${name}`;
}

export class CloudRun {
  private readonly services = new Map<string, ServiceRecord>();
  private readonly operations = new Map<string, OperationRecord>();
  private readonly router: Router;
  private readonly reaper: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly projects: Projects,
    private readonly iam: Iam,
    private readonly secrets: SecretManager,
    private readonly events: EventLog,
    private readonly settings: CloudRunSettings,
    private readonly secretManagerApi: () => string,
  ) {
    this.router = new Router(
      (service, tag) => this.backendFor(service, tag),
      (revision, status) => this.countAnswer(revision, status),
    );
    this.reaper = setInterval(() => this.reapIdle(), Math.max(50, Math.min(1_000, settings.idleTimeoutMs / 2)));
    this.reaper.unref();
    process.on("exit", this.killAll);
  }

  /** If the host process exits without closing the local cloud, no instance outlives it. */
  private readonly killAll = (): void => {
    for (const service of this.services.values())
      for (const revision of service.revisions.values()) for (const i of revision.instances) i.killNow();
  };

  // ----------------------------------------------------------------------------------------------
  // API
  // ----------------------------------------------------------------------------------------------

  async createService(projectId: string, location: string, name: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (!isValidServiceName(name))
      throw invalid(
        `Service name ${JSON.stringify(name)} must be lowercase letters, digits and hyphens (at most 49), starting with a letter.`,
      );
    const key = serviceResource(projectId, location, name);
    if (this.services.has(key)) throw new ApiError("ALREADY_EXISTS", `Resource '${name}' already exists.`);
    const spec = normalizeSpec(name, body);
    const endpoint = await this.router.endpoint(key);
    if (this.services.has(key)) throw new ApiError("ALREADY_EXISTS", `Resource '${name}' already exists.`);
    const now = Date.now();
    const service: ServiceRecord = {
      projectId,
      location,
      name,
      uid: randomUUID(),
      createTime: now,
      updateTime: now,
      generation: 1,
      observedGeneration: 0,
      spec,
      revisions: new Map(),
      revisionCounter: 0,
      routing: NO_ROUTING,
      picker: new WeightedPicker(),
      mainUrl: endpoint.url,
      tagUrls: new Map(),
      terminal: { state: "CONDITION_RECONCILING", time: now },
      deleted: false,
    };
    this.validateTrafficTargets(service, spec, spec.template.revision);
    this.services.set(key, service);
    this.events.record("service-created", { service: key, url: endpoint.url });
    const revision = this.newRevision(service, spec.template);
    return this.startOperation(service, revision);
  }

  getService(projectId: string, location: string, name: string): Record<string, unknown> {
    return this.serviceJson(this.service(projectId, location, name));
  }

  listServices(projectId: string, location: string): Record<string, unknown>[] {
    return [...this.services.values()]
      .filter((s) => s.projectId === projectId && s.location === location && !s.deleted)
      .map((s) => this.serviceJson(s));
  }

  /** Replaces the service's spec; a changed template makes a new revision. */
  updateService(projectId: string, location: string, name: string, body: Record<string, unknown>): Record<string, unknown> {
    const service = this.service(projectId, location, name);
    if (service.busy)
      throw new ApiError("FAILED_PRECONDITION", `Service ${name} has an operation in progress (${service.busy}); retry once it is done.`);
    const spec = normalizeSpec(name, body);
    const latest = service.latestCreatedRevision ? service.revisions.get(service.latestCreatedRevision) : undefined;
    // The same template as a revision that failed is a retry: it is deployed again (under the same
    // explicit name, or a new generated one), as re-applying a failed deployment does.
    const retry = latest?.status === "FAILED" && sameTemplate(latest.template, spec.template);
    if (retry && latest && spec.template.revision === latest.name) service.revisions.delete(latest.name);
    const templateChanged = retry || !latest || !sameTemplate(latest.template, spec.template);
    const named = spec.template.revision === undefined ? undefined : service.revisions.get(spec.template.revision);
    // A template naming an existing ready revision with exactly its configuration goes back to that
    // revision (a rollback: no new revision); another configuration under a taken name is refused.
    const restored =
      templateChanged && !retry && named?.status === "READY" && sameTemplate(named.template, spec.template) ? named : undefined;
    if (templateChanged && named && !restored) {
      throw new ApiError("ALREADY_EXISTS", `Revision named '${spec.template.revision}' with different configuration already exists.`);
    }
    this.validateTrafficTargets(service, spec, templateChanged ? spec.template.revision : undefined);
    service.spec = spec;
    service.generation += 1;
    service.updateTime = Date.now();
    if (restored) {
      service.latestCreatedRevision = restored.name;
      service.latestReadyRevision = restored.name;
      this.events.record("revision-restored", { service: service.name, revision: restored.name });
    }
    const revision = templateChanged && !restored ? this.newRevision(service, spec.template) : undefined;
    return this.startOperation(service, revision);
  }

  /** Deletes the service: every instance stops (in-flight requests first), every URL closes. */
  deleteService(projectId: string, location: string, name: string): Record<string, unknown> {
    const service = this.service(projectId, location, name);
    if (service.busy)
      throw new ApiError("FAILED_PRECONDITION", `Service ${name} has an operation in progress (${service.busy}); retry once it is done.`);
    const key = serviceResource(projectId, location, name);
    service.deleted = true;
    const op = this.newOperation(key);
    service.busy = op.name;
    const json = this.serviceJson(service);
    void (async () => {
      const stops = [...service.revisions.values()].flatMap((r) => r.instances.map((i) => this.stopInstance(r, i, "service deleted")));
      await Promise.all(stops);
      await this.router.close(key);
      this.services.delete(key);
      this.iam.dropPolicy(key);
      this.events.record("service-deleted", { service: key });
      op.done = true;
      op.response = { "@type": SERVICE_TYPE, ...json };
    })();
    return this.operationJson(op);
  }

  listRevisions(projectId: string, location: string, name: string): Record<string, unknown>[] {
    const service = this.service(projectId, location, name);
    return [...service.revisions.values()].reverse().map((r) => this.revisionJson(r));
  }

  getRevision(projectId: string, location: string, name: string, revision: string): Record<string, unknown> {
    const record = this.service(projectId, location, name).revisions.get(revision);
    if (!record) throw notFound(`Revision ${revision}`);
    return this.revisionJson(record);
  }

  getOperation(name: string): Record<string, unknown> {
    const op = this.operations.get(name);
    if (!op) throw notFound(`Operation ${name}`);
    return this.operationJson(op);
  }

  /** Every service, revision and instance (no env values: they hold secrets), for tests and rehearsals. */
  snapshot(): Record<string, unknown>[] {
    return [...this.services.values()].map((s) => ({
      name: serviceResource(s.projectId, s.location, s.name),
      url: s.mainUrl,
      tagUrls: Object.fromEntries(s.tagUrls),
      latestReadyRevision: s.latestReadyRevision ?? null,
      latestCreatedRevision: s.latestCreatedRevision ?? null,
      routing: s.routing.targets,
      shifting: s.transition !== undefined,
      busy: s.busy ?? null,
      revisions: [...s.revisions.values()].map((r) => ({
        name: r.name,
        status: r.status,
        failure: r.failure ?? null,
        kind: r.kind,
        serviceAccount: r.serviceAccount,
        answered: Object.fromEntries(r.answered),
        instances: r.instances.map((i) => ({
          id: i.spec.id,
          pid: i.pid ?? null,
          port: i.port,
          state: i.state,
          inFlight: i.inFlight,
          served: i.served,
        })),
      })),
    }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.reaper);
    process.off("exit", this.killAll);
    const stops = [...this.services.values()].flatMap((s) =>
      [...s.revisions.values()].flatMap((r) => r.instances.map((i) => this.stopInstance(r, i, "local cloud stopped"))),
    );
    await Promise.all(stops);
    await this.router.close();
  }

  // ----------------------------------------------------------------------------------------------
  // Revisions and rollouts
  // ----------------------------------------------------------------------------------------------

  private service(projectId: string, location: string, name: string): ServiceRecord {
    const service = this.services.get(serviceResource(projectId, location, name));
    if (!service || service.deleted) throw notFound(`Resource 'projects/${projectId}/locations/${location}/services/${name}'`);
    return service;
  }

  /** Named REVISION targets must exist and not have failed (or be the revision this change creates). */
  private validateTrafficTargets(service: ServiceRecord, spec: ServiceSpec, creating: string | undefined): void {
    for (const target of spec.traffic) {
      if (target.type === LATEST || target.revision === undefined) continue;
      if (target.revision === creating) continue;
      const revision = service.revisions.get(target.revision);
      if (!revision) throw invalid(`Revision named '${target.revision}' does not exist.`);
      if (revision.status === "FAILED")
        throw new ApiError("FAILED_PRECONDITION", `Revision '${target.revision}' is not ready and cannot serve traffic.`);
    }
  }

  private newRevision(service: ServiceRecord, template: TemplateJson): RevisionRecord {
    service.revisionCounter += 1;
    const name = template.revision ?? generatedRevisionName(service.name, service.revisionCounter);
    const container = template.containers[0];
    const kind = workloadKind((container.env ?? []).map((e) => e.name));
    const serviceAccount = template.serviceAccount ?? `${this.projects.numberOf(service.projectId)}-compute@developer.gserviceaccount.com`;
    const revision: RevisionRecord = {
      name,
      service,
      generation: service.revisionCounter,
      template,
      createTime: Date.now(),
      kind,
      command: commandFor(service.name, kind, this.settings.commands),
      serviceAccount,
      minInstances: template.scaling?.minInstanceCount ?? 0,
      maxInstances: template.scaling?.maxInstanceCount ?? 100,
      timeoutMs: timeoutMs(template.timeout ?? "300s"),
      status: "DEPLOYING",
      instances: [],
      tokens: new Map(),
      instanceCounter: 0,
      answered: new Map(),
    };
    service.revisions.set(name, revision);
    service.latestCreatedRevision = name;
    this.events.record("revision-created", { service: service.name, revision: name, kind, serviceAccount });
    return revision;
  }

  private startOperation(service: ServiceRecord, revision: RevisionRecord | undefined): Record<string, unknown> {
    const key = serviceResource(service.projectId, service.location, service.name);
    const op = this.newOperation(key);
    service.busy = op.name;
    service.terminal = { state: "CONDITION_RECONCILING", time: Date.now() };
    void this.rollout(service, op, revision);
    return this.operationJson(op);
  }

  private async rollout(service: ServiceRecord, op: OperationRecord, revision: RevisionRecord | undefined): Promise<void> {
    try {
      if (revision) await this.deploy(revision);
      if (this.settings.rolloutMs > 0) await delay(this.settings.rolloutMs);
      const to = this.resolveRouting(service);
      await this.shift(service, to);
      service.observedGeneration = service.generation;
      service.terminal = { state: "CONDITION_SUCCEEDED", time: Date.now() };
      service.busy = undefined;
      op.done = true;
      op.response = { "@type": SERVICE_TYPE, ...this.serviceJson(service) };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      service.observedGeneration = service.generation;
      service.terminal = {
        state: "CONDITION_FAILED",
        message,
        reason: revision?.status === "FAILED" ? "RevisionFailed" : "RoutingFailed",
        time: Date.now(),
      };
      op.done = true;
      op.error = { code: err instanceof ApiError ? GRPC_CODE[err.status] : GRPC_CODE.FAILED_PRECONDITION, message };
    } finally {
      service.busy = undefined;
      this.events.record("operation-done", {
        operation: op.name,
        service: service.name,
        ok: op.error === undefined,
        message: op.error?.message,
      });
      this.reconcileScale(service);
    }
  }

  /** Starts the revision's first instances (at least one, as Cloud Run does to check it); all must become ready. */
  private async deploy(revision: RevisionRecord): Promise<void> {
    try {
      this.checkDeployable(revision);
      const count = Math.max(1, revision.minInstances);
      const results = await Promise.allSettled(Array.from({ length: count }, () => this.startInstance(revision)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failed) throw failed.reason;
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      revision.status = "FAILED";
      revision.failure = reason;
      await Promise.all(revision.instances.map((i) => this.stopInstance(revision, i, "revision failed")));
      this.events.record("revision-failed", { service: revision.service.name, revision: revision.name, reason });
      throw new ApiError("FAILED_PRECONDITION", `Revision '${revision.name}' is not ready and cannot serve traffic. ${reason}`);
    }
    revision.status = "READY";
    revision.readyTime = Date.now();
    revision.service.latestReadyRevision = revision.name;
    this.events.record("revision-ready", { service: revision.service.name, revision: revision.name });
  }

  /** Cloud Run's deployment check: the account exists, and may read every secret the template uses. */
  private checkDeployable(revision: RevisionRecord): void {
    const account = this.iam.findServiceAccount(revision.serviceAccount);
    const isDefault = revision.serviceAccount.endsWith("-compute@developer.gserviceaccount.com");
    if (!account && !isDefault) throw new Error(`Service account ${revision.serviceAccount} does not exist.`);
    if (account?.disabled) throw new Error(`Service account ${revision.serviceAccount} is disabled.`);
    const principal: Principal = { kind: "serviceAccount", email: revision.serviceAccount };
    for (const [index, env] of (revision.template.containers[0].env ?? []).entries()) {
      const ref = env.valueSource?.secretKeyRef;
      if (!ref) continue;
      const { project, secretId } = secretOfRef(ref.secret, revision.service.projectId);
      const resource = SecretManager.resourceOf(this.projects.resolve(project), secretId);
      if (!this.iam.allows(principal, ACCESS_PERMISSION, resource)) {
        throw new Error(
          `spec.template.spec.containers[0].env[${index}].value_from.secret_key_ref.name: Permission denied on secret: ${resource} for Revision service account ${revision.serviceAccount}. ` +
            `The service account used must be granted the 'Secret Manager Secret Accessor' role (roles/secretmanager.secretAccessor) at the secret, project or higher level.`,
        );
      }
    }
  }

  /** The routing the service's traffic spec asks for, LATEST resolved to the latest ready revision. */
  private resolveRouting(service: ServiceRecord): Routing {
    const targets: ResolvedTarget[] = [];
    for (const target of service.spec.traffic) {
      let revision: string | undefined;
      if (target.type === LATEST) {
        revision = service.latestReadyRevision;
        if (!revision)
          throw new ApiError("FAILED_PRECONDITION", `Service ${service.name} has no ready revision to send LATEST traffic to.`);
      } else {
        revision = target.revision;
        const record = revision === undefined ? undefined : service.revisions.get(revision);
        if (!record || record.status !== "READY")
          throw new ApiError("FAILED_PRECONDITION", `Revision '${revision}' is not ready and cannot serve traffic.`);
      }
      targets.push({
        type: target.type ?? LATEST,
        revision: revision as string,
        percent: target.percent ?? 0,
        ...(target.tag ? { tag: target.tag } : {}),
      });
    }
    return { targets };
  }

  /** Moves traffic to `to`: tag URLs open first, then (optionally mixed for a while) the switch. */
  private async shift(service: ServiceRecord, to: Routing): Promise<void> {
    const key = serviceResource(service.projectId, service.location, service.name);
    for (const tag of tagsOf(to).keys()) {
      if (!service.tagUrls.has(tag)) {
        const endpoint = await this.router.endpoint(key, tag);
        service.tagUrls.set(tag, endpoint.url);
      }
    }
    const from = service.routing;
    if (sameRouting(from, to)) return;
    // Instances the new routing needs come up before it takes any traffic.
    await this.ensureMinimum(service, to);
    this.events.record("traffic-shift-started", { service: service.name, from: describeRouting(from), to: describeRouting(to) });
    if (this.settings.trafficShiftMs > 0 && from.targets.length > 0) {
      service.transition = { from, to, startMs: Date.now(), durationMs: this.settings.trafficShiftMs, mixer: new Mixer() };
      await delay(this.settings.trafficShiftMs);
      service.transition = undefined;
    }
    service.routing = to;
    const before = tagsOf(from);
    const after = tagsOf(to);
    for (const [tag, revision] of after) {
      if (before.get(tag) !== revision)
        this.events.record("tag-routed", { service: service.name, tag, revision, url: service.tagUrls.get(tag) });
    }
    for (const tag of before.keys())
      if (!after.has(tag)) this.events.record("tag-removed", { service: service.name, tag, url: service.tagUrls.get(tag) });
    this.events.record("traffic-changed", { service: service.name, routing: describeRouting(to) });
  }

  // ----------------------------------------------------------------------------------------------
  // Instances
  // ----------------------------------------------------------------------------------------------

  /** Resolves the template's env as the revision's account (secrets read NOW), then starts a process. */
  private async startInstance(revision: RevisionRecord): Promise<Instance> {
    if (this.closed || revision.service.deleted) throw new Error("the local cloud is shutting down");
    revision.instanceCounter += 1;
    const id = `${revision.name}-i${revision.instanceCounter}`;
    const principal: Principal = { kind: "serviceAccount", email: revision.serviceAccount };
    const templateEnv: Record<string, string> = {};
    for (const [index, env] of (revision.template.containers[0].env ?? []).entries()) {
      const ref = env.valueSource?.secretKeyRef;
      if (!ref) {
        templateEnv[env.name] = env.value ?? "";
        continue;
      }
      try {
        const { project, secretId } = secretOfRef(ref.secret, revision.service.projectId);
        const { payload } = this.secrets.access(principal, this.projects.resolve(project), secretId, ref.version ?? "latest");
        templateEnv[env.name] = payload.toString("utf8");
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        this.events.record("instance-failed", { service: revision.service.name, revision: revision.name, instance: id, reason });
        throw new Error(`instance ${id} could not start: env ${env.name} (spec.template.spec.containers[0].env[${index}]): ${reason}`);
      }
    }
    const port = await freePort();
    const token = this.iam.issueToken(principal);
    const extra: Record<string, string> = { [LOCAL_ENV.controlRate]: String(this.settings.controlRatePerSec) };
    if (this.settings.controlPayRatePerSec && this.settings.controlPayHost) {
      extra[LOCAL_ENV.controlPayRate] = String(this.settings.controlPayRatePerSec);
      extra[LOCAL_ENV.controlPayHost] = this.settings.controlPayHost;
    }
    if (this.settings.recordDir) extra[LOCAL_ENV.controlRecord] = path.join(this.settings.recordDir, `${id}.jsonl`);
    const instance = new Instance({
      id,
      service: revision.service.name,
      revision: revision.name,
      command: revision.command,
      env: instanceEnv({
        kind: revision.kind,
        templateEnv,
        port,
        service: revision.service.name,
        revision: revision.name,
        secretManagerApi: this.secretManagerApi(),
        accessToken: token,
        baseEnv: this.settings.baseEnv,
        extra,
      }),
      port,
      startupTimeoutMs: this.settings.startupTimeoutMs,
      shutdownGraceMs: this.settings.shutdownGraceMs,
      ...(this.settings.logDir ? { logFile: path.join(this.settings.logDir, revision.name, `${id}.log`) } : {}),
    });
    revision.instances.push(instance);
    revision.tokens.set(instance, token);
    instance.on("exit", (code: number | null, signal: string | null) => {
      if (
        instance.state !== "failed" ||
        instance.failure === undefined ||
        !instance.failure.startsWith("the container exited unexpectedly")
      )
        return;
      this.events.record("instance-crashed", { service: revision.service.name, revision: revision.name, instance: id, code, signal });
      this.forget(revision, instance);
      setTimeout(() => this.reconcileScale(revision.service), 1_000).unref();
    });
    this.events.record("instance-starting", { service: revision.service.name, revision: revision.name, instance: id, port });
    try {
      await instance.start();
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.forget(revision, instance);
      this.events.record("instance-failed", { service: revision.service.name, revision: revision.name, instance: id, reason });
      throw new Error(`instance ${id} could not start: ${reason}`);
    }
    this.events.record("instance-ready", {
      service: revision.service.name,
      revision: revision.name,
      instance: id,
      port,
      pid: instance.pid,
    });
    if (this.closed || revision.service.deleted) {
      // Started while the service or the whole cloud was going away: stop it at once.
      void this.stopInstance(revision, instance, "started during shutdown");
      throw new Error("the local cloud is shutting down");
    }
    return instance;
  }

  private async stopInstance(revision: RevisionRecord, instance: Instance, reason: string): Promise<void> {
    if (instance.state === "stopping" || instance.state === "stopped") return;
    const inFlight = instance.inFlight;
    this.events.record("instance-draining", {
      service: revision.service.name,
      revision: revision.name,
      instance: instance.spec.id,
      inFlight,
      reason,
    });
    const result = await instance.stop(revision.timeoutMs);
    this.forget(revision, instance);
    this.events.record("instance-stopped", {
      service: revision.service.name,
      revision: revision.name,
      instance: instance.spec.id,
      signal: result.signal,
      inFlightAtSigterm: result.inFlightAtSigterm,
      exitCode: result.exitCode,
      reason,
    });
  }

  private forget(revision: RevisionRecord, instance: Instance): void {
    const index = revision.instances.indexOf(instance);
    if (index >= 0) revision.instances.splice(index, 1);
    const token = revision.tokens.get(instance);
    if (token !== undefined) this.iam.revokeToken(token);
    revision.tokens.delete(instance);
  }

  /** Revisions with traffic keep their minimum; those nobody can reach stop (after their in-flight requests). */
  private reconcileScale(service: ServiceRecord): void {
    if (service.deleted || this.closed) return;
    const reachable = reachableRevisions(service.routing);
    if (service.transition) for (const r of reachableRevisions(service.transition.from)) reachable.add(r);
    for (const revision of service.revisions.values()) {
      if (revision.status === "DEPLOYING") continue;
      if (!reachable.has(revision.name)) {
        for (const instance of [...revision.instances]) void this.stopInstance(revision, instance, "no traffic and no tag");
      }
    }
    void this.ensureMinimum(service, service.routing).catch(() => undefined);
  }

  /** Starts instances until every revision with traffic in `routing` has its minimum. */
  private async ensureMinimum(service: ServiceRecord, routing: Routing): Promise<void> {
    const starts: Promise<unknown>[] = [];
    for (const revisionName of percentsOf(routing).keys()) {
      const revision = service.revisions.get(revisionName);
      if (!revision || revision.status !== "READY") continue;
      const live = revision.instances.filter((i) => i.state === "starting" || i.state === "ready").length;
      for (let n = live; n < revision.minInstances; n += 1) {
        starts.push(
          this.startInstance(revision).catch((err: unknown) => {
            this.events.record("scale-failed", {
              service: service.name,
              revision: revision.name,
              reason: err instanceof Error ? err.message : String(err),
            });
          }),
        );
      }
    }
    await Promise.all(starts);
  }

  /** Idle instances above the minimum stop, as Cloud Run scales in (tagged-only revisions scale to zero). */
  private reapIdle(): void {
    const now = Date.now();
    for (const service of this.services.values()) {
      if (service.deleted) continue;
      const percents = percentsOf(service.routing);
      for (const revision of service.revisions.values()) {
        if (revision.status !== "READY") continue;
        const minimum = (percents.get(revision.name) ?? 0) > 0 ? revision.minInstances : 0;
        const live = revision.instances.filter((i) => i.state === "ready");
        let surplus = live.length - minimum;
        for (const instance of live) {
          if (surplus <= 0) break;
          if (instance.inFlight === 0 && now - instance.lastActiveMs >= this.settings.idleTimeoutMs) {
            surplus -= 1;
            void this.stopInstance(revision, instance, "idle");
          }
        }
      }
    }
  }

  /** The instance a request goes to: a ready one (least busy), else one starting, else a new one. */
  private async backendFor(key: string, tag: string | undefined): Promise<Backend> {
    const service = this.services.get(key);
    if (!service || service.deleted) return { kind: "error", status: 404, message: "Page not found: this service does not exist." };
    if (this.closed) return { kind: "error", status: 503, message: "The local cloud is shutting down." };
    const revisionName = this.pickRevision(service, tag);
    if (revisionName === undefined) {
      return tag === undefined
        ? { kind: "error", status: 503, message: `Service ${service.name} has no revision ready to serve.` }
        : { kind: "error", status: 404, message: `Page not found: tag ${tag} of service ${service.name} routes nowhere.` };
    }
    const revision = service.revisions.get(revisionName);
    if (!revision) return { kind: "error", status: 503, message: `Revision ${revisionName} is gone.` };
    for (;;) {
      const ready = revision.instances.filter((i) => i.accepting).sort((a, b) => a.inFlight - b.inFlight)[0];
      if (ready) {
        ready.acquire();
        return { kind: "instance", instance: ready, revision: revision.name, timeoutMs: revision.timeoutMs };
      }
      const starting = revision.instances.find((i) => i.state === "starting");
      if (starting) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            starting.off("ready", done);
            starting.off("exit", done);
            resolve();
          };
          starting.on("ready", done);
          starting.on("exit", done);
        });
        if (starting.state === "failed")
          return { kind: "error", status: 503, message: `The instance of revision ${revision.name} failed to start: ${starting.failure}` };
        continue;
      }
      if (revision.status !== "READY") return { kind: "error", status: 503, message: `Revision ${revision.name} is not ready.` };
      if (revision.instances.length >= revision.maxInstances) {
        return {
          kind: "error",
          status: 429,
          message: `Revision ${revision.name} is at its maximum of ${revision.maxInstances} instances.`,
        };
      }
      try {
        // A cold start: the secrets are read again, now.
        await this.startInstance(revision);
      } catch (err) {
        return {
          kind: "error",
          status: 503,
          message: `The request failed because revision ${revision.name} could not start an instance: ${err instanceof Error ? err.message : String(err)}`,
        };
      }
    }
  }

  private pickRevision(service: ServiceRecord, tag: string | undefined): string | undefined {
    const routing = routingForRequest(service.routing, service.transition, Date.now());
    if (tag !== undefined) {
      const other = service.transition ? (routing === service.transition.to ? service.transition.from : service.transition.to) : undefined;
      return tagsOf(routing).get(tag) ?? (other ? tagsOf(other).get(tag) : undefined);
    }
    return service.picker.pick(percentsOf(routing));
  }

  private countAnswer(revisionName: string, status: number): void {
    for (const service of this.services.values()) {
      const revision = service.revisions.get(revisionName);
      if (revision) revision.answered.set(status, (revision.answered.get(status) ?? 0) + 1);
    }
  }

  // ----------------------------------------------------------------------------------------------
  // JSON
  // ----------------------------------------------------------------------------------------------

  private newOperation(target: string): OperationRecord {
    const [, project, , location] = target.split("/");
    const op: OperationRecord = { name: `projects/${project}/locations/${location}/operations/${randomUUID()}`, done: false, target };
    this.operations.set(op.name, op);
    return op;
  }

  private operationJson(op: OperationRecord): Record<string, unknown> {
    return {
      name: op.name,
      metadata: { "@type": "type.googleapis.com/google.cloud.run.v2.Service", name: op.target },
      done: op.done,
      ...(op.error ? { error: op.error } : {}),
      ...(op.response ? { response: op.response } : {}),
    };
  }

  private serviceJson(service: ServiceRecord): Record<string, unknown> {
    const base = serviceResource(service.projectId, service.location, service.name);
    const spec = service.spec;
    const trafficStatuses = service.routing.targets.map((t) => ({
      type: t.type,
      revision: t.revision,
      percent: t.percent,
      ...(t.tag !== undefined ? { tag: t.tag, uri: service.tagUrls.get(t.tag) } : {}),
    }));
    const terminalCondition = {
      type: "Ready",
      state: service.terminal.state,
      lastTransitionTime: new Date(service.terminal.time).toISOString(),
      ...(service.terminal.message ? { message: service.terminal.message } : {}),
      ...(service.terminal.reason ? { reason: service.terminal.reason } : {}),
    };
    return {
      name: base,
      uid: service.uid,
      generation: String(service.generation),
      observedGeneration: String(service.observedGeneration),
      createTime: new Date(service.createTime).toISOString(),
      updateTime: new Date(service.updateTime).toISOString(),
      ...(spec.description !== undefined ? { description: spec.description } : {}),
      labels: spec.labels,
      annotations: spec.annotations,
      ingress: spec.ingress,
      ...(spec.launchStage !== undefined ? { launchStage: spec.launchStage } : {}),
      ...(spec.invokerIamDisabled !== undefined ? { invokerIamDisabled: spec.invokerIamDisabled } : {}),
      template: spec.template,
      traffic: spec.traffic,
      terminalCondition,
      conditions: [
        { type: "RoutesReady", state: service.terminal.state === "CONDITION_FAILED" ? "CONDITION_FAILED" : service.terminal.state },
        { type: "ConfigurationsReady", state: service.terminal.state },
      ],
      ...(service.latestReadyRevision ? { latestReadyRevision: `${base}/revisions/${service.latestReadyRevision}` } : {}),
      ...(service.latestCreatedRevision ? { latestCreatedRevision: `${base}/revisions/${service.latestCreatedRevision}` } : {}),
      trafficStatuses,
      uri: service.mainUrl,
      urls: [service.mainUrl],
      reconciling: service.busy !== undefined,
      etag: `"${service.generation}"`,
    };
  }

  private revisionJson(revision: RevisionRecord): Record<string, unknown> {
    const service = revision.service;
    const base = serviceResource(service.projectId, service.location, service.name);
    const state =
      revision.status === "READY" ? "CONDITION_SUCCEEDED" : revision.status === "FAILED" ? "CONDITION_FAILED" : "CONDITION_RECONCILING";
    return {
      name: `${base}/revisions/${revision.name}`,
      service: base,
      generation: String(revision.generation),
      createTime: new Date(revision.createTime).toISOString(),
      serviceAccount: revision.serviceAccount,
      scaling: { minInstanceCount: revision.minInstances, maxInstanceCount: revision.maxInstances },
      containers: revision.template.containers,
      timeout: revision.template.timeout,
      conditions: [{ type: "Ready", state, ...(revision.failure ? { message: revision.failure } : {}) }],
      reconciling: revision.status === "DEPLOYING",
    };
  }
}

function describeRouting(routing: Routing): string {
  if (routing.targets.length === 0) return "(none)";
  return routing.targets.map((t) => `${t.revision}=${t.percent}%${t.tag ? `#${t.tag}` : ""}`).join(",");
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
