/**
 * Wire: registers the runbook's five steps from a loaded config, synchronously, as one dependency graph.
 *
 *   1. stage new secret versions -> 2. executor rollout -> 3. control rollout -> 4. verification
 *   -> 5. revoke previous (and, `tagged`, remove the revoked generation's tag, then prove it refused)
 *
 * `seams` exist for tests only: each one breaks exactly one rule of the policy pack, so a fixture
 * program is this wiring with one seam turned (tests/fixtures/policy/, named after the rule).
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { ControlService } from "./components/control-service";
import { ExecutorService } from "./components/executor-service";
import { ExecutorTagRemoval } from "./components/executor-tag-removal";
import { RevocationCheck } from "./components/revocation-check";
import { GenerationValues, REVOCATION_GATE_LATER, RotatingSecret } from "./components/rotating-secret";
import { Verification } from "./components/verification";
import { CREDENTIALS, CredentialKey, PROJECT, StackConfig } from "./config";
import { LoadedStack, ProvidedCredential } from "./load";
import { drainMs, generationTag, rolledBackGeneration } from "./tagged-routing";

/** Destroyed versions stay recoverable this long (the mnemonic's must outlast reconciliation). */
export const DESTROY_TTL_DAYS = 30;

/** Each credential's resource names: the secret `<name>-secret`, its versions `<name>-g<N>`. */
export const CREDENTIAL_NAMES: Readonly<Record<CredentialKey, string>> = {
  authToken: "auth-token",
  sparkApiKey: "spark-api-key",
  mnemonic: "mnemonic",
};

/**
 * Ways to break the wiring on purpose, one rule at a time (tests only; the program never sets one).
 * Each names what it changes; the fixture that turns it is named after the rule it breaks.
 */
export interface WiringSeams {
  /** What the previous versions' revocation waits for (default the verification). */
  readonly revokeAfter?: "verification" | "control-rollout";
  /** A token version number written by hand on the executor, instead of the current version's output. */
  readonly executorTokenVersion?: string;
  /** The same, on the control service. */
  readonly controlTokenVersion?: string;
  /** The executor's Spark key version written by hand (e.g. "latest"). */
  readonly sparkApiKeyVersion?: string;
  /** What the control rollout waits for (default the executor rollout, and its URL from the executor). */
  readonly controlAfter?: "executor-rollout" | "secrets-only";
  /** What the verification waits for (default the control rollout). */
  readonly verifyAfter?: "control-rollout" | "executor-rollout";
  /** The token generation the verification expects (default the current one, the one both services pin). */
  readonly verifiedTokenGeneration?: number;
  /** Registers extra resources once every step exists. */
  readonly extra?: (steps: WiredSteps) => void;
}

/** The registered steps (what `extra` and the outputs read). */
export interface WiredSteps {
  readonly config: StackConfig;
  readonly secrets: Readonly<Record<CredentialKey, RotatingSecret>>;
  readonly executor: ExecutorService;
  readonly control: ControlService;
  readonly verification: Verification;
}

/** `tagged`: the generations that have a named, tagged executor revision. */
interface TaggedGenerations {
  readonly currentGeneration: number;
  readonly previousGeneration?: number;
  /** A rollback before revocation: the generation rolled back from, whose revision keeps its tag until the control is back. */
  readonly rolledBackFrom?: number;
}

/** The stack's outputs: URLs, revisions, accounts, generations; never a secret value. */
export type StackOutputs = ReturnType<typeof stackOutputs>;

/** Registers the whole stack from a loaded config and returns its outputs. */
export function wireStack(loaded: LoadedStack, seams: WiringSeams = {}): StackOutputs {
  const { config } = loaded;
  const deployerToken = deployerAccessToken();
  const secrets = stageSecrets(loaded, deployerToken);
  const tagged = taggedGenerations(config, loaded.lastAppliedTokenGeneration);
  const executor = rollOutExecutor(config, secrets, tagged, seams);
  const control = rollOutControl(config, secrets, executor, seams);
  const verification = verify(loaded, secrets, executor, control, tagged, seams);
  revokePrevious(secrets, seams.revokeAfter === "control-rollout" ? control.service : verification);
  removePreviousTag(loaded, secrets.authToken, executor, control, verification, tagged, deployerToken);
  removeRolledBackTag(loaded, executor, control, verification, tagged, deployerToken);
  const steps: WiredSteps = { config, secrets, executor, control, verification };
  seams.extra?.(steps);
  return stackOutputs(steps, tagged);
}

/**
 * The gcp provider's own access token: revoking a published version or removing a tag calls an
 * API with it. Only the apply uses it, and it is a new token on every run: in preview it stays
 * unknown, so the update plan the gated preview saves (`pulumi preview --save-plan`) does not pin
 * a token the apply's provider replaces (`pulumi up --plan` would stop with "violates plan").
 */
