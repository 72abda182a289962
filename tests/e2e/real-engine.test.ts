/**
 * The real engine against the local cloud: the shipped staging and prod configs (copies, with
 * throwaway secret values and the executor in mock mode), a real `pulumi preview` with the policy
 * pack saving the plan, then a real `pulumi up` constrained to it, on a file backend. Afterwards
 * the resources exist in the local cloud, both services answer, the verification gate ran, a
 * second gated `up` changes nothing, and an unsafe variant of the program is refused by the pack
 * at preview, before any step touches the cloud.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { request } from "undici";
import { buildTimeline } from "../../lib/timeline";
import { LocalCloudClient } from "../../localcloud/client";
import { LocalCloud, startLocalCloud } from "../../localcloud/server";
import { CliGateRecord, cliGatedStack } from "../../rehearsal/rehearse";
import { gatedUpdate } from "../../tools/deploy-gate";
import { Workspace, createWorkspace, readStackConfig, setThrowawaySecrets, writeConfig } from "../../rehearsal/workspace";
import { requirePulumiCli } from "../support/pulumi-cli";

const cli = requirePulumiCli();
const describeWithCli = cli === undefined ? describe.skip : describe;

// Each preview and up compiles the program and the pack: minutes on a busy 2-core machine.
jest.setTimeout(900_000);

async function status(url: string, token?: string): Promise<number> {
  const response = await request(`${url}/status`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    headersTimeout: 60_000,
    bodyTimeout: 60_000,
  });
  await response.body.dump();
  return response.statusCode;
}

describeWithCli.each(["staging", "prod"])("the real engine on the local cloud: %s", (stack) => {
  let dir: string;
  let cloud: LocalCloud;
  let api: LocalCloudClient;
  let ws: Workspace;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), `real-engine-${stack}-`));
    cloud = await startLocalCloud({ rolloutMs: 200, shutdownGraceMs: 3_000, controlRatePerSec: 2 });
    api = new LocalCloudClient(cloud.url, cloud.token);
    ws = await createWorkspace({ cli: cli!, out: dir, stack, cloudEnv: cloud.env });
    const executor = readStackConfig(ws.stackFile)["wallet-executor:executor"] as Record<string, unknown>;
    writeConfig(ws.stackFile, {
      "wallet-executor:executor": { ...executor, mode: "mock" },
      "gcp:secretManagerCustomEndpoint": `${cloud.secretManagerApi}/`,
      // The tagged strategy removes a revoked generation's tag through the Cloud Run Admin API.
      "gcp:cloudRunV2CustomEndpoint": `${cloud.url}/v2/`,
    });
    await setThrowawaySecrets(ws);
  });
  afterAll(async () => {
    await cloud?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The one deploy gate (tools/deploy-gate.ts) over the workspace's CLI: a preview with the pack, then the up of its plan. */
  async function gated(stem: string): Promise<{ outcome: Awaited<ReturnType<typeof gatedUpdate>>; record: CliGateRecord }> {
    const record: CliGateRecord = { preview: null, up: null };
    const outcome = await gatedUpdate(cliGatedStack(ws, path.join(dir, stem), record), {
      projectDir: ws.project,
      policyPackConfig: ws.policyConfig,
      onEvent: () => undefined,
    });
    return { outcome, record };
  }

  async function gatedUp(stem: string): Promise<{ ok: boolean; error?: string; events: readonly EngineEvent[] }> {
    const { outcome, record } = await gated(stem);
    expect(record.preview?.verdicts.filter((v) => v.level === "mandatory")).toEqual([]);
    expect(record.preview?.ok).toBe(true);
    return { ok: outcome.ok, ...(outcome.ok ? {} : { error: outcome.error }), events: record.up?.events ?? [] };
  }

  test("a gated preview then up converges: resources in the local cloud, services answer, verification ran", async () => {
    const up = await gatedUp("first");
    expect(up.error).toBeUndefined();
    expect(up.ok).toBe(true);

    const raw = readStackConfig(ws.stackFile);
    const executor = raw["wallet-executor:executor"] as { serviceName: string };
    const control = raw["wallet-executor:control"] as { serviceName: string };
    const state = await api.state();
    const secretIds = state.secrets.map((s) => s.name.split("/").pop());
    for (const credential of ["auth-token", "spark-api-key", "mnemonic"])
      expect(secretIds).toContain(`${executor.serviceName}-${credential}`);
    const services = state.services.map((s) => s.name.split("/").pop());
    expect(services).toEqual(expect.arrayContaining([executor.serviceName, control.serviceName]));

    const outputs = JSON.parse((await ws.pulumi(["stack", "output", "--json", "--stack", stack])).stdout) as {
      executorUrl: string;
      controlUrl: string;
      credentials: { authToken: { currentGeneration: number; currentVersion: string } };
      verifiedGenerations: { authToken: number };
      verifiedAt: string;
    };
    // The verification gate ran inside the up and vouched for the generation in config.
    const tokenConfig = raw["wallet-executor:authToken"] as { current: number };
    expect(outputs.verifiedGenerations.authToken).toBe(tokenConfig.current);
    expect(Date.parse(outputs.verifiedAt)).toBeGreaterThan(Date.now() - 30 * 60_000);
    const timeline = buildTimeline([up.events]);
    expect(timeline.phases.find((p) => p.phase === "verify")?.status).toBe("succeeded");

    // The executor answers the current token and refuses a missing one; the control answers.
    const tokenSecret = state.secrets.find((s) => s.name.endsWith(`/${executor.serviceName}-auth-token`))!;
    const token = await api.accessSecretVersion(`${tokenSecret.name}/versions/${outputs.credentials.authToken.currentVersion}`);
    expect(await status(outputs.executorUrl, token)).toBe(200);
    expect(await status(outputs.executorUrl)).toBe(401);
    expect(await status(outputs.controlUrl)).toBe(200);
  });

  test("a second gated up with no change is a no-op", async () => {
    const before = (await api.call<{ events: { seq: number; type: string }[] }>("GET", "/localcloud/v1/events")).events.length;
    const up = await gatedUp("second");
    expect(up.ok).toBe(true);
    const timeline = buildTimeline([up.events]);
    const changes = timeline.runs[0].resourceChanges ?? {};
    // The program reads its own last applied outputs (a StackReference): a read step, which changes nothing.
    expect(Object.keys(changes).filter((op) => op !== "same" && op !== "read")).toEqual([]);
    expect(changes.same).toBeGreaterThan(20);
    const reads = up.events.filter((e) => e.resourcePreEvent?.metadata.op === "read").map((e) => e.resourcePreEvent!.metadata.type);
    expect(reads).toEqual(["pulumi:pulumi:StackReference"]);
    const events = (await api.call<{ events: { seq: number; type: string }[] }>("GET", "/localcloud/v1/events")).events.slice(before);
    expect(events.filter((e) => /revision-created|secret-version-added|iam-policy-set|traffic-changed/.test(e.type))).toEqual([]);
  });

  test("an unsafe variant (a stranger granted the token's secret) is refused by the pack at preview; nothing is applied", async () => {
    const raw = readStackConfig(ws.stackFile);
    const executor = raw["wallet-executor:executor"] as { serviceName: string };
    const index = path.join(ws.project, "index.ts");
    const original = fs.readFileSync(index, "utf8");
    fs.writeFileSync(
      index,
      [
        'import * as gcp from "@pulumi/gcp";',
        'import { defineStack } from "./program";',
        "const outputs = defineStack();",
        `new gcp.secretmanager.SecretIamMember("stranger-token-access", { project: ${JSON.stringify(raw["gcp:project"])}, secretId: ${JSON.stringify(`${executor.serviceName}-auth-token`)}, role: "roles/secretmanager.secretAccessor", member: "user:stranger@example.com" });`,
        "export = outputs;",
        "",
      ].join("\n"),
    );
    try {
      const before = (await api.call<{ events: unknown[] }>("GET", "/localcloud/v1/events")).events.length;
      const { outcome, record } = await gated("unsafe");
      expect(outcome.stage).toBe("refused");
      // The gate never started the update.
      expect(record.up).toBeNull();
      expect(record.preview?.ok).toBe(false);
      expect(record.preview?.verdicts).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            policy: "least-privilege-secret-access",
            level: "mandatory",
            resource: "stranger-token-access",
            message: expect.stringContaining("user:stranger@example.com") as unknown,
          }),
        ]),
      );
      // Nothing reached the cloud: no grant, no event at all.
      expect((await api.call<{ events: unknown[] }>("GET", "/localcloud/v1/events")).events.length).toBe(before);
      const secret = (await api.state()).secrets.find((s) => s.name.endsWith(`/${executor.serviceName}-auth-token`))!;
      const policy = await api.call<{ bindings?: { members: string[] }[] }>("POST", `/v1/${secret.name}:getIamPolicy`, {});
      expect(JSON.stringify(policy.bindings ?? [])).not.toContain("stranger");
    } finally {
      fs.writeFileSync(index, original);
    }
  });
});
