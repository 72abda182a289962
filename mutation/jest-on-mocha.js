// Jest's test API on Mocha, for mutation testing only (npm run mutate).
//
// Stryker's Jest runner starts Jest anew for every mutant, and Jest reloads the Pulumi SDK for every
// test file of every run (about a second each): too slow for a full run within 30 minutes on two
// cores. Stryker's Mocha runner loads the test files once per worker and re-runs them with the
// active mutant switched in place. This module maps the Jest globals our suites use onto Mocha's
// BDD interface, with Jest's own `expect`, so the same suites run unchanged under both.
"use strict";
const { format } = require("util");
// Jest's own `expect`, from the root package (Jest installs it; the root pins it for this harness).
const { expect } = require("expect");

// Titles left out under mutation (see suites.js for why).
const skipped = [];

/** Jest's `%s`/`%j`/`%i`/`%d`/`%p`/`%#` title formatting for `test.each` rows. */
function title(template, row, index) {
  const args = Array.isArray(row) ? row : [row];
  let used = 0;
  const text = template.replace(/%([sjidpo#%])/g, (match, flag) => {
    if (flag === "%") return "%";
    if (flag === "#") return String(index);
    if (used >= args.length) return match;
    const value = args[used++];
    if (flag === "j") return JSON.stringify(value);
    if (flag === "p" || flag === "o") return format("%o", value);
    if (flag === "i" || flag === "d") return String(Math.trunc(Number(value)));
    return typeof value === "string" ? value : format("%s", value);
  });
  return text;
}

// Stryker's Mocha runner turns Mocha's timeouts off and restarts a worker whose run outlives its
// own deadline (seconds of reloading). A mutant that makes a test hang should fail that test
// instead, as Jest's testTimeout would: no test or hook of these suites takes a second unmutated.
const TEST_TIMEOUT_MS = 5_000;
const HOOK_TIMEOUT_MS = 15_000;

// Mocha calls a test with `done` when the function declares a parameter; Jest tests here never do.
function run(fn, args, timeoutMs) {
  return async () => {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([fn(...args), timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
}

/**
 * Installs Jest's globals over Mocha's BDD interface. Call it from a spec file (Mocha installs its
 * interface on the global object just before loading each one).
 */
function install() {
  // The Pulumi SDK captures a stack trace for every promise it creates (debuggablePromise) and every
  // resource (its source position): two thirds of a program's evaluation time. Nothing here reads
  // them, and Stryker reports no stacks, so capture none.
  Error.stackTraceLimit = 0;
  const mocha = { it: global.it, before: global.before, after: global.after, beforeEach: global.beforeEach, afterEach: global.afterEach };
  const hook =
    (register) =>
    (fn, timeoutMs = HOOK_TIMEOUT_MS) =>
      register(run(fn, [], timeoutMs));
  function test(name, fn, timeoutMs = TEST_TIMEOUT_MS) {
    if (skipped.some((pattern) => pattern.test(name))) return;
    mocha.it(name, run(fn, [], timeoutMs));
  }
  test.each =
    (table) =>
    (template, fn, timeoutMs = TEST_TIMEOUT_MS) => {
      table.forEach((row, index) => {
        const name = title(template, row, index);
        if (skipped.some((pattern) => pattern.test(name))) return;
        mocha.it(name, run(fn, Array.isArray(row) ? row : [row], timeoutMs));
      });
    };
  Object.assign(global, {
    expect,
    test,
    it: test,
    beforeAll: hook(mocha.before),
    afterAll: hook(mocha.after),
    beforeEach: hook(mocha.beforeEach),
    afterEach: hook(mocha.afterEach),
  });
}

/** Titles to leave out (tests that cannot run on instrumented code). */
function skip(pattern) {
  skipped.push(pattern);
}

module.exports = { install, skip };
