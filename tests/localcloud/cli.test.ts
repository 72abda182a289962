/**
 * `npm run localcloud` as a process: it prints where it listens (one JSON line), serves the API
 * with the token it printed, stops on SIGTERM (its instances first), and refuses bad arguments
 * with exit code 2, naming the flag.
 */
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import * as path from "node:path";
import { LocalCloudClient } from "../../localcloud/client";
import { parseArgs } from "../../localcloud/cli";
import { ROOT } from "../support/project";

const CLI = [path.join(ROOT, "tools", "register.js"), path.join(ROOT, "localcloud", "cli.ts")];

function startCli(args: string[]): {
  child: ChildProcess;
  ready: Promise<{ url: string; token: string; secretManagerApi: string; env: Record<string, string> }>;
} {
  const child = spawn(process.execPath, ["--require", ...CLI, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const ready = new Promise<{ url: string; token: string; secretManagerApi: string; env: Record<string, string> }>((resolve, reject) => {
    let stdout = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split("\n")[0];
      if (stdout.includes("\n")) resolve(JSON.parse(line) as never);
    });
    child.once("exit", (code) => reject(new Error(`the local cloud exited with ${code}: ${stderr}`)));
  });
  return { child, ready };
}

test("prints its address and token as JSON, serves the API with that token, and exits 0 on SIGTERM", async () => {
  const { child, ready } = startCli(["--rollout-ms", "10", "--shutdown-grace-ms", "1000"]);
  const info = await ready;
  expect(info.url).toMatch(/^http:\/\/127\.0\.0\.1:[0-9]+$/);
  expect(info.secretManagerApi).toBe(`${info.url}/v1`);
  expect(info.env).toEqual({ LOCALCLOUD_URL: info.url, LOCALCLOUD_TOKEN: info.token });
  const api = LocalCloudClient.fromEnv(info.env);
  expect(await api.call("GET", "/localcloud/v1/info")).toMatchObject({ secretManagerApi: "/v1" });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  child.kill("SIGTERM");
  expect(await exited).toBe(0);
});

test("refuses an unknown flag or a bad number with exit code 2 and a message naming it", () => {
  const unknown = spawnSync(process.execPath, ["--require", ...CLI, "--rollout", "5"], { cwd: ROOT, encoding: "utf8" });
  expect(unknown.status).toBe(2);
  expect(unknown.stderr).toBe("localcloud: error: unknown flag --rollout: did you mean --rollout-ms? (see --help)\n");
  expect(() => parseArgs(["--rollout-ms=-1"])).toThrow('--rollout-ms: "-1" is not allowed; allowed: a non-negative integer');
  expect(() => parseArgs(["--rollout-ms", "-1"])).toThrow("--rollout-ms needs a value");
  expect(() => parseArgs(["--port"])).toThrow("--port needs a value");
  expect(parseArgs(["--executor-command", "./my-executor", "--control-rate", "0.5"])).toEqual({
    commands: { executorCommand: "./my-executor" },
    controlRatePerSec: 0.5,
  });
});

test("the providers' client refuses a non-loopback address (it would send the deployer's token there)", () => {
  expect(() => LocalCloudClient.fromEnv({ LOCALCLOUD_URL: "https://run.googleapis.com", LOCALCLOUD_TOKEN: "t" })).toThrow(
    /must be a loopback URL/,
  );
  expect(() => LocalCloudClient.fromEnv({})).toThrow(/LOCALCLOUD_URL and LOCALCLOUD_TOKEN must be set/);
});
