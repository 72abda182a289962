/**
 * The real engine against the local cloud, through the one deploy gate (ops/deploy/gate.ts): the
 * shipped staging and prod configs (copies, with throwaway secret values and the executor in mock
 * mode) on a file backend. Prod, as shipped (the engine compiles the TypeScript and type-checks the
 * pack): a preview with the policy pack passes. Staging (precompiled once, as a rehearsal runs it):
 * a gated preview then `up` converges (the resources exist in the local cloud, both services
 * answer, the verification gate ran), a second gated `up` changes nothing, and an unsafe variant of
 * the program is refused by the pack at preview, before any step touches the cloud.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { request } from "undici";
import { buildTimeline } from "../../ops/drill/timeline";
import { LocalCloudClient } from "../../localcloud/client";
import { LocalCloud, startLocalCloud } from "../../localcloud/server";
import { recompileFile } from "../../rehearsal/precompile";
import { CliGateRecord, cliGatedStack } from "../../rehearsal/rehearse";
import { gateRequest, gatedUpdate } from "../../ops/deploy/gate";
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

interface EngineSetup {
  readonly dir: string;
  readonly cloud: LocalCloud;
  readonly api: LocalCloudClient;
  readonly ws: Workspace;
}

/** A local cloud and a copy of the project with the stack's config (executor in mock mode, Google's endpoints pointed at the cloud). */
async function setUp(stack: string, precompile: boolean): Promise<EngineSetup> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `real-engine-${stack}-`));
  const cloud = await startLocalCloud({ rolloutMs: 200, shutdownGraceMs: 3_000, controlRatePerSec: 2 });
  const ws = await createWorkspace({ cli: cli!, out: dir, stack, cloudEnv: cloud.env, precompile });
  const executor = readStackConfig(ws.stackFile)["wallet-executor:executor"] as Record<string, unknown>;
  writeConfig(ws.stackFile, {
    "wallet-executor:executor": { ...executor, mode: "mock" },
    "gcp:secretManagerCustomEndpoint": `${cloud.secretManagerApi}/`,
    // The tagged strategy removes a revoked generation's tag through the Cloud Run Admin API.
    "gcp:cloudRunV2CustomEndpoint": `${cloud.url}/v2/`,
  });
  await setThrowawaySecrets(ws);
  return { dir, cloud, api: new LocalCloudClient(cloud.url, cloud.token), ws };
}

async function tearDown(setup: EngineSetup | undefined): Promise<void> {
  await setup?.cloud.close();
  if (setup) fs.rmSync(setup.dir, { recursive: true, force: true });
}

/** The one deploy gate (ops/deploy/gate.ts) over the workspace's CLI: a preview with the pack, then the up of its plan. */
async function gated(
  setup: EngineSetup,
  stem: string,
): Promise<{ outcome: Awaited<ReturnType<typeof gatedUpdate>>; record: CliGateRecord }> {
  const record: CliGateRecord = { preview: null, up: null };
  const outcome = await gatedUpdate(cliGatedStack(setup.ws, path.join(setup.dir, stem), record), {
    projectDir: setup.ws.project,
    policyPackConfig: setup.ws.policyConfig,
    onEvent: () => undefined,
  });
  return { outcome, record };
}

describeWithCli("the real engine on the local cloud: prod, as shipped (TypeScript compiled by the engine)", () => {
  let setup: EngineSetup | undefined;
  afterAll(() => tearDown(setup));

  test("a preview with the policy pack passes: no mandatory violation, the plan saved", async () => {
    setup = await setUp("prod", false);
    const record: CliGateRecord = { preview: null, up: null };
    const planFile = path.join(setup.dir, "prod.plan.json");
    const outcome = await cliGatedStack(setup.ws, path.join(setup.dir, "prod"), record).preview(
      gateRequest(setup.ws.project, planFile, setup.ws.policyConfig),
    );
    expect(outcome.error).toBeUndefined();
    expect(outcome.ok).toBe(true);
    expect(outcome.refusals).toEqual([]);
    expect(record.preview?.verdicts.length).toBeGreaterThan(0); // the pack ran (advisories on values unknown at preview)
    expect(fs.existsSync(planFile)).toBe(true);
    // A preview touches nothing in the cloud.
    expect((await setup.api.state()).services).toEqual([]);
  });
});

describeWithCli("the real engine on the local cloud: staging", () => {
  let setup: EngineSetup | undefined;
  let api: LocalCloudClient;
  let ws: Workspace;
  const stack = "staging";

  beforeAll(async () => {
    setup = await setUp(stack, true);
    ({ api, ws } = setup);
  });
  afterAll(() => tearDown(setup));

  async function gatedUp(stem: string): Promise<{ ok: boolean; error?: string; events: readonly EngineEvent[] }> {
    const { outcome, record } = await gated(setup!, stem);
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
    // The copy is precompiled: the engine runs index.js, so the variant is compiled beside it.
    const write = (text: string): void => {
      fs.writeFileSync(index, text);
      recompileFile(index);
    };
    write(
      [
        'import * as gcp from "@pulumi/gcp";',
        'import { defineStack } from "./stack/program";',
        "const outputs = defineStack();",
        `new gcp.secretmanager.SecretIamMember("stranger-token-access", { project: ${JSON.stringify(raw["gcp:project"])}, secretId: ${JSON.stringify(`${executor.serviceName}-auth-token`)}, role: "roles/secretmanager.secretAccessor", member: "user:stranger@example.com" });`,
        "export = outputs;",
        "",
      ].join("\n"),
    );
    try {
      const before = (await api.call<{ events: unknown[] }>("GET", "/localcloud/v1/events")).events.length;
      const { outcome, record } = await gated(setup!, "unsafe");
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
      write(original);
    }
  });
});
