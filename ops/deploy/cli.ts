/**
 * `npm run deploy -- --stack <name>`: what an operator runs instead of `pulumi up`. The same gate as
 * the deploy workflow and the drill (ops/deploy/gate.ts): `pulumi preview` with the policy pack
 * and its config saves the update plan; a mandatory violation stops it before any resource
 * changes; `pulumi up` then applies that plan and nothing else.
 *
 * Exit codes: 0 applied, 1 refused at preview or the update failed, 2 usage error.
 */
import * as path from "node:path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { parseUrn } from "../../stack/phases";
import { type GatedStack, POLICY_PACK, POLICY_PACK_CONFIG, gatedUpdate, openLocalGatedStack, summarizeCommandError } from "./gate";

export const USAGE = [
  "usage: npm run deploy -- --stack <name> [--message <text>]",
  "",
  `  Previews the stack with the policy pack (${POLICY_PACK}, ${POLICY_PACK_CONFIG}) and saves the update plan;`,
  "  stops if the pack refuses; otherwise runs `pulumi up` constrained to that plan.",
  "  --stack    the stack (staging, prod, or org/project/stack)",
  "  --message  the update's message (default: deploy via npm run deploy)",
].join("\n");

export class UsageError extends Error {}

export interface DeployArgs {
  readonly stack: string;
  readonly message: string;
}

/** Parses the arguments after `npm run deploy --`. Throws UsageError naming the flag. */
export function parseDeployArgs(argv: readonly string[]): DeployArgs | "help" {
  let stack: string | undefined;
  let message = "deploy via npm run deploy";
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === "--help" || flag === "-h") return "help";
    if (flag !== "--stack" && flag !== "--message") throw new UsageError(`unknown argument ${JSON.stringify(flag)}`);
    const value = argv[++i];
    if (value === undefined || value === "" || value.startsWith("--")) throw new UsageError(`${flag} needs a value`);
    if (flag === "--stack") {
      if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+){0,2}$/.test(value))
        throw new UsageError(`--stack ${JSON.stringify(value)} is not a stack name`);
      stack = value;
    } else {
      message = value;
    }
  }
  if (stack === undefined) throw new UsageError("--stack is required");
  return { stack, message };
}

export interface DeployIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** The Pulumi project's directory (Pulumi.yaml, policy/). */
  projectDir: string;
  openStack(args: { stackName: string; workDir: string; message: string }): Promise<GatedStack>;
}

function defaultIo(): DeployIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    projectDir: path.resolve(__dirname, "../.."),
    openStack: openLocalGatedStack,
  };
}

/** The command. Returns the exit code. */
export async function main(argv: readonly string[], overrides: Partial<DeployIo> = {}): Promise<number> {
  const io: DeployIo = { ...defaultIo(), ...overrides };
  let args: DeployArgs | "help";
  try {
    args = parseDeployArgs(argv);
  } catch (error) {
    io.stderr(`deploy: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (args === "help") {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  let stack: GatedStack;
  try {
    stack = await io.openStack({ stackName: args.stack, workDir: io.projectDir, message: args.message });
  } catch (error) {
    io.stderr(`deploy: cannot open stack ${args.stack}: ${summarizeCommandError(error)}\nnothing was changed\n`);
    return 1;
  }
  const onEvent = (event: EngineEvent): void => {
    const finished = event.resOutputsEvent?.metadata ?? event.resOpFailedEvent?.metadata;
    if (finished && finished.op !== "same") {
      io.stdout(`  ${event.resOpFailedEvent ? "FAILED" : "done  "} ${finished.op} ${parseUrn(finished.urn).name}\n`);
    }
  };
  const outcome = await gatedUpdate(stack, { projectDir: io.projectDir, onEvent, log: (line) => io.stdout(`${line}\n`) });
  switch (outcome.stage) {
    case "applied":
      io.stdout(`deploy ${args.stack}: applied the previewed plan\n`);
      return 0;
    case "refused":
      io.stderr(`deploy ${args.stack}: ${outcome.error}; nothing was changed\n`);
      return 1;
    case "update-failed":
      io.stderr(`deploy ${args.stack}: the update failed: ${outcome.error} (steps before the failure were applied)\n`);
      return 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
