/**
 * `npm run drill`: the runbook's tabletop drill as a command.
 *
 *   npm run drill -- --stack staging [--compromised] [--out drills/]
 *   npm run drill -- --from-events <file> [--stack name] [--out drills/]
 *
 * The first runs a real rotation through the Automation API (ops/drill/flow.ts) and reports it;
 * the second turns a recorded `pulumi up --event-log` file into the same report.
 * Exit codes: 0 ok (report written), 1 the drill failed or the log could not be used, 2 usage error,
 * 130 interrupted by Ctrl-C (the running update cancelled, the partial report written).
 * A `--from-events` report of a failed rotation still exits 0: the report is the product there.
 */
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { ConfigError } from "../../stack/config";
import {
  buildDrillReport,
  formatDuration,
  renderDrillJson,
  renderDrillMarkdown,
  renderDrillTimelineSvg,
  reportFileStem,
  type DrillReport,
} from "./report";
import { Redactor, printable } from "../../lib/redact";
import { buildTimeline, parseEventLog, secretsInEvents, splitRuns } from "./timeline";
import { INTERRUPTED, openLocalDrillWorkspace, runDrill, summarizeCommandError, type DrillWorkspace } from "./flow";
import {
  type CommandSpec,
  UsageError,
  errorLine,
  noteLine,
  parseCommandLine,
  parseStackRef,
  requireStackFile,
  runAsMain,
  usage,
  withInterrupt,
  EXIT_INTERRUPTED,
} from "../../lib/cli";

export const DRILL_COMMAND = {
  name: "drill",
  synopsis: [
    "--stack <name> [--compromised] [--out <dir>] [--json]",
    "--from-events <event-log.jsonl> [--stack <name>] [--out <dir>] [--json]",
  ],
  summary:
    "The runbook's token-rotation drill, live (the Pulumi CLI and the stack's cloud) or from a recorded `pulumi up --event-log` file, with a report.",
  options: {
    stack: { type: "string", value: "<name>", help: "the stack to drill (Pulumi.<name>.yaml gets the generation bump)" },
    compromised: { type: "boolean", help: "rotate and revoke in one `pulumi up` instead of two" },
    "from-events": {
      type: "string",
      value: "<file>",
      help: "build the report from a `pulumi up --event-log` file instead of running a drill",
    },
    out: { type: "string", value: "<dir>", help: "where the report goes (default: drills/)" },
    json: { type: "boolean", help: "print the report document (wallet-executor/drill-report/v1) on stdout; the summary goes to stderr" },
  },
  epilogue: ["exit codes: 0 ok (report written), 1 the drill failed or the log could not be used, 2 usage error"],
} as const satisfies CommandSpec;

export const USAGE = usage(DRILL_COMMAND);

export type DrillArgs =
  | { kind: "help" }
  | { kind: "drill"; stack: string; compromised: boolean; out: string; json?: boolean }
  | { kind: "from-events"; file: string; stack: string | null; out: string; json?: boolean };

export { UsageError };

/** Parses the arguments after `npm run drill --`. Throws UsageError. */
export function parseArgs(argv: readonly string[]): DrillArgs {
  const parsed = parseCommandLine(DRILL_COMMAND, argv);
  if (parsed.help) return { kind: "help" };
  const { values } = parsed;
  const out = values.out ?? "drills";
  const json = values.json === true ? { json: true } : {};
  if (values.stack !== undefined) parseStackRef(values.stack);
  const file = values["from-events"];
  if (file !== undefined) {
    if (values.compromised) throw new UsageError("--compromised applies to a live drill, not to --from-events");
    return { kind: "from-events", file, stack: values.stack ?? null, out, ...json };
  }
  const stack = values.stack;
  if (stack === undefined) throw new UsageError("--stack is required (or --from-events <file>)");
  return { kind: "drill", stack, compromised: values.compromised === true, out, ...json };
}

/** What `main` touches outside itself; tests replace parts of it. */
export interface DrillIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Relative paths (--out, --from-events) resolve against it. */
  cwd: string;
  /** The Pulumi project's directory (where Pulumi.yaml and Pulumi.<stack>.yaml live). */
  projectDir: string;
  /** Unix milliseconds. */
  now(): number;
  openWorkspace(args: { stackName: string; workDir: string }): Promise<DrillWorkspace>;
  /** Aborted on Ctrl-C: the running `pulumi` command is cancelled and the partial report is written. */
  signal?: AbortSignal;
}

/** Stopped by Ctrl-C (128 + SIGINT), after writing the partial report. */
export { EXIT_INTERRUPTED };

