/**
 * Loaded first by the policy harness: in this process the pack's dependencies are the project's own
 * copies when they are the same version (tools/pack-resolution.js says why), so loading the pack's
 * policies does not load a second Pulumi SDK.
 */
const { installProjectCopies } = require("../tools/pack-resolution") as { installProjectCopies: () => void };
installProjectCopies();
