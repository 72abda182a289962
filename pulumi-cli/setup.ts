/**
 * `npm run pulumi:setup`: finds the Pulumi CLI this project runs with, building it from Go modules
 * when none is installed.
 *
 * 1. A `pulumi` on PATH whose version matches @pulumi/pulumi's minor release (3.248.x), with a
 *    Node.js language host beside it or on PATH: used as it is.
 * 2. Otherwise the CLI and the project's own Node.js language host are built from the Go module in
 *    `pulumi-cli/` into `.pulumi-cli/bin` (git-ignored), only when their sources changed since the
 *    last build (a stamp of the sources, the build flags and `go version`), next to the policy-pack
 *    launcher and a link to @pulumi/pulumi's dynamic-provider plugin.
 *
 * It prints where everything is and the PATH to use. Tests find the CLI with the same
 * `findPulumiCli`. Go's caches stay where `go env` puts them, never inside the clone.
 * Exit codes: 0 ready, 1 no CLI and no way to build one, 2 the build failed.
 */
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

export const ROOT = path.resolve(__dirname, "..");
export const MODULE_DIR = path.join(ROOT, "pulumi-cli");
export const BUILD_DIR = path.join(ROOT, ".pulumi-cli", "bin");
const STAMP_FILE = path.join(BUILD_DIR, ".build-stamp");

/** The release the CLI must come from: the one @pulumi/pulumi is pinned to in package.json. */
export function requiredVersion(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> };
  const version = pkg.dependencies["@pulumi/pulumi"];
  if (!/^[0-9]+\.[0-9]+\.[0-9]+$/.test(version))
    throw new Error(`package.json pins @pulumi/pulumi to ${version}; expected an exact version`);
  return version;
}

/** Same major and minor: the engine and @pulumi/pulumi of one release train speak the same protocol. */
export function isCompatible(version: string, required: string): boolean {
  const [major, minor] = required.split(".");
  return new RegExp(`^v?${major}\\.${minor}\\.[0-9]+(?:[-+].*)?$`).test(version.trim());
}

/** The main packages built, and the flag without which the Automation API cannot parse `pulumi version`. */
export function goBuildArgs(version: string): string[] {
  return [
    "build",
    "-o",
    `${BUILD_DIR}${path.sep}`,
    "-ldflags",
    `-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v${version}`,
    "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi",
    "./cmd/pulumi-language-nodejs",
  ];
}

export interface PulumiCli {
  /** The `pulumi` executable. */
  readonly pulumi: string;
  /** Put first on PATH: the language host, the launchers and the dynamic provider are found there. */
  readonly binDir: string;
  readonly version: string;
  readonly source: "path" | "built";
}

/** The first executable `name` on a PATH string. */
export function findOnPath(name: string, pathValue: string | undefined): string | undefined {
  for (const dir of (pathValue ?? "").split(path.delimiter)) {
    if (dir === "") continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** `pulumi version`, or undefined when it does not run. */
export function cliVersion(pulumi: string): string | undefined {
  const result = spawnSync(pulumi, ["version"], {
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" },
  });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

const isInside = (file: string, dir: string): boolean => {
  const relative = path.relative(dir, file);
  return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative);
};

/**
 * The CLI to use, without building anything: a compatible one on PATH, else the one built here.
 * `undefined` when there is neither (run `npm run pulumi:setup`).
 */
export function findPulumiCli(env: NodeJS.ProcessEnv = process.env, required = requiredVersion()): PulumiCli | undefined {
  const onPath = findOnPath("pulumi", env.PATH);
  // A PATH entry pointing into the build folder is the built CLI: judged by its stamp, below.
  if (onPath !== undefined && !isInside(fs.realpathSync(onPath), fs.existsSync(BUILD_DIR) ? fs.realpathSync(BUILD_DIR) : BUILD_DIR)) {
    const version = cliVersion(onPath);
    const binDir = path.dirname(onPath);
    const host = fs.existsSync(path.join(binDir, "pulumi-language-nodejs")) || findOnPath("pulumi-language-nodejs", env.PATH) !== undefined;
    if (version !== undefined && isCompatible(version, required) && host) return { pulumi: onPath, binDir, version, source: "path" };
  }
  const built = path.join(BUILD_DIR, "pulumi");
  if (fs.existsSync(built) && fs.existsSync(path.join(BUILD_DIR, "pulumi-language-nodejs"))) {
    const version = cliVersion(built);
    if (version !== undefined && isCompatible(version, required)) return { pulumi: built, binDir: BUILD_DIR, version, source: "built" };
  }
  return undefined;
}

/** The environment that runs `cli`: its folder first on PATH. */
export function cliEnv(cli: PulumiCli, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...base, PATH: [cli.binDir, base.PATH ?? ""].join(path.delimiter) };
}

function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? filesUnder(path.join(dir, entry.name)) : [path.join(dir, entry.name)]))
    .sort();
}