function defaultIo(): DrillIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    cwd: process.cwd(),
    projectDir: path.resolve(__dirname, "../.."),
    now: Date.now,
    openWorkspace: openLocalDrillWorkspace,
  };
}

/**
 * Writes `<date>-<stack>.md`, `.json` and `.timeline.svg` (the picture the .md links to), never over
 * an earlier report (adds -2, -3, ...).
 */
export async function writeReport(report: DrillReport, outDir: string): Promise<{ markdown: string; json: string; svg: string }> {
  await fs.mkdir(outDir, { recursive: true });
  const stem = reportFileStem(report);
  for (let n = 1; ; n++) {
    const base = path.join(outDir, n === 1 ? stem : `${stem}-${n}`);
    const markdown = `${base}.md`;
    const json = `${base}.json`;
    const svg = `${base}.timeline.svg`;
    try {
      // "wx": fail if it exists, so two drills on one day keep both reports.
      await fs.writeFile(markdown, renderDrillMarkdown(report, { timelineSvg: path.basename(svg) }), { flag: "wx" });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") continue;
      throw error;
    }
    await fs.writeFile(json, renderDrillJson(report));
    await fs.writeFile(svg, renderDrillTimelineSvg(report));
    return { markdown, json, svg };
  }
}

function summaryLines(report: DrillReport): string[] {
  const lines = [`drill ${report.stack}: ${report.verdict.status}. ${report.verdict.headline}`];
  for (const phase of report.timeline.phases) {
    const time = phase.durationSeconds === null ? "—" : formatDuration(phase.durationSeconds);
    lines.push(`  ${phase.label.padEnd(18)} ${time.padStart(8)}  ${phase.status}`);
  }
  const w = report.timeline.window401;
  if (w)
    lines.push(`  ${"401 window".padEnd(18)} ${(w.durationSeconds === null ? "open" : formatDuration(w.durationSeconds)).padStart(8)}`);
  return lines;
}

function shownPath(file: string, cwd: string): string {
  const relative = path.relative(cwd, file);
  return relative.startsWith("..") || path.isAbsolute(relative) ? path.basename(file) : relative.split(path.sep).join("/");
}

/** `--out` must be a directory (or not exist yet): a file there is a usage error, not a crash. */
async function checkOutDir(out: string, shown: string): Promise<void> {
  const stat = await fs.stat(out).catch(() => undefined);
  if (stat !== undefined && !stat.isDirectory()) throw new UsageError(`--out: ${shown} is a file; allowed: a directory for the reports`);
}

async function fromEvents(args: Extract<DrillArgs, { kind: "from-events" }>, io: DrillIo): Promise<number> {
  const file = path.resolve(io.cwd, args.file);
  const shown = printable(args.file);
  const stat = await fs.stat(file).catch(() => undefined);
  if (stat?.isDirectory()) {
    throw new UsageError(`--from-events: ${shown} is a directory; allowed: an event log file (written by pulumi up --event-log <file>)`);
  }
  await checkOutDir(path.resolve(io.cwd, args.out), printable(args.out));
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (error) {
    throw new UsageError(`--from-events: cannot read ${shown} (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
  if (text.trim() === "") {
    io.stderr(errorLine("drill", `${shown}: is empty; allowed: the JSON lines written by pulumi up --event-log <file>`));
    return 1;
  }
  let timeline;
  let parseWarnings: string[];
  let secrets: string[];
  try {
    const parsed = parseEventLog(text);
    parseWarnings = parsed.warnings;
    secrets = secretsInEvents(parsed.events);
    timeline = buildTimeline(splitRuns(parsed.events));
  } catch (error) {
    io.stderr(errorLine("drill", `${shown}: ${printable(new Redactor().text((error as Error).message))}`));
    return 1;
  }
  if (timeline.runs.length === 0) {
    io.stderr(errorLine("drill", `${shown}: no update in this event log`));
    return 1;
  }
  timeline.warnings.unshift(...parseWarnings);
  const stack = args.stack ?? timeline.stack;
  if (stack === null) throw new UsageError("--stack is required: the event log names no stack");
  const redactor = new Redactor(secrets);
  if (args.stack !== null && timeline.stack !== null && args.stack !== timeline.stack) {
    io.stderr(
      noteLine(
        "drill",
        `--stack ${printable(args.stack)} differs from the log's stack ${printable(redactor.text(timeline.stack))}; using ${printable(args.stack)}`,
      ),
    );
  }
  const report = buildDrillReport({
    stack,
    mode: "recorded",
    source: { kind: "event-log", file: shownPath(file, io.cwd) },
    generation: null,
    timeline,
    secrets,
  });
  const written = await writeReport(report, path.resolve(io.cwd, args.out));
  const summary = `${summaryLines(report).join("\n")}\nreport: ${written.markdown}\n        ${written.json}\n        ${written.svg}\n`;
  if (args.json === true) {
    io.stderr(summary);
    io.stdout(renderDrillJson(report));
  } else io.stdout(summary);
  return 0;
}

