/**
 * `npm run plan -- --stack <name> [--json] [--program <path>] [--config-file <path>]`
 *
 * What `pulumi up` would do for a stack, offline: the program is evaluated under the recording
 * mock monitor with the stack file's config (secure values become redacted placeholders, never
 * decrypted), the policy pack runs through the harness, and the plan shows the credentials, the
 * steps in waves, the critical path and the policy verdicts. No network is contacted.
 *
 * Exit codes: 0 clean, 1 a mandatory policy violation, 2 a usage or configuration error.
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { ConfigError } from "../lib/config";
import { asError } from "../lib/errors";
import { CredentialSummary, buildPlan, hasMandatoryViolation, PlanDocument, renderPlan } from "../lib/plan";
import { REDACTED_PLACEHOLDER_PREFIX, readStackFile } from "../lib/stack-file";
// The SDK, the providers and the policy pack load in makePlan, after the arguments are checked:
// a usage error answers at once.
type Harness = typeof import("./policy-harness");
type Monitor = typeof import("./recording-monitor");

export const ROOT = path.resolve(__dirname, "..");

export interface PlanCliOptions {
  readonly stack: string;
  readonly json: boolean;
  readonly program: string;
  readonly configFile: string;
}

export class UsageError extends Error {}

const USAGE = "usage: npm run plan -- --stack <name> [--json] [--program <path>] [--config-file <path>]";

/** The stack whose config a `--program` runs with when no `--stack` is given. */
export const DEFAULT_PROGRAM_STACK = "staging";

export function parsePlanArgs(argv: readonly string[], cwd: string = ROOT): PlanCliOptions {
  let stack: string | undefined;
  let json = false;
  let program: string | undefined;
  let configFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith("--")) throw new UsageError(`${flag} needs a value; ${USAGE}`);
      i++;
      return v;
    };
    switch (flag) {
      case "--stack":
        stack = value();
        if (!/^[A-Za-z0-9._-]+$/.test(stack))
          throw new UsageError(`--stack ${JSON.stringify(stack)} is not a stack name (letters, digits, '.', '_', '-')`);
        break;
      case "--json":
        json = true;
        break;
      case "--program":
        program = path.resolve(cwd, value());
        break;
      case "--config-file":
        configFile = path.resolve(cwd, value());
        break;
      case "--help":
      case "-h":
        throw new UsageError(USAGE);
      default:
        throw new UsageError(`unknown argument ${JSON.stringify(flag)}; ${USAGE}`);
    }
  }
  // A program of its own (an adversarial or fixture program) runs with staging's config unless told otherwise.
  if (stack === undefined && program !== undefined) stack = DEFAULT_PROGRAM_STACK;
  if (stack === undefined) throw new UsageError(`--stack is required; ${USAGE}`);
  const resolvedConfig = configFile ?? path.join(ROOT, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(resolvedConfig)) {
    throw new UsageError(
      `${configFile ? "--config-file" : "--stack"}: no stack file at ${path.relative(cwd, resolvedConfig) || resolvedConfig}`,
    );
  }
  const resolvedProgram = program ?? path.join(ROOT, "index.ts");
  if (!fs.existsSync(resolvedProgram)) throw new UsageError(`--program: no program at ${resolvedProgram}`);
  return { stack, json, program: resolvedProgram, configFile: resolvedConfig };
}

/** The project name from Pulumi.yaml. */
function projectName(): string {
  const doc = parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as { name?: unknown };
  if (typeof doc?.name !== "string") throw new UsageError("Pulumi.yaml has no project name");
  return doc.name;
}

/** The credentials summary, from the program's `credentials` output when it has one. */
function credentialsFrom(outputs: Readonly<Record<string, unknown>>): CredentialSummary[] {
  const credentials = outputs.credentials;
  if (credentials === null || typeof credentials !== "object") return [];
  return Object.entries(credentials as Record<string, Record<string, unknown>>).map(([name, c]) => ({
    name,
    current: typeof c.currentGeneration === "number" ? c.currentGeneration : null,
    previous: typeof c.previousGeneration === "number" ? c.previousGeneration : null,
    revokePrevious: c.previousRevoked === true,
  }));
}

/**
 * A program outside the repository (`--program /elsewhere/prog.ts`) finds its packages
 * (`@pulumi/pulumi`, `@pulumi/gcp`, ...) in the repository's node_modules: the very copies the
 * recording monitor is installed in, or its resources would never reach it.
 */
function resolvePackagesFrom(programPath: string): void {
  const packages = path.join(ROOT, "node_modules");
  if (!path.relative(ROOT, programPath).startsWith("..")) return;
  const current = (process.env.NODE_PATH ?? "").split(path.delimiter).filter((entry) => entry !== "");
  if (current.includes(packages)) return;
  process.env.NODE_PATH = [packages, ...current].join(path.delimiter);
  // Node reads NODE_PATH at startup; this makes it read it again (internal, stable since Node 0.x).
  (require("module") as { _initPaths(): void })._initPaths();
}

