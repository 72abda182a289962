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
import {
  type CommandSpec,
  UsageError,
  errorLine,
  parseCommandLine,
  parseStackRef,
  requireStackFile,
  runAsMain,
  usage,
} from "../../lib/cli";
import { type GatedStack, POLICY_PACK, POLICY_PACK_CONFIG, gatedUpdate, openLocalGatedStack, summarizeCommandError } from "./gate";

export const DEPLOY_COMMAND = {
  name: "deploy",
  synopsis: ["--stack <name> [--message <text>]"],
  summary: `Previews the stack with the policy pack (${POLICY_PACK}, ${POLICY_PACK_CONFIG}) and saves the update plan; stops if the pack refuses; otherwise runs \`pulumi up\` constrained to that plan.`,
  options: {
    stack: { type: "string", value: "<name>", help: "the stack: staging, prod, org/staging or org/project/staging" },
    message: { type: "string", value: "<text>", help: "the update's message (default: deploy via npm run deploy)" },
  },
  epilogue: ["exit codes: 0 applied, 1 refused at preview or the update failed, 2 usage error"],
} as const satisfies CommandSpec;

export const USAGE = usage(DEPLOY_COMMAND);

export { UsageError };

export interface DeployArgs {
  readonly stack: string;
  readonly message: string;
}

/** Parses the arguments after `npm run deploy --`. Throws UsageError naming the flag. */
export function parseDeployArgs(argv: readonly string[]): DeployArgs | "help" {
  const parsed = parseCommandLine(DEPLOY_COMMAND, argv);
  if (parsed.help) return "help";
  const { stack, message = "deploy via npm run deploy" } = parsed.values;
  if (stack === undefined) throw new UsageError("--stack is required");
  parseStackRef(stack);
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
    if (args !== "help") requireStackFile(io.projectDir, parseStackRef(args.stack));
  } catch (error) {
    io.stderr(errorLine("deploy", error));
    return 2;
  }
  if (args === "help") {
    io.stdout(USAGE);
    return 0;
  }
  let stack: GatedStack;
  try {
    stack = await io.openStack({ stackName: args.stack, workDir: io.projectDir, message: args.message });
  } catch (error) {
    const why = /\bENOENT\b/.test(String((error as Error).message))
      ? "the Pulumi CLI is not on PATH; fix: npm run pulumi:setup, put the folder it prints first on PATH (wallet-executor doctor checks it)"
      : summarizeCommandError(error);
    io.stderr(errorLine("deploy", `cannot open stack ${args.stack}: ${why}; nothing was changed`));
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

/** The command as the process runs it. */
export function run(argv: readonly string[]): Promise<number> {
  return main(argv);
}

if (require.main === module) runAsMain("deploy", run);