async function liveDrill(args: Extract<DrillArgs, { kind: "drill" }>, io: DrillIo): Promise<number> {
  const startedAt = Math.floor(io.now() / 1000);
  await checkOutDir(path.resolve(io.cwd, args.out), printable(args.out));
  // Messages from the engine and the CLI are redacted like the report (credential shapes; the log's plaintext secrets once known).
  const redactor = new Redactor();
  const safe = (text: string): string => printable(redactor.text(text));
  // A stack with no settings file here is a usage error naming the stacks there are, before any CLI runs.
  requireStackFile(io.projectDir, parseStackRef(args.stack));
  let workspace: DrillWorkspace;
  try {
    workspace = await io.openWorkspace({ stackName: args.stack, workDir: io.projectDir });
  } catch (error) {
    const why = /\bENOENT\b/.test(String((error as Error).message))
      ? "the Pulumi CLI is not on PATH; fix: npm run pulumi:setup, put the folder it prints first on PATH (wallet-executor doctor checks it)"
      : safe(summarizeCommandError(error));
    io.stderr(errorLine("drill", `cannot open stack ${printable(args.stack)}: ${why}; nothing was changed`));
    return 1;
  }
  let run;
  try {
    const progress = (text: string): void => (args.json === true ? io.stderr(text) : io.stdout(text));
    run = await runDrill(workspace, {
      compromised: args.compromised,
      log: (line) => progress(`${safe(line)}\n`),
      now: () => io.now(),
      ...(io.signal ? { signal: io.signal } : {}),
    });
  } catch (error) {
    const why = error instanceof ConfigError ? error.summary : `unexpected error: ${(error as Error).message}`;
    io.stderr(errorLine("drill", `${workspace.stackConfigPath}: ${safe(why)}; nothing was changed`));
    return 1;
  }
  const secrets = secretsInEvents(run.runs.flat());
  redactor.add(...secrets);
  // The report explains engine failures itself; the flow's reason matters when the events do not show one.
  const eventsExplain = run.timeline.runs.some((r) => r.outcome !== "succeeded");
  // Ctrl-C: the report is written all the same, and says it is partial.
  const interrupted = io.signal?.aborted === true;
  const flowError = interrupted ? `${run.reason ?? INTERRUPTED}: this report is partial` : eventsExplain ? null : run.reason;
  const report = buildDrillReport({
    stack: args.stack,
    mode: args.compromised ? "compromised" : "standard",
    source: { kind: "drill" },
    generation: run.generation,
    timeline: run.timeline,
    flowError,
    fallbackStart: startedAt,
    secrets,
  });
  const written = await writeReport(report, path.resolve(io.cwd, args.out));
  const say = (text: string): void => (args.json === true ? io.stderr(text) : io.stdout(text));
  say(`${summaryLines(report).join("\n")}\nreport: ${written.markdown}\n        ${written.json}\n        ${written.svg}\n`);
  if (args.json === true) io.stdout(renderDrillJson(report));
  const advice = run.failure === null ? "commit it with the report" : "finish the rotation or roll back (see the report) before committing";
  for (const change of run.configChanges) say(`changed ${change}: ${advice}\n`);
  if (run.failure !== null) {
    io.stderr(interrupted ? `drill: interrupted: ${safe(run.failure)}\n` : errorLine("drill", `the drill failed: ${safe(run.failure)}`));
    return interrupted ? EXIT_INTERRUPTED : 1;
  }
  return 0;
}

/** The command. Returns the exit code. */
export async function main(argv: readonly string[], overrides: Partial<DrillIo> = {}): Promise<number> {
  const io: DrillIo = { ...defaultIo(), ...overrides };
  try {
    const args = parseArgs(argv);
    if (args.kind === "help") {
      io.stdout(USAGE);
      return 0;
    }
    return args.kind === "from-events" ? await fromEvents(args, io) : await liveDrill(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(errorLine("drill", error, printable));
      return 2;
    }
    io.stderr(errorLine("drill", printable(new Redactor().text((error as Error).message))));
    return 1;
  }
}

/** The command as the process runs it: Ctrl-C cancels the running pulumi command, then the partial report is written. */
export function run(argv: readonly string[]): Promise<number> {
  return withInterrupt("drill: interrupted (Ctrl-C): cancelling the running pulumi command, then writing the partial report", (signal) =>
    main(argv, { signal }),
  );
}

if (require.main === module) runAsMain("drill", run);
