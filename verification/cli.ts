/**
 * `npm run verify -- ...`: the runbook's Verification Checklist against a deployed wallet executor.
 * Secrets come only from environment variables named by `--*-env` flags, never from argv (argv is
 * visible in `ps`, shell history and CI logs). Exit codes: 0 all checks passed, 1 a check failed,
 * 2 usage or configuration error.
 */
import { Redactor, clip, printable } from "../lib/redact";
import { ProgressDisplay } from "./progress";
import * as path from "node:path";
import {
  type CommandSpec,
  EXIT_FAILED,
  EXIT_INTERRUPTED,
  EXIT_OK,
  EXIT_USAGE,
  UsageError,
  errorLine,
  parseCommandLine,
  parseStackRef,
  requireStackFile,
  runAsMain,
  usage,
  withInterrupt,
} from "../lib/cli";
import { isLoopback, verifyExecutor, VerifyOptionsError, type VerifyOptions, type VerifyReport } from "./verify";
import type { StackTarget } from "./stack-target";

export interface CliIo {
  stdout: { write(text: string): unknown };
  /** `isTTY`/`columns`: progress is one updating line on a terminal, one line per change otherwise. */
  stderr: { write(text: string): unknown; isTTY?: boolean; columns?: number };
  /** Aborted on Ctrl-C: the run stops and the partial report is printed. */
  signal?: AbortSignal;
  /** Where Pulumi.yaml and the stack files are (default: this project). */
  projectDir?: string;
  /** Reads `--stack`'s outputs (default: the Automation API; tests give their own). */
  readStackTarget?: (stack: string, projectDir: string, env: NodeJS.ProcessEnv) => Promise<StackTarget>;
}

const PROJECT_DIR = path.resolve(__dirname, "..");

export const DEFAULT_TOKEN_ENV = "OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN";

/** The `--json` document's schema name and version. */
export const VERIFY_SCHEMA = "wallet-executor/verify/v1";

/** Words that mark a flag as carrying secret material when it is not one of ours (`--token`, `--spark-key`, ...). */
const SECRET_FLAG_WORDS = /(token|key|secret|password|passwd|mnemonic|seed|invoice|credential|bearer)/i;

export const VERIFY_COMMAND = {
  name: "verify",
  synopsis: ["--stack <name> [options]", "--base-url URL --expect-token-version N [options]"],
  summary:
    "The runbook's verification checklist against a deployed wallet executor; secrets come only from environment variables named by --*-env flags.",
  options: {
    stack: {
      type: "string",
      value: "<name>",
      help: "read the executor URL and token generation from this stack's outputs (Pulumi CLI and login)",
    },
    "base-url": { type: "string", value: "URL", help: "executor base URL (http or https), instead of --stack" },
    "expect-token-version": { type: "string", value: "N", help: "expected /status.authTokenVersion (1..1000000), instead of --stack" },
    "token-env": { type: "string", value: "VAR", help: `env var holding the current token (default ${DEFAULT_TOKEN_ENV})` },
    "previous-token-env": { type: "string", value: "VAR", help: "env var holding the rotated-out token: it must get the 401" },
    "spark-key-env": { type: "string", value: "VAR", help: "env var holding the Spark API key: it must never be echoed" },
    "invoice-env": {
      type: "string",
      value: "VAR",
      help: "env var holding a BOLT11 invoice to pay (payment smoke test); needs the next two",
    },
    host: { type: "string", value: "HOST", help: "the host the invoice belongs to (with --invoice-env)" },
    "max-amount-msats": { type: "string", value: "N", help: "the spend cap for that payment (with --invoice-env)" },
    "expect-mode": { type: "string", value: "spark|mock", help: "expected /status.mode (spark also requires apiKeyConfigured)" },
    "expect-identity": { type: "string", value: "PUBKEY", help: "/status.identityPubkey must equal this" },
    "reject-identity": { type: "string", value: "PUBKEY", help: "/status.identityPubkey must differ from this (mnemonic rotation)" },
    "deadline-ms": { type: "string", value: "N", help: "deadline of the whole run, the payment included (default 120000)" },
    "request-timeout-ms": { type: "string", value: "N", help: "per-request timeout (default 10000)" },
    "allow-insecure-http": {
      type: "boolean",
      help: "allow http:// to a host that is not loopback (the token crosses the network in clear)",
    },
    json: { type: "boolean", help: `print {"schema","ok","checks"} (${VERIFY_SCHEMA}) as JSON on stdout` },
  },
  epilogue: [
    "While it waits, stderr shows the check waited on and the time left before the deadline (one updating line on a",
    "terminal, one line per change otherwise). Ctrl-C stops it and prints the partial report.",
    "exit codes: 0 all checks passed, 1 a check failed, 2 usage or configuration error (or --stack unreadable here), 130 interrupted (Ctrl-C)",
  ],
  // Argument text is never echoed in messages: a mistyped argument may well be a pasted secret.
  quiet: true,
  unknownFlag: (raw: string): string | undefined =>
    SECRET_FLAG_WORDS.test(raw)
      ? `${/^--[a-z0-9-]{1,40}$/i.test(raw) ? raw : "flag"} would put a secret on the command line; put it in an environment variable and name that variable with --token-env, --previous-token-env, --spark-key-env or --invoice-env`
      : undefined,
} as const satisfies CommandSpec;

