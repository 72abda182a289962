/**
 * How workloads (Cloud Run, Cloud Functions) read credentials: only from Secret Manager, and always
 * at a pinned version number. Resource policies: each sees one workload's inputs, before it is created or
 * updated (CrossGuard's `Analyze`), during preview and again during the update.
 */
import { ResourceValidationArgs, ResourceValidationPolicy, ReportViolation } from "@pulumi/policy";
import { PreviewGaps, Unknown, VERSION_NUMBER, VERSION_PATH, isUnknown, plainProps } from "./graph";
import { DEFAULT_CONTROL_TOKEN_ENV_NAMES, ENV, EnvVar, Workload, envNamed, readWorkload } from "./workloads";

/** Why a version text does not pin anything; undefined when it is a version number. */
function unpinned(version: string | undefined): string | undefined {
  if (version === undefined || version === "") return "no version (Cloud Run then reads the latest version)";
  if (VERSION_NUMBER.test(version)) return undefined;
  if (/^latest$/i.test(version)) return `"${version}"`;
  return `the alias "${version}" (an alias moves without a deploy)`;
}

function secretLabel(secret: string | Unknown | undefined): string {
  return typeof secret === "string" ? secret : "a secret";
}

export const secretReferencesPinned: ResourceValidationPolicy = {
  name: "secret-references-pinned",
  description:
    "Protects rollouts from secret values that change under them: every Secret Manager reference of a workload (Cloud Run " +
    "service, job or worker pool, Cloud Function: env secretKeyRef or secretEnvironmentVariables, secret volume item or " +
    "version, and the executor's OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION path) must pin a version NUMBER. `latest`, an alias, or a missing version (which Cloud Run v2 reads as latest) lets a " +
    "new secret version reach every new instance without a deploy, before verification. To fix: pin the number from the " +
    "SecretVersion resource's `version` output (or its `name` for the mnemonic path).",
  enforcementLevel: "mandatory",
  validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
    const workload = readWorkload(args.type, plainProps(args.props));
    if (!workload) return;
    const gaps = new PreviewGaps();
    for (const part of workload.unknownParts) gaps.skip(`${args.name}: ${part} (its secret references cannot be listed)`);
    for (const env of workload.envs) {
      if (env.secretKeyRef) {
        const { secret, version } = env.secretKeyRef;
        if (isUnknown(version)) {
          gaps.skip(`${args.name} ${env.where}: secretKeyRef version`);
        } else {
          const why = unpinned(version);
          if (why) reportViolation(`${args.name} ${env.where} reads ${secretLabel(secret)} at ${why}; pin a version number.`);
        }
      }
      if (env.name === ENV.mnemonicSecretVersion && env.literal) {
        if (isUnknown(env.value)) {
          gaps.skip(`${args.name} ${env.where}: the mnemonic's version path`);
        } else if (typeof env.value === "string") {
          // A value that is not a version path at all is credentials-from-secret-manager's finding.
          const path = VERSION_PATH.exec(env.value);
          const why = path ? unpinned(path[3]) : undefined;
          if (path && why) {
            reportViolation(
              `${args.name} ${env.where} names projects/${path[1]}/secrets/${path[2]} at ${why}; ` +
                `the executor would read whatever that resolves to at its next start: pin the version number.`,
            );
          }
        }
      }
    }
    for (const volume of workload.volumes) {
      if (isUnknown(volume.items)) {
        gaps.skip(`${args.name} ${volume.where}: items`);
      } else if (volume.items === undefined) {
        reportViolation(
          `${args.name} ${volume.where} mounts ${secretLabel(volume.secret)} without items, i.e. its latest version; list an item with a version number.`,
        );
      } else {
        for (const item of volume.items) {
          if (isUnknown(item.version)) {
            gaps.skip(`${args.name} ${item.where}: version`);
            continue;
          }
          const why = unpinned(item.version);
          if (why) reportViolation(`${args.name} ${item.where} mounts ${secretLabel(volume.secret)} at ${why}; pin a version number.`);
        }
      }
    }
    gaps.finish();
  },
};

