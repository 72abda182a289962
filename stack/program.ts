/**
 * The wallet executor stack, as a function: the runbook's rotation order as one dependency graph.
 *
 *   stage new secret versions -> executor rollout -> control rollout -> verification -> revoke previous
 *
 * Config is parsed and validated completely before the first resource is registered. `index.ts`
 * calls `defineStack()` once; tests and offline tools call it again under their own monitor.
 */
import * as fs from "fs";
import * as path from "path";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { ControlService } from "./components/control-service";
import { ExecutorService } from "./components/executor-service";
import { ExecutorTagRemoval, cloudRunApiBase } from "./components/executor-tag-removal";
import { RevocationCheck } from "./components/revocation-check";
import { secretManagerApiBase } from "./components/published-version-revocation";
import { GenerationValues, RotatingSecret } from "./components/rotating-secret";
import { Verification } from "./components/verification";
import {
  CREDENTIALS,
  CredentialKey,
  PROJECT,
  StackConfig,
  checkSecretKeys,
  checkStagingVerified,
  decodeConfigMap,
  defaultStagingStack,
  generationValueKey,
  parseStackConfig,
} from "./config";
// Which config keys were set with --secret: an SDK internal, fenced in lib/sdk-internals.
import { isConfigSecret } from "../lib/sdk-internals/runtime-config";
import { NEVER_APPLIED, appliedStateFrom, checkAgainstApplied, neverApplied } from "./last-applied";
import { readStackFile } from "./stack-file";
import { drainMs, generationTag, rolledBackGeneration } from "./tagged-routing";

/** The stack's outputs: URLs, revisions, accounts, generations; never a secret value. */
export type StackOutputs = Awaited<ReturnType<typeof defineStack>>;

/**
 * Registers the whole stack from the current Pulumi config and returns its outputs. Async only
 * for prod's mnemonic gate: staging's verified generations are read (a StackReference) and
 * checked before any other resource is registered.
 */
