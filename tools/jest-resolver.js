// Jest's resolver, with the policy pack's dependencies resolved to the project's copies when they
// are the same version (tools/pack-resolution.js): a test file that loads the pack loads one SDK.
"use strict";
const { ROOT, usesProjectCopy } = require("./pack-resolution");

module.exports = (request, options) =>
  usesProjectCopy(request, options.basedir)
    ? options.defaultResolver(request, { ...options, basedir: ROOT })
    : options.defaultResolver(request, options);
