/**
 * The real Pulumi CLI for process-level tests: found as `npm run pulumi:setup` finds it, run in a
 * sandbox (a file backend and PULUMI_HOME in a temporary folder, a passphrase secrets provider, no
 * update check, no plugin downloads) over a copy of the project, so `pulumi stack init` and
 * `pulumi config set` never touch the working tree.
 */
import { SpawnSyncReturns, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PulumiCli, cliEnv, findPulumiCli } from "../../pulumi-cli/setup";
import { ROOT } from "./project";

/**
 * The CLI, or undefined locally when none is set up (the caller skips, saying so). In CI (.ci/run
 * runs `npm run pulumi:setup` before the tests) a missing CLI is an error, never a silent skip.
 */
export function requirePulumiCli(): PulumiCli | undefined {
  const cli = findPulumiCli();
  if (cli === undefined && process.env.CI === "true") {
    throw new Error("CI=true but no Pulumi CLI 3.248.x was found: .ci/run must run `npm run pulumi:setup` before the tests");
  }
  if (cli === undefined) console.warn("no Pulumi CLI: run `npm run pulumi:setup` to run the real-CLI tests");
  return cli;
}

/** Top-level entries never copied into a sandbox (node_modules folders are linked instead). */
const NOT_COPIED = new Set([".git", "node_modules", ".pulumi-cli", "reports", "coverage", "bin", "drills"]);

export interface Sandbox {
  readonly dir: string;
  /** The project copy: Pulumi.yaml, the stack files, the program, the policy pack. */
  readonly project: string;
  /** Runs `pulumi <args>` in the project copy (or `cwd`). */
  pulumi(args: readonly string[], options?: { input?: string; cwd?: string }): SpawnSyncReturns<string>;
  remove(): void;
}

export function createSandbox(cli: PulumiCli): Sandbox {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-cli-"));
  const project = path.join(dir, "project");
  fs.mkdirSync(project);
  for (const entry of fs.readdirSync(ROOT)) {
    if (NOT_COPIED.has(entry) || entry.startsWith(".stryker-tmp")) continue;
    fs.cpSync(path.join(ROOT, entry), path.join(project, entry), {
      recursive: true,
      filter: (source) => !source.includes(`${path.sep}node_modules`) && !source.includes(`${path.sep}tests${path.sep}.tmp`),
    });
  }
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(project, "node_modules"));
  fs.symlinkSync(path.join(ROOT, "policy", "node_modules"), path.join(project, "policy", "node_modules"));

  // Nothing of the caller's Pulumi setup (a backend URL, an access token, a passphrase) leaks in.
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("PULUMI_")));
  const env: NodeJS.ProcessEnv = {
    ...cliEnv(cli, base),
    PULUMI_HOME: path.join(dir, "home"),
    PULUMI_CONFIG_PASSPHRASE: crypto.randomBytes(16).toString("hex"),
    PULUMI_SKIP_UPDATE_CHECK: "true",
    // Providers come from the machine, never downloaded: a missing one is an error at once.
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    NO_COLOR: "1",
  };
  const pulumi: Sandbox["pulumi"] = (args, options = {}) =>
    spawnSync(cli.pulumi, [...args], {
      cwd: options.cwd ?? project,
      env,
      input: options.input ?? "",
      encoding: "utf8",
      timeout: 300_000,
    });
  fs.mkdirSync(path.join(dir, "state"));
  const login = pulumi(["login", `file://${path.join(dir, "state")}`]);
  if (login.status !== 0) throw new Error(`pulumi login failed: ${login.stderr}`);
  return { dir, project, pulumi, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** stdout and stderr together, for messages the CLI may print on either. */
export const output = (result: SpawnSyncReturns<string>): string => `${result.stdout}\n${result.stderr}`;
