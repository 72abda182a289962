/**
 * The local cloud: Secret Manager, IAM (service accounts and allow policies) and Cloud Run v2 on
 * 127.0.0.1, in one process, behind Google's REST shapes:
 *
 *   /v1/projects/P/secrets...                       Secret Manager (versions, :access, :disable, ...)
 *   /v1/projects/P/serviceAccounts...               IAM service accounts
 *   /v2/projects/P/locations/L/services...          Cloud Run v2 (long-running operations)
 *   /localcloud/v1/{info,state,events}              the local cloud's own view (no secret values)
 *
 * Every call needs `Authorization: Bearer <token>`: the deployer's token (printed at start) may do
 * anything; an instance's token acts as its revision's service account. Each service, and each
 * tag, gets a loopback URL of its own (see cloud-run/router.ts), reported in the service's status.
 *
 *   const cloud = await startLocalCloud({ rolloutMs: 500 });
 *   ... cloud.url, cloud.token, cloud.env (what the provider plugins read) ...
 *   await cloud.close();
 */
import { createServer, IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { CloudRun, serviceResource } from "./cloud-run/cloud-run";
import { isObject } from "./cloud-run/spec";
import { LOCALCLOUD_ENV } from "./env";
import { ApiError, invalid, notFound } from "./errors";
import { EventLog, LocalCloudEvent } from "./events";
import { Iam, Principal, ServiceAccountRecord } from "./iam";
import { Projects } from "./projects";
import { WorkloadCommands, hostBaseEnv } from "./runners";
import { SecretManager, ACCESS_PERMISSION } from "./secret-manager";

export { LOCALCLOUD_ENV } from "./env";

export interface LocalCloudOptions {
  /** Listen port of the API (default: any free port). */
  readonly port?: number;
  /** The deployer's token (default: a random one). */
  readonly deployerToken?: string;
  /** Rollout time between a revision being ready and traffic moving (default 0). */
  readonly rolloutMs?: number;
  /** How long new requests may still reach the old target after traffic moves (default 0). */
  readonly trafficShiftMs?: number;
  /** Instance startup deadline (default 60 s). */
  readonly startupTimeoutMs?: number;
  /** SIGTERM to SIGKILL (default 10 s, Cloud Run's). */
  readonly shutdownGraceMs?: number;
  /** Idle instances above a revision's minimum stop after this long (default 15 min). */
  readonly idleTimeoutMs?: number;
  /** What the revisions run (default: the stand-in executor and the stand-in control). */
  readonly commands?: WorkloadCommands;
  /** Calls per second of the stand-in control (default 5). */
  readonly controlRatePerSec?: number;
  /** Payments per second of the stand-in control (default none), to this host (one the executor allows). */
  readonly controlPayRatePerSec?: number;
  readonly controlPayHost?: string;
  readonly recordDir?: string;
  readonly logDir?: string;
  /** The clock of Secret Manager's destroy TTLs (default Date.now). */
  readonly now?: () => number;
}

export interface LocalCloud {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** The deployer's bearer token. */
  readonly token: string;
  /** Secret Manager's REST base (`<url>/v1`), what `gcp:secretManagerCustomEndpoint` names. */
  readonly secretManagerApi: string;
  /** `LOCALCLOUD_URL` and `LOCALCLOUD_TOKEN`, for the provider plugins. */
  readonly env: Readonly<Record<string, string>>;
  readonly events: EventLog;
  state(): Record<string, unknown>;
  /** Stops every instance (in-flight requests first), every URL, and the API. */
  close(): Promise<void>;
}

interface Context {
  readonly principal: Principal;
  readonly body: Record<string, unknown>;
  readonly query: URLSearchParams;
  readonly params: readonly string[];
}

type Handler = (ctx: Context) => unknown;

interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  /** The permission and the resource it is checked on (the deployer holds every permission). */
  readonly permission: (params: readonly string[]) => { permission: string; resource: string };
  readonly handle: Handler;
}

const MAX_BODY_BYTES = 1024 * 1024;

