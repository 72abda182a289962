// Where the project's processes resolve two kinds of module differently from Node's default, to
// load only what they use (the cold plan, and every test file, load the SDK):
//
// 1. The SDK's closure serialization dependencies (TypeScript, npm's Arborist: about half of the
//    SDK's load) load on first use, not when the SDK is imported (lib/sdk-internals/deferred/).
//
// 2. In-process, the policy pack's dependencies are the project's own copies when they are the same
// version. The pack is a package of its own (policy/node_modules: the copy the Pulumi CLI runs), so
// a process that loads its policies (the offline plan, the harness's tests) would otherwise load a
// second @pulumi/pulumi, gRPC and protobuf from it: about a second of a cold plan, for identical
// code. A package of another version, or one the project does not have, still comes from the pack.
// Only requests made from inside policy/node_modules are redirected: the pack's own files and the
// fence (lib/sdk-internals, `fromPack`) load @pulumi/policy itself from the pack, as the CLI does.
// Used by tools/jest-resolver.js (Jest) and installed by tools/register.js (Node: every CLI).
"use strict";
const fs = require("fs");
const path = require("path");
const Module = require("module");
const { deferredFor } = require("../lib/sdk-internals/deferred");

const ROOT = path.resolve(__dirname, "..");
const PACK_MODULES = path.join(ROOT, "policy", "node_modules") + path.sep;
const ROOT_MODULES = path.join(ROOT, "node_modules");

/** `@scope/name/sub` -> `@scope/name`; `name/sub` -> `name`; relative, absolute and `node:` ids -> undefined. */
function packageName(request) {
  if (request.startsWith(".") || path.isAbsolute(request) || request.startsWith("node:")) return undefined;
  const parts = request.split("/");
  if (parts[0].startsWith("@")) return parts.length >= 2 ? `${parts[0]}/${parts[1]}` : undefined;
  return parts[0];
}

function versionAt(dir) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")).version;
  } catch {
    return undefined;
  }
}

/** The directory node resolution finds `name` in, starting from `fromDir`. */
function packageDirFrom(name, fromDir) {
  for (const modules of Module._nodeModulePaths(fromDir)) {
    const dir = path.join(modules, name);
    if (fs.existsSync(path.join(dir, "package.json"))) return dir;
  }
  return undefined;
}

const decisions = new Map();

/**
 * True when `request`, made from a file in `fromDir`, is a package the pack installed that the
 * project has at the same version (so the project's copy may stand for it).
 */
function usesProjectCopy(request, fromDir) {
  if (!(fromDir + path.sep).startsWith(PACK_MODULES)) return false;
  const name = packageName(request);
  if (name === undefined) return false;
  const packDir = packageDirFrom(name, fromDir);
  if (packDir === undefined || !packDir.startsWith(PACK_MODULES)) return false;
  let same = decisions.get(packDir);
  if (same === undefined) {
    const version = versionAt(packDir);
    same = version !== undefined && version === versionAt(path.join(ROOT_MODULES, name));
    decisions.set(packDir, same);
  }
  return same;
}

let installed = false;

/** Installs both for Node's own require (idempotent). */
function installModuleResolution() {
  if (installed) return;
  installed = true;
  const resolve = Module._resolveFilename;
  const fromRoot = Object.assign(new Module(path.join(ROOT, "index.js")), {
    filename: path.join(ROOT, "index.js"),
    paths: Module._nodeModulePaths(ROOT),
  });
  Module._resolveFilename = function resolveProjectModule(request, parent, isMain, options) {
    if (parent && typeof parent.filename === "string") {
      const fromDir = path.dirname(parent.filename);
      const deferred = deferredFor(request, fromDir);
      if (deferred !== undefined) return deferred;
      if (usesProjectCopy(request, fromDir)) return resolve.call(this, request, fromRoot, isMain, options);
    }
    return resolve.call(this, request, parent, isMain, options);
  };
}

module.exports = { ROOT, deferredFor, usesProjectCopy, installModuleResolution };
