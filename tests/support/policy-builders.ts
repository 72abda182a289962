/**
 * Hand-built resources for the policy tests (tests/policy/pack.test.ts and the per-policy suites):
 * the type tokens, Cloud Run services with their env, secrets, versions, accounts, and a small
 * rotation stack, as the analyzer would present them.
 */
import { POLICY_PACK_NAME } from "../../policy/policies";
import { AnalyzerResourceView, Violation, resourceView } from "../../harness/policy-harness";
import { UNKNOWN } from "../../harness/recording-monitor";

export const PACK_VERSION = (require("../../policy/package.json") as { version: string }).version;

export const T = {
  secret: "gcp:secretmanager/secret:Secret",
  secretVersion: "gcp:secretmanager/secretVersion:SecretVersion",
  regionalSecretVersion: "gcp:secretmanager/regionalSecretVersion:RegionalSecretVersion",
  secretIamMember: "gcp:secretmanager/secretIamMember:SecretIamMember",
  secretIamBinding: "gcp:secretmanager/secretIamBinding:SecretIamBinding",
  secretIamPolicy: "gcp:secretmanager/secretIamPolicy:SecretIamPolicy",
  cloudRunService: "gcp:cloudrunv2/service:Service",
  cloudRunJob: "gcp:cloudrunv2/job:Job",
  cloudRunV1Service: "gcp:cloudrun/service:Service",
  serviceIamMember: "gcp:cloudrunv2/serviceIamMember:ServiceIamMember",
  serviceIamBinding: "gcp:cloudrunv2/serviceIamBinding:ServiceIamBinding",
  serviceIamPolicy: "gcp:cloudrunv2/serviceIamPolicy:ServiceIamPolicy",
  v1IamMember: "gcp:cloudrun/iamMember:IamMember",
  account: "gcp:serviceaccount/account:Account",
  projectIamMember: "gcp:projects/iAMMember:IAMMember",
  projectIamBinding: "gcp:projects/iAMBinding:IAMBinding",
  projectIamPolicy: "gcp:projects/iAMPolicy:IAMPolicy",
  folderIamMember: "gcp:folder/iAMMember:IAMMember",
  organizationIamMember: "gcp:organizations/iAMMember:IAMMember",
  verification: "pulumi-nodejs:dynamic/rotation:Verification",
  publishedRevocation: "pulumi-nodejs:dynamic/rotation:PublishedVersionRevocation",
  randomPassword: "random:index/randomPassword:RandomPassword",
  randomString: "random:index/randomString:RandomString",
  randomBytes: "random:index/randomBytes:RandomBytes",
  randomId: "random:index/randomId:RandomId",
  randomUuid: "random:index/randomUuid:RandomUuid",
  randomUuid4: "random:index/randomUuid4:RandomUuid4",
  randomUuid7: "random:index/randomUuid7:RandomUuid7",
  randomInteger: "random:index/randomInteger:RandomInteger",
  randomPet: "random:index/randomPet:RandomPet",
  regionalSecret: "gcp:secretmanager/regionalSecret:RegionalSecret",
  cloudRunWorkerPool: "gcp:cloudrunv2/workerPool:WorkerPool",
  cloudFunction: "gcp:cloudfunctions/function:Function",
  cloudFunctionV2: "gcp:cloudfunctionsv2/function:Function",
} as const;

/** The note the pack adds when a check met a value unknown during preview. */
export const skipNote = (policy: string, checks: string[]): string =>
  `can't run policy '${policy}' from policy pack '${POLICY_PACK_NAME}@v${PACK_VERSION}' during preview: ` +
  `${checks.length === 1 ? "1 check" : `${checks.length} checks`} skipped because a value is unknown until apply ` +
  `(no violation assumed; the check runs again when the value is known): ${checks.join("; ")}`;

/** Violations as `level: message`. */
export const messages = (violations: readonly Violation[]): string[] => violations.map((v) => `${v.enforcementLevel}: ${v.message}`);

export type Env = Record<string, unknown>;
export const secretEnv = (name: string, secret: unknown, version?: unknown): Env => ({
  name,
  valueSource: { secretKeyRef: { secret, ...(version === undefined ? {} : { version }) } },
});
export const plainEnv = (name: string, value: unknown): Env => ({ name, value });

export const U = (type: string, name: string): string => `urn:pulumi:s::wallet-executor::${type}::${name}`;

/** A Cloud Run v2 service with one container and these env entries. */
export function cloudRun(
  name: string,
  envs: Env[] | typeof UNKNOWN,
  extra: {
    urn?: string;
    serviceAccount?: unknown;
    volumes?: unknown;
    dependencies?: string[];
    propertyDependencies?: Record<string, string[]>;
    props?: Record<string, unknown>;
  } = {},
): AnalyzerResourceView {
  return resourceView({
    type: T.cloudRunService,
    name,
    urn: extra.urn ?? U(T.cloudRunService, name),
    props: {
      name,
      location: "us-central1",
      project: "p",
      template: { serviceAccount: extra.serviceAccount, containers: [{ image: "i@sha256:00", envs }], volumes: extra.volumes },
      ...extra.props,
    },
    dependencies: extra.dependencies,
    propertyDependencies: extra.propertyDependencies,
  });
}

export function secretNode(id: string, credential: string, extra: Record<string, unknown> = {}): AnalyzerResourceView {
  return resourceView({
    type: T.secret,
    name: `${credential}-secret`,
    urn: U(T.secret, `${credential}-secret`),
    props: { secretId: id, project: "p", labels: { credential }, ...extra },
  });
}

