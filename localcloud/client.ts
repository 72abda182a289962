/**
 * A small client of the local cloud's REST API (Google's shapes), for the provider plugins, the
 * CLI and the tests. Errors carry Google's canonical status (`NOT_FOUND`, `FAILED_PRECONDITION`,
 * ...) so a caller can tell "already gone" from "refused".
 */
import type { request as undiciRequest } from "undici";
import { LOCALCLOUD_ENV } from "./env";

let loadedRequest: typeof undiciRequest | undefined;
/**
 * undici on first call: the provider plugins load this module at every engine run's start, which
 * waits for them one by one, and a preview of an unchanged stack never calls the cloud.
 */
function request(...args: Parameters<typeof undiciRequest>): ReturnType<typeof undiciRequest> {
  loadedRequest ??= (require("undici") as typeof import("undici")).request;
  return loadedRequest(...args);
}

export class LocalCloudApiError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly status: string,
    message: string,
  ) {
    super(message);
    this.name = "LocalCloudApiError";
  }
}

export interface OperationJson {
  readonly name: string;
  readonly done: boolean;
  readonly error?: { readonly code: number; readonly message: string };
  readonly response?: Record<string, unknown>;
}

export class LocalCloudClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  /** The client the provider plugins use: `LOCALCLOUD_URL` and `LOCALCLOUD_TOKEN` from the environment. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): LocalCloudClient {
    const url = env[LOCALCLOUD_ENV.url];
    const token = env[LOCALCLOUD_ENV.token];
    if (!url || !token) {
      throw new Error(
        `${LOCALCLOUD_ENV.url} and ${LOCALCLOUD_ENV.token} must be set: these provider plugins drive the local cloud only ` +
          `(start it with \`npm run localcloud\`, which prints both).`,
      );
    }
    if (!/^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):[0-9]+$/.test(url)) {
      throw new Error(`${LOCALCLOUD_ENV.url} must be a loopback URL like http://127.0.0.1:4100, got ${JSON.stringify(url)}`);
    }
    return new LocalCloudClient(url, token);
  }

  async call<T = Record<string, unknown>>(method: "GET" | "POST" | "PATCH" | "DELETE", path: string, body?: unknown): Promise<T> {
    const response = await request(`${this.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      headersTimeout: 60_000,
      bodyTimeout: 60_000,
    });
    const text = await response.body.text();
    let parsed: unknown = {};
    try {
      parsed = text === "" ? {} : JSON.parse(text);
    } catch {
      parsed = { error: { message: text.slice(0, 300) } };
    }
    if (response.statusCode >= 400) {
      const error = (parsed as { error?: { message?: string; status?: string } }).error;
      throw new LocalCloudApiError(
        response.statusCode,
        error?.status ?? "UNKNOWN",
        `${method} ${path}: HTTP ${response.statusCode} ${error?.status ?? ""}: ${error?.message ?? text.slice(0, 300)}`,
      );
    }
    return parsed as T;
  }

  /** Polls a long-running operation until done; its error becomes a thrown LocalCloudApiError. */
  async waitOperation(operation: OperationJson, timeoutMs = 10 * 60_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    let op = operation;
    let pause = 20;
    while (!op.done) {
      if (Date.now() > deadline) throw new Error(`operation ${op.name} not done after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = Math.min(250, pause * 2);
      op = await this.call<OperationJson>("GET", `/v2/${op.name}`);
    }
    if (op.error) throw new LocalCloudApiError(400, "FAILED_PRECONDITION", op.error.message);
    return op.response ?? {};
  }

  /** A version's payload as text. */
  async accessSecretVersion(versionName: string): Promise<string> {
    const body = await this.call<{ payload: { data: string } }>("GET", `/v1/${versionName}:access`);
    return Buffer.from(body.payload.data, "base64").toString("utf8");
  }

  state(): Promise<LocalCloudState> {
    return this.call<LocalCloudState>("GET", "/localcloud/v1/state");
  }
}

/** The local cloud's snapshot (GET /localcloud/v1/state). */
export interface LocalCloudState {
  readonly url: string;
  readonly secrets: readonly { readonly name: string; readonly versions: readonly { readonly number: number; readonly state: string }[] }[];
  readonly services: readonly ServiceState[];
}

export interface ServiceState {
  readonly name: string;
  readonly url: string;
  readonly tagUrls: Readonly<Record<string, string>>;
  readonly latestReadyRevision: string | null;
  readonly latestCreatedRevision: string | null;
  readonly routing: readonly { readonly revision: string; readonly percent: number; readonly tag?: string }[];
  readonly revisions: readonly {
    readonly name: string;
    readonly status: string;
    readonly failure: string | null;
    readonly kind: string;
    readonly instances: readonly {
      readonly id: string;
      readonly pid: number | null;
      readonly port: number;
      readonly state: string;
      readonly inFlight: number;
    }[];
  }[];
}
