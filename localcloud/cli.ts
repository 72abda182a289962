/**
 * Starts the local cloud and prints where it is:
 *
 *   npm run localcloud -- [--port N] [--rollout-ms N] [--traffic-shift-ms N] [--shutdown-grace-ms N]
 *                         [--startup-timeout-ms N] [--idle-timeout-ms N] [--control-rate N]
 *                         [--executor-command CMD] [--caller-command CMD] [--record-dir DIR] [--log-dir DIR]
 *
 * stdout gets one JSON line, `{"url":...,"token":...,"secretManagerApi":...,"env":{...}}` (the token
 * is the deployer's: it is for this machine's rehearsal, never a Google credential); stderr gets the
 * same for people, with the env to export for the provider plugins. Runs until SIGINT or SIGTERM,
 * then stops every instance (in-flight requests first). Exit 2 on bad arguments.
 */
import { LocalCloudOptions, startLocalCloud } from "./server";

const NUMBERS: Readonly<Record<string, keyof LocalCloudOptions>> = {
  "--port": "port",
  "--rollout-ms": "rolloutMs",
  "--traffic-shift-ms": "trafficShiftMs",
  "--shutdown-grace-ms": "shutdownGraceMs",
  "--startup-timeout-ms": "startupTimeoutMs",
  "--idle-timeout-ms": "idleTimeoutMs",
  "--control-rate": "controlRatePerSec",
};

/** Parses the command line; throws with a message naming the flag and what it accepts. */
export function parseArgs(argv: readonly string[]): LocalCloudOptions {
  const options: Record<string, unknown> = {};
  const commands: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === "--help" || flag === "-h") throw new Error("usage");
    if (value === undefined) throw new Error(`${flag} needs a value`);
    i += 1;
    if (NUMBERS[flag] !== undefined) {
      const n = Number(value);
      const allowsFraction = flag === "--control-rate";
      if (!Number.isFinite(n) || n < 0 || (!allowsFraction && !Number.isInteger(n))) {
        throw new Error(
          `${flag}: ${JSON.stringify(value)} is not allowed; allowed: a non-negative ${allowsFraction ? "number" : "integer"}`,
        );
      }
      options[NUMBERS[flag]] = n;
    } else if (flag === "--executor-command") commands.executorCommand = value;
    else if (flag === "--caller-command") commands.callerCommand = value;
    else if (flag === "--record-dir") options.recordDir = value;
    else if (flag === "--log-dir") options.logDir = value;
    else
      throw new Error(
        `unknown flag ${flag}; allowed: ${[...Object.keys(NUMBERS), "--executor-command", "--caller-command", "--record-dir", "--log-dir"].join(", ")}`,
      );
  }
  if (Object.keys(commands).length > 0) options.commands = commands;
  return options;
}

async function main(): Promise<void> {
  let options: LocalCloudOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err instanceof Error && err.message !== "usage" ? `localcloud: ${err.message}\n` : ""}${USAGE}`);
    process.exit(2);
  }
  const cloud = await startLocalCloud(options);
  process.stdout.write(
    `${JSON.stringify({ url: cloud.url, token: cloud.token, secretManagerApi: cloud.secretManagerApi, env: cloud.env })}\n`,
  );
  process.stderr.write(
    `local cloud listening on ${cloud.url}\n` +
      `for the provider plugins:\n${Object.entries(cloud.env)
        .map(([k, v]) => `  export ${k}=${v}\n`)
        .join("")}` +
      `for the published-version revocation: pulumi config set gcp:secretManagerCustomEndpoint ${cloud.secretManagerApi}/\n`,
  );
  const stop = (): void => {
    void cloud.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

const USAGE = `usage: npm run localcloud -- [--port N] [--rollout-ms N] [--traffic-shift-ms N] [--shutdown-grace-ms N]
                             [--startup-timeout-ms N] [--idle-timeout-ms N] [--control-rate N]
                             [--executor-command CMD] [--caller-command CMD] [--record-dir DIR] [--log-dir DIR]
`;

if (require.main === module) void main();
