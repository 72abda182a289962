/**
 * Starts the local cloud and prints where it is:
 *
 *   npm run localcloud -- [--port N] [--rollout-ms N] [--traffic-shift-ms N] [--shutdown-grace-ms N]
 *                         [--startup-timeout-ms N] [--idle-timeout-ms N] [--control-rate N]
 *                         [--executor-command CMD] [--caller-command CMD] [--record-dir DIR] [--log-dir DIR]
 *
 * stdout gets one JSON line, `{"schema":...,"url":...,"token":...,"secretManagerApi":...,"env":{...}}` (the token
 * is the deployer's: it is for this machine's rehearsal, never a Google credential); stderr gets the
 * same for people, with the env to export for the provider plugins. Runs until SIGINT or SIGTERM,
 * then stops every instance (in-flight requests first). Exit 2 on bad arguments.
 */
import { type CommandSpec, UsageError, errorLine, parseCommandLine, runAsMain, usage } from "../lib/cli";
import { LocalCloudOptions, startLocalCloud } from "./server";

/** The schema name and version of the JSON line on stdout. */
export const LOCALCLOUD_SCHEMA = "wallet-executor/localcloud/v1";

const NUMBERS: Readonly<Record<string, keyof LocalCloudOptions>> = {
  port: "port",
  "rollout-ms": "rolloutMs",
  "traffic-shift-ms": "trafficShiftMs",
  "shutdown-grace-ms": "shutdownGraceMs",
  "startup-timeout-ms": "startupTimeoutMs",
  "idle-timeout-ms": "idleTimeoutMs",
  "control-rate": "controlRatePerSec",
};

export const LOCALCLOUD_COMMAND = {
  name: "localcloud",
  synopsis: [
    "[--port N] [--rollout-ms N] [--traffic-shift-ms N] [--shutdown-grace-ms N] [--startup-timeout-ms N] [--idle-timeout-ms N]",
    "[--control-rate N] [--executor-command CMD] [--caller-command CMD] [--record-dir DIR] [--log-dir DIR]",
  ],
  summary: `Starts the local cloud (Cloud Run and Secret Manager on 127.0.0.1) and prints where it is as one JSON line (${LOCALCLOUD_SCHEMA}); runs until SIGINT or SIGTERM.`,
  options: {
    port: { type: "string", value: "N", help: "the port (default: any free one)" },
    "rollout-ms": { type: "string", value: "N", help: "how long a revision takes to become ready" },
    "traffic-shift-ms": { type: "string", value: "N", help: "how long traffic takes to move to a new revision" },
    "shutdown-grace-ms": { type: "string", value: "N", help: "how long a stopped instance finishes its in-flight requests" },
    "startup-timeout-ms": { type: "string", value: "N", help: "how long an instance may take to listen" },
    "idle-timeout-ms": { type: "string", value: "N", help: "when an idle instance stops" },
    "control-rate": { type: "string", value: "N", help: "calls per second from the control service (fractions allowed)" },
    "executor-command": { type: "string", value: "CMD", help: "the executor image's command" },
    "caller-command": { type: "string", value: "CMD", help: "the control service image's command" },
    "record-dir": { type: "string", value: "DIR", help: "where calls are recorded" },
    "log-dir": { type: "string", value: "DIR", help: "where instances' logs go" },
  },
  epilogue: ["exit codes: 0 stopped by a signal, 2 usage error"],
} as const satisfies CommandSpec;

/** Parses the command line; throws a UsageError naming the flag and what it accepts. */
export function parseArgs(argv: readonly string[]): LocalCloudOptions {
  const parsed = parseCommandLine(LOCALCLOUD_COMMAND, argv);
  if (parsed.help) throw new UsageError(usage(LOCALCLOUD_COMMAND));
  const options: Record<string, unknown> = {};
  const commands: Record<string, string> = {};
  for (const [flag, value] of Object.entries<string | undefined>(parsed.values)) {
    if (value === undefined) continue;
    if (NUMBERS[flag] !== undefined) {
      const n = Number(value);
      const allowsFraction = flag === "control-rate";
      if (!Number.isFinite(n) || n < 0 || (!allowsFraction && !Number.isInteger(n))) {
        throw new UsageError(
          `--${flag}: ${JSON.stringify(value)} is not allowed; allowed: a non-negative ${allowsFraction ? "number" : "integer"}`,
        );
      }
      options[NUMBERS[flag]] = n;
    } else if (flag === "executor-command") commands.executorCommand = value;
    else if (flag === "caller-command") commands.callerCommand = value;
    else if (flag === "record-dir") options.recordDir = value;
    else if (flag === "log-dir") options.logDir = value;
  }
  if (Object.keys(commands).length > 0) options.commands = commands;
  return options;
}

/** The command as the process runs it: resolves 0 once stopped by SIGINT or SIGTERM. */
export async function run(argv: readonly string[]): Promise<number> {
  let options: LocalCloudOptions;
  try {
    const parsed = parseCommandLine(LOCALCLOUD_COMMAND, argv);
    if (parsed.help) {
      process.stdout.write(usage(LOCALCLOUD_COMMAND));
      return 0;
    }
    options = parseArgs(argv);
  } catch (err) {
    process.stderr.write(errorLine("localcloud", err));
    return 2;
  }
  const cloud = await startLocalCloud(options);
  process.stdout.write(
    `${JSON.stringify({ schema: LOCALCLOUD_SCHEMA, url: cloud.url, token: cloud.token, secretManagerApi: cloud.secretManagerApi, env: cloud.env })}\n`,
  );
  process.stderr.write(
    `local cloud listening on ${cloud.url}\n` +
      `for the provider plugins:\n${Object.entries(cloud.env)
        .map(([k, v]) => `  export ${k}=${v}\n`)
        .join("")}` +
      `for the published-version revocation: pulumi config set gcp:secretManagerCustomEndpoint ${cloud.secretManagerApi}/\n`,
  );
  return new Promise<number>((resolve) => {
    const stop = (): void => void cloud.close().then(() => resolve(0));
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}

if (require.main === module) runAsMain("localcloud", run, { exit: true });