export const USAGE = usage(VERIFY_COMMAND);

type VerifyFlag = keyof typeof VERIFY_COMMAND.options;
type ValueFlag = { [K in VerifyFlag]: (typeof VERIFY_COMMAND.options)[K]["type"] extends "string" ? `--${K}` : never }[VerifyFlag];
type BooleanFlag =
  "--help" | { [K in VerifyFlag]: (typeof VERIFY_COMMAND.options)[K]["type"] extends "boolean" ? `--${K}` : never }[VerifyFlag];

interface ParsedArgs {
  values: Partial<Record<ValueFlag, string>>;
  flags: Set<BooleanFlag>;
}

function parseArgs(argv: readonly string[]): ParsedArgs {
  const parsed = parseCommandLine(VERIFY_COMMAND, argv);
  if (parsed.help) return { values: {}, flags: new Set(["--help"]) };
  const result: ParsedArgs = { values: {}, flags: new Set() };
  for (const [name, value] of Object.entries(parsed.values)) {
    if (typeof value === "string") result.values[`--${name}` as ValueFlag] = value;
    else if (value === true) result.flags.add(`--${name}` as BooleanFlag);
  }
  return result;
}

function integerFlag(values: ParsedArgs["values"], name: ValueFlag, min: number, max: number): number | undefined {
  const text = values[name];
  if (text === undefined) return undefined;
  const value = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new UsageError(`${name} must be an integer from ${min} to ${max}`);
  return value;
}

/** Reads a secret from the environment variable named by `flag` (or its default). */
function secretFromEnv(env: NodeJS.ProcessEnv, values: ParsedArgs["values"], flag: ValueFlag, defaultName?: string): string | undefined {
  const name = values[flag] ?? defaultName;
  if (name === undefined) return undefined;
  // The value of an --*-env flag may be the secret itself, typed by mistake: do not echo it.
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new UsageError(`${flag} expects the NAME of an environment variable`);
  const value = env[name];
  const source = values[flag] === undefined ? `default of ${flag}` : flag;
  if (value === undefined || value.trim() === "") throw new UsageError(`environment variable ${name} (${source}) is unset or empty`);
  // A line break in a token would inject headers; never trimmed away silently, never printed.
  if (/[\r\n]/.test(value))
    throw new UsageError(`environment variable ${name} (${source}) contains a line break (CR or LF); allowed: one line`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(value))
    throw new UsageError(`environment variable ${name} (${source}) contains a control character; allowed: printable text`);
  return value.trim();
}

interface CliConfig {
  options: VerifyOptions;
  json: boolean;
}

