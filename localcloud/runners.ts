/**
 * What runs in a revision's instances, and with which env. The wallet executor's revisions (a
 * container whose env sets the executor's own mode variable) run the stand-in executor, or any
 * command given as the executor command; every other service runs the stand-in control (a small
 * caller of the executor), or its own command. Either way the command is run by the shell with the
 * revision's env: the template's variables (secrets resolved at instance start), Cloud Run's PORT,
 * K_SERVICE, K_REVISION, K_CONFIGURATION, and the local cloud's stand-ins for the metadata server.
 */
import * as path from "node:path";

export type WorkloadKind = "executor" | "caller";

/** Only the executor sets this variable (the executor contract's mode switch). */
export const EXECUTOR_MARKER_ENV = "OA_LIGHTNING_WALLET_EXECUTOR_MODE";

/**
 * The executor reads its own port and bind address, not PORT: the local cloud points them at the
 * instance's loopback port, and runs it in mock mode (no network, no real wallet).
 */
export const EXECUTOR_OVERRIDES = {
  port: "OA_LIGHTNING_WALLET_EXECUTOR_PORT",
  host: "OA_LIGHTNING_WALLET_EXECUTOR_HOST",
  mode: "OA_LIGHTNING_WALLET_EXECUTOR_MODE",
} as const;

/** Instance env the local cloud adds in place of the metadata server (not Cloud Run variables). */
export const LOCAL_ENV = {
  /** Secret Manager's REST base, e.g. `http://127.0.0.1:4100/v1`. */
  secretManagerApi: "LOCALCLOUD_SECRET_MANAGER_API",
  /** A bearer token for the revision's service account (what the metadata server would mint). */
  accessToken: "LOCALCLOUD_ACCESS_TOKEN",
  /** Calls per second of the stand-in control. */
  controlRate: "STAND_IN_CONTROL_RATE",
  /** Payments per second of the stand-in control (0: none). */
  controlPayRate: "STAND_IN_CONTROL_PAY_RATE",
  /** The host its payments name (one the executor allows). */
  controlPayHost: "STAND_IN_CONTROL_PAY_HOST",
  /** Where the stand-in control appends its record (JSON lines), when the local cloud keeps records. */
  controlRecord: "STAND_IN_CONTROL_RECORD",
} as const;

export interface WorkloadCommands {
  /** Shell command for the executor's instances; default: the stand-in executor. */
  readonly executorCommand?: string;
  /** Shell command for every other service's instances; default: the stand-in control. */
  readonly callerCommand?: string;
  /** Per service name, a command that wins over both. */
  readonly serviceCommands?: Readonly<Record<string, string>>;
}

const ROOT = path.resolve(__dirname, "..");

/**
 * `exec node --require tools/register.js <file>`: how the project runs its own TypeScript entry
 * points as an instance's shell command. `exec`: the server replaces the shell, so SIGTERM reaches
 * it directly and its exit is the instance's.
 */
export function nodeCommand(file: string): string {
  return `exec ${[process.execPath, "--require", path.join(ROOT, "tools", "register.js"), file].map(shellQuote).join(" ")}`;
}

export const STAND_IN_EXECUTOR_COMMAND = nodeCommand(path.join(ROOT, "harness", "stand-in-executor-main.ts"));
export const STAND_IN_CONTROL_COMMAND = nodeCommand(path.join(ROOT, "harness", "stand-in-control.ts"));

export function workloadKind(envNames: readonly string[]): WorkloadKind {
  return envNames.includes(EXECUTOR_MARKER_ENV) ? "executor" : "caller";
}

export function commandFor(serviceName: string, kind: WorkloadKind, commands: WorkloadCommands): string {
  const own = commands.serviceCommands?.[serviceName];
  if (own !== undefined) return own;
  if (kind === "executor") return commands.executorCommand ?? STAND_IN_EXECUTOR_COMMAND;
  return commands.callerCommand ?? STAND_IN_CONTROL_COMMAND;
}

export interface InstanceEnvInput {
  readonly kind: WorkloadKind;
  /** The template's variables, secrets already resolved. */
  readonly templateEnv: Readonly<Record<string, string>>;
  readonly port: number;
  readonly service: string;
  readonly revision: string;
  readonly secretManagerApi: string;
  readonly accessToken: string;
  /** PATH, HOME, ...: what a shell command needs; the local cloud's own env is not inherited. */
  readonly baseEnv: Readonly<Record<string, string>>;
  readonly extra?: Readonly<Record<string, string>>;
}

export function instanceEnv(input: InstanceEnvInput): Record<string, string> {
  const env: Record<string, string> = {
    ...input.baseEnv,
    ...input.templateEnv,
    PORT: String(input.port),
    K_SERVICE: input.service,
    K_REVISION: input.revision,
    K_CONFIGURATION: input.service,
    [LOCAL_ENV.secretManagerApi]: input.secretManagerApi,
    [LOCAL_ENV.accessToken]: input.accessToken,
    ...(input.extra ?? {}),
  };
  if (input.kind === "executor") {
    env[EXECUTOR_OVERRIDES.port] = String(input.port);
    env[EXECUTOR_OVERRIDES.host] = "127.0.0.1";
    env[EXECUTOR_OVERRIDES.mode] = "mock";
  }
  return env;
}

/** The env a shell command needs from the host; nothing else of the local cloud's env leaks in. */
export function hostBaseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "TMPDIR", "LANG", "TZ"]) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
