/**
 * `npm run plan -- --stack <name> [--json | --format text|json|markdown] [--program <path>] [--config-file <path>] [--base <git ref>]`
 *
 * What `pulumi up` would do for a stack, offline: the program is evaluated under the recording
 * mock monitor with the stack file's config (secure values become redacted placeholders, never
 * decrypted), the policy pack runs through the harness, and the plan shows the credentials, the
 * steps in waves, the critical path and the policy verdicts. No network is contacted. Values only
 * the cloud knows at apply time (ids, URIs, revisions, version numbers) show as
 * `[unknown until apply]`, never as the mocks' stand-ins (see makePlan). Secret values not set yet
 * stand in as placeholders: a finding, not a failure.
 *
 * What the stack last applied (a mnemonic change is a rotation) is, offline, the stack's own file at
 * a base git ref: `--base <ref>` (a PR's target branch), default HEAD. No such file, or no git,
 * counts as unknown, and unknown counts as a change. With `--base`, the plan also says what the change
 * does against that ref (ops/plan/diff.ts): the current program is planned under the stack file at
 * the ref and under the new one, and the two plans are compared; `--format markdown` renders that
 * for a pull request (ops/plan/markdown.ts).
 *
 * Exit codes: 0 clean (secrets not set yet included), 1 a mandatory policy violation, 2 a usage or
 * configuration error.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { ConfigError, checkSecretKeys, decodeConfigMap, parseStackConfig } from "../../stack/config";
import { asError } from "../../lib/errors";
import { appliedOutputsFromConfig, appliedStateFrom, checkAgainstApplied } from "../../stack/last-applied";
import { CredentialSummary, buildPlan, hasMandatoryViolation, PlanDocument, PlanViolation, RotationSummary, renderPlan } from "./plan";
import { Redactor, printable } from "../../lib/redact";
import { REDACTED_PLACEHOLDER_PREFIX, readStackFile, secureValueChanges, withUnsetSecrets } from "../../stack/stack-file";
import {
  type CommandSpec,
  EXIT_USAGE,
  UsageError,
  errorLine,
  parseCommandLine,
  parseStackRef,
  requireStackFile,
  runAsMain,
  stacksIn,
  usage,
} from "../../lib/cli";
// The SDK, the providers and the policy pack load in makePlan, after the arguments are checked:
// a usage error answers at once.
type Harness = typeof import("../../harness/policy-harness");
type Monitor = typeof import("../../harness/recording-monitor");
type DynamicProvider = typeof import("../../lib/sdk-internals/dynamic-provider");
type Diff = typeof import("./diff");
type Markdown = typeof import("./markdown");

/** How the plan is printed: the human text, the JSON document, or markdown for a pull request (needs `--base`). */
export type PlanFormat = "text" | "json" | "markdown";
const FORMATS: readonly PlanFormat[] = ["text", "json", "markdown"];

export const ROOT = path.resolve(__dirname, "../..");

export interface PlanCliOptions {
  /** As given: `staging`, `org/staging` or `org/project/staging`. */
  readonly stack: string;
  readonly json: boolean;
  readonly format: PlanFormat;
  readonly program: string;
  readonly configFile: string;
  /** The git ref whose stack file stands for what the stack last applied; undefined: HEAD. */
  readonly base?: string;
}

export { UsageError };

/** The plan document's schema name and version, first key of `--json`. */
export const PLAN_SCHEMA = "wallet-executor/plan/v1";

export const PLAN_COMMAND = {
  name: "plan",
  synopsis: ["--stack <name> [--json | --format text|json|markdown] [--program <path>] [--config-file <path>] [--base <git ref>]"],
  summary: "What `pulumi up` would do for a stack, offline: the steps in waves, the critical path and the policy verdicts.",
  options: {
    stack: { type: "string", value: "<name>", help: "the stack: <name>, <org>/<name> or <org>/<project>/<name> (Pulumi.<name>.yaml)" },
    json: { type: "boolean", help: `print the plan as one JSON document (${PLAN_SCHEMA}) on stdout` },
    program: { type: "string", value: "<path>", help: "evaluate this program instead of index.ts (default stack: staging)" },
    "config-file": { type: "string", value: "<path>", help: "read the config from this file instead of Pulumi.<name>.yaml" },
    format: {
      type: "string",
      value: "text|json|markdown",
      help: "text (default), json (as --json), or markdown for a pull request (needs --base)",
    },
    base: {
      type: "string",
      value: "<git ref>",
      help: "compare with the stack file at this ref: what the change does, and what the stack last applied (default HEAD)",
    },
  },
  epilogue: ["exit codes: 0 clean, 1 a mandatory policy violation, 2 a usage or configuration error"],
} as const satisfies CommandSpec;

