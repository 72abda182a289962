/**
 * `verify --stack NAME` with the real Pulumi CLI and the Automation API: the stack's outputs (a
 * deployment imported into a file backend in a temporary folder) name the executor and the token
 * generation, and the checks run against that executor (a stand-in on 127.0.0.1).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { cliEnv } from "../../pulumi-cli/setup";
import { startStandInExecutor } from "../../harness/stand-in-executor";
import { main } from "../../verification/cli";
import { requirePulumiCli } from "../support/pulumi-cli";
import { ROOT } from "../support/project";

const cli = requirePulumiCli();
const testWithCli = cli === undefined ? test.skip : test;
const TOKEN = "verify-stack-e2e-token-0123456789abcdef";

testWithCli(
  "reads the executor URL and the token generation from the stack's outputs, then verifies that executor",
  async () => {
    if (cli === undefined) return;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "verify-stack-"));
    const executor = await startStandInExecutor({ token: TOKEN, tokenVersion: 4 });
    try {
      const project = path.join(dir, "project");
      fs.mkdirSync(project);
      for (const file of ["Pulumi.yaml", "Pulumi.staging.yaml"]) fs.copyFileSync(path.join(ROOT, file), path.join(project, file));
      const env = {
        ...cliEnv(cli),
        PULUMI_HOME: path.join(dir, "home"),
        PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`,
        PULUMI_CONFIG_PASSPHRASE: "e2e",
        PULUMI_SKIP_UPDATE_CHECK: "true",
        OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN: TOKEN,
      };
      fs.mkdirSync(path.join(dir, "state"));
      const pulumi = (...args: string[]) => {
        const run = spawnSync(cli.pulumi, args, { cwd: project, env, encoding: "utf8" });
        if (run.status !== 0) throw new Error(`pulumi ${args.join(" ")}: ${run.stderr}`);
        return run.stdout;
      };
      pulumi("stack", "init", "staging");
      const state = JSON.parse(pulumi("stack", "export")) as { deployment: Record<string, unknown> };
      state.deployment.resources = [
        {
          urn: "urn:pulumi:staging::wallet-executor::pulumi:pulumi:Stack::wallet-executor-staging",
          custom: false,
          type: "pulumi:pulumi:Stack",
          outputs: {
            executorUrl: executor.url,
            executorRevision: "wallet-executor-00004-abc",
            controlRevision: "wallet-control-00007-xyz",
            credentials: {
              authToken: {
                currentGeneration: 4,
                currentVersion: "14",
                previousGeneration: 3,
                previousVersion: "13",
                previousRevoked: true,
              },
              sparkApiKey: { currentGeneration: 2, currentVersion: "2" },
              mnemonic: { currentGeneration: 1, currentVersion: "1" },
            },
          },
        },
      ];
      fs.writeFileSync(path.join(dir, "state.json"), JSON.stringify(state));
      pulumi("stack", "import", "--file", path.join(dir, "state.json"));

      let stdout = "";
      let stderr = "";
      const code = await main(["--stack", "staging", "--json"], env, {
        stdout: { write: (t: string) => (stdout += t) },
        stderr: { write: (t: string) => (stderr += t) },
        projectDir: project,
      });
      expect(code).toBe(0);
      // What the stack's outputs named comes first; then the progress of each check (stderr only).
      const lines = stderr.trimEnd().split("\n");
      expect(lines[0]).toBe(
        `verify: stack staging: executor ${executor.url} (revision wallet-executor-00004-abc), token generation 4, previous 3`,
      );
      expect(lines.filter((line) => line.startsWith("verify: status: passed"))).toHaveLength(1);
      expect(lines.slice(1).every((line) => /^verify: [a-z-]+: (running|waiting|passed|failed)\b/.test(line))).toBe(true);
      const doc = JSON.parse(stdout) as { ok: boolean; stack: { executorUrl: string; generations: Record<string, number> } };
      expect(doc.ok).toBe(true);
      expect(doc.stack.executorUrl).toBe(executor.url);
      expect(doc.stack.generations).toEqual({ authToken: 4, sparkApiKey: 2, mnemonic: 1 });
      expect(executor.requests.length).toBeGreaterThanOrEqual(3);
    } finally {
      await executor.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
  180_000,
);
