/**
 * The one command-line convention every CLI of the project follows (plan, verify, drill, deploy,
 * rehearse, bench, doctor, localcloud), on Node's own argument parser (`node:util` parseArgs):
 *
 * - `--help`/`-h` prints the usage on stdout and exits 0 (wherever it stands on the line);
 * - `--flag value` and `--flag=value` both work; a flag given twice, a value missing, a value given
 *   to a switch, a stray positional argument: a usage error;
 * - a usage error exits 2 with ONE line on stderr: `<command>: error: <what> (see --help)`, with
 *   `did you mean --x?` for a near miss; every other error uses the same `<command>: error: ` prefix;
 * - stack names as Pulumi accepts them (`staging`, `org/staging`, `org/project/staging`), and a
 *   stack with no `Pulumi.<name>.yaml` here names the stacks that exist.
 *
 * parseArgs runs non-strict with tokens, so the messages are this module's own: its strict messages
 * quote the argument, and a mistyped argument may be a pasted secret (verify never echoes one).
 * Nothing here loads more than `node:` modules: a usage error answers before any heavy import.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** A bad command line or a bad name given on it: exit 2, one line, and the hint to see --help. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export interface OptionSpec {
  readonly type: "string" | "boolean";
  /** One letter: `-x`. */
  readonly short?: string;
  /** What the value is, in the usage text: `<name>`, `N`, `URL`. */
  readonly value?: string;
  readonly help: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

export interface CommandSpec<O extends OptionSpecs = OptionSpecs> {
  /** As the user types it after `wallet-executor`: `plan`, `verify`. */
  readonly name: string;
  /** The synopsis lines, without the `usage:` prefix or the command: `--stack <name> [--json]`. */
  readonly synopsis: readonly string[];
  /** One sentence: what the command does. */
  readonly summary: string;
  readonly options: O;
  /** Lines after the options (exit codes, notes). */
  readonly epilogue?: readonly string[];
  /** Never quote argument text in messages (a mistyped argument may be a pasted secret). */
  readonly quiet?: boolean;
  /** A message for an unknown flag of a special kind (verify: a flag that would carry a secret). */
  readonly unknownFlag?: (name: string) => string | undefined;
}

/** The parsed values: a string option is a string or absent, a switch true or absent. */
export type OptionValues<O extends OptionSpecs> = {
  readonly [K in keyof O]?: O[K]["type"] extends "string" ? string : boolean;
};

export type Parsed<O extends OptionSpecs> = { readonly help: true } | { readonly help: false; readonly values: OptionValues<O> };

/** The usage text, for stdout on `--help`. */
export function usage(spec: CommandSpec): string {
  const lines = spec.synopsis.map(
    (line, i) => `${i === 0 ? "usage:" : "      "} wallet-executor ${spec.name}${line === "" ? "" : ` ${line}`}`,
  );
  lines.push(`   or: npm run ${spec.name} --${spec.synopsis[0] === "" ? "" : ` ${spec.synopsis[0]}`}`, "", spec.summary, "", "options:");
  const rows = [
    ...Object.entries(spec.options).map(([name, o]) => [
      `${o.short ? `-${o.short}, ` : ""}--${name}${o.type === "string" ? ` ${o.value ?? "<value>"}` : ""}`,
      o.help,
    ]),
    ["-h, --help", "this text"],
  ];
  const width = Math.max(...rows.map(([flag]) => flag.length));
  for (const [flag, help] of rows) lines.push(`  ${flag.padEnd(width)}  ${help}`);
  lines.push("", "A flag takes its value as the next argument or after `=` (--flag=value).");
  if (spec.epilogue !== undefined) lines.push("", ...spec.epilogue);
  return `${lines.join("\n")}\n`;
}

/** Levenshtein distance, for `did you mean`. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/** The known flag closest to `name`, when it is close enough to be a typo. */
export function closestFlag(name: string, known: readonly string[]): string | undefined {
  let best: { flag: string; d: number } | undefined;
  for (const flag of known) {
    const d = flag.startsWith(name) || name.startsWith(flag) ? 1 : distance(name, flag);
    if (best === undefined || d < best.d) best = { flag, d };
  }
  return best !== undefined && best.d <= Math.max(2, Math.floor(name.length / 3)) ? best.flag : undefined;
}