export async function startLocalCloud(options: LocalCloudOptions = {}): Promise<LocalCloud> {
  const now = options.now ?? Date.now;
  const projects = new Projects();
  const iam = new Iam(now, options.deployerToken);
  const events = new EventLog();
  const secrets = new SecretManager(projects, iam, now);
  let baseUrl = "";
  const cloudRun = new CloudRun(
    projects,
    iam,
    secrets,
    events,
    {
      rolloutMs: options.rolloutMs ?? 0,
      trafficShiftMs: options.trafficShiftMs ?? 0,
      startupTimeoutMs: options.startupTimeoutMs ?? 60_000,
      shutdownGraceMs: options.shutdownGraceMs ?? 10_000,
      idleTimeoutMs: options.idleTimeoutMs ?? 15 * 60_000,
      commands: options.commands ?? {},
      controlRatePerSec: options.controlRatePerSec ?? 5,
      ...(options.controlPayRatePerSec && options.controlPayHost
        ? { controlPayRatePerSec: options.controlPayRatePerSec, controlPayHost: options.controlPayHost }
        : {}),
      ...(options.recordDir ? { recordDir: options.recordDir } : {}),
      ...(options.logDir ? { logDir: options.logDir } : {}),
      baseEnv: hostBaseEnv(),
    },
    () => `${baseUrl}/v1`,
  );

  const routes = buildRoutes(projects, iam, secrets, cloudRun, events, () => snapshot());
  const server = createServer((req, res) => void serve(routes, iam, req, res));
  server.keepAliveTimeout = 5_000;
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
  baseUrl = `http://127.0.0.1:${port}`;
  events.record("local-cloud-started", { url: baseUrl });

  function snapshot(): Record<string, unknown> {
    return { url: baseUrl, secrets: secrets.snapshot(), services: cloudRun.snapshot() };
  }

  let closing: Promise<void> | undefined;
  return {
    url: baseUrl,
    port,
    token: iam.deployerToken,
    secretManagerApi: `${baseUrl}/v1`,
    env: { [LOCALCLOUD_ENV.url]: baseUrl, [LOCALCLOUD_ENV.token]: iam.deployerToken },
    events,
    state: snapshot,
    close: () => {
      closing ??= (async () => {
        await cloudRun.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}

async function serve(routes: readonly Route[], iam: Iam, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const url = new URL(req.url ?? "/", "http://localhost");
    const pathname = decodeURIComponent(url.pathname);
    const matching = routes.filter((r) => r.pattern.test(pathname));
    if (matching.length === 0) throw notFound(`The requested URL ${pathname}`);
    const route = matching.find((r) => r.method === req.method);
    if (!route) throw new ApiError("INVALID_ARGUMENT", `Method ${req.method ?? "?"} is not allowed on ${pathname}.`);
    const principal = iam.authenticate(header(req, "authorization"));
    const params = (route.pattern.exec(pathname) ?? []).slice(1);
    const { permission, resource } = route.permission(params);
    if (!iam.allows(principal, permission, resource)) {
      throw new ApiError("PERMISSION_DENIED", `Permission '${permission}' denied on resource '${resource}' (or it may not exist).`);
    }
    const body = await readJson(req);
    const result = await route.handle({ principal, body, query: url.searchParams, params });
    send(res, 200, result ?? {});
  } catch (err) {
    const error = err instanceof ApiError ? err : new ApiError("INTERNAL", err instanceof Error ? err.message : String(err));
    send(res, error.httpStatus, error.body());
  }
}

function buildRoutes(
  projects: Projects,
  iam: Iam,
  secrets: SecretManager,
  cloudRun: CloudRun,
  events: EventLog,
  snapshot: () => Record<string, unknown>,
): Route[] {
  const P = "([^/:]+)";
  const project = (p: string): string => {
    try {
      return projects.resolve(p);
    } catch {
      throw notFound(`Project ${p}`);
    }
  };
  const secretResource = (params: readonly string[]): string => SecretManager.resourceOf(project(params[0]), params[1]);
  const secretPerm =
    (permission: string) =>
    (params: readonly string[]): { permission: string; resource: string } => ({ permission, resource: secretResource(params) });
  const projectPerm =
    (permission: string) =>
    (params: readonly string[]): { permission: string; resource: string } => ({ permission, resource: `projects/${project(params[0])}` });
  const servicePerm =
    (permission: string) =>
    (params: readonly string[]): { permission: string; resource: string } => ({
      permission,
      resource: serviceResource(project(params[0]), params[1], params[2]),
    });
  const admin = (): { permission: string; resource: string } => ({ permission: "localcloud.admin", resource: "localcloud" });
  const route = (method: string, pattern: string, permission: Route["permission"], handle: Handler): Route => ({
    method,
    pattern: new RegExp(`^${pattern}$`),
    permission,
    handle,
  });

  return [
    // ---- Secret Manager -------------------------------------------------------------------------
    route("POST", `/v1/projects/${P}/secrets`, projectPerm("secretmanager.secrets.create"), ({ params, query, body }) => {
      const secretId = query.get("secretId");
      if (!secretId) throw invalid("secretId is required.");
      const created = secrets.createSecret(project(params[0]), secretId, body);
      events.record("secret-created", { secret: SecretManager.resourceOf(project(params[0]), secretId) });
      return created;
    }),
    route("GET", `/v1/projects/${P}/secrets`, projectPerm("secretmanager.secrets.list"), ({ params }) => {
      const list = secrets.listSecrets(project(params[0]));
      return { secrets: list, totalSize: list.length };
    }),
    route("GET", `/v1/projects/${P}/secrets/${P}`, secretPerm("secretmanager.secrets.get"), ({ params }) =>
      secrets.getSecret(project(params[0]), params[1]),
    ),
    route("PATCH", `/v1/projects/${P}/secrets/${P}`, secretPerm("secretmanager.secrets.update"), ({ params, query, body }) =>
      secrets.updateSecret(project(params[0]), params[1], body, updateMask(query, body)),
    ),
    route("DELETE", `/v1/projects/${P}/secrets/${P}`, secretPerm("secretmanager.secrets.delete"), ({ params }) => {
      secrets.deleteSecret(project(params[0]), params[1]);
      events.record("secret-deleted", { secret: secretResource(params) });
      return {};
    }),
    route("POST", `/v1/projects/${P}/secrets/${P}:addVersion`, secretPerm("secretmanager.versions.add"), ({ params, body }) => {
      const payload = isObject(body.payload) ? body.payload.data : undefined;
      const version = secrets.addVersion(project(params[0]), params[1], payload);
      events.record("secret-version-added", { secret: secretResource(params), version: version.name });
      return version;
    }),
    route("GET", `/v1/projects/${P}/secrets/${P}:getIamPolicy`, secretPerm("secretmanager.secrets.getIamPolicy"), ({ params }) =>
      iam.getPolicy(secretResource(params)),
    ),
    route("POST", `/v1/projects/${P}/secrets/${P}:getIamPolicy`, secretPerm("secretmanager.secrets.getIamPolicy"), ({ params }) =>
      iam.getPolicy(secretResource(params)),
    ),
    route("POST", `/v1/projects/${P}/secrets/${P}:setIamPolicy`, secretPerm("secretmanager.secrets.setIamPolicy"), ({ params, body }) => {
      secrets.getSecret(project(params[0]), params[1]);
      const policy = iam.setPolicy(secretResource(params), policyOf(body));
      events.record("iam-policy-set", { resource: secretResource(params), bindings: describeBindings(policy.bindings) });
      return policy;
    }),
    route("GET", `/v1/projects/${P}/secrets/${P}/versions`, secretPerm("secretmanager.versions.list"), ({ params }) => {
      const versions = secrets.listVersions(project(params[0]), params[1]);
      return { versions, totalSize: versions.length };
    }),
    route("GET", `/v1/projects/${P}/secrets/${P}/versions/${P}`, secretPerm("secretmanager.versions.get"), ({ params }) =>
      secrets.getVersion(project(params[0]), params[1], params[2]),
    ),
    route("GET", `/v1/projects/${P}/secrets/${P}/versions/${P}:access`, secretPerm(ACCESS_PERMISSION), ({ params, principal }) => {
      const { name, payload } = secrets.access(principal, project(params[0]), params[1], params[2]);
      return { name, payload: { data: payload.toString("base64") } };
    }),
    ...(["disable", "enable", "destroy"] as const).map((action) =>
      route(
        "POST",
        `/v1/projects/${P}/secrets/${P}/versions/${P}:${action}`,
        secretPerm(`secretmanager.versions.${action}`),
        ({ params }) => {
          const p = project(params[0]);
          const version =
            action === "destroy"
              ? secrets.destroy(p, params[1], params[2])
              : secrets.setEnabled(p, params[1], params[2], action === "enable");
          events.record(`secret-version-${action}d`, {
            version: version.name,
            state: version.state,
            scheduledDestroyTime: version.scheduledDestroyTime,
          });
          return version;
        },
      ),
    ),

    // ---- IAM service accounts -------------------------------------------------------------------
    route("POST", `/v1/projects/${P}/serviceAccounts`, projectPerm("iam.serviceAccounts.create"), ({ params, body }) => {
      const fields = isObject(body.serviceAccount) ? body.serviceAccount : {};
      const record = iam.createServiceAccount(project(params[0]), typeof body.accountId === "string" ? body.accountId : "", {
        displayName: typeof fields.displayName === "string" ? fields.displayName : undefined,
        description: typeof fields.description === "string" ? fields.description : undefined,
      });
      events.record("service-account-created", { email: record.email });
      return accountJson(record);
    }),
    route("GET", `/v1/projects/${P}/serviceAccounts/${P}`, projectPerm("iam.serviceAccounts.get"), ({ params }) =>
      accountJson(findAccount(iam, project, params)),
    ),
    route("PATCH", `/v1/projects/${P}/serviceAccounts/${P}`, projectPerm("iam.serviceAccounts.update"), ({ params, body, query }) => {
      const record = findAccount(iam, project, params);
      const fields = isObject(body.serviceAccount) ? body.serviceAccount : {};
      for (const field of updateMask(query, body)) {
        if (field === "displayName" || field === "display_name")
          record.displayName = typeof fields.displayName === "string" ? fields.displayName : "";
        else if (field === "description") record.description = typeof fields.description === "string" ? fields.description : "";
        else throw invalid(`Field ${JSON.stringify(field)} cannot be updated.`);
      }
      return accountJson(record);
    }),
    route("DELETE", `/v1/projects/${P}/serviceAccounts/${P}`, projectPerm("iam.serviceAccounts.delete"), ({ params }) => {
      const record = findAccount(iam, project, params);
      iam.deleteServiceAccount(record.projectId, record.email);
      events.record("service-account-deleted", { email: record.email });
      return {};
    }),
    ...(["disable", "enable"] as const).map((action) =>
      route("POST", `/v1/projects/${P}/serviceAccounts/${P}:${action}`, projectPerm(`iam.serviceAccounts.${action}`), ({ params }) => {
        findAccount(iam, project, params).disabled = action === "disable";
        return {};
      }),
    ),

    // ---- Cloud Run v2 ---------------------------------------------------------------------------
    route("POST", `/v2/projects/${P}/locations/${P}/services`, projectPerm("run.services.create"), async ({ params, query, body }) => {
      const serviceId = query.get("serviceId");
      if (!serviceId) throw invalid("serviceId is required.");
      return cloudRun.createService(project(params[0]), params[1], serviceId, body);
    }),
    route("GET", `/v2/projects/${P}/locations/${P}/services`, projectPerm("run.services.list"), ({ params }) => ({
      services: cloudRun.listServices(project(params[0]), params[1]),
    })),
    route("GET", `/v2/projects/${P}/locations/${P}/services/${P}`, servicePerm("run.services.get"), ({ params }) =>
      cloudRun.getService(project(params[0]), params[1], params[2]),
    ),
    route("PATCH", `/v2/projects/${P}/locations/${P}/services/${P}`, servicePerm("run.services.update"), ({ params, body }) =>
      cloudRun.updateService(project(params[0]), params[1], params[2], body),
    ),
    route("DELETE", `/v2/projects/${P}/locations/${P}/services/${P}`, servicePerm("run.services.delete"), ({ params }) =>
      cloudRun.deleteService(project(params[0]), params[1], params[2]),
    ),
    route("GET", `/v2/projects/${P}/locations/${P}/services/${P}/revisions`, servicePerm("run.revisions.list"), ({ params }) => ({
      revisions: cloudRun.listRevisions(project(params[0]), params[1], params[2]),
    })),
    route("GET", `/v2/projects/${P}/locations/${P}/services/${P}/revisions/${P}`, servicePerm("run.revisions.get"), ({ params }) =>
      cloudRun.getRevision(project(params[0]), params[1], params[2], params[3]),
    ),
    ...["GET", "POST"].map((method) =>
      route(
        method,
        `/v2/projects/${P}/locations/${P}/services/${P}:getIamPolicy`,
        servicePerm("run.services.getIamPolicy"),
        ({ params }) => {
          cloudRun.getService(project(params[0]), params[1], params[2]);
          return iam.getPolicy(serviceResource(project(params[0]), params[1], params[2]));
        },
      ),
    ),
    route(
      "POST",
      `/v2/projects/${P}/locations/${P}/services/${P}:setIamPolicy`,
      servicePerm("run.services.setIamPolicy"),
      ({ params, body }) => {
        cloudRun.getService(project(params[0]), params[1], params[2]);
        const resource = serviceResource(project(params[0]), params[1], params[2]);
        const policy = iam.setPolicy(resource, policyOf(body));
        events.record("iam-policy-set", { resource, bindings: describeBindings(policy.bindings) });
        return policy;
      },
    ),
    route("GET", `/v2/projects/${P}/locations/${P}/operations/${P}`, projectPerm("run.operations.get"), ({ params }) =>
      cloudRun.getOperation(`projects/${params[0]}/locations/${params[1]}/operations/${params[2]}`),
    ),

    // ---- The local cloud's own view -------------------------------------------------------------
    route("GET", `/localcloud/v1/info`, admin, () => ({ secretManagerApi: "/v1", cloudRunApi: "/v2", iamApi: "/v1" })),
    route("GET", `/localcloud/v1/state`, admin, () => snapshot()),
    route("GET", `/localcloud/v1/events`, admin, ({ query }): { events: LocalCloudEvent[]; last: number } => ({
      events: events.since(Number(query.get("after") ?? "0")),
      last: events.lastSeq,
    })),
  ];
}

function findAccount(iam: Iam, project: (p: string) => string, params: readonly string[]): ServiceAccountRecord {
  const email = params[1];
  const projectId = params[0] === "-" ? (iam.findServiceAccount(email)?.projectId ?? "-") : project(params[0]);
  return iam.getServiceAccount(projectId, email);
}

function accountJson(record: ServiceAccountRecord): Record<string, unknown> {
  return {
    name: `projects/${record.projectId}/serviceAccounts/${record.email}`,
    projectId: record.projectId,
    uniqueId: record.uniqueId,
    email: record.email,
    displayName: record.displayName,
    description: record.description,
    oauth2ClientId: record.uniqueId,
    disabled: record.disabled,
    etag: "MDEwMjE5MjA=",
  };
}

function policyOf(body: Record<string, unknown>): { bindings?: never[]; etag?: string; version?: number } {
  if (!isObject(body.policy)) throw invalid("policy is required.");
  return body.policy;
}

function describeBindings(bindings: readonly { role: string; members: readonly string[] }[]): string[] {
  return bindings.flatMap((b) => b.members.map((m) => `${b.role} ${m}`));
}

/** `updateMask` from the query (Secret Manager, Cloud Run) or the body (IAM). */
function updateMask(query: URLSearchParams, body: Record<string, unknown>): string[] {
  const raw = query.get("updateMask") ?? query.get("update_mask") ?? (typeof body.updateMask === "string" ? body.updateMask : "");
  return raw
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw invalid("Request body too large.");
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (text === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid("Invalid JSON payload received.");
  }
  if (!isObject(parsed)) throw invalid("The request body must be a JSON object.");
  return parsed;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(body));
}