function buildConfig(parsed: ParsedArgs, env: NodeJS.ProcessEnv, target?: StackTarget): CliConfig {
  const { flags } = parsed;
  // With --stack, the URL and the token generation come from the stack's outputs, checked as if given.
  const values: ParsedArgs["values"] =
    target === undefined
      ? parsed.values
      : { ...parsed.values, "--base-url": target.executorUrl, "--expect-token-version": String(target.tokenGeneration) };

  const rawUrl = values["--base-url"];
  if (rawUrl === undefined) throw new UsageError("--stack or --base-url is required");
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new UsageError("--base-url is not a valid URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError("--base-url must be an http or https URL");
  if (url.username !== "" || url.password !== "") throw new UsageError("--base-url must not carry credentials");
  if (url.search !== "" || url.hash !== "") throw new UsageError("--base-url must not have a query or fragment");
  if (url.protocol === "http:" && !isLoopback(url.hostname) && !flags.has("--allow-insecure-http")) {
    throw new UsageError(
      "--base-url is plain http to a host that is not loopback: the token would cross the network in clear; use https, or pass --allow-insecure-http",
    );
  }

  if (values["--expect-token-version"] === undefined) throw new UsageError("--expect-token-version is required");
  const expectTokenVersion = integerFlag(values, "--expect-token-version", 1, 1_000_000) as number;
  const deadlineMs = integerFlag(values, "--deadline-ms", 1, 3_600_000);
  const requestTimeoutMs = integerFlag(values, "--request-timeout-ms", 1, 600_000);

  const expectMode = values["--expect-mode"];
  if (expectMode !== undefined && expectMode !== "spark" && expectMode !== "mock")
    throw new UsageError("--expect-mode must be spark or mock");

  const token = secretFromEnv(env, values, "--token-env", DEFAULT_TOKEN_ENV) as string;
  const previousToken = secretFromEnv(env, values, "--previous-token-env");
  const sparkApiKey = secretFromEnv(env, values, "--spark-key-env");

  let payment: VerifyOptions["payment"];
  if (values["--invoice-env"] !== undefined) {
    if (values["--host"] === undefined) throw new UsageError("--invoice-env needs --host");
    if (values["--max-amount-msats"] === undefined) throw new UsageError("--invoice-env needs --max-amount-msats");
    const maxAmountMsats = integerFlag(values, "--max-amount-msats", 1, Number.MAX_SAFE_INTEGER) as number;
    const invoice = secretFromEnv(env, values, "--invoice-env") as string;
    payment = { invoice, host: values["--host"], maxAmountMsats };
  } else if (values["--host"] !== undefined || values["--max-amount-msats"] !== undefined) {
    throw new UsageError(`${values["--host"] !== undefined ? "--host" : "--max-amount-msats"} only makes sense with --invoice-env`);
  }

  return {
    json: flags.has("--json"),
    options: {
      baseUrl: rawUrl,
      expectTokenVersion,
      token,
      previousToken,
      sparkApiKey,
      expectMode,
      expectIdentity: values["--expect-identity"],
      rejectIdentity: values["--reject-identity"],
      payment,
      deadlineMs,
      requestTimeoutMs,
      allowInsecureHttp: flags.has("--allow-insecure-http"),
    },
  };
}

/** The human table. Details and status fields are already redacted; here they are also made one terminal line each. */
function renderTable(report: VerifyReport): string {
  const rows = report.checks.map((c) => [c.name, c.ok ? "PASS" : "FAIL", String(c.ms), printable(c.detail)]);
  const header = ["CHECK", "RESULT", "MS", "DETAIL"];
  const width = (column: number): number => Math.max(header[column].length, ...rows.map((r) => r[column].length));
  const [nameWidth, resultWidth, msWidth] = [width(0), width(1), width(2)];
  const line = (r: string[]): string =>
    `${r[0].padEnd(nameWidth)}  ${r[1].padEnd(resultWidth)}  ${r[2].padStart(msWidth)}  ${r[3]}`.trimEnd();
  const lines = [line(header), ...rows.map(line)];
  const s = report.status;
  if (s) {
    const field = (text: string): string => clip(printable(text), 120);
    const parts = [
      s.walletId !== undefined ? `walletId ${field(s.walletId)}` : "",
      s.mode !== undefined ? `mode ${field(s.mode)}` : "",
      s.authTokenVersion !== undefined ? `authTokenVersion ${s.authTokenVersion}` : "",
      s.lifecycle !== undefined ? `lifecycle ${field(s.lifecycle)}` : "",
      s.balanceSats !== undefined ? `balance ${s.balanceSats} sats` : "",
      s.identityPubkey !== undefined ? `identity ${field(s.identityPubkey)}` : "",
    ].filter(Boolean);
    lines.push("", `executor: ${parts.join(", ")}`);
  }
  const failed = report.checks.filter((c) => !c.ok).length;
  if (report.interrupted) {
    lines.push(
      `verification INTERRUPTED (Ctrl-C): partial report, ${failed} of ${report.checks.length} checks without a pass (${report.totalMs} ms)`,
    );
    return lines.join("\n") + "\n";
  }
  lines.push(
    failed === 0
      ? `verification PASSED: ${report.checks.length} checks in ${report.totalMs} ms`
      : `verification FAILED: ${failed} of ${report.checks.length} checks failed (${report.totalMs} ms)`,
  );
  return lines.join("\n") + "\n";
}

/** Runs the CLI; returns the exit code. Writes only through `io`. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  let config: CliConfig;
  let target: (StackTarget & { stack: string }) | undefined;
  try {
    const parsed = parseArgs(argv);
    if (parsed.flags.has("--help")) {
      io.stdout.write(USAGE);
      return EXIT_OK;
    }
    const stack = parsed.values["--stack"];
    if (stack !== undefined) {
      if (parsed.values["--base-url"] !== undefined || parsed.values["--expect-token-version"] !== undefined) {
        throw new UsageError(
          "--stack reads the executor URL and token version from the stack's outputs; give --stack, or --base-url with --expect-token-version, not both",
        );
      }
      const ref = parseStackRef(stack);
      requireStackFile(io.projectDir ?? PROJECT_DIR, ref);
      const read = io.readStackTarget ?? (await import("./stack-target")).readStackTarget;
      try {
        target = { stack: ref.text, ...(await read(ref.text, io.projectDir ?? PROJECT_DIR, env)) };
      } catch (error) {
        // Offline (no CLI, no login, no backend): a configuration problem of this machine, exit 2.
        io.stderr.write(errorLine("verify", error));
        return EXIT_USAGE;
      }
      io.stderr.write(
        `verify: stack ${target.stack}: executor ${target.executorUrl} (revision ${target.executorRevision ?? "unknown"}), token generation ${target.tokenGeneration}` +
          `${target.previousTokenGeneration === null ? "" : `, previous ${target.previousTokenGeneration}`}\n`,
      );
    }
    config = buildConfig(parsed, env, target);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(errorLine("verify", error));
      return EXIT_USAGE;
    }
    throw error;
  }

  const { options, json } = config;
  // Every value printed goes through the redaction module once more (the library already redacts:
  // belt and braces). Values, never a serialized document: --json stays JSON whatever a secret is.
  const redactor = new Redactor([options.token, options.previousToken, options.sparkApiKey, options.payment?.invoice]);
  const safe = (text: string): string => printable(redactor.text(text));
  const out = (text: string): void => void io.stdout.write(text);
  const err = (text: string): void => void io.stderr.write(text);

  let report: VerifyReport;
  // Progress goes to stderr only, with --json too: stdout is the report.
  const progress = new ProgressDisplay(io.stderr, { tty: io.stderr.isTTY === true, columns: io.stderr.columns, clean: safe });
  try {
    report = await verifyExecutor({ ...options, onCheck: progress.update, ...(io.signal ? { signal: io.signal } : {}) });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof VerifyOptionsError) {
      err(errorLine("verify", message, safe));
      return EXIT_USAGE;
    }
    err(errorLine("verify", `verification crashed: ${clip(safe(message), 300)}`));
    return EXIT_FAILED;
  } finally {
    progress.stop();
  }

  // Check names and the verdict are this tool's own words; details and status fields came from outside.
  const checks = report.checks.map(({ name, ok, detail, ms }) => ({ name, ok, detail: redactor.text(detail), ms }));
  if (json) {
    const stack =
      target === undefined
        ? null
        : {
            name: target.stack,
            executorUrl: target.executorUrl,
            executorRevision: target.executorRevision,
            controlRevision: target.controlRevision,
            generations: target.generations,
          };
    out(`${JSON.stringify({ schema: VERIFY_SCHEMA, ok: report.ok, stack, checks, ...(report.interrupted ? { partial: true } : {}) })}\n`);
  } else {
    if (report.interrupted) out("PARTIAL REPORT: interrupted (Ctrl-C) before every check had an answer\n");
    out(renderTable({ ...report, checks, status: report.status === undefined ? undefined : redactor.values(report.status) }));
  }
  if (report.interrupted) return EXIT_INTERRUPTED;
  return report.ok ? EXIT_OK : EXIT_FAILED;
}

/** The command as the process runs it: Ctrl-C stops the run cleanly and prints the partial report. */
export function run(argv: readonly string[]): Promise<number> {
  return withInterrupt("verify: interrupted (Ctrl-C): printing the partial report", (signal) =>
    main(argv, process.env, { stdout: process.stdout, stderr: process.stderr, signal }),
  );
}

// Exits at once when done: keep-alive sockets to the executor must not hold the process.
if (require.main === module) runAsMain("verify", run, { exit: true });
