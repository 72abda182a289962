// A minimal TypeScript loader for the CLIs: compiles the project's own .ts files with swc (already
// the test transform), and nothing else. Lighter than a general-purpose loader, which resolves and
// inspects every module the SDK and the providers load (most of a cold start).
//
// Compiled files are cached in node_modules/.cache/wallet-register (one entry per source file, keyed
// by the source's hash, swc's version and the options), and swc itself loads only on a miss: a CLI
// whose files have not changed since its last run never loads the compiler (about a quarter of a
// second of a cold start). WALLET_REGISTER_CACHE=0 turns the cache off.
//
// It also installs the project's module resolution (tools/module-resolution.js): the SDK's closure
// serialization dependencies load on first use, and the policy pack shares the project's SDK.
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const Module = require("module");

require("./module-resolution").installModuleResolution();

const options = {
  jsc: { target: "es2022", parser: { syntax: "typescript" } },
  module: { type: "commonjs" },
  sourceMaps: "inline",
};

const CACHE_DIR = path.join(__dirname, "..", "node_modules", ".cache", "wallet-register");
const cacheOn = process.env.WALLET_REGISTER_CACHE !== "0";

let swc;
let salt;
/** What besides the source decides the output: swc's version and the options. */
function cacheSalt() {
  if (salt === undefined) {
    let version = "unknown";
    try {
      version = JSON.parse(fs.readFileSync(require.resolve("@swc/core/package.json"), "utf8")).version;
    } catch {
      // No version: entries are still keyed by source and options.
    }
    salt = `${version}\n${JSON.stringify(options)}\n`;
  }
  return salt;
}

function compile(source, filename) {
  swc ??= require("@swc/core");
  return swc.transformSync(source, { ...options, filename }).code;
}

function cachedCompile(source, filename) {
  const key = crypto.createHash("sha256").update(cacheSalt()).update(filename).update("\n").update(source).digest("hex");
  const entry = path.join(CACHE_DIR, `${crypto.createHash("sha256").update(filename).digest("hex").slice(0, 32)}.js`);
  const header = `// ${key}\n`;
  try {
    const cached = fs.readFileSync(entry, "utf8");
    if (cached.startsWith(header)) return cached.slice(header.length);
  } catch {
    // Not cached yet.
  }
  const code = compile(source, filename);
  try {
    fs.mkdirSync(CACHE_DIR, { recursive: true });
    // Written aside and renamed: a concurrent reader sees the old entry or the new one, whole.
    const temporary = `${entry}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, header + code);
    fs.renameSync(temporary, entry);
  } catch {
    // A read-only checkout still runs, uncached.
  }
  return code;
}

Module._extensions[".ts"] = function compileTypeScript(module, filename) {
  const source = fs.readFileSync(filename, "utf8");
  module._compile(cacheOn ? cachedCompile(source, filename) : compile(source, filename), filename);
};
