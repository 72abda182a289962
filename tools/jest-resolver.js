// Jest's resolver, resolving as the project's processes do (tools/module-resolution.js): the SDK's
// closure serialization dependencies load on first use, and the policy pack's dependencies are the
// project's copies when they are the same version. Each test file loads the SDK once, and only what
// it uses of it.
"use strict";
const { ROOT, deferredFor, usesProjectCopy } = require("./module-resolution");

module.exports = (request, options) => {
  const deferred = deferredFor(request, options.basedir);
  if (deferred !== undefined) return deferred;
  return usesProjectCopy(request, options.basedir)
    ? options.defaultResolver(request, { ...options, basedir: ROOT })
    : options.defaultResolver(request, options);
};
