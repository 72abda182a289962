/**
 * Installs the local `gcp` and `random` provider plugins into a Pulumi home of their own:
 *
 *   npm run localcloud:plugins -- --pulumi-home DIR
 *
 * writes `DIR/plugins/resource-gcp-v<@pulumi/gcp's version>/pulumi-resource-gcp` (and random's), small
 * shell scripts that run this checkout's providers with Node. Run Pulumi with `PULUMI_HOME=DIR`
 * (and LOCALCLOUD_URL / LOCALCLOUD_TOKEN) to drive the local cloud. It refuses the default Pulumi
 * home (~/.pulumi) and any directory holding a plugin it did not write: these plugins must never
 * stand in for the real providers of an operator's everyday Pulumi.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import * as path from "node:path";
import { shellQuote } from "../localcloud/runners";
import { GCP_VERSION } from "./gcp/provider";
import { RANDOM_VERSION } from "./random/provider";

const ROOT = path.resolve(__dirname, "..");
/** Marks a plugin this script wrote (and may overwrite). */
const MARKER = "# local-cloud provider plugin";

export interface InstalledPlugin {
  readonly name: string;
  readonly version: string;
  readonly dir: string;
  readonly executable: string;
}

export const PLUGINS: readonly { name: string; version: string; entry: string }[] = [
  { name: "gcp", version: GCP_VERSION, entry: path.join(ROOT, "providers", "gcp", "main.ts") },
  { name: "random", version: RANDOM_VERSION, entry: path.join(ROOT, "providers", "random", "main.ts") },
];

/** `userHome`: whose default Pulumi home (`<userHome>/.pulumi`) is refused; the user's own by default. */
export function installPlugins(pulumiHome: string, userHome: string = homedir()): InstalledPlugin[] {
  const home = path.resolve(pulumiHome);
  if (home === path.resolve(userHome, ".pulumi")) {
    throw new Error(`--pulumi-home ${home} is the default Pulumi home: install the local plugins into a rehearsal's own home`);
  }
  return PLUGINS.map(({ name, version, entry }) => {
    const dir = path.join(home, "plugins", `resource-${name}-v${version}`);
    const executable = path.join(dir, `pulumi-resource-${name}`);
    if (existsSync(executable) && !readFileSync(executable, "utf8").includes(MARKER)) {
      throw new Error(`${executable} exists and is not a local-cloud plugin: refusing to replace a real provider`);
    }
    mkdirSync(dir, { recursive: true });
    const script = [
      "#!/bin/sh",
      `${MARKER}: drives the local cloud (LOCALCLOUD_URL), never Google.`,
      `exec ${[process.execPath, "--require", path.join(ROOT, "tools", "register.js"), entry].map(shellQuote).join(" ")} "$@"`,
      "",
    ].join("\n");
    writeFileSync(executable, script);
    chmodSync(executable, 0o755);
    // An interrupted install leaves `<dir>.partial`, which makes Pulumi ignore the plugin.
    rmSync(`${dir}.partial`, { force: true });
    return { name, version, dir, executable };
  });
}

function main(argv: readonly string[]): void {
  const index = argv.indexOf("--pulumi-home");
  const home = index >= 0 ? argv[index + 1] : undefined;
  if (!home || argv.length !== 2) {
    process.stderr.write("usage: npm run localcloud:plugins -- --pulumi-home DIR\n");
    process.exit(2);
  }
  try {
    const installed = installPlugins(home);
    process.stdout.write(`${JSON.stringify(installed)}\n`);
  } catch (err) {
    process.stderr.write(`localcloud:plugins: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}

if (require.main === module) main(process.argv.slice(2));
