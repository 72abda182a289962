/** The rehearsal's small pure helpers: policy messages, CLI errors, the failed-verification fault. */
import { spawnSync } from "node:child_process";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import {
  REHEARSAL_CONTROL_TIMEOUT_MS,
  REHEARSAL_SHUTDOWN_GRACE_MS,
  drainSettings,
  errorLine,
  isService,
  misreportingCommand,
  versionsIn,
  violationText,
} from "../../rehearsal/rehearse";

test("a violation's message keeps what is wrong, not the policy's description before it", () => {
  expect(violationText("<{%fg 3%}>Protects each credential.\ngrant g gives user:x access.<{%reset%}>\n")).toBe(
    "grant g gives user:x access.",
  );
  expect(violationText("can't run policy 'p' during preview: 1 check skipped")).toBe(
    "can't run policy 'p' during preview: 1 check skipped",
  );
});

test("a CLI error: the first specific error line (the cause) with its detail lines, never the generic one, bearer tokens redacted", () => {
  const stdout =
    "Updating (staging)\n  error: verification failed 2 of 6 checks:\n  - auth: Bearer abc123 refused\n  - status: wrong\nResources:\n";
  expect(errorLine(stdout, "error: update failed\nerror: expected resource operations for x but none were seen\n")).toBe(
    "error: verification failed 2 of 6 checks: - auth: Bearer [redacted] refused - status: wrong",
  );
  expect(errorLine("nothing useful", "")).toBe("failed");
});

test("the failed-verification fault: only the given generation reports another version; the command still runs", () => {
  const command = misreportingCommand('echo "v=$OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN_VERSION"', 5);
  const run = (version: string): string =>
    spawnSync("/bin/sh", ["-c", command], {
      env: { PATH: process.env.PATH, OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN_VERSION: version },
      encoding: "utf8",
    }).stdout.trim();
  expect(run("5")).toBe("v=1005");
  expect(run("4")).toBe("v=4");
  // A command that already replaces the shell (the stand-in's) is run as given, not `exec exec`.
  const execing = misreportingCommand('exec echo "v=$OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN_VERSION"', 5);
  expect(execing).not.toContain("exec exec");
  expect(
    spawnSync("/bin/sh", ["-c", execing], {
      env: { OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN_VERSION: "5" },
      encoding: "utf8",
    }).stdout.trim(),
  ).toBe("v=1005");
});

test("local cloud events name a service short or in full", () => {
  const event = (service: string) => ({ seq: 1, atMs: 0, type: "revision-created", service });
  expect(isService(event("wallet-executor"), "wallet-executor")).toBe(true);
  expect(isService(event("projects/p/locations/l/services/wallet-executor"), "wallet-executor")).toBe(true);
  expect(isService(event("wallet-executor-2"), "wallet-executor")).toBe(false);
});

test("the drain settings: the local cloud's grace and the rehearsal's control timeout, everything else of both keys kept", () => {
  expect(drainSettings({ rotation: "tagged", control: { serviceName: "c", timeoutMs: 12_000 } })).toEqual({
    "wallet-executor:rotation": { strategy: "tagged", shutdownGraceMs: REHEARSAL_SHUTDOWN_GRACE_MS },
    "wallet-executor:control": { serviceName: "c", timeoutMs: REHEARSAL_CONTROL_TIMEOUT_MS },
  });
  expect(drainSettings({ rotation: { strategy: "tagged", taggedSince: 4, shutdownGraceMs: 10_000 }, control: {} })).toEqual({
    "wallet-executor:rotation": { strategy: "tagged", taggedSince: 4, shutdownGraceMs: REHEARSAL_SHUTDOWN_GRACE_MS },
    "wallet-executor:control": { timeoutMs: REHEARSAL_CONTROL_TIMEOUT_MS },
  });
  expect(drainSettings({ control: {} })["wallet-executor:rotation"]).toEqual({ shutdownGraceMs: REHEARSAL_SHUTDOWN_GRACE_MS });
});

test("versions from an update's events: each version resource's credential, generation and full name; other resources ignored", () => {
  const step = (type: string, name: string, outputs: Record<string, unknown>): EngineEvent =>
    ({
      sequence: 1,
      timestamp: 1,
      resOutputsEvent: {
        metadata: {
          op: "create",
          urn: `urn:pulumi:staging::wallet-executor::wallet:rotation:RotatingSecret$${type}::${name}`,
          type,
          provider: "",
          new: { outputs },
        },
      },
    }) as unknown as EngineEvent;
  const version = "gcp:secretmanager/secretVersion:SecretVersion";
  expect(
    versionsIn([
      step(version, "auth-token-g5", { name: "projects/p/secrets/wallet-executor-auth-token/versions/3" }),
      step(version, "spark-api-key-g3", { name: "projects/p/secrets/wallet-executor-spark-api-key/versions/2" }),
      step("gcp:secretmanager/secret:Secret", "auth-token-secret", { name: "projects/p/secrets/wallet-executor-auth-token" }),
      step(version, "mnemonic-g2", {}),
    ]),
  ).toEqual([
    { credential: "authToken", generation: 5, name: "projects/p/secrets/wallet-executor-auth-token/versions/3" },
    { credential: "sparkApiKey", generation: 3, name: "projects/p/secrets/wallet-executor-spark-api-key/versions/2" },
  ]);
});
