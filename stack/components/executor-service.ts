import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { EXECUTOR_PORT, ExecutorMode, SparkNetwork } from "../config";
import { EXECUTOR_ENV } from "../contract";
import { CloudRunServiceArgs, cloudRunWorkload } from "./cloud-run-workload";
import { TaggedGenerations, generationTag, tagUri, tagUris } from "../tagged-routing";
import { PinnedSecret, plainEnv, secretEnv } from "./secret-ref";

export interface ExecutorServiceArgs extends CloudRunServiceArgs {
  /** `spark` for the real wallet, `mock` otherwise. */
  readonly mode: pulumi.Input<ExecutorMode>;
  readonly walletId: pulumi.Input<string>;
  readonly sparkNetwork: pulumi.Input<SparkNetwork>;
  /** Hosts whose invoices may be paid. */
  readonly allowedHosts: pulumi.Input<readonly string[]>;
  readonly requestCapMsats: pulumi.Input<number>;
  readonly windowCapMsats: pulumi.Input<number>;
  readonly windowMs: pulumi.Input<number>;
  readonly paymentTimeoutSecs: pulumi.Input<number>;
  /** The auth token version the executor accepts. */
  readonly authToken: PinnedSecret;
  /** The token's generation, echoed by `/status` as `authTokenVersion`. */
  readonly authTokenGeneration: pulumi.Input<number>;
  /** The Spark API key version. */
  readonly sparkApiKey: PinnedSecret;
  /** The mnemonic's secret (for the grant) and full version name (read at run time). */
  readonly mnemonic: PinnedSecret & { readonly versionName: pulumi.Input<string> };
  /**
   * `tagged` rotation: the token generations whose revisions carry a tag (the current one, and the
   * previous one until its token is revoked). Absent: `in-place`.
   */
  readonly tagged?: { readonly currentGeneration: number; readonly previousGeneration?: number; readonly rolledBackFrom?: number };
}

/**
 * The wallet executor on Cloud Run v2, with its own service account that may read exactly its
 * three secrets, every secret pinned to a version number.
 */
export class ExecutorService extends pulumi.ComponentResource {
  readonly serviceAccount: gcp.serviceaccount.Account;
  readonly grants: gcp.secretmanager.SecretIamMember[];
  readonly service: gcp.cloudrunv2.Service;
  readonly uri: pulumi.Output<string>;
  readonly latestReadyRevision: pulumi.Output<string>;
  /** Tagged only: the revision names by generation. */
  readonly revisionNames?: pulumi.Output<TaggedGenerations>;
  /** Every tag URL the service reports, by tag (empty for `in-place`). */
  readonly tagUris: pulumi.Output<Record<string, string>>;
  /**
   * The URL a caller holding the current token calls: the current generation's tag URL, read from
   * the service's traffic statuses (`tagged`), or the main URL (`in-place`).
   */
  readonly currentUri: pulumi.Output<string>;

  constructor(name: string, args: ExecutorServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("wallet:service:ExecutorService", name, {}, opts);

    const env = [
      plainEnv(EXECUTOR_ENV.mode, args.mode),
      // The executor binds 127.0.0.1 by default, unreachable on Cloud Run.
      plainEnv(EXECUTOR_ENV.host, "0.0.0.0"),
      // It reads this variable, not Cloud Run's PORT, so it must equal the container port.
      plainEnv(EXECUTOR_ENV.port, String(EXECUTOR_PORT)),
      plainEnv(EXECUTOR_ENV.walletId, args.walletId),
      secretEnv(EXECUTOR_ENV.token, args.authToken),
      plainEnv(EXECUTOR_ENV.tokenVersion, pulumi.output(args.authTokenGeneration).apply(String)),
      secretEnv(EXECUTOR_ENV.sparkApiKey, args.sparkApiKey),
      plainEnv(EXECUTOR_ENV.sparkNetwork, args.sparkNetwork),
      plainEnv(EXECUTOR_ENV.mnemonicProvider, "gcp"),
      plainEnv(EXECUTOR_ENV.mnemonicSecretVersion, args.mnemonic.versionName),
      plainEnv(
        EXECUTOR_ENV.allowedHosts,
        pulumi.output(args.allowedHosts).apply((hosts) => hosts.join(",")),
      ),
      plainEnv(EXECUTOR_ENV.requestCapMsats, pulumi.output(args.requestCapMsats).apply(String)),
      plainEnv(EXECUTOR_ENV.windowCapMsats, pulumi.output(args.windowCapMsats).apply(String)),
      plainEnv(EXECUTOR_ENV.windowMs, pulumi.output(args.windowMs).apply(String)),
      plainEnv(EXECUTOR_ENV.paymentTimeoutSecs, pulumi.output(args.paymentTimeoutSecs).apply(String)),
    ];

    const workload = cloudRunWorkload(this, name, {
      // The shared deployment settings (project, location, name, account, image, scaling, exposure).
      ...args,
      displayName: "Wallet executor",
      port: EXECUTOR_PORT,
      envs: env,
      tagged: args.tagged,
      readsSecrets: {
        "auth-token": args.authToken.secretResourceId,
        "spark-api-key": args.sparkApiKey.secretResourceId,
        // The executor reads the mnemonic itself, through Secret Manager's access API.
        mnemonic: args.mnemonic.secretResourceId,
      },
    });
    this.serviceAccount = workload.serviceAccount;
    this.grants = workload.grants;
    this.service = workload.service;

    this.uri = this.service.uri;
    this.latestReadyRevision = this.service.latestReadyRevision;
    this.revisionNames = workload.revisionNames;
    this.tagUris = this.service.trafficStatuses.apply((statuses) => tagUris(statuses));
    const tagged = args.tagged;
    this.currentUri =
      tagged === undefined
        ? this.uri
        : this.service.trafficStatuses.apply((statuses) => {
            const tag = generationTag(tagged.currentGeneration);
            // A preview sees the statuses from before this update: a new generation's tag is not
            // there yet, and its URL is known only once the rollout reports it.
            if (pulumi.runtime.isDryRun() && !(statuses ?? []).some((status) => status.tag === tag && status.uri)) {
              return pulumi.unknown as unknown as string;
            }
            return tagUri(statuses, tag);
          });
    this.registerOutputs({
      currentUri: this.currentUri,
      tagUris: this.tagUris,
      uri: this.uri,
      latestReadyRevision: this.latestReadyRevision,
      serviceAccountEmail: this.serviceAccount.email,
    });
  }
}