function deployerAccessToken(): () => pulumi.Output<string> {
  return () => {
    if (pulumi.runtime.isDryRun()) return pulumi.secret(pulumi.output(pulumi.unknown) as unknown as pulumi.Output<string>);
    return pulumi.secret(gcp.organizations.getClientConfigOutput().accessToken);
  };
}

/** 1. Stage: every configured generation is its own version; the previous stays enabled until step 5. */
function stageSecrets(loaded: LoadedStack, deployerToken: () => pulumi.Output<string>): Record<CredentialKey, RotatingSecret> {
  const { config } = loaded;
  const provided = (credential: ProvidedCredential): GenerationValues => ({
    kind: "provided",
    values: loaded.secrets.generationValues[credential],
    published: config[credential].published,
  });
  const stage = (credential: CredentialKey, values: GenerationValues, protect: boolean): RotatingSecret => {
    const name = CREDENTIAL_NAMES[credential];
    const generations = config[credential];
    return new RotatingSecret(name, {
      // Secret ids are scoped by the executor's service name: two deployments in one project never share one.
      secretId: `${config.executor.serviceName}-${name}`,
      project: config.gcpProject,
      region: config.region,
      labels: { app: PROJECT, environment: config.environment, credential: name },
      current: generations.current,
      previous: generations.previous,
      revokePrevious: generations.revokePrevious,
      compromised: generations.compromised,
      // Registered in step 5, once the verification exists.
      revocationGate: REVOCATION_GATE_LATER,
      values,
      destroyTtlDays: DESTROY_TTL_DAYS,
      protect,
      revocationAccessToken: revokesPublished(config, credential) ? deployerToken() : undefined,
      revocationApiBase: loaded.endpoints.secretManager,
    });
  };
  return {
    authToken: stage("authToken", { kind: "random-token" }, false),
    sparkApiKey: stage("sparkApiKey", provided("sparkApiKey"), false),
    // The mnemonic is the wallet's identity: its secret is protected from deletion by the engine.
    mnemonic: stage("mnemonic", provided("mnemonic"), true),
  };
}

/** True when the previous generation to revoke was published out of band (not stack-owned). */
function revokesPublished(config: StackConfig, credential: CredentialKey): boolean {
  if (credential === "authToken") return false;
  const generations = config[credential];
  return generations.revokePrevious && generations.previous !== undefined && generations.published[generations.previous] !== undefined;
}

/**
 * `tagged` (docs/design/zero-downtime.md): each token generation's executor revision has a name
 * and a tag; the previous generation keeps its tag until its token is revoked. A previous
 * generation older than `taggedSince` was deployed in place: it has no named revision to tag.
 */
function taggedGenerations(config: StackConfig, lastAppliedTokenGeneration: number | undefined): TaggedGenerations | undefined {
  if (config.rotation.strategy !== "tagged") return undefined;
  const { current, previous } = config.authToken;
  // A rollback before revocation (`current` back below what the stack last applied): the revision of
  // the generation rolled back from keeps its tag until the control has moved back, then loses it.
  const rolledBackFrom = rolledBackGeneration(current, lastAppliedTokenGeneration, config.rotation.taggedSince);
  return {
    currentGeneration: current,
    previousGeneration: previous !== undefined && previous >= config.rotation.taggedSince ? previous : undefined,
    ...(rolledBackFrom === undefined ? {} : { rolledBackFrom }),
  };
}

/** 2. Executor rollout, pinned to the current versions (its grants come first, inside the component). */
function rollOutExecutor(
  config: StackConfig,
  secrets: Record<CredentialKey, RotatingSecret>,
  tagged: TaggedGenerations | undefined,
  seams: WiringSeams,
): ExecutorService {
  const { authToken, sparkApiKey, mnemonic } = secrets;
  const executor = config.executor;
  return new ExecutorService("executor", {
    project: config.gcpProject,
    location: config.region,
    serviceName: executor.serviceName,
    serviceAccountId: executor.serviceAccountId,
    image: executor.image,
    mode: executor.mode,
    walletId: executor.walletId,
    sparkNetwork: executor.sparkNetwork,
    allowedHosts: executor.allowedHosts,
    requestCapMsats: executor.requestCapMsats,
    windowCapMsats: executor.windowCapMsats,
    windowMs: executor.windowMs,
    paymentTimeoutSecs: executor.paymentTimeoutSecs,
    minInstances: executor.minInstances,
    maxInstances: executor.maxInstances,
    ingress: executor.ingress,
    publicInvoker: executor.publicInvoker,
    authToken: {
      secretResourceId: authToken.secretResourceId,
      versionNumber: seams.executorTokenVersion ?? authToken.current.versionNumber,
    },
    authTokenGeneration: config.authToken.current,
    sparkApiKey: {
      secretResourceId: sparkApiKey.secretResourceId,
      versionNumber: seams.sparkApiKeyVersion ?? sparkApiKey.current.versionNumber,
    },
    mnemonic: {
      secretResourceId: mnemonic.secretResourceId,
      versionNumber: mnemonic.current.versionNumber,
      versionName: mnemonic.current.versionName,
    },
    tagged,
  });
}

