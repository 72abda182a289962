/**
 * Builders for tests against a real local cloud (started in-process on an ephemeral port): secrets,
 * accounts, grants and services through its REST API, as the providers would create them.
 */
import { request } from "undici";
import { LocalCloudClient, ServiceState } from "../../localcloud/client";
import { LocalCloud, LocalCloudOptions, startLocalCloud } from "../../localcloud/server";

export const PROJECT_ID = "demo-project";
export const REGION = "us-central1";
export const TOKEN_V1 = "a".repeat(64);
export const TOKEN_V2 = "b".repeat(64);

export interface Cloud {
  readonly cloud: LocalCloud;
  readonly api: LocalCloudClient;
}

/** Starts a local cloud with a short shutdown grace (tests stop many instances). */
export async function startCloud(options: LocalCloudOptions = {}): Promise<Cloud> {
  const cloud = await startLocalCloud({ shutdownGraceMs: 5_000, ...options });
  return { cloud, api: new LocalCloudClient(cloud.url, cloud.token) };
}

export async function createSecret(api: LocalCloudClient, secretId: string, body: Record<string, unknown> = {}): Promise<string> {
  await api.call("POST", `/v1/projects/${PROJECT_ID}/secrets?secretId=${secretId}`, { replication: { automatic: {} }, ...body });
  return `projects/${PROJECT_ID}/secrets/${secretId}`;
}

/** Adds a version; returns its number. */
export async function addVersion(api: LocalCloudClient, secret: string, value: string): Promise<string> {
  const version = await api.call<{ name: string }>("POST", `/v1/${secret}:addVersion`, {
    payload: { data: Buffer.from(value).toString("base64") },
  });
  return version.name.split("/").pop() as string;
}

export async function createAccount(api: LocalCloudClient, accountId: string): Promise<string> {
  const account = await api.call<{ email: string }>("POST", `/v1/projects/${PROJECT_ID}/serviceAccounts`, {
    accountId,
    serviceAccount: {},
  });
  return account.email;
}

export async function grantAccessor(api: LocalCloudClient, secret: string, email: string): Promise<void> {
  const policy = await api.call<{ etag: string; bindings: { role: string; members: string[] }[] }>(
    "POST",
    `/v1/${secret}:getIamPolicy`,
    {},
  );
  const bindings = [...policy.bindings, { role: "roles/secretmanager.secretAccessor", members: [`serviceAccount:${email}`] }];
  await api.call("POST", `/v1/${secret}:setIamPolicy`, { policy: { etag: policy.etag, bindings } });
}

export type EnvVar = { name: string; value: string } | { name: string; valueSource: { secretKeyRef: { secret: string; version: string } } };

export const plain = (name: string, value: string): EnvVar => ({ name, value });
export const fromSecret = (name: string, secret: string, version: string): EnvVar => ({
  name,
  valueSource: { secretKeyRef: { secret, version } },
});

/** The executor's env: the contract's mode variable marks it as the executor. */
export function executorEnv(secret: string, version: string, generation: number): EnvVar[] {
  return [
    plain("OA_LIGHTNING_WALLET_EXECUTOR_MODE", "spark"),
    plain("OA_LIGHTNING_WALLET_EXECUTOR_HOST", "0.0.0.0"),
    plain("OA_LIGHTNING_WALLET_EXECUTOR_PORT", "8080"),
    fromSecret("OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN", secret, version),
    plain("OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN_VERSION", String(generation)),
    plain("OA_LIGHTNING_WALLET_MNEMONIC_PROVIDER", "env"),
    plain("OA_LIGHTNING_WALLET_MNEMONIC", "stand-in words"),
  ];
}

export interface ServiceSpecInput {
  readonly account: string;
  readonly env: readonly EnvVar[];
  readonly revision?: string;
  readonly min?: number;
  readonly max?: number;
  readonly timeout?: string;
  readonly traffic?: readonly Record<string, unknown>[];
}

export function serviceBody(spec: ServiceSpecInput): Record<string, unknown> {
  return {
    template: {
      ...(spec.revision ? { revision: spec.revision } : {}),
      serviceAccount: spec.account,
      scaling: { minInstanceCount: spec.min ?? 1, maxInstanceCount: spec.max ?? 2 },
      ...(spec.timeout ? { timeout: spec.timeout } : {}),
      containers: [{ image: "us-docker.pkg.dev/demo/executor@sha256:0", ports: [{ containerPort: 8080 }], env: spec.env }],
    },
    ...(spec.traffic ? { traffic: spec.traffic } : {}),
  };
}

export function servicePath(name: string): string {
  return `/v2/projects/${PROJECT_ID}/locations/${REGION}/services/${name}`;
}

/** Creates a service and waits for its operation; returns the service JSON. */
export async function createService(api: LocalCloudClient, name: string, spec: ServiceSpecInput): Promise<Record<string, unknown>> {
  const op = await api.call<{ name: string; done: boolean }>(
    "POST",
    `/v2/projects/${PROJECT_ID}/locations/${REGION}/services?serviceId=${name}`,
    serviceBody(spec),
  );
  return api.waitOperation(op, 120_000);
}

/** Replaces a service's spec; resolves with the operation's outcome (error message or service). */
export async function updateService(
  api: LocalCloudClient,
  name: string,
  spec: ServiceSpecInput,
): Promise<{ service?: Record<string, unknown>; error?: string }> {
  const op = await api.call<{ name: string; done: boolean }>("PATCH", servicePath(name), serviceBody(spec));
  try {
    return { service: await api.waitOperation(op, 120_000) };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

export async function serviceState(api: LocalCloudClient, name: string): Promise<ServiceState> {
  const state = await api.state();
  const service = state.services.find((s) => s.name.endsWith(`/services/${name}`));
  if (!service) throw new Error(`no service ${name} in the local cloud`);
  return service;
}

/** A GET through a service or tag URL: status, the revision that answered, and the body. */
export async function get(url: string, token?: string): Promise<{ status: number; revision?: string; body: string }> {
  const response = await request(url, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    headersTimeout: 60_000,
    bodyTimeout: 60_000,
  });
  const revision = response.headers["x-localcloud-revision"];
  return { status: response.statusCode, revision: typeof revision === "string" ? revision : undefined, body: await response.body.text() };
}

/** Short revision name from a full one (`projects/.../revisions/x` -> `x`). */
export const short = (name: unknown): string => String(name).split("/").pop() as string;

/** Polls `probe` until it returns a value (not undefined), with a generous deadline. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
