/** What an instance runs and its env (pure logic). */
import {
  commandFor,
  instanceEnv,
  shellQuote,
  workloadKind,
  STAND_IN_CONTROL_COMMAND,
  STAND_IN_EXECUTOR_COMMAND,
} from "../../localcloud/runners";

const base = { PATH: "/usr/bin", HOME: "/root" };

describe("instanceEnv", () => {
  test("the executor's own port and bind variables follow the instance, and it runs in mock mode", () => {
    const env = instanceEnv({
      kind: "executor",
      templateEnv: {
        OA_LIGHTNING_WALLET_EXECUTOR_PORT: "8080",
        OA_LIGHTNING_WALLET_EXECUTOR_HOST: "0.0.0.0",
        OA_LIGHTNING_WALLET_EXECUTOR_MODE: "spark",
        X: "1",
      },
      port: 41234,
      service: "wallet-executor",
      revision: "wallet-executor-00001-abc",
      secretManagerApi: "http://127.0.0.1:1/v1",
      accessToken: "lc-sa-x",
      baseEnv: base,
    });
    expect(env).toMatchObject({
      PATH: "/usr/bin",
      X: "1",
      PORT: "41234",
      K_SERVICE: "wallet-executor",
      K_REVISION: "wallet-executor-00001-abc",
      K_CONFIGURATION: "wallet-executor",
      OA_LIGHTNING_WALLET_EXECUTOR_PORT: "41234",
      OA_LIGHTNING_WALLET_EXECUTOR_HOST: "127.0.0.1",
      OA_LIGHTNING_WALLET_EXECUTOR_MODE: "mock",
      LOCALCLOUD_SECRET_MANAGER_API: "http://127.0.0.1:1/v1",
      LOCALCLOUD_ACCESS_TOKEN: "lc-sa-x",
    });
  });

  test("any other workload keeps its template env as written; Cloud Run's variables win over the template's", () => {
    const env = instanceEnv({
      kind: "caller",
      templateEnv: { OA_LIGHTNING_WALLET_EXECUTOR_PORT: "8080", K_SERVICE: "spoofed" },
      port: 5000,
      service: "wallet-control",
      revision: "r",
      secretManagerApi: "",
      accessToken: "",
      baseEnv: base,
    });
    expect(env.OA_LIGHTNING_WALLET_EXECUTOR_PORT).toBe("8080");
    expect(env.K_SERVICE).toBe("wallet-control");
    expect(env.OA_LIGHTNING_WALLET_EXECUTOR_MODE).toBeUndefined();
  });
});

describe("which command a revision runs", () => {
  test("the executor is recognised by the contract's mode variable", () => {
    expect(workloadKind(["OA_LIGHTNING_WALLET_EXECUTOR_MODE", "X"])).toBe("executor");
    expect(workloadKind(["OA_LIGHTNING_WALLET_EXECUTOR_BASE_URL", "OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN"])).toBe("caller");
  });

  test("defaults to the stand-ins; an executor command, a caller command, and a per-service command win in that order", () => {
    expect(commandFor("e", "executor", {})).toBe(STAND_IN_EXECUTOR_COMMAND);
    expect(commandFor("c", "caller", {})).toBe(STAND_IN_CONTROL_COMMAND);
    const commands = { executorCommand: "./executor", callerCommand: "./caller", serviceCommands: { special: "./special" } };
    expect(commandFor("e", "executor", commands)).toBe("./executor");
    expect(commandFor("c", "caller", commands)).toBe("./caller");
    expect(commandFor("special", "executor", commands)).toBe("./special");
  });

  test("paths are quoted for the shell", () => {
    expect(shellQuote("/usr/bin/node")).toBe("/usr/bin/node");
    expect(shellQuote("/var/a dir/it's")).toBe(`'/var/a dir/it'\\''s'`);
  });
});