/** 3. Control rollout: the same token version as the executor, after the executor. */
function rollOutControl(
  config: StackConfig,
  secrets: Record<CredentialKey, RotatingSecret>,
  executor: ExecutorService,
  seams: WiringSeams,
): ControlService {
  const { authToken } = secrets;
  const control = config.control;
  const afterExecutor = seams.controlAfter !== "secrets-only";
  return new ControlService("control", {
    project: config.gcpProject,
    location: config.region,
    serviceName: control.serviceName,
    serviceAccountId: control.serviceAccountId,
    image: control.image,
    port: control.port,
    minInstances: control.minInstances,
    maxInstances: control.maxInstances,
    ingress: control.ingress,
    publicInvoker: control.publicInvoker,
    envNames: control.envNames,
    // `tagged`: the current generation's tag URL, as the executor service reports it.
    executorUrl: afterExecutor ? executor.currentUri : `https://${config.executor.serviceName}-unwired.a.run.app`,
    executorTimeoutMs: control.timeoutMs,
    authToken: {
      secretResourceId: authToken.secretResourceId,
      versionNumber: seams.controlTokenVersion ?? authToken.current.versionNumber,
    },
    executorService: afterExecutor ? executor.service : authToken.secret,
  });
}

/** 4. Verification: the runbook's checklist against the running executor, after the control rollout. */
function verify(
  loaded: LoadedStack,
  secrets: Record<CredentialKey, RotatingSecret>,
  executor: ExecutorService,
  control: ControlService,
  tagged: TaggedGenerations | undefined,
  seams: WiringSeams,
): Verification {
  const { config } = loaded;
  const payment = config.verification.payment;
  const invoice = loaded.secrets.paymentInvoice;
  const tokenGeneration = seams.verifiedTokenGeneration ?? config.authToken.current;
  const afterControl = seams.verifyAfter !== "executor-rollout";
  return new Verification(
    "verification",
    {
      baseUrl: executor.uri,
      expectTokenVersion: tokenGeneration,
      generations: { authToken: tokenGeneration, sparkApiKey: config.sparkApiKey.current, mnemonic: config.mnemonic.current },
      executorRevision: executor.latestReadyRevision,
      controlRevision: afterControl ? control.latestReadyRevision : `${config.control.serviceName}-unverified`,
      // The version resources this verification releases for revocation (named `<credential>-g<previous>`).
      revoking: CREDENTIALS.filter((credential) => config[credential].revokePrevious).map(
        (credential) => `${CREDENTIAL_NAMES[credential]}-g${config[credential].previous}`,
      ),
      expectMode: config.executor.mode,
      deadlineMs: config.verification.deadlineMs,
      token: requireValue(secrets.authToken.current.value, "current"),
      previousToken: secrets.authToken.previousValue,
      expectIdentity: config.mnemonic.expectIdentity,
      tags:
        tagged === undefined
          ? undefined
          : {
              uris: executor.tagUris,
              current: generationTag(tagged.currentGeneration),
              ...(tagged.previousGeneration === undefined ? {} : { previous: generationTag(tagged.previousGeneration) }),
            },
      payment:
        payment === undefined || invoice === undefined
          ? undefined
          : { invoice, host: payment.host, maxAmountMsats: payment.maxAmountMsats },
    },
    // On the control service itself (not its component): the graph the engine and the policy pack see.
    { dependsOn: [afterControl ? control.service : executor.service] },
  );
}

/** 5. Revoke: each previous version with revokePrevious (or compromised) is registered after the gate. */
function revokePrevious(secrets: Record<CredentialKey, RotatingSecret>, gate: pulumi.Resource): void {
  for (const credential of CREDENTIALS) secrets[credential].revokePreviousAfter(gate);
}

/**
 * `tagged`: revoked means refused everywhere. The revoked generation's revision still holds its
 * token, so its tag goes too, once the control's calls can no longer use it (the control's request
 * timeout + Cloud Run's shutdown grace after its rollout), as a step of its own; then a check that
 * the revoked token gets 401 at every URL the executor has left.
 */
