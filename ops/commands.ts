/**
 * `wallet-executor <command> ...` (package.json `bin`, run with `npx wallet-executor`): one entry
 * for every CLI of the project. Each command's module is loaded only when named, so `--help` and a
 * usage error answer at once; with `--json`, stdout carries exactly the command's JSON document.
 */
import { EXIT_USAGE, closestFlag, runAsMain } from "../lib/cli";

interface Command {
  /** The module, relative to this file; it exports `run(argv): Promise<number>`. */
  readonly module: string;
  readonly summary: string;
  /** Exit as soon as it returns (open sockets or child processes must not hold the process). */
  readonly exit: boolean;
}

export const COMMANDS: Readonly<Record<string, Command>> = {
  plan: { module: "./plan/cli", summary: "what `pulumi up` would do for a stack, offline, with the policy verdicts", exit: false },
  verify: { module: "../verification/cli", summary: "the verification checklist against a deployed executor", exit: true },
  drill: { module: "./drill/cli", summary: "the token-rotation drill, live or from an event log, with a report", exit: false },
  deploy: { module: "./deploy/cli", summary: "`pulumi up` behind a gated preview with the policy pack", exit: false },
  rehearse: { module: "../rehearsal/cli", summary: "a whole rotation on this machine, on the local cloud, under traffic", exit: true },
  bench: { module: "./bench/cli", summary: "the speed figures against their floors and targets", exit: true },
  doctor: { module: "./doctor/cli", summary: "whether this machine can run the real thing, and how to fix what is missing", exit: false },
  localcloud: { module: "../localcloud/cli", summary: "the local cloud (Cloud Run and Secret Manager on 127.0.0.1)", exit: true },
};

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  return [
    "usage: wallet-executor <command> [options]     (npx wallet-executor ..., or npm run <command> -- ...)",
    "",
    "commands:",
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    "",
    "wallet-executor <command> --help shows each command's options. Exit codes: 0 ok, 1 failed, 2 usage error.",
    "",
  ].join("\n");
}

/**
 * Runs the command named first in `argv`; the exit code. The process is left running (tests call
 * this in-process); `main` is what the bin runs.
 */
export async function runCommand(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(usage());
    return 0;
  }
  const command = commandNamed(name);
  if (command === undefined) {
    const near = name === undefined ? undefined : closestFlag(name, Object.keys(COMMANDS));
    const what =
      name === undefined ? "a command is required" : `unknown command ${/^[A-Za-z0-9-]{1,40}$/.test(name) ? name : ""}`.trimEnd();
    process.stderr.write(`wallet-executor: error: ${what}${near ? `: did you mean ${near}?` : ""} (see --help)\n`);
    return EXIT_USAGE;
  }
  // The plan never shows the SDK's promise stack traces; mapping them through source maps is most of an evaluation.
  if (name === "plan") process.setSourceMapsEnabled(false);
  const loaded = require(command.module) as { run(argv: readonly string[]): Promise<number> };
  return loaded.run(rest);
}

function commandNamed(name: string | undefined): Command | undefined {
  return name === undefined ? undefined : Object.prototype.hasOwnProperty.call(COMMANDS, name) ? COMMANDS[name] : undefined;
}

/** Runs the command named first in `argv`, as the process: a command marked `exit` exits as soon as it returns. */
export async function main(argv: readonly string[]): Promise<number> {
  const code = await runCommand(argv);
  if (commandNamed(argv[0])?.exit) process.exit(code);
  return code;
}

if (require.main === module) runAsMain("wallet-executor", main);
