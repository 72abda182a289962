/**
 * `wallet-executor doctor [--stack <name>] [--json]`: whether this machine can run the real thing
 * (ops/doctor/checks.ts), each missing piece with its fix. Offline, without reading a secret.
 * Exit codes: 0 ready, 1 something is missing, 2 usage error.
 */
import * as path from "node:path";
import {
  type CommandSpec,
  UsageError,
  errorLine,
  parseCommandLine,
  parseStackRef,
  requireStackFile,
  runAsMain,
  stacksIn,
  usage,
} from "../../lib/cli";
import { PROJECT } from "../../stack/config";
import { type DoctorCheck, runChecks } from "./checks";

/** The `--json` document's schema name and version. */
export const DOCTOR_SCHEMA = "wallet-executor/doctor/v1";

export const DOCTOR_COMMAND = {
  name: "doctor",
  synopsis: ["[--stack <name>] [--json]"],
  summary:
    "Checks what a real run needs (Node, the Pulumi CLI 3.248.x, a backend login, the policy pack, Google credentials, each stack's secrets provider and secret values) and says how to fix each missing one.",
  options: {
    stack: { type: "string", value: "<name>", help: "check this stack only (default: every Pulumi.<name>.yaml here)" },
    json: { type: "boolean", help: `print {"schema","ok","checks"} (${DOCTOR_SCHEMA}) on stdout` },
  },
  epilogue: ["exit codes: 0 ready, 1 something is missing (each with its fix), 2 usage error"],
} as const satisfies CommandSpec;

const ROOT = path.resolve(__dirname, "../..");

export interface DoctorIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  projectDir: string;
  runChecks: typeof runChecks;
}

function render(checks: readonly DoctorCheck[]): string {
  const label = (c: DoctorCheck): string => (c.stack === null ? c.name : `${c.name} (${c.stack})`);
  const width = Math.max(...checks.map((c) => label(c).length));
  const lines = checks.flatMap((c) => [
    `${c.ok ? "ok     " : "MISSING"}  ${label(c).padEnd(width)}  ${c.detail}`,
    ...(c.fix === null ? [] : [`         ${" ".repeat(width)}  fix: ${c.fix}`]),
  ]);
  const missing = checks.filter((c) => !c.ok).length;
  lines.push("", missing === 0 ? "ready for a real run" : `${missing} of ${checks.length} missing: not ready for a real run`);
  return `${lines.join("\n")}\n`;
}

export function main(argv: readonly string[], overrides: Partial<DoctorIo> = {}): Promise<number> {
  return Promise.resolve(doctor(argv, overrides));
}

function doctor(argv: readonly string[], overrides: Partial<DoctorIo>): number {
  const io: DoctorIo = {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    env: process.env,
    projectDir: ROOT,
    runChecks,
    ...overrides,
  };
  let stacks: string[];
  let json: boolean;
  try {
    const parsed = parseCommandLine(DOCTOR_COMMAND, argv);
    if (parsed.help) {
      io.stdout(usage(DOCTOR_COMMAND));
      return 0;
    }
    json = parsed.values.json === true;
    if (parsed.values.stack !== undefined) {
      const ref = parseStackRef(parsed.values.stack);
      requireStackFile(io.projectDir, ref);
      stacks = [ref.name];
    } else stacks = stacksIn(io.projectDir);
  } catch (error) {
    io.stderr(errorLine("doctor", error));
    return error instanceof UsageError ? 2 : 1;
  }
  const checks = io.runChecks({ env: io.env, projectDir: io.projectDir, project: PROJECT, nodeVersion: process.version }, stacks);
  const ok = checks.every((c) => c.ok);
  io.stdout(json ? `${JSON.stringify({ schema: DOCTOR_SCHEMA, ok, checks }, null, 2)}\n` : render(checks));
  return ok ? 0 : 1;
}

/** The command as the process runs it. */
export function run(argv: readonly string[]): Promise<number> {
  return main(argv);
}

if (require.main === module) runAsMain("doctor", run);