/** A git revision as a person types it (never an option: no leading `-`). */
const GIT_REF = /^(?!-)[A-Za-z0-9._/@{}~^:-]{1,200}$/;

/** The parts of a stack name. */
export function stackParts(stack: string): { organization?: string; project?: string; name: string } {
  const { organization, project, name } = parseStackRef(stack);
  return { ...(organization !== undefined ? { organization } : {}), ...(project !== undefined ? { project } : {}), name };
}

/** Refuses a path that is missing or not a regular file, naming the flag. */
function requireFile(flag: string, file: string, cwd: string, what: string): void {
  const shown = path.relative(cwd, file) || file;
  if (!fs.existsSync(file)) throw new UsageError(`${flag}: no ${what} at ${shown}`);
  if (fs.statSync(file).isDirectory()) throw new UsageError(`${flag}: ${shown} is a directory; allowed: a ${what} (a file)`);
}

/** The stack whose config a `--program` runs with when no `--stack` is given. */
export const DEFAULT_PROGRAM_STACK = "staging";

/** Parses the command line (no loading here: a usage error answers at once). `"help"` for --help. */
export function parsePlanArgs(argv: readonly string[], cwd?: string): PlanCliOptions;
export function parsePlanArgs(argv: readonly string[], cwd: string, allowHelp: true): PlanCliOptions | "help";
export function parsePlanArgs(argv: readonly string[], cwd: string = ROOT, allowHelp = false): PlanCliOptions | "help" {
  const parsed = parseCommandLine(PLAN_COMMAND, argv);
  if (parsed.help) {
    if (allowHelp) return "help";
    throw new UsageError(usage(PLAN_COMMAND));
  }
  const { values } = parsed;
  const program = values.program === undefined ? undefined : path.resolve(cwd, values.program);
  const configFile = values["config-file"] === undefined ? undefined : path.resolve(cwd, values["config-file"]);
  const base = values.base;
  if (base !== undefined && !GIT_REF.test(base))
    throw new UsageError(`--base ${JSON.stringify(base)} is not a git ref; allowed: a branch, tag or commit`);
  // A program of its own (an adversarial or fixture program) runs with staging's config unless told otherwise.
  let format: PlanFormat | undefined = values.json === true ? "json" : undefined;
  if (values.format !== undefined) {
    if (!(FORMATS as readonly string[]).includes(values.format))
      throw new UsageError(`--format ${JSON.stringify(values.format)} is not a format; allowed: ${FORMATS.join(", ")}`);
    if (format === "json" && values.format !== "json") throw new UsageError(`--format ${values.format} conflicts with --json`);
    format = values.format as PlanFormat;
  }
  if (format === "markdown" && base === undefined) {
    throw new UsageError("--format markdown needs --base <git ref>: the markdown plan says what changes against it");
  }
  const chosen = format ?? "text";
  const stack = values.stack ?? (program !== undefined ? DEFAULT_PROGRAM_STACK : undefined);
  if (stack === undefined) throw new UsageError(`--stack is required; stacks: ${stacksIn(ROOT).join(", ")}`);
  const ref = parseStackRef(stack);
  let resolvedConfig: string;
  if (configFile !== undefined) {
    resolvedConfig = configFile;
    requireFile("--config-file", resolvedConfig, cwd, "stack file");
  } else resolvedConfig = requireStackFile(ROOT, ref);
  const resolvedProgram = program ?? path.join(ROOT, "index.ts");
  requireFile("--program", resolvedProgram, cwd, "program");
  return {
    stack,
    json: chosen === "json",
    format: chosen,
    program: resolvedProgram,
    configFile: resolvedConfig,
    ...(base === undefined ? {} : { base }),
  };
}

/** Runs git in `dir`; undefined when it fails (no git, not a repository, no such object). */
function git(dir: string, args: readonly string[]): string | undefined {
  try {
    return execFileSync("git", [...args], { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], maxBuffer: 16 << 20 });
  } catch {
    return undefined;
  }
}

/** What the stack last applied, offline: its own stack file at the base ref, or null when unknown. */
export interface LastApplied {
  readonly outputs: Record<string, unknown> | null;
  /** Where it came from, or why it is unknown, for the plan's notes. */
  readonly source: string;
}

/**
 * What the stack last applied, offline: its own file at `base` (default HEAD) in the project at
 * `dir`. Without git, the project's own `Pulumi.<stack>.yaml` stands for it when the plan is of
 * another file (`--config-file`); otherwise it is unknown (and unknown counts as a change).
 */