export async function defineStack() {
  checkStackFileOnDisk(pulumi.getStack());
  const now = new Date();
  const decoded = decodeConfigMap(pulumi.runtime.allConfig(), isConfigSecret);
  const config: StackConfig = parseStackConfig(decoded.raw, now, { stack: pulumi.getStack(), secretKeys: decoded.secretKeys });
  checkSecretKeys(config, decoded.present, decoded.secretKeys);

  // What this stack last applied (its own outputs): a mnemonic change is a rotation with or without
  // `previous`, and a generation once applied as compromised stays listed.
  const lastApplied = new pulumi.StackReference("last-applied", {
    name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`,
  });
  const applied = await lastApplied.getOutputDetails("credentials");
  const appliedEnvironment = await lastApplied.getOutputDetails("environment");
  const appliedCredentials: unknown = applied.value ?? applied.secretValue;
  const appliedState = neverApplied((appliedEnvironment.value ?? appliedEnvironment.secretValue) as unknown, appliedCredentials)
    ? NEVER_APPLIED
    : appliedStateFrom(appliedCredentials);
  const check = checkAgainstApplied(config, appliedState, now);
  if (check.needsStagingVerification) {
    const stagingStack = config.stagingStack ?? defaultStagingStack(pulumi.getOrganization());
    const staging = new pulumi.StackReference("staging-verification", { name: stagingStack });
    const verified = await staging.getOutputDetails("verifiedGenerations");
    const generations = (verified.value ?? verified.secretValue) as { mnemonic?: unknown } | undefined;
    checkStagingVerified(config, stagingStack, generations?.mnemonic, check.mnemonicRotation !== undefined);
  }

  const projectConfig = new pulumi.Config(PROJECT);
  // The gcp provider's own Secret Manager endpoint setting; a published version is revoked there too.
  const secretManagerApi = secretManagerApiBase(new pulumi.Config("gcp").get("secretManagerCustomEndpoint"));
  const { gcpProject: project, region, environment } = config;

  /** Destroyed versions stay recoverable this long (the mnemonic's must outlast reconciliation). */
  const DESTROY_TTL_DAYS = 30;

  /**
   * Revocation waits for the verification gate, but the gate is built from the secrets' outputs:
   * the secrets get a promise of it, resolved once the gate exists (or rejected if building fails,
   * so a broken program fails instead of waiting forever).
   */
  let releaseGate: (gate: pulumi.Resource) => void = () => undefined;
  let abandonGate: (reason: Error) => void = () => undefined;
  const revocationGate = new Promise<pulumi.Resource>((resolve, reject) => {
    releaseGate = resolve;
    abandonGate = reject;
  });

  const credentialNames: Record<CredentialKey, string> = { authToken: "auth-token", sparkApiKey: "spark-api-key", mnemonic: "mnemonic" };

  function rotatingSecret(credential: CredentialKey, values: GenerationValues, protect: boolean): RotatingSecret {
    const name = credentialNames[credential];
    return new RotatingSecret(name, {
      // Secret ids are scoped by the executor's service name: two deployments in one project never share one.
      secretId: `${config.executor.serviceName}-${name}`,
      project,
      region,
      labels: { app: PROJECT, environment, credential: name },
      current: config[credential].current,
      previous: config[credential].previous,
      revokePrevious: config[credential].revokePrevious,
      compromised: config[credential].compromised,
      revocationGate: config[credential].revokePrevious ? revocationGate : undefined,
      values,
      destroyTtlDays: DESTROY_TTL_DAYS,
      protect,
      revocationAccessToken: revokesPublished(credential) ? deployerAccessToken() : undefined,
      revocationApiBase: secretManagerApi,
    });
  }

  /** True when the previous generation to revoke was published out of band (not stack-owned). */
  function revokesPublished(credential: CredentialKey): boolean {
    const generations = config[credential];
    return (
      credential !== "authToken" &&
      generations.revokePrevious &&
      generations.previous !== undefined &&
      config[credential].published[generations.previous] !== undefined
    );
  }

  /**
   * The gcp provider's own access token: revoking a published version calls the API with it. Only
   * the apply uses it, and it is a new token on every run: in preview it stays unknown, so the update
   * plan the gated preview saves (`pulumi preview --save-plan`) does not pin a token the apply's
   * provider replaces (`pulumi up --plan` would stop with "violates plan: properties changed").
   */
  function deployerAccessToken(): pulumi.Output<string> {
    if (pulumi.runtime.isDryRun()) return pulumi.secret(pulumi.output(pulumi.unknown) as unknown as pulumi.Output<string>);
    return pulumi.secret(gcp.organizations.getClientConfigOutput().accessToken);
  }

  function configValues(credential: "sparkApiKey" | "mnemonic"): GenerationValues {
    const { current, previous, published } = config[credential];
    const values: Record<number, pulumi.Output<string>> = {};
    for (const generation of [current, previous]) {
      // A published generation is referenced by version number; its value never enters the stack.
      if (generation !== undefined && published[generation] === undefined) {
        values[generation] = projectConfig.requireSecret(generationValueKey(credential, generation));
      }
    }
    return { kind: "provided", values, published };
  }

  // 1. Stage: every configured generation is its own version; the previous stays enabled for now.
  const authToken = rotatingSecret("authToken", { kind: "random-token" }, false);
  const sparkApiKey = rotatingSecret("sparkApiKey", configValues("sparkApiKey"), false);
  // The mnemonic is the wallet's identity: its secret is protected from deletion by the engine.
  const mnemonic = rotatingSecret("mnemonic", configValues("mnemonic"), true);

  // `tagged` (docs/design/zero-downtime.md): each token generation's executor revision has a name
  // and a tag; the previous generation keeps its tag until its token is revoked. A previous
  // generation older than `taggedSince` was deployed in place: it has no named revision to tag.
  const tokenGenerations = config.authToken;
  const taggedPrevious =
    tokenGenerations.previous !== undefined && tokenGenerations.previous >= config.rotation.taggedSince
      ? tokenGenerations.previous
      : undefined;
  // A rollback before revocation (`current` back below what the stack last applied): the revision of
  // the generation rolled back from keeps its tag until the control has moved back, then loses it.
  const rolledBackFrom =
    config.rotation.strategy === "tagged"
      ? rolledBackGeneration(tokenGenerations.current, appliedState?.authToken?.currentGeneration, config.rotation.taggedSince)
      : undefined;
  const tagged =
    config.rotation.strategy === "tagged"
      ? { currentGeneration: tokenGenerations.current, previousGeneration: taggedPrevious, rolledBackFrom }
      : undefined;

  // 2. Executor rollout, pinned to the current versions (its grants come first, inside the component).
  const executor = new ExecutorService("executor", {
    project,
    location: region,
    serviceName: config.executor.serviceName,
    serviceAccountId: config.executor.serviceAccountId,
    image: config.executor.image,
    mode: config.executor.mode,
    walletId: config.executor.walletId,
    sparkNetwork: config.executor.sparkNetwork,
    allowedHosts: config.executor.allowedHosts,
    requestCapMsats: config.executor.requestCapMsats,
    windowCapMsats: config.executor.windowCapMsats,
    windowMs: config.executor.windowMs,
    paymentTimeoutSecs: config.executor.paymentTimeoutSecs,
    minInstances: config.executor.minInstances,
    maxInstances: config.executor.maxInstances,
    ingress: config.executor.ingress,
    publicInvoker: config.executor.publicInvoker,
    authToken: { secretResourceId: authToken.secretResourceId, versionNumber: authToken.current.versionNumber },
    authTokenGeneration: config.authToken.current,
    sparkApiKey: { secretResourceId: sparkApiKey.secretResourceId, versionNumber: sparkApiKey.current.versionNumber },
    mnemonic: {
      secretResourceId: mnemonic.secretResourceId,
      versionNumber: mnemonic.current.versionNumber,
      versionName: mnemonic.current.versionName,
    },
    tagged,
  });

  // 3. Control rollout: the same token version as the executor, after the executor.
  const control = new ControlService("control", {
    project,
    location: region,
    serviceName: config.control.serviceName,
    serviceAccountId: config.control.serviceAccountId,
    image: config.control.image,
    port: config.control.port,
    minInstances: config.control.minInstances,
    maxInstances: config.control.maxInstances,
    ingress: config.control.ingress,
    publicInvoker: config.control.publicInvoker,
    envNames: config.control.envNames,
    // `tagged`: the current generation's tag URL, as the executor service reports it.
    executorUrl: executor.currentUri,
    executorTimeoutMs: config.control.timeoutMs,
    authToken: { secretResourceId: authToken.secretResourceId, versionNumber: authToken.current.versionNumber },
    executorService: executor.service,
  });

  // 4. Verification: the runbook's checklist against the running executor, after the control rollout.
  // The version resources this verification releases for revocation (named `<credential>-g<previous>`).
  const revoking = CREDENTIALS.filter((credential) => config[credential].revokePrevious).map(
    (credential) => `${credentialNames[credential]}-g${config[credential].previous}`,
  );

  let verification: Verification;
  try {
    const payment = config.verification.payment;
    verification = new Verification(
      "verification",
      {
        baseUrl: executor.uri,
        expectTokenVersion: config.authToken.current,
        generations: { authToken: config.authToken.current, sparkApiKey: config.sparkApiKey.current, mnemonic: config.mnemonic.current },
        executorRevision: executor.latestReadyRevision,
        controlRevision: control.latestReadyRevision,
        revoking,
        expectMode: config.executor.mode,
        deadlineMs: config.verification.deadlineMs,
        token: requireValue(authToken.current.value),
        previousToken: authToken.previous?.value,
        expectIdentity: config.mnemonic.expectIdentity,
        tags:
          tagged === undefined
            ? undefined
            : {
                uris: executor.tagUris,
                current: generationTag(tagged.currentGeneration),
                ...(taggedPrevious === undefined ? {} : { previous: generationTag(taggedPrevious) }),
              },
        payment:
          payment === undefined
            ? undefined
            : {
                invoice: projectConfig.requireSecret(payment.invoiceConfigKey),
                host: payment.host,
                maxAmountMsats: payment.maxAmountMsats,
              },
      },
      // On the control service itself (not its component): the graph the engine and the policy pack see.
      { dependsOn: [control.service] },
    );
  } catch (err) {
    abandonGate(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
  // 5. Revoke: previous versions with revokePrevious were waiting for this.
  releaseGate(verification);

  // 6. `tagged`: revoked means refused everywhere. The revoked generation's revision still holds its
  // token, so its tag goes too, once the control's calls can no longer use it (the control's request
  // timeout + Cloud Run's shutdown grace after its rollout), as a step of its own; then a check
  // that the revoked token gets 401 at every URL the executor has left.
  if (tagged !== undefined && taggedPrevious !== undefined && tokenGenerations.revokePrevious) {
    const tagRemoval = new ExecutorTagRemoval(
      "executor-previous-tag-removal",
      {
        service: pulumi.interpolate`projects/${project}/locations/${region}/services/${executor.service.name}`,
        tag: generationTag(taggedPrevious),
        drainMs: drainMs(config.control.timeoutMs, config.rotation.shutdownGraceMs),
        accessToken: deployerAccessToken(),
        apiBase: cloudRunApiBase(new pulumi.Config("gcp").get("cloudRunV2CustomEndpoint")),
      },
      { dependsOn: [verification, control.service] },
    );
    new RevocationCheck(
      "executor-previous-token-refused",
      {
        urls: pulumi.all([tagRemoval.mainUri, tagRemoval.remainingUris]).apply(([main, tags]) => [main, ...tags]),
        removedUri: tagRemoval.removedUri,
        generation: taggedPrevious,
        deadlineMs: config.verification.deadlineMs,
        token: requireValue(authToken.previous?.value),
      },
      { dependsOn: [tagRemoval] },
    );
  }

  // A rollback: the generation rolled back from loses its tag once the control's calls can no longer
  // use it (as a revoked generation's does). Its token is not revoked: its version is dropped
  // (disabled) at the end of the update, and no caller of this stack holds it any more.
  if (tagged !== undefined && rolledBackFrom !== undefined) {
    new ExecutorTagRemoval(
      "executor-rolled-back-tag-removal",
      {
        service: pulumi.interpolate`projects/${project}/locations/${region}/services/${executor.service.name}`,
        tag: generationTag(rolledBackFrom),
        drainMs: drainMs(config.control.timeoutMs, config.rotation.shutdownGraceMs),
        accessToken: deployerAccessToken(),
        apiBase: cloudRunApiBase(new pulumi.Config("gcp").get("cloudRunV2CustomEndpoint")),
      },
      { dependsOn: [verification, control.service] },
    );
  }

  function credentialOutputs(secret: RotatingSecret, credential: CredentialKey) {
    const generations = config[credential];
    return {
      currentGeneration: generations.current,
      currentVersion: secret.current.versionNumber,
      // Where the current value comes from: the next update compares it (a mnemonic rotation).
      currentSource:
        credential === "authToken" ? "generated" : config[credential].published[generations.current] === undefined ? "config" : "published",
      previousGeneration: generations.previous,
      previousVersion: secret.previous?.versionNumber,
      previousRevoked: generations.previous === undefined ? undefined : generations.revokePrevious,
      compromisedGenerations: generations.compromised,
    };
  }

  return {
    environment,
    executorUrl: executor.uri,
    // What the control calls (`tagged`: the current generation's tag URL) and every tag URL.
    executorCurrentUrl: executor.currentUri,
    executorTagUrls: executor.tagUris,
    // How a token rotation reaches the control (the plan predicts its window from this).
    rotation: {
      strategy: config.rotation.strategy,
      taggedGenerations: tagged === undefined ? [] : [tagged.currentGeneration, ...(taggedPrevious === undefined ? [] : [taggedPrevious])],
    },
    executorRevision: executor.latestReadyRevision,
    executorServiceAccount: executor.serviceAccount.email,
    controlUrl: control.uri,
    controlRevision: control.latestReadyRevision,
    controlServiceAccount: control.serviceAccount.email,
    credentials: {
      authToken: credentialOutputs(authToken, "authToken"),
      sparkApiKey: credentialOutputs(sparkApiKey, "sparkApiKey"),
      mnemonic: credentialOutputs(mnemonic, "mnemonic"),
    },
    // What this stack has verified; prod reads staging's before rotating the mnemonic.
    verifiedGenerations: verification.generations,
    verifiedAt: verification.verifiedAt,
    // The wallet identity now live, and what the old mnemonic showed at cutover (for reconciliation).
    walletIdentity: verification.identityPubkey,
    reconciliationHandoff: verification.mnemonicCutover,
  };
}

/**
 * The stack file the CLI read, when it is on disk: a key written twice (bare and namespaced) is
 * merged by the CLI, one of them winning at random, so only the file shows it. Nothing else here:
 * the config itself is checked as the engine passed it.
 */
function checkStackFileOnDisk(stack: string): void {
  const file = path.join(process.cwd(), `Pulumi.${stack}.yaml`);
  if (fs.existsSync(file) && fs.statSync(file).isFile()) readStackFile(fs.readFileSync(file, "utf8"), PROJECT, path.basename(file));
}

/** The token's value: always generated by the stack, so always present. */
function requireValue(value: pulumi.Output<string> | undefined): pulumi.Output<string> {
  if (value === undefined) throw new Error("the auth token's current generation has no value");
  return value;
}
