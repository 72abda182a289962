/**
 * `npm run rehearse -- [--stack staging] [--scenario rotate|...] [--rotation tagged|in-place] [--executor-command CMD] [--load N]
 * [--rollout-ms N] [--out DIR] [--json]`: a whole rotation on this machine, on a copy of the
 * project, under live traffic, with a report (report.md, report.json, and timeline.svg: each
 * apply's phases and the live traffic). Shows the phase in progress. Exit 0 when the scenario ends
 * as the runbook says, 1 when not, 2 on bad input, 130 when Ctrl-C stopped it (partial report).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ENVIRONMENTS } from "../stack/config";
import { findPulumiCli, setupPulumiCli } from "../pulumi-cli/setup";
import { REHEARSAL_REPORT_SCHEMA, buildRehearsalReport, renderRehearsalJson, renderRehearsalMarkdown } from "./report";
import { INTERRUPTED, rehearse } from "./rehearse";
import { TIMELINE_SVG, renderRehearsalTimelineSvg } from "./picture";
import { SCENARIOS, ScenarioName } from "./scenarios";
import { ensurePolicyPackInstalled } from "./workspace";
import {
  type CommandSpec,
  type OptionValues,
  UsageError,
  errorLine,
  parseCommandLine,
  parseStackRef,
  requireStackFile,
  runAsMain,
  usage,
  withInterrupt,
  EXIT_INTERRUPTED,
} from "../lib/cli";

export interface RehearseArgs {
  readonly stack: string;
  readonly scenario: ScenarioName;
  readonly executorCommand?: string;
  readonly load: number;
  readonly rolloutMs: number;
  /** `wallet-executor:rotation`'s strategy for the rehearsal; absent: the stack file's. */
  readonly rotation?: "tagged" | "in-place";
  readonly out?: string;
  readonly json: boolean;
}

const ROTATIONS = ["tagged", "in-place"] as const;

export { UsageError };

export const REHEARSE_COMMAND = {
  name: "rehearse",
  synopsis: [
    "[--stack staging|prod] [--scenario <name>] [--rotation tagged|in-place] [--executor-command CMD] [--load N] [--rollout-ms N] [--out DIR] [--json]",
  ],
  summary: "A whole rotation on this machine, on a copy of the project, under live traffic, on the local cloud, with a report.",
  options: {
    stack: { type: "string", value: "<name>", help: `the stack file to copy: ${ENVIRONMENTS.join(" or ")} (default staging)` },
    scenario: { type: "string", value: "<name>", help: `one of ${SCENARIOS.join(", ")} (default rotate)` },
    rotation: { type: "string", value: "tagged|in-place", help: "the rotation strategy to rehearse (default: the stack file's)" },
    "executor-command": { type: "string", value: "CMD", help: "the executor to run instead of the stand-in" },
    load: { type: "string", value: "N", help: "calls per second of live traffic, 0.5..200 (default 10)" },
    "rollout-ms": { type: "string", value: "N", help: "how long each Cloud Run rollout takes, 0..600000 (default 500)" },
    out: { type: "string", value: "DIR", help: "where the rehearsal and its report go (default rehearsals/<time>-<stack>-<scenario>)" },
    json: { type: "boolean", help: `print the report document (${REHEARSAL_REPORT_SCHEMA}) on stdout; progress goes to stderr` },
  },
  epilogue: ["exit codes: 0 the scenario ended as the runbook says, 1 it did not, 2 usage error, 130 stopped by Ctrl-C (partial report)"],
} as const satisfies CommandSpec;

export const USAGE = usage(REHEARSE_COMMAND);

const ROOT = path.resolve(__dirname, "..");

export function parseRehearseArgs(argv: readonly string[], projectDir: string = ROOT): RehearseArgs {
  const parsed = parseCommandLine(REHEARSE_COMMAND, argv);
  if (parsed.help) throw new UsageError(USAGE);
  return rehearseArgsFrom(parsed.values, projectDir);
}

