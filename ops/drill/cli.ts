/**
 * `npm run drill`: the runbook's tabletop drill as a command.
 *
 *   npm run drill -- --stack staging [--compromised] [--out drills/]
 *   npm run drill -- --from-events <file> [--stack name] [--out drills/]
 *
 * The first runs a real rotation through the Automation API (ops/drill/flow.ts) and reports it;
 * the second turns a recorded `pulumi up --event-log` file into the same report.
 * Exit codes: 0 ok (report written), 1 the drill failed or the log could not be used, 2 usage error.
 * A `--from-events` report of a failed rotation still exits 0: the report is the product there.
 */
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { ConfigError } from "../../stack/config";
import { buildDrillReport, formatDuration, renderDrillJson, renderDrillMarkdown, reportFileStem, type DrillReport } from "./report";
import { Redactor, printable } from "../../lib/redact";
import { buildTimeline, parseEventLog, secretsInEvents, splitRuns } from "./timeline";
import { openLocalDrillWorkspace, runDrill, summarizeCommandError, type DrillWorkspace } from "./flow";

export const USAGE = [
  "usage:",
  "  npm run drill -- --stack <name> [--compromised] [--out <dir>]",
  "  npm run drill -- --from-events <event-log.jsonl> [--stack <name>] [--out <dir>]",
  "",
  "  --stack        the stack to drill (Pulumi.<name>.yaml gets the generation bump)",
  "  --compromised  rotate and revoke in one `pulumi up` instead of two",
  "  --from-events  build the report from a `pulumi up --event-log` file instead of running a drill",
  "  --out          where the report goes (default: drills/)",
].join("\n");

export type DrillArgs =
  | { kind: "help" }
  | { kind: "drill"; stack: string; compromised: boolean; out: string }
  | { kind: "from-events"; file: string; stack: string | null; out: string };

/** A bad command line; the message names the flag. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

const VALUE_FLAGS = new Set(["--stack", "--out", "--from-events"]);
const SWITCHES = new Set(["--compromised", "--help", "-h"]);

/** Parses the arguments after `npm run drill --`. Throws UsageError. */
export function parseArgs(argv: readonly string[]): DrillArgs {
  const values = new Map<string, string>();
  const switches = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (SWITCHES.has(flag)) {
      if (eq > 0) throw new UsageError(`${flag} takes no value`);
      switches.add(flag === "-h" ? "--help" : flag);
      continue;
    }
    if (!VALUE_FLAGS.has(flag)) {
      throw new UsageError(arg.startsWith("-") ? `unknown flag ${flag}` : `unexpected argument ${JSON.stringify(arg)}`);
    }
    if (values.has(flag)) throw new UsageError(`${flag} given twice`);
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === "" || (eq < 0 && value.startsWith("--"))) throw new UsageError(`${flag} needs a value`);
    values.set(flag, value);
  }
  if (switches.has("--help")) return { kind: "help" };
  const out = values.get("--out") ?? "drills";
  const file = values.get("--from-events");
  if (file !== undefined) {
    if (switches.has("--compromised")) throw new UsageError("--compromised applies to a live drill, not to --from-events");
    return { kind: "from-events", file, stack: values.get("--stack") ?? null, out };
  }
  const stack = values.get("--stack");
  if (stack === undefined) throw new UsageError("--stack is required (or --from-events <file>)");
  return { kind: "drill", stack, compromised: switches.has("--compromised"), out };
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
}

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

