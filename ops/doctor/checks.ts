/**
 * What a real run (`deploy`, `drill`, `verify --stack`, `pulumi up`) needs on this machine, each
 * checked without the network and without reading a secret value, and each with the fix when it is
 * missing: Node, the Pulumi CLI 3.248.x on PATH, a backend login, the policy pack's packages, Google
 * credentials, and per stack its secrets provider and the secret values not set yet.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { currentBackend } from "../../pulumi-cli/backend";
import { installedPolicySdk } from "../deploy/gate";
import { type PulumiCli, findOnPath, findPulumiCli, requiredVersion } from "../../pulumi-cli/setup";
import { ConfigError } from "../../stack/config";
import { readStackFile, unsetSecretKeys } from "../../stack/stack-file";

export interface DoctorCheck {
  /** `node`, `pulumi-cli`, `pulumi-login`, `policy-pack`, `google-credentials`, `secrets-provider`, `secrets-set`. */
  readonly name: string;
  /** The stack a per-stack check is about; null for the machine's. */
  readonly stack: string | null;
  readonly ok: boolean;
  /** What was found (never a secret value). */
  readonly detail: string;
  /** How to fix it; null when ok. */
  readonly fix: string | null;
}

export interface DoctorContext {
  readonly env: NodeJS.ProcessEnv;
  readonly projectDir: string;
  readonly project: string;
  readonly nodeVersion: string;
  /** The Pulumi CLI finder (tests give their own; the real one runs `pulumi version`). */
  readonly findCli?: (env: NodeJS.ProcessEnv) => PulumiCli | undefined;
}

const check = (name: string, stack: string | null, ok: boolean, detail: string, fix: string): DoctorCheck => ({
  name,
  stack,
  ok,
  detail,
  fix: ok ? null : fix,
});

export function checkNode(version: string, projectDir: string): DoctorCheck {
  let range = ">=20";
  try {
    range =
      (JSON.parse(fs.readFileSync(path.join(projectDir, "package.json"), "utf8")) as { engines?: { node?: string } }).engines?.node ??
      range;
  } catch {
    // the default
  }
  const minimum = Number(/>=\s*(\d+)/.exec(range)?.[1] ?? 20);
  const major = Number(/^v?(\d+)/.exec(version)?.[1] ?? 0);
  return check("node", null, major >= minimum, `Node ${version} (package.json engines: ${range})`, `install Node ${minimum} or later`);
}

export function checkPulumiCli(env: NodeJS.ProcessEnv, find: (env: NodeJS.ProcessEnv) => PulumiCli | undefined): DoctorCheck {
  const required = requiredVersion();
  const cli = find(env);
  const fix = `npm run pulumi:setup (builds Pulumi ${required} with its Node.js language host from Go modules), or install Pulumi ${required}; then put its folder first on PATH`;
  if (cli === undefined) {
    const other = findOnPath("pulumi", env.PATH);
    return check(
      "pulumi-cli",
      null,
      false,
      other ? `${other} is not Pulumi ${required} with this project's language host` : "no Pulumi CLI found",
      fix,
    );
  }
  // deploy and drill run `pulumi` from PATH (the Automation API does): a CLI built here but not on PATH is not enough.
  const onPath = findOnPath("pulumi", env.PATH);
  if (onPath === undefined || path.dirname(fs.realpathSync(onPath)) !== fs.realpathSync(cli.binDir)) {
    return check(
      "pulumi-cli",
      null,
      false,
      `Pulumi ${cli.version} in ${cli.binDir}, but ${onPath === undefined ? "no pulumi" : onPath} on PATH`,
      `export PATH="${cli.binDir}${path.delimiter}$PATH"`,
    );
  }
  return check("pulumi-cli", null, true, `Pulumi ${cli.version} (${cli.pulumi})`, fix);
}

export function checkLogin(env: NodeJS.ProcessEnv, projectDir: string): DoctorCheck {
  const backend = currentBackend(env, projectDir);
  return check(
    "pulumi-login",
    null,
    backend !== undefined,
    backend ? `backend ${backend.url} (from ${backend.source}; not contacted)` : "not logged in to a Pulumi backend",
    "pulumi login (the Pulumi Cloud, or PULUMI_ACCESS_TOKEN in CI), or pulumi login gs://<bucket> for a self-managed backend",
  );
}

export function checkPolicyPack(projectDir: string): DoctorCheck {
  const version = installedPolicySdk(projectDir);
  return check(
    "policy-pack",
    null,
    version !== undefined,
    version ? `policy/ has @pulumi/policy ${version}` : "policy/node_modules has no @pulumi/policy: the pack cannot run",
    "npm ci --prefix policy",
  );
}

