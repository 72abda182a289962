// `npm run mutate [-- <stryker options>]` and `npm run mutate:check`, from the repository's root.
//
// Mutation testing is a package of its own (this folder), so that the root's `npm ci` installs only
// what the tests need. This script installs it on demand from its lockfile, then runs it:
// - `npm run mutate`: the whole package (Stryker and its Mocha runner, its devDependencies), then
//   Stryker with stryker.config.json;
// - `npm run mutate:check`: only the harness's own dependencies (Mocha), then Mocha's dry run of
//   suites.js, which fails when a suite does not load on the harness (what CI checks).
// An install is redone when the lockfile changed since (a stamp in node_modules records it).
"use strict";
const { spawnSync } = require("child_process");
const { createHash } = require("crypto");
const fs = require("fs");
const path = require("path");

const HERE = __dirname;
const ROOT = path.resolve(HERE, "..");
const STAMP = path.join(HERE, "node_modules", ".wallet-executor-install.json");

function lockfileHash() {
  return createHash("sha256")
    .update(fs.readFileSync(path.join(HERE, "package-lock.json")))
    .digest("hex");
}

function readStamp() {
  try {
    return JSON.parse(fs.readFileSync(STAMP, "utf8"));
  } catch {
    return undefined;
  }
}

/** Runs a command from the root, its output inherited; exits with its status when it fails. */
function run(command, args) {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: "inherit" });
  if (result.error) throw result.error;
  if (result.status !== 0) process.exit(result.status ?? 1);
}

/** `npm ci` of this package (`withStryker`: its devDependencies too), unless the same install is already there. */
function ensureInstalled(withStryker) {
  const lockfile = lockfileHash();
  const stamp = readStamp();
  if (stamp && stamp.lockfile === lockfile && (stamp.withStryker || !withStryker)) return;
  const args = ["ci", "--no-audit", "--no-fund", "--prefix", HERE, ...(withStryker ? [] : ["--omit=dev"])];
  console.error(`mutation: installing ${withStryker ? "Stryker and the harness" : "the harness (Mocha)"}: npm ${args.join(" ")}`);
  // Under `npm run`, npm_execpath is the npm that runs us: use the same one.
  const npmCli = process.env.npm_execpath;
  if (npmCli) run(process.execPath, [npmCli, ...args]);
  else run("npm", args);
  fs.writeFileSync(STAMP, JSON.stringify({ lockfile, withStryker }) + "\n");
}

/** A file of an installed package (by its package.json: Stryker's `exports` hide its bin). */
const bin = (name, file) => path.join(path.dirname(require.resolve(`${name}/package.json`, { paths: [HERE] })), file);
const relative = (file) => path.relative(ROOT, path.join(HERE, file));

const [command, ...rest] = process.argv.slice(2);
if (command === "check") {
  ensureInstalled(false);
  run(process.execPath, [
    bin("mocha", "bin/mocha.js"),
    "--require",
    "./tools/register.js",
    "--dry-run",
    "--reporter",
    "dot",
    relative("suites.js"),
  ]);
} else if (command === "run") {
  ensureInstalled(true);
  run(process.execPath, [bin("@stryker-mutator/core", "bin/stryker.js"), "run", relative("stryker.config.json"), ...rest]);
} else {
  console.error("usage: node mutation/run.js check | run [stryker options]");
  process.exit(2);
}
