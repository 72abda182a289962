import * as os from "node:os";
import * as path from "node:path";
import * as fs from "node:fs";
import { main } from "../../verification/cli";
import { StackUnavailable, readStackTarget, targetFromOutputs, type StackTarget } from "../../verification/stack-target";

const OUTPUTS = {
  executorUrl: "https://wallet-executor-abc.a.run.app",
  executorRevision: "wallet-executor-00004-abc",
  controlRevision: "wallet-control-00007-xyz",
  credentials: {
    authToken: { currentGeneration: 4, currentVersion: "14", previousGeneration: 3, previousVersion: "13", previousRevoked: true },
    sparkApiKey: { currentGeneration: 2, currentVersion: "2" },
    mnemonic: { currentGeneration: 1, currentVersion: "1" },
  },
};

describe("targetFromOutputs", () => {
  test("the executor URL, the token generation, the revisions and every generation", () => {
    expect(targetFromOutputs("staging", OUTPUTS)).toEqual({
      executorUrl: "https://wallet-executor-abc.a.run.app",
      tokenGeneration: 4,
      executorRevision: "wallet-executor-00004-abc",
      controlRevision: "wallet-control-00007-xyz",
      generations: { authToken: 4, sparkApiKey: 2, mnemonic: 1 },
      previousTokenGeneration: 3,
    });
  });

  test.each([
    ["executorUrl", { ...OUTPUTS, executorUrl: undefined }],
    ["credentials.authToken.currentGeneration", { ...OUTPUTS, credentials: {} }],
  ])("a stack without %s is unavailable, naming the output", (output, outputs) => {
    expect(() => targetFromOutputs("staging", outputs)).toThrow(StackUnavailable);
    expect(() => targetFromOutputs("staging", outputs)).toThrow(`stack staging has no ${output} output`);
  });
});

describe("readStackTarget offline", () => {
  test("no Pulumi CLI: says so and how to fix it", async () => {
    await expect(readStackTarget("staging", path.resolve(__dirname, "../.."), { PATH: "" }, () => undefined)).rejects.toThrow(
      /no Pulumi CLI 3\.248\.x here \(offline\?\); fix: npm run pulumi:setup/,
    );
  });

  test("no backend login: says so and how to fix it", async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "no-login-"));
    const cli = { pulumi: "/nonexistent/pulumi", binDir: "/nonexistent", version: "v3.248.0", source: "path" as const };
    await expect(readStackTarget("staging", home, { PULUMI_HOME: home, HOME: home }, () => cli)).rejects.toThrow(
      /not logged in to a Pulumi backend; fix: pulumi login/,
    );
  });
});

describe("verify --stack", () => {
  const io = (read: (stack: string) => Promise<StackTarget>) => {
    const out = { stdout: "", stderr: "" };
    return {
      out,
      io: {
        stdout: { write: (t: string) => (out.stdout += t) },
        stderr: { write: (t: string) => (out.stderr += t) },
        readStackTarget: read,
      },
    };
  };
  const env = { OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN: "t0ken-t0ken-t0ken-t0ken-t0ken-01" };

  test("offline: exit 2 with the reason on one line, nothing on stdout", async () => {
    const { out, io: cliIo } = io(() => Promise.reject(new StackUnavailable("cannot read stack staging's outputs: not logged in")));
    expect(await main(["--stack", "staging", "--json"], env, cliIo)).toBe(2);
    expect(out.stdout).toBe("");
    expect(out.stderr).toBe("verify: error: cannot read stack staging's outputs: not logged in\n");
  });

  test("checks the executor the stack's outputs name, and says which", async () => {
    let asked = "";
    const { out, io: cliIo } = io((stack) => {
      asked = stack;
      return Promise.resolve({ ...targetFromOutputs(stack, OUTPUTS), executorUrl: "http://127.0.0.1:9" });
    });
    expect(await main(["--stack=organization/wallet-executor/staging", "--json", "--deadline-ms", "200"], env, cliIo)).toBe(1);
    expect(asked).toBe("organization/wallet-executor/staging");
    const doc = JSON.parse(out.stdout) as { schema: string; stack: Record<string, unknown>; checks: { name: string; detail: string }[] };
    expect(doc.schema).toBe("wallet-executor/verify/v1");
    expect(doc.stack).toEqual({
      name: "organization/wallet-executor/staging",
      executorUrl: "http://127.0.0.1:9",
      executorRevision: "wallet-executor-00004-abc",
      controlRevision: "wallet-control-00007-xyz",
      generations: { authToken: 4, sparkApiKey: 2, mnemonic: 1 },
    });
    expect(doc.checks[0].detail).toContain("127.0.0.1:9");
    expect(out.stderr).toContain("verify: stack organization/wallet-executor/staging: executor http://127.0.0.1:9");
  });

  test("--stack with --base-url is a usage error", async () => {
    const { out, io: cliIo } = io(() => Promise.reject(new Error("not called")));
    expect(await main(["--stack", "staging", "--base-url", "http://127.0.0.1:9"], env, cliIo)).toBe(2);
    expect(out.stderr).toMatch(/^verify: error: --stack reads the executor URL .* not both \(see --help\)\n$/);
  });
});
