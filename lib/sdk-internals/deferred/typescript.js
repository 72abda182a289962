// TypeScript for the SDK's closure serialization (runtime/closure/parseFunction.js), loaded on first use.
"use strict";
const { deferredModule } = require("./deferred-module");

module.exports = deferredModule(() => require(require.resolve("@pulumi/pulumi/typescript-shim")), false);
