// The SDK's closure serialization (runtime/closure: a function's code, for dynamic providers) loads
// TypeScript and npm's Arborist when the SDK is imported, about half of the SDK's load, yet uses them
// only when a function is serialized (the SDK loads them inside functions everywhere else). These
// stand-ins load them on first use; tools/module-resolution.js resolves the closure modules'
// requests to them, and lib/sdk-internals/closure-dependencies.ts checks the requests are still
// those. Plain JavaScript: Jest's resolver and tools/register.js load it before any compiler.
"use strict";
const path = require("path");

/** The directory of the SDK's closure modules (any copy of the SDK). */
const CLOSURE_DIR = `${path.sep}@pulumi${path.sep}pulumi${path.sep}runtime${path.sep}closure`;

/** What the closure modules request at import -> the stand-in that loads it on first use. */
const DEFERRED_REQUESTS = new Map([
  ["../../typescript-shim", path.join(__dirname, "typescript.js")],
  ["@npmcli/arborist", path.join(__dirname, "arborist.js")],
]);

/** The stand-in for this request from a file in `fromDir`; undefined for any other. */
function deferredFor(request, fromDir) {
  return fromDir.endsWith(CLOSURE_DIR) ? DEFERRED_REQUESTS.get(request) : undefined;
}

module.exports = { DEFERRED_REQUESTS, deferredFor };
