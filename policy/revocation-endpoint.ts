/**
 * Where the program's own API calls go. A dynamic resource that calls a Google API (the published
 * version revocation: Secret Manager; the tagged strategy's tag removal: the Cloud Run Admin API)
 * sends the deploying identity's OAuth access token to its `apiBase`, so that endpoint decides who
 * receives the token: only the Google API the resource is for may. A rehearsal on one machine
 * points them at the local cloud on a loopback address, and says so in its own pack config
 * (`rehearsal: true`); nothing else may, so a typo or a hostile config value cannot send the
 * deployer's token anywhere else. A dynamic resource this policy does not know that carries an
 * access token or an endpoint is refused too: a new one must be added to GOOGLE_APIS first.
 */
import { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { PreviewGaps, TYPES, isUnknown, plainProps, text } from "./graph";

export interface RevocationEndpointConfig {
  /** True only in a rehearsal's own pack config: then a loopback endpoint (the local cloud) is allowed too. */
  readonly rehearsal?: boolean;
}

/** A Google API a dynamic resource calls with the deployer's access token. */
export interface GoogleApi {
  /** As people name it: `Secret Manager`. */
  readonly name: string;
  /** The endpoint a stack uses unless it sets `setting`. */
  readonly endpoint: string;
  /** Google's hosts for it (global and regional). */
  readonly hosts: readonly RegExp[];
  /** The API version path the resource appends its calls to. */
  readonly path: string;
  /** The gcp provider setting that points the program's calls elsewhere (a rehearsal's local cloud). */
  readonly setting: string;
}

export const SECRET_MANAGER: GoogleApi = {
  name: "Secret Manager",
  endpoint: "https://secretmanager.googleapis.com/v1",
  hosts: [/^secretmanager\.googleapis\.com$/, /^secretmanager\.[a-z0-9-]+\.rep\.googleapis\.com$/],
  path: "/v1",
  setting: "gcp:secretManagerCustomEndpoint",
};

export const CLOUD_RUN_ADMIN: GoogleApi = {
  name: "Cloud Run Admin",
  endpoint: "https://run.googleapis.com/v2",
  // Global, and regional (`https://us-central1-run.googleapis.com`).
  hosts: [/^run\.googleapis\.com$/, /^[a-z]+-[a-z]+[0-9]+-run\.googleapis\.com$/],
  path: "/v2",
  setting: "gcp:cloudRunV2CustomEndpoint",
};

/** Every dynamic resource type of the program that calls a Google API with the deployer's token, and which API. */
export const GOOGLE_APIS: Readonly<Record<string, GoogleApi>> = {
  [TYPES.publishedVersionRevocation]: SECRET_MANAGER,
  [TYPES.executorTagRemoval]: CLOUD_RUN_ADMIN,
};

const DYNAMIC_PREFIX = "pulumi-nodejs:dynamic";
const LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]"];

/** Why an endpoint is refused for `api` (default Secret Manager), or undefined when it is allowed. */
export function endpointProblem(endpoint: string, rehearsal: boolean, api: GoogleApi = SECRET_MANAGER): string | undefined {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return "is not a URL";
  }
  if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "")
    return "carries credentials, a query or a fragment";
  if (url.pathname !== api.path && url.pathname !== `${api.path}/`) return `has path ${url.pathname}, expected ${api.path}`;
  if (url.protocol === "https:" && url.port === "" && api.hosts.some((host) => host.test(url.hostname))) return undefined;
  if (url.protocol === "http:" && LOOPBACK_HOSTS.includes(url.hostname)) {
    return rehearsal ? undefined : "is a loopback address (the local cloud), allowed only in a rehearsal (policy config rehearsal: true)";
  }
  return `is not Google's ${api.name} endpoint`;
}

/** The fix for a refused endpoint of `api`. */
export function endpointFix(api: GoogleApi): string {
  return `To fix: unset ${api.setting}, or set it to Google's ${api.name} endpoint (${api.endpoint}).`;
}

export const revocationEndpoint: ResourceValidationPolicy = {
  name: "revocation-endpoint",
  description:
    "A dynamic resource that calls a Google API with the deployer's access token sends it to its endpoint (apiBase): it must be " +
    "the Google API the resource is for. A published-version revocation: Secret Manager (https://secretmanager.googleapis.com/v1, " +
    "or a regional https://secretmanager.<region>.rep.googleapis.com/v1); the tagged strategy's tag removal: the Cloud Run Admin " +
    "API (https://run.googleapis.com/v2, or a regional https://<region>-run.googleapis.com/v2). Only a rehearsal (this policy's " +
    "config rehearsal: true) may use a loopback endpoint (http://127.0.0.1:<port>/v1 or /v2, the local cloud). A dynamic resource " +
    "with an access token or an endpoint that this policy does not know is refused. To fix: unset gcp:secretManagerCustomEndpoint " +
    "and gcp:cloudRunV2CustomEndpoint, or set them to Google's endpoints.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      rehearsal: {
        type: "boolean",
        default: false,
        description: "True only in a rehearsal's pack config: allows a loopback endpoint (the local cloud).",
      },
    },
  },
  validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
    if (!args.type.startsWith(DYNAMIC_PREFIX)) return;
    const props = plainProps(args.props);
    const api = GOOGLE_APIS[args.type];
    if (api === undefined) {
      // Another dynamic resource: fine unless it would send a token or call an endpoint nobody vetted.
      const carries = ["accessToken", "apiBase"].filter((key) => props[key] !== undefined);
      if (carries.length > 0) {
        reportViolation(
          `${args.name} (${args.type}) is a dynamic resource with ${carries.join(" and ")} that this policy does not know: ` +
            "nothing says which endpoint may receive the deployer's access token. To fix: add its type and Google API to " +
            "GOOGLE_APIS in the policy pack (policy/revocation-endpoint.ts), or give it no access token.",
        );
      }
      return;
    }
    const gaps = new PreviewGaps();
    const endpoint = text(props.apiBase);
    if (isUnknown(endpoint)) gaps.skip(`${args.name}: its apiBase`);
    else if (endpoint === undefined || endpoint === "") {
      reportViolation(
        `${args.name} has no apiBase: it would not know where to send the deployer's token. ` +
          `To fix: give it ${api.endpoint} (the program does unless ${api.setting} is set).`,
      );
    } else {
      const problem = endpointProblem(endpoint, args.getConfig<RevocationEndpointConfig>().rehearsal === true, api);
      if (problem !== undefined) {
        reportViolation(
          `${args.name} would send the deployer's access token to ${JSON.stringify(endpoint)}, which ${problem}. ${endpointFix(api)}`,
        );
      }
    }
    gaps.finish();
  },
};
