// npm's Arborist for the SDK's closure serialization (runtime/closure/codePaths.js), loaded on first use.
"use strict";
const { deferredModule } = require("./deferred-module");

module.exports = deferredModule(() => require(require.resolve("@npmcli/arborist", { paths: [require.resolve("@pulumi/pulumi")] })), true);
