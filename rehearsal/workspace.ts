/**
 * A rehearsal's own copy of the project: the program, the policy pack and ONE stack file copied
 * into `<out>/project` (the repository's stack files are never written), a file backend and a
 * PULUMI_HOME of its own, a passphrase secrets provider and throwaway secret values. Every `pulumi`
 * command of the rehearsal runs here, as a real process.
 */
import { spawn, spawnSync, ChildProcess } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument, visit } from "yaml";
import { PROJECT, parseStackConfig, requiredSecretKeys } from "../stack/config";
import { installPlugins } from "../providers/install";
import { precompileProject } from "./precompile";
import { installedPolicySdk } from "../ops/deploy/gate";
import { PulumiCli, cliEnv } from "../pulumi-cli/setup";

export const ROOT = path.resolve(__dirname, "..");

/**
 * The policy pack is a package of its own (the Pulumi CLI loads it from policy/ with its own
 * node_modules), which a fresh clone's `npm ci` does not install. A rehearsal installs it from its
 * lockfile when it is missing, saying so, so that `npm ci && npm run rehearse` works on a fresh clone.
 * Returns false when the install failed (its output was shown).
 */
export function ensurePolicyPackInstalled(source: string, say: (line: string) => void): boolean {
  if (installedPolicySdk(source) !== undefined) return true;
  say("the policy pack's dependencies are not installed: npm ci --prefix policy (once) ...");
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const result = spawnSync(npm, ["ci", "--no-audit", "--no-fund", "--prefix", path.join(source, "policy")], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  return result.status === 0;
}

/** Top-level entries never copied (node_modules folders are linked; stack files are copied one by one). */
const NOT_COPIED = new Set([".git", "node_modules", ".pulumi-cli", "reports", "coverage", "bin", "drills", "tests", "rehearsals"]);

export interface CommandResult {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunningCommand {
  readonly child: ChildProcess;
  readonly done: Promise<CommandResult>;
}

export interface Workspace {
  readonly dir: string;
  readonly project: string;
  readonly stack: string;
  readonly stackFile: string;
  /** The rehearsal's own pack config (the shipped one, plus `rehearsal: true` for the revocation endpoint). */
  readonly policyConfig: string;
  readonly env: NodeJS.ProcessEnv;
  /** Starts `pulumi <args>` in the project copy. */
  start(args: readonly string[], input?: string): RunningCommand;
  pulumi(args: readonly string[], input?: string): Promise<CommandResult>;
}

export interface WorkspaceOptions {
  readonly cli: PulumiCli;
  /** The rehearsal's folder (created if missing; must not hold a project already). */
  readonly out: string;
  /** The source stack (its file `Pulumi.<stack>.yaml` in the repository). */
  readonly stack: string;
  /** The local cloud the provider plugins drive. */
  readonly cloudEnv: Readonly<Record<string, string>>;
  readonly sourceDir?: string;
  /**
   * Compile the copy's program and policy pack to JavaScript once (rehearsal/precompile.ts), so that
   * no engine run compiles them again (default true). False runs the TypeScript as shipped.
   */
  readonly precompile?: boolean;
}

/** Copies the project and creates the stack; no secret value is set yet. */
export async function createWorkspace(options: WorkspaceOptions): Promise<Workspace> {
  const source = options.sourceDir ?? ROOT;
  const dir = path.resolve(options.out);
  const project = path.join(dir, "project");
  if (fs.existsSync(project)) throw new Error(`${project} exists: give --out a new or empty folder`);
  fs.mkdirSync(project, { recursive: true });
  for (const entry of fs.readdirSync(source)) {
    if (NOT_COPIED.has(entry) || entry.startsWith(".stryker-tmp") || /^Pulumi\..+\.yaml$/.test(entry)) continue;
    fs.cpSync(path.join(source, entry), path.join(project, entry), {
      recursive: true,
      filter: (file) => !file.includes(`${path.sep}node_modules`),
    });
  }
  fs.symlinkSync(path.join(source, "node_modules"), path.join(project, "node_modules"));
  fs.symlinkSync(path.join(source, "policy", "node_modules"), path.join(project, "policy", "node_modules"));
  const stackFile = path.join(project, `Pulumi.${options.stack}.yaml`);
  fs.copyFileSync(path.join(source, `Pulumi.${options.stack}.yaml`), stackFile);
  if (options.precompile !== false) precompileProject(project);

  const policyConfig = path.join(dir, "policy-config.rehearsal.json");
  const shipped = JSON.parse(fs.readFileSync(path.join(source, "policy", "policy-config.json"), "utf8")) as Record<string, unknown>;
  const endpointLevel = shipped["revocation-endpoint"];
  shipped["revocation-endpoint"] = {
    enforcementLevel: typeof endpointLevel === "string" ? endpointLevel : "mandatory",
    rehearsal: true,
  };
  fs.writeFileSync(policyConfig, `${JSON.stringify(shipped, null, 2)}\n`);

  const home = path.join(dir, "pulumi-home");
  installPlugins(home);
  fs.mkdirSync(path.join(dir, "state"), { recursive: true });
  // Nothing of the caller's Pulumi setup (a backend URL, an access token, a passphrase) leaks in.
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("PULUMI_") && !name.startsWith("LOCALCLOUD_")),
  );
  const env: NodeJS.ProcessEnv = {
    ...cliEnv(options.cli, base),
    ...options.cloudEnv,
    PULUMI_HOME: home,
    PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`,
    PULUMI_CONFIG_PASSPHRASE: crypto.randomBytes(16).toString("hex"),
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    // `--event-log` is one of the CLI's debug flags (cmd/pulumi/operations/preview.go), as for the Automation API.
    PULUMI_DEBUG_COMMANDS: "true",
    NODE_OPTIONS: engineNodeOptions(project, base.NODE_OPTIONS),
    NO_COLOR: "1",
  };

  const start = (args: readonly string[], input = ""): RunningCommand => {
    const child = spawn(options.cli.pulumi, [...args], { cwd: project, env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    child.stdin?.end(input);
    const done = new Promise<CommandResult>((resolve, reject) => {
      child.once("error", reject);
      child.once("close", (status, signal) => resolve({ status, signal, stdout, stderr }));
    });
    return { child, done };
  };
  const workspace: Workspace = {
    dir,
    project,
    stack: options.stack,
    stackFile,
    policyConfig,
    env,
    start,
    pulumi: (args, input) => start(args, input).done,
  };
  const init = await workspace.pulumi(["stack", "init", options.stack, "--secrets-provider", "passphrase", "--non-interactive"]);
  if (init.status !== 0) throw new Error(`pulumi stack init ${options.stack} failed: ${init.stderr.trim()}`);
  return workspace;
}

/**
 * NODE_OPTIONS for the engine's Node.js processes (the program, the policy pack, the dynamic
 * provider; the CLI passes its environment on): the caller's, plus the project's module resolution
 * as a preload, so the SDK's closure-serialization dependencies (TypeScript, npm's Arborist) load on
 * first use in each of them, as in every CLI of this project. The same code runs; each process
 * starts a few hundred milliseconds sooner.
 */
export function engineNodeOptions(project: string, inherited: string | undefined): string {
  const preload = `--require ${JSON.stringify(path.join(project, "tools", "module-resolution-preload.js"))}`;
  return inherited?.trim() ? `${inherited.trim()} ${preload}` : preload;
}

/** The stack file's config, full keys (`gcp:project`, `wallet-executor:executor`, ...), objects parsed. */
export function readStackConfig(stackFile: string): Record<string, unknown> {
  const doc = parseDocument(fs.readFileSync(stackFile, "utf8"));
  return (doc.toJS() as { config?: Record<string, unknown> }).config ?? {};
}

/** The stack file's project config (`wallet-executor:` keys without the prefix). */
export function readProjectConfig(stackFile: string): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(readStackConfig(stackFile))) {
    if (key.startsWith(`${PROJECT}:`)) raw[key.slice(PROJECT.length + 1)] = value;
  }
  return raw;
}

/** Sets config keys (full names, objects replaced whole) in the stack file, keeping comments, salt and secure values. */
export function writeConfig(stackFile: string, changes: Readonly<Record<string, unknown>>): void {
  const doc = parseDocument(fs.readFileSync(stackFile, "utf8"));
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) doc.deleteIn(["config", key]);
    else {
      const node = doc.createNode(value);
      // Every string quoted: Pulumi's YAML reader would turn a plain 2026-12-01T02:00:00Z into a timestamp.
      visit(node, {
        Scalar(key, scalar) {
          if (key !== "key" && typeof scalar.value === "string") scalar.type = "QUOTE_DOUBLE";
        },
      });
      doc.setIn(["config", key], node);
    }
  }
  fs.writeFileSync(stackFile, doc.toString());
}

/** A throwaway value for a secret key: shaped like what it stands for, random, never logged. */
export function throwawayValue(key: string): string {
  const random = crypto.randomBytes(24).toString("hex");
  if (/mnemonic/i.test(key)) {
    const words = ["abandon", "ability", "able", "about", "above", "absent", "absorb", "abstract", "absurd", "abuse", "access", "accident"];
    return Array.from({ length: 12 }, (_, i) => words[(crypto.randomBytes(1)[0] + i) % words.length]).join(" ");
  }
  if (/invoice/i.test(key)) return `lnbcrt10n1p${random}`;
  return `rehearsal-${random}`;
}

/** Sets every secret value the stack file's config needs and does not have yet (from stdin, never argv). */
export async function setThrowawaySecrets(workspace: Workspace): Promise<string[]> {
  const raw = readStackConfig(workspace.stackFile);
  const plain = Object.fromEntries(Object.entries(raw).filter(([, value]) => !isSecure(value)));
  const config = parseStackConfig(plain);
  const set: string[] = [];
  for (const key of requiredSecretKeys(config)) {
    const name = key.slice(PROJECT.length + 1);
    if (raw[key] !== undefined) continue;
    const result = await workspace.pulumi(["config", "set", "--secret", name, "--stack", workspace.stack], `${throwawayValue(name)}\n`);
    if (result.status !== 0) throw new Error(`pulumi config set --secret ${name} failed: ${result.stderr.trim()}`);
    set.push(name);
  }
  return set;
}

function isSecure(value: unknown): boolean {
  return typeof value === "object" && value !== null && "secure" in value;
}
