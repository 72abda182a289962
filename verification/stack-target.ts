/**
 * `verify --stack NAME`: what to verify, from the stack's outputs (docs/reference/outputs.md) through
 * the Automation API, instead of flags: the executor's URL, the token generation `/status` must
 * report, and for the record the revisions and every credential's generation. Offline (no Pulumi
 * CLI, no backend login, a backend out of reach) it fails with StackUnavailable, which says so and
 * how to fix it; the command exits 2.
 */
import * as path from "node:path";
import { currentBackend } from "../pulumi-cli/backend";
import { type PulumiCli, findPulumiCli } from "../pulumi-cli/setup";

export interface StackTarget {
  readonly executorUrl: string;
  /** The authToken generation the executor must report as `/status.authTokenVersion`. */
  readonly tokenGeneration: number;
  readonly executorRevision: string | null;
  readonly controlRevision: string | null;
  /** Every credential's current generation, as the stack last applied it. */
  readonly generations: Readonly<Record<string, number>>;
  /** The token generation being rotated out (its token must get the 401), when there is one. */
  readonly previousTokenGeneration: number | null;
}

/** The stack cannot be read here: the message says why and how to fix it. */
export class StackUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StackUnavailable";
  }
}

const FLAGS_INSTEAD = "or give --base-url and --expect-token-version instead of --stack";

/** The target from the stack's output values (plain values, as `pulumi stack output --json` prints them). */
export function targetFromOutputs(stack: string, outputs: Readonly<Record<string, unknown>>): StackTarget {
  const missing = (what: string): never => {
    throw new StackUnavailable(`stack ${stack} has no ${what} output (has it been deployed with this program?); ${FLAGS_INSTEAD}`);
  };
  const url = outputs.executorUrl;
  if (typeof url !== "string" || url === "") missing("executorUrl");
  const credentials = (outputs.credentials ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const generations: Record<string, number> = {};
  for (const [name, c] of Object.entries(credentials))
    if (typeof c?.currentGeneration === "number") generations[name] = c.currentGeneration;
  const token = credentials.authToken;
  if (typeof token?.currentGeneration !== "number") missing("credentials.authToken.currentGeneration");
  const text = (value: unknown): string | null => (typeof value === "string" && value !== "" ? value : null);
  return {
    executorUrl: url as string,
    tokenGeneration: token?.currentGeneration as number,
    executorRevision: text(outputs.executorRevision),
    controlRevision: text(outputs.controlRevision),
    generations,
    previousTokenGeneration: typeof token?.previousGeneration === "number" ? token.previousGeneration : null,
  };
}

/** The one useful line of an Automation API error (its message is the CLI's whole output). */
function errorSummary(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const lines = text
    .split("\n")
    .map((line) => line.trim().replace(/^(stdout|stderr|err\?):\s*/, ""))
    .filter((line) => line !== "");
  return (lines.filter((line) => line.startsWith("error:")).pop() ?? lines[0] ?? "unknown error").slice(0, 300);
}

/** Reads the stack's outputs with the Automation API (needs the Pulumi CLI and a backend login). */
export async function readStackTarget(
  stack: string,
  projectDir: string,
  env: NodeJS.ProcessEnv = process.env,
  findCli: (env: NodeJS.ProcessEnv) => PulumiCli | undefined = findPulumiCli,
): Promise<StackTarget> {
  const cli = findCli(env);
  if (cli === undefined) {
    throw new StackUnavailable(
      `cannot read stack ${stack}'s outputs: no Pulumi CLI 3.248.x here (offline?); fix: npm run pulumi:setup (or install Pulumi 3.248.x), then pulumi login; ${FLAGS_INSTEAD}`,
    );
  }
  if (currentBackend(env, projectDir) === undefined) {
    throw new StackUnavailable(
      `cannot read stack ${stack}'s outputs: not logged in to a Pulumi backend; fix: pulumi login (or pulumi login gs://<bucket>, or set PULUMI_BACKEND_URL); ${FLAGS_INSTEAD}`,
    );
  }
  const { LocalWorkspace, PulumiCommand } = await import("@pulumi/pulumi/automation");
  let outputs: Record<string, unknown>;
  try {
    const pulumiCommand = await PulumiCommand.get({ root: path.dirname(cli.binDir), skipVersionCheck: true });
    // The environment given (a backend URL, PULUMI_HOME, a passphrase), the CLI's folder first on PATH.
    const envVars: Record<string, string> = {};
    for (const [key, value] of Object.entries(env)) if (value !== undefined) envVars[key] = value;
    envVars.PATH = [cli.binDir, env.PATH ?? ""].join(path.delimiter);
    envVars.PULUMI_SKIP_UPDATE_CHECK = "true";
    const selected = await LocalWorkspace.selectStack({ stackName: stack, workDir: projectDir }, { pulumiCommand, envVars });
    const map = await selected.outputs();
    // Secret outputs are not needed (no output of this program is secret): never read their values.
    outputs = Object.fromEntries(
      Object.entries(map)
        .filter(([, o]) => !o.secret)
        .map(([key, o]) => [key, o.value as unknown]),
    );
  } catch (error) {
    throw new StackUnavailable(
      `cannot read stack ${stack}'s outputs: ${errorSummary(error)}; fix: pulumi login, check the backend is reachable; ${FLAGS_INSTEAD}`,
    );
  }
  return targetFromOutputs(stack, outputs);
}