/** Writes `<date>-<stack>.md` and `.json`, never over an earlier report (adds -2, -3, ...). */
export async function writeReport(report: DrillReport, outDir: string): Promise<{ markdown: string; json: string }> {
  await fs.mkdir(outDir, { recursive: true });
  const stem = reportFileStem(report);
  for (let n = 1; ; n++) {
    const base = path.join(outDir, n === 1 ? stem : `${stem}-${n}`);
    const markdown = `${base}.md`;
    const json = `${base}.json`;
    try {
      // "wx": fail if it exists, so two drills on one day keep both reports.
      await fs.writeFile(markdown, renderDrillMarkdown(report), { flag: "wx" });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") continue;
      throw error;
    }
    await fs.writeFile(json, renderDrillJson(report));
    return { markdown, json };
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
    io.stderr(`drill: ${shown}: is empty; allowed: the JSON lines written by pulumi up --event-log <file>\n`);
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
    io.stderr(`drill: ${shown}: ${printable(new Redactor().text((error as Error).message))}\n`);
    return 1;
  }
  if (timeline.runs.length === 0) {
    io.stderr(`drill: ${shown}: no update in this event log\n`);
    return 1;
  }
  timeline.warnings.unshift(...parseWarnings);
  const stack = args.stack ?? timeline.stack;
  if (stack === null) throw new UsageError("--stack is required: the event log names no stack");
  const redactor = new Redactor(secrets);
  if (args.stack !== null && timeline.stack !== null && args.stack !== timeline.stack) {
    io.stderr(
      `drill: note: --stack ${printable(args.stack)} differs from the log's stack ${printable(redactor.text(timeline.stack))}; using ${printable(args.stack)}\n`,
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
  io.stdout(`${summaryLines(report).join("\n")}\nreport: ${written.markdown}\n        ${written.json}\n`);
  return 0;
}

async function liveDrill(args: Extract<DrillArgs, { kind: "drill" }>, io: DrillIo): Promise<number> {
  const startedAt = Math.floor(io.now() / 1000);
  await checkOutDir(path.resolve(io.cwd, args.out), printable(args.out));
  // Messages from the engine and the CLI are redacted like the report (credential shapes; the log's plaintext secrets once known).
  const redactor = new Redactor();
  const safe = (text: string): string => printable(redactor.text(text));
  let workspace: DrillWorkspace;
  try {
    workspace = await io.openWorkspace({ stackName: args.stack, workDir: io.projectDir });
  } catch (error) {
    io.stderr(`drill: cannot open stack ${printable(args.stack)}: ${safe(summarizeCommandError(error))}\nnothing was changed\n`);
    return 1;
  }
  let run;
  try {
    run = await runDrill(workspace, { compromised: args.compromised, log: (line) => io.stdout(`${safe(line)}\n`), now: () => io.now() });
  } catch (error) {
    const why = error instanceof ConfigError ? error.summary : `unexpected error: ${(error as Error).message}`;
    io.stderr(`drill: ${workspace.stackConfigPath}: ${safe(why)}\nnothing was changed\n`);
    return 1;
  }
  const secrets = secretsInEvents(run.runs.flat());
  redactor.add(...secrets);
  // The report explains engine failures itself; the flow's reason matters when the events do not show one.
  const eventsExplain = run.timeline.runs.some((r) => r.outcome !== "succeeded");
  const report = buildDrillReport({
    stack: args.stack,
    mode: args.compromised ? "compromised" : "standard",
    source: { kind: "drill" },
    generation: run.generation,
    timeline: run.timeline,
    flowError: eventsExplain ? null : run.reason,
    fallbackStart: startedAt,
    secrets,
  });
  const written = await writeReport(report, path.resolve(io.cwd, args.out));
  io.stdout(`${summaryLines(report).join("\n")}\nreport: ${written.markdown}\n        ${written.json}\n`);
  const advice = run.failure === null ? "commit it with the report" : "finish the rotation or roll back (see the report) before committing";
  for (const change of run.configChanges) io.stdout(`changed ${change}: ${advice}\n`);
  if (run.failure !== null) {
    io.stderr(`drill failed: ${safe(run.failure)}\n`);
    return 1;
  }
  return 0;
}

/** The command. Returns the exit code. */
export async function main(argv: readonly string[], overrides: Partial<DrillIo> = {}): Promise<number> {
  const io: DrillIo = { ...defaultIo(), ...overrides };
  try {
    const args = parseArgs(argv);
    if (args.kind === "help") {
      io.stdout(`${USAGE}\n`);
      return 0;
    }
    return args.kind === "from-events" ? await fromEvents(args, io) : await liveDrill(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`drill: ${error.message}\n${USAGE}\n`);
      return 2;
    }
    io.stderr(`drill: ${printable(new Redactor().text((error as Error).message))}\n`);
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