export function versionNode(
  secret: AnalyzerResourceView,
  name: string,
  props: Record<string, unknown>,
  dependencies: string[] = [],
): AnalyzerResourceView {
  return resourceView({
    type: T.secretVersion,
    name,
    urn: U(T.secretVersion, name),
    props: { secret: `projects/p/secrets/${String(secret.props.secretId)}`, deletionPolicy: "DISABLE", enabled: true, ...props },
    dependencies: [secret.urn, ...dependencies],
    propertyDependencies: { secret: [secret.urn] },
  });
}

export function accountNode(name: string, accountId: string, props: Record<string, unknown> = {}): AnalyzerResourceView {
  return resourceView({
    type: T.account,
    name,
    urn: U(T.account, name),
    props: { accountId, project: "p", email: `${accountId}@p.iam.gserviceaccount.com`, ...props },
  });
}

export interface RotationOptions {
  readonly verificationDeps?: string[];
  readonly generations?: Record<string, unknown>;
  readonly revoking?: unknown;
  readonly revokedDeps?: string[];
  readonly executorTokenVersion?: unknown;
  readonly executorTokenSecret?: unknown;
  readonly controlTokenVersion?: unknown;
  readonly controlTokenSecret?: unknown;
  readonly controlEnvName?: string;
  readonly g3Enabled?: unknown;
  /** Leave out the per-secret access grants of both accounts. */
  readonly withoutGrants?: boolean;
}

/** Token generation 4 current, 3 revoked after verification; both services pinned to version 14. */
export function rotationStack(options: RotationOptions = {}): AnalyzerResourceView[] {
  const token = secretNode("tok", "auth-token");
  const g4 = versionNode(token, "auth-token-g4", { version: "14" });
  const executorSa = accountNode("executor-sa", "exec");
  const controlSa = accountNode("control-sa", "ctl");
  const executor = cloudRun(
    "executor-service",
    [
      plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_MODE", "spark"),
      secretEnv(
        "OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN",
        options.executorTokenSecret ?? "projects/p/secrets/tok",
        options.executorTokenVersion ?? "14",
      ),
    ],
    {
      serviceAccount: "exec@p.iam.gserviceaccount.com",
      dependencies: [g4.urn, executorSa.urn],
      propertyDependencies: { template: [token.urn, g4.urn, executorSa.urn] },
    },
  );
  const control = cloudRun(
    "control-service",
    [
      secretEnv(
        options.controlEnvName ?? "OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN",
        options.controlTokenSecret ?? "projects/p/secrets/tok",
        options.controlTokenVersion ?? "14",
      ),
    ],
    {
      serviceAccount: "ctl@p.iam.gserviceaccount.com",
      dependencies: [executor.urn, g4.urn, controlSa.urn],
      propertyDependencies: { template: [token.urn, g4.urn, controlSa.urn] },
    },
  );
  const verification = resourceView({
    type: T.verification,
    name: "verification",
    urn: U(T.verification, "verification"),
    props: { generations: options.generations ?? { authToken: 4 }, revoking: options.revoking ?? ["auth-token-g3"] },
    dependencies: options.verificationDeps ?? [control.urn, executor.urn],
  });
  const g3 = versionNode(
    token,
    "auth-token-g3",
    { version: "13", enabled: options.g3Enabled ?? false },
    options.revokedDeps ?? [verification.urn],
  );
  const grant = (name: string, sa: AnalyzerResourceView): AnalyzerResourceView =>
    resourceView({
      type: T.secretIamMember,
      name,
      urn: U(T.secretIamMember, name),
      props: {
        secretId: "projects/p/secrets/tok",
        role: "roles/secretmanager.secretAccessor",
        member: `serviceAccount:${String(sa.props.email)}`,
      },
      propertyDependencies: { secretId: [token.urn], member: [sa.urn] },
    });
  const stack = [token, g4, g3, executorSa, controlSa, executor, control, verification];
  if (options.withoutGrants) return stack;
  return [...stack, grant("executor-token-access", executorSa), grant("control-token-access", controlSa)];
}

/** A per-secret accessor grant to an account (both by dependency and by name). */
export function grantNode(name: string, secret: AnalyzerResourceView, account: AnalyzerResourceView, props: Record<string, unknown> = {}) {
  return resourceView({
    type: T.secretIamMember,
    name,
    urn: U(T.secretIamMember, name),
    props: {
      secretId: `projects/p/secrets/${String(secret.props.secretId)}`,
      role: "roles/secretmanager.secretAccessor",
      member: `serviceAccount:${String(account.props.email)}`,
      ...props,
    },
    propertyDependencies: { secretId: [secret.urn], member: [account.urn] },
  });
}

/** A verification resource with these props and dependencies. */
export function verificationResource(props: Record<string, unknown>, dependencies: string[] = [], name = "verification") {
  return resourceView({ type: T.verification, name, urn: U(T.verification, name), props, dependencies });
}

/** The revocation policy's refusal when preview cannot prove a revocation safe, as it words it. */
export const unprovable = (subject: string, reasons: string[]): string =>
  `mandatory: ${subject}, and it cannot be proven safe during preview: ${reasons.join("; ")}. A revocation that preview cannot check ` +
  "must not pass. To fix: build every reader's secret reference from the version resource's own output (secretKeyRef.version: " +
  "version.version), and the verification's generations and revoking list from plain config, so that the graph shows what each " +
  "reader pins and what is verified before the revocation.";

/** The stack with the resource named `name` replaced by `by`. */
export const replaceResource = (stack: AnalyzerResourceView[], name: string, by: AnalyzerResourceView): AnalyzerResourceView[] =>
  stack.map((r) => (r.name === name ? by : r));