function run(command: string, args: readonly string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: "utf8" });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")}: exit ${result.status}\n${result.stderr}`);
  return result.stdout.trim();
}

/** Everything the built binaries depend on: a change to any of it means a rebuild. */
export function sourceStamp(version: string, moduleDir: string = MODULE_DIR): string {
  const hash = crypto.createHash("sha256");
  hash.update(run("go", ["version"], moduleDir));
  hash.update(JSON.stringify(goBuildArgs(version)));
  for (const file of filesUnder(moduleDir)) {
    hash.update(`\0${path.relative(moduleDir, file)}\0`);
    hash.update(fs.readFileSync(file));
  }
  return hash.digest("hex");
}

/** Go's caches must not land in the clone (they are gigabytes, and git would see them). */
function checkGoCaches(): void {
  for (const variable of ["GOCACHE", "GOMODCACHE"]) {
    const dir = run("go", ["env", variable], MODULE_DIR);
    if (dir !== "" && (isInside(path.resolve(dir), ROOT) || path.resolve(dir) === ROOT)) {
      throw new Error(`${variable}=${dir} is inside the clone; set it outside (the default, under $HOME, is fine)`);
    }
  }
}

/** Links the plugins the CLI distribution ships beside `pulumi` into the build folder. */
function installLaunchers(): void {
  const link = (target: string, name: string): void => {
    const file = path.join(BUILD_DIR, name);
    fs.rmSync(file, { force: true });
    fs.symlinkSync(path.relative(BUILD_DIR, target), file);
  };
  const launcher = path.join(MODULE_DIR, "launchers", "pulumi-analyzer-policy");
  link(launcher, "pulumi-analyzer-policy");
  link(launcher, "pulumi-analyzer-policy-nodejs");
  // The dynamic-provider plugin ships inside @pulumi/pulumi; it resolves the SDK from its working directory.
  link(path.join(ROOT, "node_modules", "@pulumi", "pulumi", "pulumi-resource-pulumi-nodejs"), "pulumi-resource-pulumi-nodejs");
}

export interface SetupResult {
  readonly cli: PulumiCli;
  /** What was done: "on PATH", "up to date", or "built in <seconds> s". */
  readonly action: string;
}

/** Finds or builds the CLI; throws when it cannot. `log` receives progress lines. */
export function setupPulumiCli(log: (line: string) => void, env: NodeJS.ProcessEnv = process.env): SetupResult {
  const version = requiredVersion();
  const found = findPulumiCli(env, version);
  if (found?.source === "path") return { cli: found, action: "on PATH" };

  if (findOnPath("go", env.PATH) === undefined) {
    throw new Error(`no Pulumi CLI ${version.replace(/\.[0-9]+$/, ".x")} on PATH and no Go toolchain to build one: install either`);
  }
  checkGoCaches();
  const stamp = sourceStamp(version);
  const previous = fs.existsSync(STAMP_FILE) ? fs.readFileSync(STAMP_FILE, "utf8").trim() : undefined;
  if (found !== undefined && previous === stamp) {
    installLaunchers();
    return { cli: found, action: "up to date" };
  }
  fs.mkdirSync(BUILD_DIR, { recursive: true });
  const args = goBuildArgs(version);
  log(`building the Pulumi CLI v${version} and the Node.js language host (go ${args.join(" ")}) ...`);
  const started = process.hrtime.bigint();
  // -mod=readonly: the build uses exactly the committed go.mod and go.sum.
  const result = spawnSync("go", args, {
    cwd: MODULE_DIR,
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...env, GOFLAGS: "-mod=readonly" },
  });
  if (result.status !== 0) throw new BuildError(`go build failed (exit ${result.status ?? result.signal})`);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  installLaunchers();
  fs.writeFileSync(STAMP_FILE, `${stamp}\n`);
  const built = findPulumiCli({ ...env, PATH: "" }, version);
  if (built === undefined) throw new BuildError(`the built ${path.join(BUILD_DIR, "pulumi")} does not report version ${version}`);
  return { cli: built, action: `built in ${seconds.toFixed(0)} s` };
}

export class BuildError extends Error {}

if (require.main === module) {
  try {
    const { cli, action } = setupPulumiCli((line) => process.stderr.write(`${line}\n`));
    const show = (file: string): string => (isInside(file, ROOT) ? path.relative(process.cwd(), file) || "." : file);
    process.stdout.write(
      [
        `Pulumi CLI ${cli.version} (${cli.source === "path" ? "installed" : "built from pulumi-cli/"}, ${action}): ${show(cli.pulumi)}`,
        `  Node.js language host, policy-pack launcher, dynamic providers: ${show(cli.binDir)}`,
        "Use it with:",
        `  export PATH="${cli.binDir}${path.delimiter}$PATH"`,
        "",
      ].join("\n"),
    );
  } catch (err) {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = err instanceof BuildError ? 2 : 1;
  }
}