function rehearseArgsFrom(values: OptionValues<typeof REHEARSE_COMMAND.options>, projectDir: string): RehearseArgs {
  const number = (flag: string, text: string | undefined, fallback: number, min: number, max: number): number => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!/^[0-9]+(\.[0-9]+)?$/.test(text) || n < min || n > max)
      throw new UsageError(`${flag} ${text} is not allowed; allowed: a number ${min}..${max}`);
    return n;
  };
  let stack = "staging";
  if (values.stack !== undefined) {
    const ref = parseStackRef(values.stack);
    requireStackFile(projectDir, ref);
    if (!(ENVIRONMENTS as readonly string[]).includes(ref.name))
      throw new UsageError(`--stack ${ref.name} is not allowed; allowed: ${ENVIRONMENTS.join(", ")}`);
    stack = ref.name;
  }
  const rotation = values.rotation;
  if (rotation !== undefined && !(ROTATIONS as readonly string[]).includes(rotation))
    throw new UsageError(`--rotation ${rotation} is not allowed; allowed: ${ROTATIONS.join(", ")}`);
  const scenario = values.scenario ?? "rotate";
  if (!(SCENARIOS as readonly string[]).includes(scenario))
    throw new UsageError(`--scenario ${scenario} is not allowed; allowed: ${SCENARIOS.join(", ")}`);
  return {
    stack,
    scenario: scenario as ScenarioName,
    ...(values["executor-command"] !== undefined ? { executorCommand: values["executor-command"] } : {}),
    load: number("--load", values.load, 10, 0.5, 200),
    rolloutMs: number("--rollout-ms", values["rollout-ms"], 500, 0, 600_000),
    ...(rotation !== undefined ? { rotation: rotation as NonNullable<RehearseArgs["rotation"]> } : {}),
    ...(values.out !== undefined ? { out: values.out } : {}),
    json: values.json === true,
  };
}

export { EXIT_INTERRUPTED };

/** The command as the process runs it: Ctrl-C cancels the running pulumi up, stops the local cloud, writes the partial report. */
export function run(argv: readonly string[]): Promise<number> {
  return withInterrupt("rehearse: interrupted (Ctrl-C): stopping, then writing the partial report", (signal) => main(argv, signal));
}

async function main(argv: readonly string[], signal?: AbortSignal): Promise<number> {
  let args: RehearseArgs;
  try {
    const parsed = parseCommandLine(REHEARSE_COMMAND, argv);
    if (parsed.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    args = rehearseArgsFrom(parsed.values, ROOT);
  } catch (err) {
    process.stderr.write(errorLine("rehearse", err));
    return 2;
  }
  const say = (line: string): void => void (args.json ? process.stderr : process.stdout).write(`${line}\n`);
  const root = ROOT;
  const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
  const out = path.resolve(args.out ?? path.join(root, "rehearsals", `${stamp}-${args.stack}-${args.scenario}`));
  if (fs.existsSync(path.join(out, "project"))) {
    process.stderr.write(errorLine("rehearse", new UsageError(`--out ${out} already holds a rehearsal: give a new or empty folder`)));
    return 2;
  }
  let cli = findPulumiCli();
  if (cli) say(`Pulumi CLI ${cli.version}: ${cli.source === "path" ? "found on PATH" : "built earlier"} (${cli.pulumi})`);
  else {
    say("no Pulumi CLI 3.248.x found: building it from Go modules (once; a warm build takes about 40 s) ...");
    try {
      cli = setupPulumiCli(say).cli;
    } catch (err) {
      process.stderr.write(errorLine("rehearse", `cannot set up the Pulumi CLI: ${err instanceof Error ? err.message : String(err)}`));
      return 1;
    }
    say(`Pulumi CLI ${cli.version} built (${cli.pulumi})`);
  }
  if (!ensurePolicyPackInstalled(root, say)) {
    process.stderr.write(
      errorLine("rehearse", "cannot install the policy pack's dependencies: run `npm ci --prefix policy` and try again"),
    );
    return 1;
  }
  say(`rehearsing ${args.scenario} on a copy of ${args.stack} in ${out}`);
  const run = await rehearse({
    cli,
    stack: args.stack,
    scenario: args.scenario,
    out,
    load: args.load,
    rolloutMs: args.rolloutMs,
    ...(args.rotation !== undefined ? { rotation: args.rotation } : {}),
    ...(args.executorCommand !== undefined ? { executorCommand: args.executorCommand } : {}),
    log: say,
    ...(signal ? { signal } : {}),
  });
  const report = buildRehearsalReport(run);
  fs.writeFileSync(path.join(out, "report.md"), renderRehearsalMarkdown(report, { timelineSvg: TIMELINE_SVG }));
  fs.writeFileSync(path.join(out, TIMELINE_SVG), renderRehearsalTimelineSvg(report, run.traffic, run.scenarioStartMs));
  fs.writeFileSync(path.join(out, "report.json"), renderRehearsalJson(report));
  if (args.json) process.stdout.write(renderRehearsalJson(report));
  else {
    say("");
    say(report.headline);
    for (const check of report.checks.filter((c) => !c.ok)) say(`  FAILED: ${check.name} (${check.detail})`);
    say(`report: ${path.join(out, "report.md")} (and report.json, ${REHEARSAL_REPORT_SCHEMA}; the picture: ${TIMELINE_SVG})`);
  }
  if (signal?.aborted) {
    process.stderr.write(`rehearse: ${INTERRUPTED}: ${path.join(out, "report.md")}\n`);
    return EXIT_INTERRUPTED;
  }
  return report.ok ? 0 : 1;
}

// Exits when done: the local cloud's instances and servers must not hold the process.
if (require.main === module)
  runAsMain("rehearse", run, { exit: true, describe: (err) => (err instanceof Error ? err.message : String(err)) });
