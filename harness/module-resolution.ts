/**
 * Loaded first by the policy harness: in this process the pack's dependencies are the project's own
 * copies when they are the same version, and the SDK's closure serialization dependencies load on
 * first use (tools/module-resolution.js says why). tools/register.js installs the same for every
 * CLI; this covers a process that loads the harness without it.
 */
const { installModuleResolution } = require("../tools/module-resolution") as { installModuleResolution: () => void };
installModuleResolution();