function removePreviousTag(
  loaded: LoadedStack,
  authToken: RotatingSecret,
  executor: ExecutorService,
  control: ControlService,
  verification: Verification,
  tagged: TaggedGenerations | undefined,
  deployerToken: () => pulumi.Output<string>,
): void {
  const { config } = loaded;
  const previous = tagged?.previousGeneration;
  if (previous === undefined || !config.authToken.revokePrevious) return;
  const tagRemoval = executorTagRemoval("executor-previous-tag-removal", previous, loaded, executor, control, verification, deployerToken);
  new RevocationCheck(
    "executor-previous-token-refused",
    {
      urls: pulumi.all([tagRemoval.mainUri, tagRemoval.remainingUris]).apply(([main, tags]) => [main, ...tags]),
      removedUri: tagRemoval.removedUri,
      generation: previous,
      deadlineMs: config.verification.deadlineMs,
      token: requireValue(authToken.previousValue, "previous"),
    },
    { dependsOn: [tagRemoval] },
  );
}

/**
 * A rollback: the generation rolled back from loses its tag once the control's calls can no longer
 * use it (as a revoked generation's does). Its token is not revoked: its version is dropped
 * (disabled) at the end of the update, and no caller of this stack holds it any more.
 */
function removeRolledBackTag(
  loaded: LoadedStack,
  executor: ExecutorService,
  control: ControlService,
  verification: Verification,
  tagged: TaggedGenerations | undefined,
  deployerToken: () => pulumi.Output<string>,
): void {
  const rolledBackFrom = tagged?.rolledBackFrom;
  if (rolledBackFrom === undefined) return;
  executorTagRemoval("executor-rolled-back-tag-removal", rolledBackFrom, loaded, executor, control, verification, deployerToken);
}

/**
 * The removal of one generation's tag from the executor, after the verification and the control's
 * rollout; the drain (the control's timeout + Cloud Run's grace) runs from the end of that rollout.
 */
function executorTagRemoval(
  name: string,
  generation: number,
  loaded: LoadedStack,
  executor: ExecutorService,
  control: ControlService,
  verification: Verification,
  deployerToken: () => pulumi.Output<string>,
): ExecutorTagRemoval {
  const { config } = loaded;
  const serviceName = (service: pulumi.Output<string>): pulumi.Output<string> =>
    pulumi.interpolate`projects/${config.gcpProject}/locations/${config.region}/services/${service}`;
  return new ExecutorTagRemoval(
    name,
    {
      service: serviceName(executor.service.name),
      tag: generationTag(generation),
      drainMs: drainMs(config.control.timeoutMs, config.rotation.shutdownGraceMs),
      controlService: serviceName(control.service.name),
      accessToken: deployerToken(),
      apiBase: loaded.endpoints.cloudRun,
    },
    { dependsOn: [verification, control.service] },
  );
}

/** The token's value: always generated by the stack, so always present. */
function requireValue(value: pulumi.Output<string> | undefined, which: "current" | "previous"): pulumi.Output<string> {
  if (value === undefined) throw new Error(`the auth token's ${which} generation has no value`);
  return value;
}

function credentialOutputs(config: StackConfig, secret: RotatingSecret, credential: CredentialKey) {
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

function stackOutputs(steps: WiredSteps, tagged: TaggedGenerations | undefined) {
  const { config, secrets, executor, control, verification } = steps;
  return {
    environment: config.environment,
    executorUrl: executor.uri,
    // What the control calls (`tagged`: the current generation's tag URL) and every tag URL.
    executorCurrentUrl: executor.currentUri,
    executorTagUrls: executor.tagUris,
    // How a token rotation reaches the control (the plan predicts its window from this).
    rotation: {
      strategy: config.rotation.strategy,
      taggedGenerations:
        tagged === undefined
          ? []
          : [tagged.currentGeneration, ...(tagged.previousGeneration === undefined ? [] : [tagged.previousGeneration])],
    },
    executorRevision: executor.latestReadyRevision,
    executorServiceAccount: executor.serviceAccount.email,
    controlUrl: control.uri,
    controlRevision: control.latestReadyRevision,
    controlServiceAccount: control.serviceAccount.email,
    credentials: {
      authToken: credentialOutputs(config, secrets.authToken, "authToken"),
      sparkApiKey: credentialOutputs(config, secrets.sparkApiKey, "sparkApiKey"),
      mnemonic: credentialOutputs(config, secrets.mnemonic, "mnemonic"),
    },
    // What this stack has verified; prod reads staging's before rotating the mnemonic.
    verifiedGenerations: verification.generations,
    verifiedAt: verification.verifiedAt,
    // The wallet identity now live, and what the old mnemonic showed at cutover (for reconciliation).
    walletIdentity: verification.identityPubkey,
    reconciliationHandoff: verification.mnemonicCutover,
  };
}
