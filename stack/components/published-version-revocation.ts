import * as pulumi from "@pulumi/pulumi";
import { request } from "undici";
import { printable, redactCredentials, redactSecrets } from "../../lib/redact";
import { RotationStep, nothingToDelete } from "./rotation-step";

/** Secret Manager's REST endpoint; tests point the resource at a local stand-in. */
export const SECRET_MANAGER_API = "https://secretmanager.googleapis.com/v1";

/**
 * The API base a revocation calls: Google's, unless the stack sets `gcp:secretManagerCustomEndpoint`
 * (the gcp provider's own setting for Secret Manager's endpoint, e.g. `http://127.0.0.1:4100/v1/`
 * for a rehearsal on the local cloud; the policy pack refuses any non-Google endpoint outside one).
 */
export function secretManagerApiBase(customEndpoint: string | undefined): string {
  const endpoint = customEndpoint?.trim();
  return endpoint ? endpoint.replace(/\/+$/, "") : SECRET_MANAGER_API;
}

/** The revocation's inputs, as the provider receives them (the access token unwrapped). */
export interface PublishedRevocationInputs {
  /** `projects/<p>/secrets/<id>/versions/<number>`. */
  readonly versionName: string;
  /** OAuth2 access token of the deploying identity (the gcp provider's own), secret. */
  readonly accessToken: string;
  readonly apiBase: string;
}

/** Calls `:disable` or `:enable` on a version; throws with the API's status, never the token. */
export async function setVersionState(inputs: PublishedRevocationInputs, action: "disable" | "enable"): Promise<string> {
  const response = await request(`${inputs.apiBase}/${inputs.versionName}:${action}`, {
    method: "POST",
    headers: { authorization: `Bearer ${inputs.accessToken}`, "content-type": "application/json" },
    body: "{}",
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  const text = await response.body.text();
  if (response.statusCode !== 200) {
    // The answer, redacted as every message is (the token, any part of it, credential shapes), one line, bounded.
    const detail = printable(redactCredentials(redactSecrets(text.slice(0, 4_108), [inputs.accessToken], 4_096))).slice(0, 300);
    throw new Error(`Secret Manager refused to ${action} ${inputs.versionName}: HTTP ${response.statusCode} ${detail}`);
  }
  const state = (JSON.parse(text) as { state?: unknown }).state;
  return typeof state === "string" ? state : "UNKNOWN";
}

/**
 * Revokes a version the stack references but does not own (published out of band): disables it
 * on create. Delete does nothing: the access token in state has expired by then, and re-enabling
 * a revoked credential must be a deliberate act (`gcloud secrets versions enable`), not a side
 * effect of a config edit.
 */
export const publishedRevocationProvider: pulumi.dynamic.ResourceProvider = {
  diff(_id: string, olds: PublishedRevocationInputs, news: PublishedRevocationInputs): Promise<pulumi.dynamic.DiffResult> {
    // The token changes every run; only another version means another revocation.
    const replace = olds.versionName !== news.versionName;
    return Promise.resolve({ changes: replace, replaces: replace ? ["versionName"] : [], deleteBeforeReplace: false });
  },
  async create(inputs: PublishedRevocationInputs): Promise<pulumi.dynamic.CreateResult> {
    const state = await setVersionState(inputs, "disable");
    return { id: inputs.versionName, outs: { versionName: inputs.versionName, apiBase: inputs.apiBase, state } };
  },
  delete: nothingToDelete,
};

export interface PublishedVersionRevocationArgs {
  /** Full name of the published version to disable. */
  readonly versionName: pulumi.Input<string>;
  /** The deploying identity's access token (kept secret). */
  readonly accessToken: pulumi.Input<string>;
  /** Secret Manager API base; defaults to the public endpoint. */
  readonly apiBase?: pulumi.Input<string>;
}

/** Disables a published (not stack-owned) secret version, after the gate it depends on. */
export class PublishedVersionRevocation extends RotationStep {
  declare readonly versionName: pulumi.Output<string>;
  declare readonly state: pulumi.Output<string>;

  constructor(name: string, args: PublishedVersionRevocationArgs, opts: pulumi.CustomResourceOptions) {
    super(
      publishedRevocationProvider,
      "PublishedVersionRevocation",
      name,
      { versionName: args.versionName, accessToken: args.accessToken, apiBase: args.apiBase ?? SECRET_MANAGER_API, state: undefined },
      ["accessToken"],
      opts,
    );
  }
}
