import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { ControlEnvNames } from "../config";
import { CloudRunServiceArgs, cloudRunWorkload } from "./cloud-run-workload";
import { PinnedSecret, plainEnv, secretEnv } from "./secret-ref";

export interface ControlServiceArgs extends CloudRunServiceArgs {
  /** The container port the control service listens on. */
  readonly port: pulumi.Input<number>;
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

    const workload = cloudRunWorkload(this, name, {
      // The shared deployment settings (project, location, name, account, image, scaling, exposure).
      ...args,
      displayName: "Wallet control service",
      port: args.port,
      envs: [
        plainEnv(args.envNames.baseUrl, args.executorUrl),
        secretEnv(args.envNames.authToken, args.authToken),
        plainEnv(args.envNames.timeoutMs, pulumi.output(args.executorTimeoutMs).apply(String)),
      ],
      // The control service reads the token secret only: not the Spark key, not the mnemonic.
      readsSecrets: { "auth-token": args.authToken.secretResourceId },
      after: [args.executorService],
    });
    this.serviceAccount = workload.serviceAccount;
    this.grants = workload.grants;
    this.service = workload.service;

    this.uri = this.service.uri;
    this.latestReadyRevision = this.service.latestReadyRevision;
    this.registerOutputs({
      uri: this.uri,
      latestReadyRevision: this.latestReadyRevision,
      serviceAccountEmail: this.serviceAccount.email,
    });
  }
}