/** A flag as typed, safe to show: only a plain `--word` is quoted back. */
const shownFlag = (raw: string): string | undefined => (/^--?[A-Za-z0-9][A-Za-z0-9-]{0,40}$/.test(raw) ? raw : undefined);

/**
 * Parses `argv` against the command's options. Throws UsageError; returns `{ help: true }` when
 * `--help` or `-h` is anywhere on the line (help wins over every other mistake).
 */
export function parseCommandLine<O extends OptionSpecs>(spec: CommandSpec<O>, argv: readonly string[]): Parsed<O> {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = { help: { type: "boolean", short: "h" } };
  for (const [name, o] of Object.entries(spec.options)) options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}) };
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  if (tokens.some((t) => t.kind === "option" && t.name === "help")) return { help: true };
  const values: Record<string, string | boolean> = {};
  for (const token of tokens) {
    if (token.kind === "option-terminator") continue;
    if (token.kind === "positional") {
      const shown = spec.quiet ? `#${token.index + 1}` : JSON.stringify(token.value);
      throw new UsageError(`unexpected argument ${shown}: every option is a --flag`);
    }
    const flag = `--${token.name}`;
    const option = spec.options[token.name];
    if (option === undefined) {
      const shown = shownFlag(token.rawName);
      const special = spec.unknownFlag?.(token.rawName);
      if (special !== undefined) throw new UsageError(special);
      const suggestion = closestFlag(
        flag,
        Object.keys(spec.options).map((name) => `--${name}`),
      );
      throw new UsageError(`unknown flag${shown ? ` ${shown}` : ""}${suggestion ? `: did you mean ${suggestion}?` : ""}`);
    }
    if (values[token.name] !== undefined) throw new UsageError(`${flag} is given twice`);
    if (option.type === "boolean") {
      if (token.inlineValue) throw new UsageError(`${flag} takes no value`);
      values[token.name] = true;
      continue;
    }
    // parseArgs takes the next argument whatever it is; an option there means the value is missing.
    if (token.value === undefined || token.value === "" || (!token.inlineValue && token.value.startsWith("-"))) {
      throw new UsageError(`${flag} needs a value${option.value ? ` (${option.value})` : ""}`);
    }
    values[token.name] = token.value;
  }
  return { help: false, values: values as OptionValues<O> };
}

/** The one error line: `<command>: error: <message>`, and for a usage error the hint to --help. */
export function errorLine(command: string, error: unknown, redact: (text: string) => string = (text) => text): string {
  const message = error instanceof Error ? error.message : String(error);
  return `${command}: error: ${redact(message)}${error instanceof UsageError ? " (see --help)" : ""}\n`;
}

/** A note (not an error) in the same style: `<command>: note: <message>`. */
export function noteLine(command: string, message: string): string {
  return `${command}: note: ${message}\n`;
}

export interface StackRef {
  /** As given. */
  readonly text: string;
  readonly organization?: string;
  readonly project?: string;
  /** The stack's own name: its settings are in `Pulumi.<name>.yaml`. */
  readonly name: string;
}

const NAME = /^[A-Za-z0-9_.-]+$/;
/** The Pulumi Cloud's rule for an organization (a user or org name). */
const OWNER = /^[a-zA-Z0-9][a-zA-Z0-9-_]{1,38}[a-zA-Z0-9]$/;

/**
 * A stack name as Pulumi 3.248 accepts it: `name`, `org/name` or `org/project/name`
 * (pkg/backend/httpstate/backend.go parseStackName and ValidateStackName); the name and the project
 * 1 to 100 of `A-Za-z0-9_.-` (sdk/go/common/tokens/stack_name.go ParseStackName,
 * tokens/project.go ValidateProjectName); the organization as the Pulumi Cloud names one
 * (backend.go stackOwnerRegexp; the diy backend's is always `organization`, which fits).
 */
