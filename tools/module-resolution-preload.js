// `node --require tools/module-resolution-preload.js`: the project's module resolution
// (tools/module-resolution.js) in a process whose entry point is not ours: the Pulumi engine's
// Node.js processes in a rehearsal (the program, the policy pack, the dynamic provider), which load
// the SDK before any file of the project, so only a preload can defer its closure dependencies.
"use strict";
require("./module-resolution").installModuleResolution();
