/**
 * Where a published version is revoked. The revocation calls Secret Manager's REST API with the
 * deploying identity's OAuth access token, so its endpoint decides who receives that token: only
 * Google's Secret Manager endpoint may. A rehearsal on one machine points it at the local cloud
 * on a loopback address, and says so in its own pack config (`rehearsal: true`); nothing else
 * may, so a typo or a hostile config value cannot send the deployer's token anywhere else.
 */
import { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { PreviewGaps, TYPES, isUnknown, plainProps, text } from "./graph";

export interface RevocationEndpointConfig {
  /** True only in a rehearsal's own pack config: then a loopback endpoint (the local cloud) is allowed too. */
  readonly rehearsal?: boolean;
}

const GOOGLE_HOSTS = [/^secretmanager\.googleapis\.com$/, /^secretmanager\.[a-z0-9-]+\.rep\.googleapis\.com$/];
const LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]"];

/** Why an endpoint is refused, or undefined when it is allowed. */
export function endpointProblem(endpoint: string, rehearsal: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return "is not a URL";
  }
  if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "")
    return "carries credentials, a query or a fragment";
  if (url.pathname !== "/v1" && url.pathname !== "/v1/") return `has path ${url.pathname}, expected /v1`;
  if (url.protocol === "https:" && url.port === "" && GOOGLE_HOSTS.some((host) => host.test(url.hostname))) return undefined;
  if (url.protocol === "http:" && LOOPBACK_HOSTS.includes(url.hostname)) {
    return rehearsal ? undefined : "is a loopback address (the local cloud), allowed only in a rehearsal (policy config rehearsal: true)";
  }
  return "is not Google's Secret Manager endpoint";
}

export const revocationEndpoint: ResourceValidationPolicy = {
  name: "revocation-endpoint",
  description:
    "A published-version revocation sends the deployer's access token to its Secret Manager endpoint (apiBase): it must be " +
    "Google's (https://secretmanager.googleapis.com/v1, or a regional https://secretmanager.<region>.rep.googleapis.com/v1). " +
    "Only a rehearsal (this policy's config rehearsal: true) may use a loopback endpoint (http://127.0.0.1:<port>/v1, the local " +
    "cloud). To fix: unset gcp:secretManagerCustomEndpoint, or set it to Google's endpoint.",
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
    if (args.type !== TYPES.publishedVersionRevocation) return;
    const gaps = new PreviewGaps();
    const endpoint = text(plainProps(args.props).apiBase);
    if (isUnknown(endpoint)) gaps.skip(`${args.name}: its apiBase`);
    else if (endpoint === undefined || endpoint === "") {
      reportViolation(`${args.name} has no apiBase: the revocation would not know where to send the deployer's token.`);
    } else {
      const problem = endpointProblem(endpoint, args.getConfig<RevocationEndpointConfig>().rehearsal === true);
      if (problem !== undefined) {
        reportViolation(
          `${args.name} would send the deployer's access token to ${JSON.stringify(endpoint)}, which ${problem}. ` +
            `Revoke through https://secretmanager.googleapis.com/v1 (unset gcp:secretManagerCustomEndpoint).`,
        );
      }
    }
    gaps.finish();
  },
};
