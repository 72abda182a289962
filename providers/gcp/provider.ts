/**
 * The local `gcp` provider: exactly the resource types the program uses, against the local cloud
 * (LOCALCLOUD_URL, LOCALCLOUD_TOKEN), under the version the program asks for (@pulumi/gcp's).
 */
import type { Provider } from "@pulumi/pulumi/provider";
import { LOCALCLOUD_ENV } from "../../localcloud/env";
import { makeProvider } from "../framework";
import { secretWire } from "../wire";
import { cloudRunServiceHandler, cloudRunServiceIamMemberHandler } from "./cloud-run";
import { defaultProject } from "./common";
import { secretHandler, secretIamMemberHandler, secretVersionHandler } from "./secret-manager";
import { serviceAccountHandler } from "./service-account";

export const GCP_VERSION = (require("@pulumi/gcp/package.json") as { version: string }).version;

export const GET_CLIENT_CONFIG = "gcp:organizations/getClientConfig:getClientConfig";

export function gcpProvider(env: NodeJS.ProcessEnv = process.env): Provider {
  return makeProvider(
    "gcp",
    GCP_VERSION,
    [
      secretHandler,
      secretVersionHandler,
      secretIamMemberHandler,
      serviceAccountHandler,
      cloudRunServiceHandler,
      cloudRunServiceIamMemberHandler,
    ],
    {
      // The deployer's identity: its token is the local cloud's deployer token.
      [GET_CLIENT_CONFIG]: () => {
        const token = env[LOCALCLOUD_ENV.token];
        if (!token) return Promise.reject(new Error(`${LOCALCLOUD_ENV.token} is not set: the local gcp provider has no identity`));
        const project = defaultProject(env) ?? "";
        const region = env.GOOGLE_REGION ?? "";
        // Secret, as the real provider marks it (sensitive): it never lands in plain state.
        return Promise.resolve({
          accessToken: secretWire(token),
          project,
          region,
          zone: "",
          id: `projects/${project}/regions/${region}/zones/`,
          defaultLabels: {},
        });
      },
    },
  );
}
