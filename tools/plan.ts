/**
 * `npm run plan -- --stack <name> [--json] [--program <path>] [--config-file <path>]`
 *
 * What `pulumi up` would do for a stack, offline: the program is evaluated under the recording
 * mock monitor with the stack file's config (secure values become redacted placeholders, never
 * decrypted), the policy pack runs through the harness, and the plan shows the credentials, the
 * steps in waves, the critical path and the policy verdicts. No network is contacted. Values only
 * the cloud knows at apply time (ids, URIs, revisions, version numbers) show as
 * `[unknown until apply]`, never as the mocks' stand-ins (see makePlan). Secret values not set yet
 * stand in as placeholders: a finding, not a failure.
 *
 * Exit codes: 0 clean (secrets not set yet included), 1 a mandatory policy violation, 2 a usage or
 * configuration error.
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { ConfigError } from "../lib/config";
import { asError } from "../lib/errors";
import { CredentialSummary, RotationSummary, buildPlan, hasMandatoryViolation, PlanDocument, PlanViolation, renderPlan } from "../lib/plan";
import { REDACTED_PLACEHOLDER_PREFIX, readStackFile, withUnsetSecrets } from "../lib/stack-file";
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

/** The program's `rotation` output, when it has one. */
function rotationFrom(outputs: Readonly<Record<string, unknown>>): RotationSummary | undefined {
  const rotation = outputs.rotation as { strategy?: unknown; taggedGenerations?: unknown } | undefined;
  if (!rotation || (rotation.strategy !== "tagged" && rotation.strategy !== "in-place")) return undefined;
  const generations = Array.isArray(rotation.taggedGenerations)
    ? rotation.taggedGenerations.filter((g): g is number => typeof g === "number")
    : [];
  return { strategy: rotation.strategy, taggedGenerations: generations };
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

/** The marker the plan shows for a value only the cloud knows at apply time. */
const UNKNOWN_MARK = "[unknown until apply]";

/**
 * The values known at apply time but not in the dry run, from both evaluations' recorded outputs:
 * where the dry run's output is unknown, whatever the apply-time model holds there was made up by
 * the mocks (an id, a URI, a revision, a version number).
 */
function applyOnlyValues(
  dryRun: ReadonlyMap<string, Readonly<Record<string, unknown>>>,
  applied: ReadonlyMap<string, Readonly<Record<string, unknown>>>,
  unknown: symbol,
): string[] {
  const found = new Set<string>();
  const collect = (value: unknown): void => {
    if (typeof value === "string" || typeof value === "number") found.add(String(value));
    else if (Array.isArray(value)) value.forEach(collect);
    else if (value !== null && typeof value === "object") Object.values(value).forEach(collect);
  };
  const walk = (dry: unknown, apply: unknown): void => {
    if (dry === unknown) collect(apply);
    else if (Array.isArray(dry) && Array.isArray(apply)) dry.forEach((item, i) => walk(item, apply[i]));
    else if (dry !== null && typeof dry === "object" && apply !== null && typeof apply === "object") {
      for (const [key, item] of Object.entries(dry)) walk(item, (apply as Record<string, unknown>)[key]);
    }
  };
  for (const [urn, outputs] of dryRun) walk(outputs, applied.get(urn));
  found.delete("");
  // Longest first, so a version's full name goes before the number inside it.
  return [...found].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
}

/** A message with every apply-only value replaced by the marker (short values only as whole tokens). */
export function withoutApplyOnlyValues(message: string, values: readonly string[]): string {
  let out = message;
  for (const value of values) {
    const escaped = value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const pattern = value.length >= 8 ? new RegExp(escaped, "g") : new RegExp(`(?<![A-Za-z0-9])${escaped}(?![A-Za-z0-9])`, "g");
    out = out.replace(pattern, UNKNOWN_MARK);
  }
  return out;
}

/**
 * Builds the plan for the given options. Throws ConfigError or UsageError for exit code 2.
 * `program` overrides `options.program` with a function (tests pass `defineStack`: under Jest a
 * module cannot be re-executed by path).
 *
 * The program is evaluated twice. As a dry run (a first preview: every value a provider computes is
 * unknown) for what the plan shows, so no value the mocks make up is shown as real; and with the
 * mocks' values (the model of what the cloud returns) for the policy verdicts, so the pack decides
 * every check it would decide at the end of `pulumi up`, not only the ones a preview can. A verdict
 * never quotes a made-up value either: it shows the marker in its place.
 */
export async function makePlan(options: PlanCliOptions, program?: () => unknown): Promise<PlanDocument> {
  const { evaluateWithPolicies } = require("./policy-harness") as Harness;
  const { MOCK_SECRET_PREFIX, UNKNOWN, evaluateProgram, stackMocks } = require("./recording-monitor") as Monitor;
  const project = projectName();
  // Secrets not set yet are findings, not failures: a fresh clone's stack files hold none.
  const { config, secretKeys, unsetSecrets } = withUnsetSecrets(
    readStackFile(fs.readFileSync(options.configFile, "utf8"), project, path.basename(options.configFile)),
  );
  const run = (stackOutputs: Record<string, Record<string, unknown>>, dryRun: boolean) =>
    evaluateWithPolicies({
      program: program ?? options.program,
      project,
      stack: options.stack,
      config,
      secretKeys,
      firstPreview: dryRun,
      mocks: stackMocks({ stackOutputs }),
    });
  let dryRun = await run({}, true);
  // A program that reads another stack (prod reads staging's verified generations) sees, offline,
  // what that stack's own file would produce: staging's evaluation stands in for staging's last `up`.
  const stackOutputs: Record<string, Record<string, unknown>> = {};
  for (const reference of dryRun.evaluation.resources.filter((r) => r.type === "pulumi:pulumi:StackReference")) {
    const name = String(reference.inputs.name);
    const shortName = name.split("/").pop() as string;
    const file = path.join(ROOT, `Pulumi.${shortName}.yaml`);
    if (shortName === options.stack || !fs.existsSync(file)) continue;
    const other = withUnsetSecrets(readStackFile(fs.readFileSync(file, "utf8"), project, path.basename(file)));
    const referenced = await evaluateProgram({
      program: program ?? options.program,
      project,
      stack: shortName,
      config: other.config,
      secretKeys: other.secretKeys,
      mocks: stackMocks(),
    });
    if (referenced.error === undefined) stackOutputs[name] = { ...referenced.outputs };
  }
  if (Object.keys(stackOutputs).length > 0) dryRun = await run(stackOutputs, true);
  if (dryRun.evaluation.error !== undefined) throw asError(dryRun.evaluation.error);
  const applied = await run(stackOutputs, false);
  if (applied.evaluation.error !== undefined) throw asError(applied.evaluation.error);

  const madeUp = applyOnlyValues(dryRun.resourceOutputs, applied.resourceOutputs, UNKNOWN);
  const verdicts = new Map<string, PlanViolation>();
  // What the pack decides with every value known, and anything mandatory the preview refuses that it
  // does not (a policy never reports what it cannot prove, so that is not expected, but it is shown).
  const refusedWhenApplied = new Set(
    applied.violations.filter((v) => v.enforcementLevel === "mandatory").map((v) => `${v.policy} ${v.urn ?? ""}`),
  );
  const gate = dryRun.violations.filter((v) => v.enforcementLevel === "mandatory" && !refusedWhenApplied.has(`${v.policy} ${v.urn ?? ""}`));
  for (const v of [...applied.violations, ...gate]) {
    const shown = {
      policy: v.policy,
      enforcementLevel: v.enforcementLevel,
      urn: v.urn ?? null,
      message: withoutApplyOnlyValues(v.message, madeUp),
    };
    verdicts.set(`${shown.policy}\u0000${shown.urn ?? ""}\u0000${shown.message}`, shown);
  }
  return buildPlan({
    project,
    stack: options.stack,
    resources: dryRun.evaluation.resources,
    credentials: credentialsFrom(dryRun.evaluation.outputs),
    rotation: rotationFrom(dryRun.evaluation.outputs),
    violations: [...verdicts.values()],
    forbidden: [REDACTED_PLACEHOLDER_PREFIX, MOCK_SECRET_PREFIX],
    unsetSecrets,
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
