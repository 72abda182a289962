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

export class UsageError extends Error {}

export const USAGE =
  "usage: npm run rehearse -- [--stack staging|prod] [--scenario " +
  SCENARIOS.join("|") +
  "] [--rotation tagged|in-place] [--executor-command CMD] [--load N] [--rollout-ms N] [--out DIR] [--json]";

export function parseRehearseArgs(argv: readonly string[]): RehearseArgs {
  let stack = "staging";
  let scenario: ScenarioName = "rotate";
  let executorCommand: string | undefined;
  let load = 10;
  let rolloutMs = 500;
  let out: string | undefined;
  let rotation: RehearseArgs["rotation"];
  let json = false;
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    const value = (): string => {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--")) throw new UsageError(`${flag} needs a value\n${USAGE}`);
      i += 1;
      return next;
    };
    const number = (min: number, max: number): number => {
      const text = value();
      const n = Number(text);
      if (!/^[0-9]+(\.[0-9]+)?$/.test(text) || n < min || n > max)
        throw new UsageError(`${flag} ${text} is not allowed; allowed: a number ${min}..${max}`);
      return n;
    };
    switch (flag) {
      case "--stack": {
        const s = value();
        if (!(ENVIRONMENTS as readonly string[]).includes(s))
          throw new UsageError(`--stack ${s} is not allowed; allowed: ${ENVIRONMENTS.join(", ")}`);
        stack = s;
        break;
      }
      case "--scenario": {
        const s = value();
        if (!(SCENARIOS as readonly string[]).includes(s))
          throw new UsageError(`--scenario ${s} is not allowed; allowed: ${SCENARIOS.join(", ")}`);
        scenario = s as ScenarioName;
        break;
      }
      case "--rotation": {
        const r = value();
        if (!(ROTATIONS as readonly string[]).includes(r))
          throw new UsageError(`--rotation ${r} is not allowed; allowed: ${ROTATIONS.join(", ")}`);
        rotation = r as RehearseArgs["rotation"];
        break;
      }
      case "--executor-command":
        executorCommand = value();
        break;
      case "--load":
        load = number(0.5, 200);
        break;
      case "--rollout-ms":
        rolloutMs = number(0, 600_000);
        break;
      case "--out":
        out = value();
        break;
      case "--json":
        json = true;
        break;
      case "--help":
      case "-h":
        throw new UsageError(USAGE);
      default:
        throw new UsageError(`unknown argument ${flag}\n${USAGE}`);
    }
  }
  return {
    stack,
    scenario,
    ...(executorCommand !== undefined ? { executorCommand } : {}),
    load,
    rolloutMs,
    ...(rotation !== undefined ? { rotation } : {}),
    ...(out !== undefined ? { out } : {}),
    json,
  };
}

/** Stopped by Ctrl-C (128 + SIGINT), after writing the partial report. */
export const EXIT_INTERRUPTED = 130;

async function main(argv: readonly string[], signal?: AbortSignal): Promise<number> {
  let args: RehearseArgs;
  try {
    args = parseRehearseArgs(argv);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  const say = (line: string): void => void (args.json ? process.stderr : process.stdout).write(`${line}\n`);
  const root = path.resolve(__dirname, "..");
  const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
  const out = path.resolve(args.out ?? path.join(root, "rehearsals", `${stamp}-${args.stack}-${args.scenario}`));
  if (fs.existsSync(path.join(out, "project"))) {
    process.stderr.write(`--out ${out} already holds a rehearsal: give a new or empty folder\n`);
    return 2;
  }
  let cli = findPulumiCli();
  if (cli) say(`Pulumi CLI ${cli.version}: ${cli.source === "path" ? "found on PATH" : "built earlier"} (${cli.pulumi})`);
  else {
    say("no Pulumi CLI 3.248.x found: building it from Go modules (once; a warm build takes about 40 s) ...");
    try {
      cli = setupPulumiCli(say).cli;
    } catch (err) {
      process.stderr.write(`cannot set up the Pulumi CLI: ${err instanceof Error ? err.message : String(err)}\n`);
      return 1;
    }
    say(`Pulumi CLI ${cli.version} built (${cli.pulumi})`);
  }
  if (!ensurePolicyPackInstalled(root, say)) {
    process.stderr.write("cannot install the policy pack's dependencies: run `npm ci --prefix policy` and try again\n");
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

if (require.main === module) {
  // Ctrl-C: the running pulumi up is cancelled, the local cloud stopped, the partial report written;
  // a second Ctrl-C exits at once.
  const interrupt = new AbortController();
  process.once("SIGINT", () => {
    process.stderr.write("rehearse: interrupted (Ctrl-C): stopping, then writing the partial report\n");
    interrupt.abort();
    process.once("SIGINT", () => process.exit(EXIT_INTERRUPTED));
  });
  main(process.argv.slice(2), interrupt.signal).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`rehearse: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
