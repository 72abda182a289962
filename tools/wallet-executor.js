#!/usr/bin/env node
// The `wallet-executor` command (package.json `bin`): loads the project's TypeScript through
// tools/register.js, then runs ops/commands.ts, which dispatches to each CLI.
"use strict";
require("./register.js");
const { main } = require("../ops/commands.ts");
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.stderr.write("wallet-executor: error: internal error\n");
    process.exit(1);
  },
);
