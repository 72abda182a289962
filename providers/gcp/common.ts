/** What the gcp handlers share: the local cloud client, the default project, input readers. */
import type { CheckFailure } from "@pulumi/pulumi/provider";
import { LocalCloudApiError, LocalCloudClient } from "../../localcloud/client";
import { Plain, UNKNOWN } from "../wire";

let shared: LocalCloudClient | undefined;

/** The local cloud, from LOCALCLOUD_URL and LOCALCLOUD_TOKEN (read on first use: check and diff need neither). */
export function cloud(): LocalCloudClient {
  shared ??= LocalCloudClient.fromEnv();
  return shared;
}

/** For tests: point the handlers at a given client. */
export function useCloud(client: LocalCloudClient | undefined): void {
  shared = client;
}

/** The project when a resource names none: the environment variables the real gcp provider reads. */
export function defaultProject(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.GOOGLE_PROJECT || env.GOOGLE_CLOUD_PROJECT || env.GCLOUD_PROJECT || env.CLOUDSDK_CORE_PROJECT || undefined;
}

export function projectOf(inputs: Plain): string {
  const project = typeof inputs.project === "string" && inputs.project !== "" ? inputs.project : defaultProject();
  if (!project)
    throw new Error("project is not set: set it on the resource, or GOOGLE_PROJECT (the local provider receives no provider config)");
  return project;
}

export function isNotFound(err: unknown): boolean {
  return err instanceof LocalCloudApiError && err.status === "NOT_FOUND";
}

export function text(inputs: Plain, key: string): string {
  const value = inputs[key];
  if (typeof value !== "string" || value === "") throw new Error(`${key} is required`);
  return value;
}

export function optionalText(inputs: Plain, key: string): string | undefined {
  const value = inputs[key];
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** A check failure when a required input is absent (an unknown value passes: it is known at apply). */
export function required(inputs: Plain, ...keys: string[]): CheckFailure[] {
  return keys
    .filter((key) => inputs[key] === undefined || inputs[key] === null || inputs[key] === "")
    .map((key) => ({ property: key, reason: `${key} is required` }));
}

export function oneOf(inputs: Plain, key: string, allowed: readonly string[]): CheckFailure[] {
  const value = inputs[key];
  if (value === undefined || value === UNKNOWN || (typeof value === "string" && allowed.includes(value))) return [];
  return [{ property: key, reason: `${JSON.stringify(value)} is not allowed; allowed: ${allowed.join(", ")}` }];
}

/** The string entries of a map input. */
export function stringMap(value: unknown): Record<string, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([, v]) => typeof v === "string")) as Record<
    string,
    string
  >;
}

/** `projects/P/secrets/S` (or `S` with the resource's project) -> the REST path `projects/P/secrets/S`. */
export function secretPath(secret: string, project: string | undefined): string {
  const full = /^projects\/([^/]+)\/secrets\/([^/]+)$/.exec(secret);
  if (full) return `projects/${full[1]}/secrets/${full[2]}`;
  if (/^[a-zA-Z0-9_-]+$/.test(secret) && project) return `projects/${project}/secrets/${secret}`;
  throw new Error(`secret ${JSON.stringify(secret)} must be projects/<project>/secrets/<id>`);
}