export function parseStackRef(text: string): StackRef {
  const parts = text.split("/");
  const allowed = "allowed: <stack>, <org>/<stack> or <org>/<project>/<stack>";
  if (parts.length > 3) throw new UsageError(`--stack ${JSON.stringify(text)} has too many parts; ${allowed}`);
  const name = parts[parts.length - 1];
  const check = (what: string, part: string, ok: boolean, rule: string): void => {
    if (!ok) throw new UsageError(`--stack ${JSON.stringify(text)}: ${what} ${JSON.stringify(part)} is not allowed; allowed: ${rule}`);
  };
  check("the stack name", name, NAME.test(name) && name.length <= 100, "1 to 100 letters, digits, '_', '.' or '-'");
  if (parts.length === 3)
    check("the project", parts[1], NAME.test(parts[1]) && parts[1].length <= 100, "1 to 100 letters, digits, '_', '.' or '-'");
  if (parts.length >= 2) {
    check(
      "the organization",
      parts[0],
      OWNER.test(parts[0]),
      "3 to 40 letters, digits, '-' or '_', starting and ending with a letter or digit",
    );
  }
  return {
    text,
    name,
    ...(parts.length >= 2 ? { organization: parts[0] } : {}),
    ...(parts.length === 3 ? { project: parts[1] } : {}),
  };
}

/** The stacks with a settings file in `projectDir` (`Pulumi.<name>.yaml`), sorted. */
export function stacksIn(projectDir: string): string[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(projectDir);
  } catch {
    return [];
  }
  return entries
    .map((file) => /^Pulumi\.(.+)\.ya?ml$/.exec(file)?.[1])
    .filter((name): name is string => name !== undefined)
    .sort();
}

/**
 * The stack's settings file in `projectDir`; a UsageError naming the stacks that exist when there
 * is none, or when the stack names another project.
 */
export function requireStackFile(projectDir: string, stack: StackRef, project?: string): string {
  if (project !== undefined && stack.project !== undefined && stack.project !== project) {
    throw new UsageError(`--stack ${JSON.stringify(stack.text)}: the project part is not this project; allowed: ${project}`);
  }
  for (const ext of ["yaml", "yml"]) {
    const file = path.join(projectDir, `Pulumi.${stack.name}.${ext}`);
    if (fs.existsSync(file) && fs.statSync(file).isFile()) return file;
  }
  const existing = stacksIn(projectDir);
  throw new UsageError(
    `no stack ${JSON.stringify(stack.name)} here (no Pulumi.${stack.name}.yaml); ${
      existing.length > 0 ? `stacks: ${existing.join(", ")}` : "no stack files in this project"
    }`,
  );
}

/**
 * Runs a command's `run` as the process's entry point: its code becomes the exit code. An error
 * that escapes `run` is a bug: its message is shown only through `describe` (which redacts), since
 * an unexpected error could quote anything, configuration included.
 */
export function runAsMain(
  command: string,
  run: (argv: readonly string[]) => Promise<number>,
  options: { readonly exit?: boolean; readonly describe?: (error: unknown) => string } = {},
): void {
  run(process.argv.slice(2)).then(
    (code) => {
      if (options.exit) process.exit(code);
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(errorLine(command, `internal error${options.describe ? `: ${options.describe(error)}` : ""}`));
      process.exit(EXIT_FAILED);
    },
  );
}

/** Stopped by Ctrl-C (128 + SIGINT), after writing what was done so far. */
export const EXIT_INTERRUPTED = 130;

/**
 * Runs a command that stops cleanly on Ctrl-C: the first SIGINT aborts `signal` (the command cancels
 * what runs and writes its partial report) after printing `notice` on stderr; a second one exits at
 * once with 130. The handler is removed when the command ends.
 */
export async function withInterrupt(notice: string, body: (signal: AbortSignal) => Promise<number>): Promise<number> {
  const interrupt = new AbortController();
  const second = (): never => process.exit(EXIT_INTERRUPTED);
  const first = (): void => {
    process.stderr.write(`${notice}\n`);
    interrupt.abort();
    process.once("SIGINT", second);
  };
  process.once("SIGINT", first);
  try {
    return await body(interrupt.signal);
  } finally {
    process.removeListener("SIGINT", first);
    process.removeListener("SIGINT", second);
  }
}
