import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { CLOUD_RUN_INGRESS, ControlEnvNames, Ingress } from "../lib/config";
import { PinnedSecret, grantSecretAccess, plainEnv, secretEnv } from "./secret-ref";

export interface ControlServiceArgs {
  /** GCP project of the service. */
  readonly project: pulumi.Input<string>;
  /** Cloud Run region. */
  readonly location: pulumi.Input<string>;
  /** Cloud Run service name. */
  readonly serviceName: pulumi.Input<string>;
  /** Id of the control service's own runtime service account. */
  readonly serviceAccountId: pulumi.Input<string>;
  /** Container image, pinned by digest or tag. */
  readonly image: pulumi.Input<string>;
  /** The container port the control service listens on. */
  readonly port: pulumi.Input<number>;
  readonly minInstances: pulumi.Input<number>;
  readonly maxInstances: pulumi.Input<number>;
  readonly ingress: Ingress;
  /** Let anyone invoke the control service at the Cloud Run layer. */
  readonly publicInvoker: boolean;
  /** The names under which this control service reads its three executor settings. */
  readonly envNames: ControlEnvNames;
  /** The executor's base URL (its Cloud Run URI). */
  readonly executorUrl: pulumi.Input<string>;
  /** Timeout of calls to the executor, in milliseconds. */
  readonly executorTimeoutMs: pulumi.Input<number>;
  /** The outbound token: the SAME secret version the executor accepts, never a copy. */
  readonly authToken: PinnedSecret;
  /**
   * The executor's Cloud Run service. The control rollout starts only after the executor's, so
   * the control service never sends a token the running executor does not accept yet.
   */
  readonly executorService: pulumi.Resource;
}

/** The control service that calls the executor, on Cloud Run v2 with its own service account. */
export class ControlService extends pulumi.ComponentResource {
  readonly serviceAccount: gcp.serviceaccount.Account;
  readonly grants: gcp.secretmanager.SecretIamMember[];
  readonly service: gcp.cloudrunv2.Service;
  readonly uri: pulumi.Output<string>;
  readonly latestReadyRevision: pulumi.Output<string>;

  constructor(name: string, args: ControlServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("wallet:service:ControlService", name, {}, opts);

    this.serviceAccount = new gcp.serviceaccount.Account(
      `${name}-sa`,
      {
        accountId: args.serviceAccountId,
        project: args.project,
        displayName: pulumi.interpolate`Wallet control service (${args.serviceName})`,
      },
      { parent: this },
    );
    // The control service reads the token secret only: not the Spark key, not the mnemonic.
    this.grants = [grantSecretAccess(`${name}-auth-token-access`, args.authToken.secretResourceId, this.serviceAccount, this)];

    this.service = new gcp.cloudrunv2.Service(
      `${name}-service`,
      {
        name: args.serviceName,
        project: args.project,
        location: args.location,
        ingress: CLOUD_RUN_INGRESS[args.ingress],
        deletionProtection: true,
        template: {
          serviceAccount: this.serviceAccount.email,
          scaling: { minInstanceCount: args.minInstances, maxInstanceCount: args.maxInstances },
          containers: [
            {
              image: args.image,
              ports: { containerPort: args.port },
              envs: [
                plainEnv(args.envNames.baseUrl, args.executorUrl),
                secretEnv(args.envNames.authToken, args.authToken),
                plainEnv(args.envNames.timeoutMs, pulumi.output(args.executorTimeoutMs).apply(String)),
              ],
            },
          ],
        },
        traffics: [{ type: "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", percent: 100 }],
      },
      { parent: this, dependsOn: [...this.grants, args.executorService] },
    );

    if (args.publicInvoker) {
      new gcp.cloudrunv2.ServiceIamMember(
        `${name}-public-invoker`,
        { project: args.project, location: args.location, name: this.service.name, role: "roles/run.invoker", member: "allUsers" },
        { parent: this },
      );
    }

    this.uri = this.service.uri;
    this.latestReadyRevision = this.service.latestReadyRevision;
    this.registerOutputs({
      uri: this.uri,
      latestReadyRevision: this.latestReadyRevision,
      serviceAccountEmail: this.serviceAccount.email,
    });
  }
}