export function lastAppliedAt(
  base: string | undefined,
  stackName: string,
  project: string,
  dir: string = ROOT,
  plannedFile?: string,
): LastApplied {
  const ref = base ?? "HEAD";
  const file = `Pulumi.${stackName}.yaml`;
  const read = (text: string, source: string): LastApplied => {
    try {
      return { outputs: appliedOutputsFromConfig(readStackFile(text, project, source).config), source };
    } catch {
      return { outputs: null, source: `unknown (${source} cannot be read)` };
    }
  };
  const commit = git(dir, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`])?.trim();
  if (!commit) {
    if (base !== undefined) throw new UsageError(`--base: ${JSON.stringify(base)} is not a commit in this repository`);
    const onDisk = path.join(dir, file);
    if (plannedFile !== undefined && path.resolve(plannedFile) !== onDisk && fs.existsSync(onDisk) && fs.statSync(onDisk).isFile()) {
      return read(fs.readFileSync(onDisk, "utf8"), `${file} (no git: the project's own stack file)`);
    }
    return { outputs: null, source: "unknown (the project is not a git checkout; pass --base <ref>)" };
  }
  const text = git(dir, ["show", `${commit}:./${file}`]);
  if (text === undefined) return { outputs: null, source: `unknown (${ref} has no ${file}: a new stack)` };
  return read(text, `${ref}:${file}`);
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
 *
 * The program is evaluated twice. As a dry run (a first preview: every value a provider computes is
 * unknown) for what the plan shows, so no value the mocks make up is shown as real; and with the
 * mocks' values (the model of what the cloud returns) for the policy verdicts, so the pack decides
 * every check it would decide at the end of `pulumi up`, not only the ones a preview can. A verdict
 * never quotes a made-up value either: it shows the marker in its place.
 */
export async function makePlan(options: PlanCliOptions, program?: () => unknown, notes: string[] = []): Promise<PlanDocument> {
  if (program === undefined) resolvePackagesFrom(options.program);
  const project = projectName();
  const stack = stackParts(options.stack);
  if (stack.project !== undefined && stack.project !== project) {
    throw new UsageError(`--stack ${JSON.stringify(options.stack)}: the project part is not this project; allowed: ${project}`);
  }
  // Secrets not set yet are findings, not failures: a fresh clone's stack files hold none.
  const { config, secretKeys, unsetSecrets } = withUnsetSecrets(
    readStackFile(fs.readFileSync(options.configFile, "utf8"), project, path.basename(options.configFile)),
  );

  // The config's identity and the last-applied gates, checked here too: whatever program is
  // evaluated (--program), a stack file that bypasses a gate never plans as OK.
  const now = new Date();
  const secret = new Set(secretKeys);
  const decoded = decodeConfigMap(config, (key) => secret.has(key));
  const parsed = parseStackConfig(decoded.raw, now, { stack: options.stack, secretKeys: decoded.secretKeys });
  checkSecretKeys(parsed, decoded.present, decoded.secretKeys);
  const lastApplied = lastAppliedAt(options.base, stack.name, project, ROOT, options.configFile);
  const check = checkAgainstApplied(parsed, appliedStateFrom(lastApplied.outputs?.credentials), now);
  notes.push(
    `last applied: ${lastApplied.source}` +
      (check.mnemonicRotation === undefined ? "; mnemonic unchanged" : `; mnemonic ROTATION: ${check.mnemonicRotation}`),
  );

  // The plan shows a mark for a dynamic provider's code and no policy reads it: not serialized.
  (require("../../lib/sdk-internals/dynamic-provider") as DynamicProvider).skipDynamicProviderCode();
  const { evaluateWithPolicies } = require("../../harness/policy-harness") as Harness;
  const { MOCK_SECRET_PREFIX, UNKNOWN, evaluateProgram, stackMocks } = require("../../harness/recording-monitor") as Monitor;
  const organization = stack.organization;
  const run = (stackOutputs: Record<string, Record<string, unknown>>, dryRun: boolean) =>
    evaluateWithPolicies({
      program: program ?? options.program,
      project,
      stack: stack.name,
      organization,
      config,
      secretKeys,
      firstPreview: dryRun,
      lastApplied: lastApplied.outputs,
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
    // The stack's reference to itself is answered by lastApplied.
    if (shortName === stack.name || !fs.existsSync(file)) continue;
    const other = withUnsetSecrets(readStackFile(fs.readFileSync(file, "utf8"), project, path.basename(file)));
    const referenced = await evaluateProgram({
      program: program ?? options.program,
      project,
      stack: shortName,
      organization,
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
    stack: stack.name,
    resources: dryRun.evaluation.resources,
    credentials: credentialsFrom(dryRun.evaluation.outputs),
    rotation: rotationFrom(dryRun.evaluation.outputs),
    violations: [...verdicts.values()],
    forbidden: [REDACTED_PLACEHOLDER_PREFIX, MOCK_SECRET_PREFIX],
    unsetSecrets,
  });
}

/** The stack file at a git ref, or undefined when the ref has none (a new stack). */
export function stackFileAt(ref: string, stackName: string, dir: string = ROOT): string | undefined {
  const commit = git(dir, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`])?.trim();
  if (!commit) throw new UsageError(`--base: ${JSON.stringify(ref)} is not a commit in this repository`);
  return git(dir, ["show", `${commit}:./Pulumi.${stackName}.yaml`]);
}

/**
 * What the plan changes against `options.base`: the same program planned under the stack file at
 * that ref, compared with `plan`. A base that cannot be planned (a config the current program
 * refuses) is said, and every step counts as created.
 */
export async function makeChange(
  options: PlanCliOptions & { base: string },
  plan: PlanDocument,
  program?: () => unknown,
): Promise<import("./diff").PlanChange> {
  const { diffPlans } = require("./diff") as Diff;
  const stackName = stackParts(options.stack).name;
  const text = stackFileAt(options.base, stackName);
  if (text === undefined) return diffPlans(options.base, null, plan, `${options.base} has no Pulumi.${stackName}.yaml (a new stack)`);
  // Both plans see secure values as the same redacted placeholder: only the files' ciphertexts tell.
  const secretValues = secureValueChanges(text, fs.readFileSync(options.configFile, "utf8"), projectName());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-base-"));
  try {
    const configFile = path.join(dir, `Pulumi.${stackName}.yaml`);
    fs.writeFileSync(configFile, text);
    const base = await makePlan({ ...options, configFile }, program);
    return diffPlans(options.base, base, plan, null, secretValues);
  } catch (err) {
    return diffPlans(options.base, null, plan, safeMessage(err instanceof Error ? err.message : String(err)), secretValues);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** Every message leaves through the one redaction module: placeholders, credential shapes, control characters. */
const errorRedactor = new Redactor([REDACTED_PLACEHOLDER_PREFIX, "MOCKSECRET"]);
const safeMessage = (text: string): string =>
  text
    .split("\n")
    .map((line) => printable(errorRedactor.text(line)))
    .join("\n");

export async function main(argv: readonly string[], io: Io): Promise<number> {
  let options: PlanCliOptions | "help";
  const fail = (error: unknown): number => {
    io.stderr(errorLine("plan", error, safeMessage));
    return EXIT_USAGE;
  };
  try {
    options = parsePlanArgs(argv, process.cwd(), true);
  } catch (err) {
    return fail(err);
  }
  if (options === "help") {
    io.stdout(usage(PLAN_COMMAND));
    return 0;
  }
  let plan: PlanDocument;
  const notes: string[] = [];
  try {
    plan = await makePlan(options, undefined, notes);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof UsageError) return fail(err);
    const message = err instanceof Error ? err.message : String(err);
    return fail(new Error(`the program failed while being evaluated: ${message}`));
  }
  let change: import("./diff").PlanChange | null = null;
  if (options.base !== undefined) {
    try {
      change = await makeChange({ ...options, base: options.base }, plan);
    } catch (err) {
      return fail(err);
    }
  }
  if (options.format === "json") io.stdout(`${JSON.stringify({ schema: PLAN_SCHEMA, ...plan, change }, null, 2)}\n`);
  else if (options.format === "markdown" && change !== null) {
    io.stdout((require("./markdown") as Markdown).renderPlanMarkdown(plan, change));
  } else {
    // What changes first (the reviewer's question), then the whole plan.
    const changeText = change === null ? [] : [...(require("./diff") as Diff).renderChangeText(change), ""];
    io.stdout(`${[...changeText, renderPlan(plan, notes)].join("\n")}\n`);
  }
  return hasMandatoryViolation(plan) ? 1 : 0;
}

/** The command as the process runs it. */
export function run(argv: readonly string[]): Promise<number> {
  return main(argv, { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) });
}

if (require.main === module) {
  // The SDK captures a stack trace for every promise it creates (leak diagnostics); mapping each
  // through source maps is most of an evaluation's time, and the plan never shows those traces.
  process.setSourceMapsEnabled(false);
  runAsMain("plan", run, { describe: (err) => safeMessage(err instanceof Error ? err.message : String(err)) });
}