export interface CredentialsConfig {
  /** Env var names under which a control service reads its outbound token. */
  readonly controlTokenEnvNames?: readonly string[];
}

/** Names from config when they are a list of names, else the defaults. */
export function controlTokenEnvNames(config: CredentialsConfig): readonly string[] {
  const names = config.controlTokenEnvNames;
  return Array.isArray(names) && names.length > 0 && names.every((name) => typeof name === "string")
    ? names
    : DEFAULT_CONTROL_TOKEN_ENV_NAMES;
}

export const CONTROL_TOKEN_ENV_NAMES_SCHEMA = {
  type: "array" as const,
  items: { type: "string" as const, pattern: "^[A-Za-z_][A-Za-z0-9_]*$" },
  minItems: 1,
  default: [...DEFAULT_CONTROL_TOKEN_ENV_NAMES],
  description: "Env var names under which a control service reads its outbound token (canonical and legacy by default).",
};

/** Env var names that say "a credential", under any prefix (`LEDGER_API_KEY`, `PAYOUT_TOKEN`, ...). */
const CREDENTIAL_NAME =
  /(TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL|MNEMONIC|SEED_?PHRASE|BEARER)/i;

/** Suffixes that say what the value is instead: a version, a location, a duration, a mode, a name... */
const NOT_A_CREDENTIAL =
  /_(VERSION|PROVIDER|URL|URI|HOST|HOSTS|PORT|MS|SECS|SECONDS|TIMEOUT|ID|NAME|PATH|FILE|MODE|NETWORK|ENABLED|DISABLED|TTL|TYPE|LENGTH|COUNT|HEADER)$/i;

/** Is this env var named like a credential (and not like something about one)? */
export function looksLikeCredential(name: string): boolean {
  return CREDENTIAL_NAME.test(name) && !NOT_A_CREDENTIAL.test(name);
}

/** A literal that could hold a secret: not empty, not a file path or a Secret Manager name. */
function holdsValue(value: string | undefined): boolean {
  return typeof value === "string" && value !== "" && !value.startsWith("/") && !value.startsWith("projects/");
}

/** Reports a credential env var that is not a secretKeyRef. Never shows the value: it may be the secret. */
function requireSecretRef(args: ResourceValidationArgs, env: EnvVar, what: string, reportViolation: ReportViolation): void {
  if (env.secretKeyRef && !env.literal) return;
  const how = env.literal
    ? "is a literal value"
    : "has neither a value nor a secretKeyRef (it is empty, which disables what it configures)";
  reportViolation(
    `${args.name} ${env.where} ${how}: ${what} must come from Secret Manager (valueSource.secretKeyRef with a version ` +
      `number), never a plain env value, which anyone who can read the service's configuration or revisions can read.`,
  );
}

