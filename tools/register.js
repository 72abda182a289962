// A minimal TypeScript loader for the CLIs: compiles the project's own .ts files with swc (already
// the test transform), and nothing else. Lighter than a general-purpose loader, which resolves and
// inspects every module the SDK and the providers load (most of a cold start).
"use strict";
const fs = require("fs");
const Module = require("module");
const { transformSync } = require("@swc/core");

const options = {
  jsc: { target: "es2022", parser: { syntax: "typescript" } },
  module: { type: "commonjs" },
  sourceMaps: "inline",
};

Module._extensions[".ts"] = function compileTypeScript(module, filename) {
  const source = fs.readFileSync(filename, "utf8");
  const { code } = transformSync(source, { ...options, filename });
  module._compile(code, filename);
};