/**
 * Builds the plan for the given options. Throws ConfigError or UsageError for exit code 2.
 * `program` overrides `options.program` with a function (tests pass `defineStack`: under Jest a
 * module cannot be re-executed by path).
 */
export async function makePlan(options: PlanCliOptions, program?: () => unknown): Promise<PlanDocument> {
  if (program === undefined) resolvePackagesFrom(options.program);
  const { evaluateWithPolicies } = require("./policy-harness") as Harness;
  const { MOCK_SECRET_PREFIX, evaluateProgram, stackMocks } = require("./recording-monitor") as Monitor;
  const project = projectName();
  const { config, secretKeys } = readStackFile(fs.readFileSync(options.configFile, "utf8"), project, path.basename(options.configFile));
  const run = (stackOutputs: Record<string, Record<string, unknown>>, firstPreview = false) =>
    evaluateWithPolicies({
      program: program ?? options.program,
      project,
      stack: options.stack,
      config,
      secretKeys,
      mocks: stackMocks({ stackOutputs }),
      firstPreview,
    });
  let stackOutputs: Record<string, Record<string, unknown>> = {};
  let { evaluation, violations } = await run({});
  // A program that reads another stack (prod reads staging's verified generations) sees, offline,
  // what that stack's own file would produce: staging's plan stands in for staging's last `up`.
  const references = evaluation.resources.filter((r) => r.type === "pulumi:pulumi:StackReference");
  if (references.length > 0) {
    stackOutputs = {};
    for (const reference of references) {
      const name = String(reference.inputs.name);
      const shortName = name.split("/").pop() as string;
      const file = path.join(ROOT, `Pulumi.${shortName}.yaml`);
      if (shortName === options.stack || !fs.existsSync(file)) continue;
      const other = readStackFile(fs.readFileSync(file, "utf8"), project, path.basename(file));
      const referenced = await evaluateProgram({
        program: program ?? options.program,
        project,
        stack: shortName,
        ...other,
        mocks: stackMocks(),
      });
      if (referenced.error === undefined) stackOutputs[name] = { ...referenced.outputs };
    }
    ({ evaluation, violations } = await run(stackOutputs));
  }
  if (evaluation.error !== undefined) throw asError(evaluation.error);
  // The pack can only stop a change during `pulumi preview`, where what providers compute (version
  // numbers, ids, account emails) is unknown: what a policy cannot prove safe there blocks too. Only
  // the mandatory findings of policies the evaluation above passed are added (the others would
  // repeat its findings with less detail), and no advisory note (the evaluation above decided them).
  const preview = await run(stackOutputs, true);
  if (preview.evaluation.error !== undefined) throw asError(preview.evaluation.error);
  const failed = new Set(violations.filter((v) => v.enforcementLevel === "mandatory").map((v) => v.policy));
  const previewOnly = preview.violations.filter((v) => v.enforcementLevel === "mandatory" && !failed.has(v.policy));
  return buildPlan({
    project,
    stack: options.stack,
    resources: evaluation.resources,
    credentials: credentialsFrom(evaluation.outputs),
    violations: [...violations, ...previewOnly].map((v) => ({
      policy: v.policy,
      enforcementLevel: v.enforcementLevel,
      urn: v.urn ?? null,
      message: v.message,
    })),
    forbidden: [REDACTED_PLACEHOLDER_PREFIX, MOCK_SECRET_PREFIX],
  });
}

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
}

export async function main(argv: readonly string[], io: Io): Promise<number> {
  let options: PlanCliOptions;
  try {
    options = parsePlanArgs(argv, process.cwd());
  } catch (err) {
    io.stderr(`error: ${(err as Error).message}\n`);
    return 2;
  }
  let plan: PlanDocument;
  try {
    plan = await makePlan(options);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof UsageError) {
      io.stderr(`error: ${err.message}\n`);
      return 2;
    }
    const message = err instanceof Error ? err.message : String(err);
    io.stderr(`error: the program failed while being evaluated: ${message}\n`);
    return 2;
  }
  io.stdout(options.json ? `${JSON.stringify(plan, null, 2)}\n` : `${renderPlan(plan)}\n`);
  return hasMandatoryViolation(plan) ? 1 : 0;
}

if (require.main === module) {
  // The SDK captures a stack trace for every promise it creates (leak diagnostics); mapping each
  // through source maps is most of an evaluation's time, and the plan never shows those traces.
  process.setSourceMapsEnabled(false);
  main(process.argv.slice(2), { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) }).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 2;
    },
  );
}