/** Where Google's libraries and the gcp provider find credentials, in their order; never read. */
export function checkGoogleCredentials(env: NodeJS.ProcessEnv): DoctorCheck {
  const fix =
    "gcloud auth application-default login (a workstation), or GOOGLE_APPLICATION_CREDENTIALS=<credentials file> (Workload Identity Federation in CI)";
  if (env.GOOGLE_CREDENTIALS) return check("google-credentials", null, true, "GOOGLE_CREDENTIALS is set", fix);
  if (env.GOOGLE_OAUTH_ACCESS_TOKEN) return check("google-credentials", null, true, "GOOGLE_OAUTH_ACCESS_TOKEN is set", fix);
  for (const variable of ["GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CLOUD_KEYFILE_JSON"]) {
    const file = env[variable];
    if (!file) continue;
    const exists = fs.existsSync(file) && fs.statSync(file).isFile();
    return check(
      "google-credentials",
      null,
      exists,
      exists ? `${variable} names ${file}` : `${variable} names ${file}, which is not a file`,
      fix,
    );
  }
  const gcloud = env.CLOUDSDK_CONFIG || path.join(env.HOME || os.homedir(), ".config", "gcloud");
  const adc = path.join(gcloud, "application_default_credentials.json");
  if (fs.existsSync(adc)) return check("google-credentials", null, true, `application default credentials in ${adc}`, fix);
  return check(
    "google-credentials",
    null,
    false,
    "no Google credentials (GOOGLE_APPLICATION_CREDENTIALS, GOOGLE_CREDENTIALS, application default credentials; on Google Cloud the metadata server is not checked offline)",
    fix,
  );
}

/** The stack's secrets provider as its file records it once `pulumi stack init` or `change-secrets-provider` ran. */
export function checkSecretsProvider(stack: string, stackFileText: string, env: NodeJS.ProcessEnv): DoctorCheck {
  let doc: Record<string, unknown> = {};
  try {
    doc = (parse(stackFileText) as Record<string, unknown> | null) ?? {};
  } catch {
    // reported by secrets-set
  }
  const fix =
    `pulumi stack init <org>/wallet-executor/${stack} --secrets-provider "gcpkms://projects/<project>/locations/global/keyRings/pulumi/cryptoKeys/stack-secrets"` +
    ` (an existing stack: pulumi stack change-secrets-provider --stack ${stack} "gcpkms://..."); see docs/runbooks/secrets-provider.md`;
  if (typeof doc.secretsprovider === "string") {
    // The provider URL names a key, not a secret: shown without its query (which may carry parameters).
    return check("secrets-provider", stack, true, `secrets provider ${doc.secretsprovider.split("?")[0]}`, fix);
  }
  if (typeof doc.encryptionsalt === "string") {
    const passphrase = Boolean(env.PULUMI_CONFIG_PASSPHRASE || env.PULUMI_CONFIG_PASSPHRASE_FILE);
    return check(
      "secrets-provider",
      stack,
      passphrase,
      passphrase
        ? "passphrase provider, passphrase given in the environment"
        : "passphrase provider, but no PULUMI_CONFIG_PASSPHRASE(_FILE)",
      `set PULUMI_CONFIG_PASSPHRASE_FILE, or switch to the KMS key: ${fix}`,
    );
  }
  return check(
    "secrets-provider",
    stack,
    false,
    `Pulumi.${stack}.yaml records no secrets provider (the stack is not initialised here)`,
    fix,
  );
}

export function checkSecretsSet(stack: string, stackFileText: string, project: string): DoctorCheck {
  const fix = (keys: readonly string[]): string =>
    keys.map((key) => `pulumi config set --secret ${key.split(":").pop()} --stack ${stack} < <file holding the value>`).join("; ");
  try {
    const unset = unsetSecretKeys(readStackFile(stackFileText, project, `Pulumi.${stack}.yaml`));
    return check(
      "secrets-set",
      stack,
      unset.length === 0,
      unset.length === 0 ? "every secret value the config needs is set" : `not set: ${unset.join(", ")}`,
      fix(unset),
    );
  } catch (error) {
    const message = error instanceof ConfigError ? error.message : String(error);
    return check(
      "secrets-set",
      stack,
      false,
      `Pulumi.${stack}.yaml cannot be read: ${message}`,
      `fix the stack file (npm run plan -- --stack ${stack} names each key)`,
    );
  }
}

/** Every check, the machine's first, then each stack's. */
export function runChecks(context: DoctorContext, stacks: readonly string[]): DoctorCheck[] {
  const checks = [
    checkNode(context.nodeVersion, context.projectDir),
    checkPulumiCli(context.env, context.findCli ?? ((env) => findPulumiCli(env))),
    checkLogin(context.env, context.projectDir),
    checkPolicyPack(context.projectDir),
    checkGoogleCredentials(context.env),
  ];
  for (const stack of stacks) {
    const text = fs.readFileSync(path.join(context.projectDir, `Pulumi.${stack}.yaml`), "utf8");
    checks.push(checkSecretsProvider(stack, text, context.env), checkSecretsSet(stack, text, context.project));
  }
  return checks;
}