export const credentialsFromSecretManager: ResourceValidationPolicy = {
  name: "credentials-from-secret-manager",
  description:
    "Protects the executor's credentials from sitting in plain configuration: on any workload (Cloud Run service, job or " +
    "worker pool, Cloud Function), " +
    "the executor's bearer token (OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN), the control service's outbound token (the names " +
    "in `controlTokenEnvNames`) and the Spark API key (OA_LIGHTNING_SPARK_API_KEY) must be secretKeyRefs, never literal values; " +
    "any other env var named like a credential (…TOKEN, …SECRET, …PASSWORD, …API_KEY, …CREDENTIAL, …PRIVATE_KEY, but not " +
    "…_VERSION, …_URL, …_ID and the like) must not be a plain value either; " +
    "the mnemonic must never be a literal (OA_LIGHTNING_WALLET_MNEMONIC), OA_LIGHTNING_WALLET_MNEMONIC_PROVIDER must be `gcp` " +
    "(and set, in spark mode), and OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION must be a Secret Manager version name. " +
    "To fix: store the value as a secret version and reference it with valueSource.secretKeyRef; for the mnemonic set the " +
    "provider to gcp and pass the version's full name.",
  enforcementLevel: "mandatory",
  configSchema: { properties: { controlTokenEnvNames: CONTROL_TOKEN_ENV_NAMES_SCHEMA } },
  validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
    const workload: Workload | undefined = readWorkload(args.type, plainProps(args.props));
    if (!workload) return;
    const gaps = new PreviewGaps();
    for (const part of workload.unknownParts) gaps.skip(`${args.name}: ${part} (its env vars cannot be listed)`);
    const tokenNames = new Set([ENV.token, ...controlTokenEnvNames(args.getConfig<CredentialsConfig>())]);
    for (const env of workload.envs) {
      if (isUnknown(env.name)) {
        gaps.skip(`${args.name} ${env.where}: its name`);
        continue;
      }
      if (tokenNames.has(env.name)) requireSecretRef(args, env, "the executor's bearer token", reportViolation);
      if (env.name === ENV.sparkApiKey) requireSecretRef(args, env, "the Spark API key", reportViolation);
      const known = tokenNames.has(env.name) || env.name === ENV.sparkApiKey || env.name === ENV.mnemonic;
      if (!known && looksLikeCredential(env.name) && env.literal && (isUnknown(env.value) || holdsValue(env.value))) {
        reportViolation(
          `${args.name} ${env.where} is named like a credential but is a plain value (not shown here): a credential must come ` +
            `from Secret Manager, never a plain env value, which anyone who can read the workload's configuration can read. To fix: ` +
            `store it as a secret version and reference it (valueSource.secretKeyRef, or secretEnvironmentVariables for a Cloud ` +
            `Function) at its version number; if it holds no secret, name it for what it is (..._ID, ..._URL, ..._PATH).`,
        );
      }
      if (env.name === ENV.mnemonic && env.literal) {
        reportViolation(
          `${args.name} ${env.where} holds the wallet mnemonic as a literal value: the wallet's identity would sit in the ` +
            `service's configuration. Set ${ENV.mnemonicProvider}=gcp and ${ENV.mnemonicSecretVersion} to the mnemonic's version name.`,
        );
      }
      if (env.name === ENV.mnemonicSecretVersion && env.literal) {
        if (isUnknown(env.value)) gaps.skip(`${args.name} ${env.where}: its value`);
        else if (typeof env.value === "string" && !VERSION_PATH.test(env.value)) {
          reportViolation(
            `${args.name} ${env.where} is not a Secret Manager version name (projects/<project>/secrets/<secret>/versions/<number>): ` +
              `with provider gcp it must name the mnemonic's version, never hold the mnemonic itself.`,
          );
        }
      }
    }
    const provider = envNamed(workload, ENV.mnemonicProvider);
    if (provider) {
      if (!provider.literal) {
        reportViolation(
          `${args.name} ${provider.where} must be the literal value gcp, so the mnemonic is read from Secret Manager at run time.`,
        );
      } else if (isUnknown(provider.value)) {
        gaps.skip(`${args.name} ${provider.where}: its value`);
      } else if (provider.value !== "gcp") {
        reportViolation(
          `${args.name} ${provider.where} is ${JSON.stringify(provider.value ?? "")}, not gcp: the executor would read the mnemonic ` +
            `from a plain env var. Set it to gcp and ${ENV.mnemonicSecretVersion} to the mnemonic's version name.`,
        );
      }
    } else {
      const mode = envNamed(workload, ENV.mode);
      if (mode?.literal && isUnknown(mode.value)) gaps.skip(`${args.name} ${mode.where}: its value`);
      else if (mode?.literal && mode.value === "spark") {
        reportViolation(
          `${args.name} runs the executor in spark mode without ${ENV.mnemonicProvider}: the executor then defaults to env, ` +
            `reading the mnemonic from a plain env var. Set ${ENV.mnemonicProvider}=gcp and ${ENV.mnemonicSecretVersion}.`,
        );
      }
    }
    gaps.finish();
  },
};
