/**
 * The policy pack as the Pulumi CLI runs it: `node <@pulumi/pulumi/cmd/run-policy-pack> <engine>
 * <pack dir>` with the pack directory as working directory (ts-node compiles `policy/index.ts`,
 * PolicyPack reads `policy/package.json`'s version, binds 127.0.0.1:0 and prints the port). The
 * test talks to it over gRPC with the analyzer stubs shipped in @pulumi/pulumi, as the engine does,
 * and checks that its diagnostics are the harness's violations (the engine prefixes each message
 * with the policy's description).
 */
import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import * as pulumi from "@pulumi/pulumi";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import {
  ALL_POLICIES,
  POLICY_PACK_NAME,
  revocationRequiresVerification,
  secretReferencesPinned,
  secretVersionsRecoverable,
} from "../../policy/policies";
import { PROJECT } from "../../stack/config";
import { defineStack } from "../../stack/program";
import {
  AnalyzerResourceView,
  Violation,
  analyzerViews,
  checkResource,
  evaluateWithPolicies,
  resourceView,
  runPolicies,
  toWireValue,
} from "../../harness/policy-harness";
import { UNKNOWN } from "../../harness/recording-monitor";
import { analyzerGrpc, analyzerPb, policyPackRunner } from "../../lib/sdk-internals/analyzer-proto";
import { ROOT, stackConfig } from "../support/project";
import { skipDynamicProviderCode } from "../../lib/sdk-internals/dynamic-provider";

afterAll(() => pulumi.runtime.disconnect());
// No policy reads a dynamic provider's code: the program registers the marker instead (tests/support/stack.ts says why).
skipDynamicProviderCode();

const PACK_DIR = path.join(ROOT, "policy");
const PACK_VERSION = (require("../../policy/package.json") as { version: string }).version;

let pack: ChildProcess | undefined;
let client: analyzerGrpc.AnalyzerClient;
let packStderr = "";

/** Starts the pack the way the CLI's analyzer plugin does and resolves with its port. */
function startPack(): Promise<number> {
  return new Promise((resolve, reject) => {
    const runner = policyPackRunner.get();
    const child = spawn(process.execPath, [runner, "127.0.0.1:0", "."], { cwd: PACK_DIR, stdio: ["ignore", "pipe", "pipe"] });
    pack = child;
    let stdout = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = /^([0-9]+)\s*$/m.exec(stdout);
      if (line) resolve(Number(line[1]));
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      packStderr += chunk.toString();
    });
    child.on("exit", (code) => reject(new Error(`the policy pack exited with ${code} before printing its port:\n${packStderr}`)));
  });
}

/** The engine's calls, as promises. */
const rpcs = {
  info: (): Promise<analyzerPb.AnalyzerInfo> =>
    new Promise((resolve, reject) => client.getAnalyzerInfo(new Empty(), (err, response) => (err ? reject(err) : resolve(response)))),
  analyze: (request: analyzerPb.AnalyzeRequest): Promise<analyzerPb.AnalyzeResponse> =>
    new Promise((resolve, reject) => client.analyze(request, (err, response) => (err ? reject(err) : resolve(response)))),
  analyzeStack: (request: analyzerPb.AnalyzeStackRequest): Promise<analyzerPb.AnalyzeResponse> =>
    new Promise((resolve, reject) => client.analyzeStack(request, (err, response) => (err ? reject(err) : resolve(response)))),
  configure: (request: analyzerPb.ConfigureAnalyzerRequest): Promise<unknown> =>
    new Promise((resolve, reject) => client.configure(request, (err, response) => (err ? reject(err) : resolve(response)))),
};

function optionsProto(view: AnalyzerResourceView): analyzerPb.AnalyzerResourceOptions {
  const options = new analyzerPb.AnalyzerResourceOptions();
  options.setProtect(view.options.protect);
  options.setIgnorechangesList([...view.options.ignoreChanges]);
  options.setAdditionalsecretoutputsList([...view.options.additionalSecretOutputs]);
  options.setAliasesList([...view.options.aliases]);
  if (view.options.deleteBeforeReplace !== undefined) {
    options.setDeletebeforereplace(view.options.deleteBeforeReplace);
    options.setDeletebeforereplacedefined(true);
  }
  if (view.options.parent) options.setParent(view.options.parent);
  options.setCustomtimeouts(new analyzerPb.AnalyzerResourceOptions.CustomTimeouts());
  return options;
}

function providerProto(view: AnalyzerResourceView): analyzerPb.AnalyzerProviderResource | undefined {
  if (!view.provider) return undefined;
  const provider = new analyzerPb.AnalyzerProviderResource();
  provider.setType(view.provider.type);
  provider.setUrn(view.provider.urn);
  provider.setName(view.provider.name);
  provider.setProperties(Struct.fromJavaScript(toWireValue(view.provider.props) as Record<string, never>));
  return provider;
}

/** An `Analyze` request for one resource, as the engine sends it. */
function analyzeRequest(view: AnalyzerResourceView): analyzerPb.AnalyzeRequest {
  const request = new analyzerPb.AnalyzeRequest();
  request.setType(view.type);
  request.setUrn(view.urn);
  request.setName(view.name);
  request.setProperties(Struct.fromJavaScript(toWireValue(view.props) as Record<string, never>));
  request.setOptions(optionsProto(view));
  const provider = providerProto(view);
  if (provider) request.setProvider(provider);
  return request;
}

/** An `AnalyzeStack` request for the whole stack. */
function analyzeStackRequest(views: readonly AnalyzerResourceView[]): analyzerPb.AnalyzeStackRequest {
  const request = new analyzerPb.AnalyzeStackRequest();
  request.setResourcesList(
    views.map((view) => {
      const resource = new analyzerPb.AnalyzerResource();
      resource.setType(view.type);
      resource.setUrn(view.urn);
      resource.setName(view.name);
      resource.setProperties(Struct.fromJavaScript(toWireValue(view.props) as Record<string, never>));
      resource.setOptions(optionsProto(view));
      const provider = providerProto(view);
      if (provider) resource.setProvider(provider);
      if (view.parent) resource.setParent(view.parent);
      resource.setDependenciesList([...view.dependencies]);
      const dependencies = resource.getPropertydependenciesMap();
      for (const [key, urns] of Object.entries(view.propertyDependencies)) {
        dependencies.set(key, new analyzerPb.AnalyzerPropertyDependencies().setUrnsList([...urns]));
      }
      return resource;
    }),
  );
  return request;
}

const LEVELS: Record<number, Violation["enforcementLevel"]> = {
  [analyzerPb.EnforcementLevel.ADVISORY]: "advisory",
  [analyzerPb.EnforcementLevel.MANDATORY]: "mandatory",
  [analyzerPb.EnforcementLevel.REMEDIATE]: "remediate",
  [analyzerPb.EnforcementLevel.DISABLED]: "disabled",
};

interface Diagnostic {
  policy: string;
  level: Violation["enforcementLevel"];
  urn: string;
  message: string;
}

function diagnostics(response: analyzerPb.AnalyzeResponse): Diagnostic[] {
  return response.getDiagnosticsList().map((d) => ({
    policy: d.getPolicyname(),
    level: LEVELS[d.getEnforcementlevel()],
    urn: d.getUrn(),
    message: d.getMessage(),
  }));
}

const descriptionOf = (name: string): string => ALL_POLICIES.find((policy) => policy.name === name)?.description ?? "";

/** The diagnostic the pack sends for a harness violation: the description, then the policy's message. */
function asDiagnostic(violation: Violation, urn = ""): Diagnostic {
  const skipped = violation.message.startsWith("can't run policy");
  return {
    policy: violation.policy,
    level: violation.enforcementLevel,
    urn,
    message: skipped ? violation.message : `${descriptionOf(violation.policy)}\n${violation.message}`,
  };
}

/** A Cloud Run service whose Spark key is read at `latest`. */
const latestService = resourceView({
  type: "gcp:cloudrunv2/service:Service",
  name: "executor-service",
  urn: "urn:pulumi:staging::wallet-executor::gcp:cloudrunv2/service:Service::executor-service",
  props: {
    name: "wallet-executor",
    location: "us-central1",
    template: {
      containers: [
        {
          image: "executor@sha256:00",
          envs: [
            {
              name: "OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN",
              valueSource: { secretKeyRef: { secret: "projects/p/secrets/token", version: "14" } },
            },
            {
              name: "OA_LIGHTNING_SPARK_API_KEY",
              valueSource: { secretKeyRef: { secret: "projects/p/secrets/spark", version: "latest" } },
            },
          ],
        },
      ],
    },
  },
});

beforeAll(async () => {
  const port = await startPack();
  client = new analyzerGrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}, 120_000); // waits on the port line; the deadline only stops a hang, however busy the machine

afterAll(async () => {
  client?.close();
  const child = pack;
  if (child?.pid !== undefined && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill();
    await exited;
  }
});

describe("the policy pack, served as the Pulumi CLI runs it", () => {
  test("GetAnalyzerInfo: the pack's name, version and every policy with its enforcement level and config schema", async () => {
    const info = await rpcs.info();
    expect(info.getName()).toBe(POLICY_PACK_NAME);
    expect(info.getVersion()).toBe(PACK_VERSION);
    expect(info.getSupportsconfig()).toBe(true);
    const policies = info
      .getPoliciesList()
      .map((p) => [
        p.getName(),
        LEVELS[p.getEnforcementlevel()],
        p.getPolicyType() === analyzerPb.PolicyType.POLICY_TYPE_STACK ? "stack" : "resource",
      ]);
    expect(policies).toEqual([
      ["revocation-requires-verification", "mandatory", "stack"],
      ["secret-access-before-rollout", "mandatory", "stack"],
      ["executor-before-control", "mandatory", "stack"],
      ["verification-after-rollouts", "mandatory", "stack"],
      ["verification-expects-pinned-generation", "mandatory", "stack"],
      ["secret-references-pinned", "mandatory", "resource"],
      ["credentials-from-secret-manager", "mandatory", "resource"],
      ["credentials-not-in-plain-config", "mandatory", "stack"],
      ["services-share-token-version", "mandatory", "stack"],
      ["token-entropy", "mandatory", "stack"],
      ["secret-versions-recoverable", "mandatory", "resource"],
      ["least-privilege-secret-access", "mandatory", "stack"],
      ["executor-exposure", "advisory", "stack"],
      ["revocation-endpoint", "mandatory", "resource"],
      ["compromised-generations", "mandatory", "stack"],
      ["tagged-routing", "mandatory", "stack"],
      ["in-place-rotation-window", "advisory", "stack"],
    ]);
    const recoverable = info.getPoliciesList().find((p) => p.getName() === "secret-versions-recoverable");
    expect(recoverable?.getConfigschema()?.getProperties()?.toJavaScript()).toMatchObject({
      mnemonicMinDestroyTtlDays: { type: "integer", default: 30 },
    });
  });

  test("Analyze: a `latest` secret reference gets exactly the harness's violation, after the policy's description", async () => {
    const response = await rpcs.analyze(analyzeRequest(latestService));
    const expected = await checkResource(secretReferencesPinned, latestService);
    expect(expected).toHaveLength(1);
    expect(diagnostics(response)).toEqual([asDiagnostic(expected[0])]);
    expect(diagnostics(response)[0].message).toContain(
      'executor-service container 0 env OA_LIGHTNING_SPARK_API_KEY reads projects/p/secrets/spark at "latest"; pin a version number.',
    );
  });

  test("Analyze: a version unknown during preview is an advisory skip note, the same as the harness's", async () => {
    const unknownVersion = resourceView({
      ...latestService,
      props: {
        template: {
          containers: [
            {
              envs: [
                {
                  name: "OA_LIGHTNING_SPARK_API_KEY",
                  valueSource: { secretKeyRef: { secret: "projects/p/secrets/spark", version: UNKNOWN } },
                },
              ],
            },
          ],
        },
      },
    });
    const response = await rpcs.analyze(analyzeRequest(unknownVersion));
    const expected = (await checkResource(secretReferencesPinned, unknownVersion)).map((v) => asDiagnostic(v));
    expect(diagnostics(response).filter((d) => d.policy === "secret-references-pinned")).toEqual(expected);
    expect(expected[0]).toMatchObject({ level: "advisory" });
    expect(expected[0].message).toBe(
      `can't run policy 'secret-references-pinned' from policy pack '${POLICY_PACK_NAME}@v${PACK_VERSION}' during preview: ` +
        "1 check skipped because a value is unknown until apply (no violation assumed; the check runs again when the value is known): " +
        "executor-service container 0 env OA_LIGHTNING_SPARK_API_KEY: secretKeyRef version",
    );
  });

  test("AnalyzeStack: the staging graph has no diagnostic; without the revocation -> verification edge, exactly the harness's", async () => {
    const { config, secretKeys } = stackConfig("staging");
    const { evaluation, resourceOutputs } = await evaluateWithPolicies({
      program: defineStack,
      project: PROJECT,
      stack: "staging",
      config,
      secretKeys,
    });
    if (evaluation.error) throw evaluation.error instanceof Error ? evaluation.error : new Error("the staging program failed");
    const options = { outputs: resourceOutputs, stackOutputs: evaluation.outputs, config };
    const clean = await rpcs.analyzeStack(analyzeStackRequest(analyzerViews(evaluation.resources, options).stack));
    expect(diagnostics(clean)).toEqual([]);

    const verification = evaluation.resources.find((r) => r.name === "verification");
    const cut = evaluation.resources.map((r) =>
      r.name === "auth-token-g3" ? { ...r, dependencies: r.dependencies.filter((urn) => urn !== verification?.urn) } : r,
    );
    const response = await rpcs.analyzeStack(analyzeStackRequest(analyzerViews(cut, options).stack));
    const expected = await runPolicies(cut, { ...options, policies: [revocationRequiresVerification] });
    expect(expected.map((v) => v.policy)).toEqual(["revocation-requires-verification"]);
    expect(diagnostics(response)).toEqual(expected.map((v) => asDiagnostic(v, v.urn)));
  });

  test("AnalyzeStack in a first preview: a revocation whose reader's pin is unknown is refused as not provable, as the harness says", async () => {
    const { config, secretKeys } = stackConfig("staging");
    const { evaluation, resourceOutputs } = await evaluateWithPolicies({
      program: path.join(ROOT, "tests", "fixtures", "policy", "revocation-requires-verification-unprovable-in-preview.ts"),
      project: PROJECT,
      stack: "staging",
      config,
      secretKeys,
      firstPreview: true,
    });
    if (evaluation.error) throw evaluation.error instanceof Error ? evaluation.error : new Error("the fixture program failed");
    const options = { outputs: resourceOutputs, stackOutputs: evaluation.outputs, config };
    const response = await rpcs.analyzeStack(analyzeStackRequest(analyzerViews(evaluation.resources, options).stack));
    const expected = await runPolicies(evaluation.resources, { ...options, policies: [revocationRequiresVerification] });
    expect(expected.map((v) => [v.policy, v.enforcementLevel, v.urn?.split("::").pop()])).toEqual([
      ["revocation-requires-verification", "mandatory", "credential-old"],
    ]);
    expect(expected[0].message).toContain("cannot be proven safe during preview");
    const fromPack = diagnostics(response).filter((d) => d.policy === "revocation-requires-verification");
    expect(fromPack).toEqual(expected.map((v) => asDiagnostic(v, v.urn)));
  });

  test("Configure (what --policy-pack-config sends): a raised TTL minimum and a lowered level apply", async () => {
    const config = new analyzerPb.ConfigureAnalyzerRequest();
    const recoverable = new analyzerPb.PolicyConfig();
    recoverable.setEnforcementlevel(analyzerPb.EnforcementLevel.ADVISORY);
    recoverable.setProperties(Struct.fromJavaScript({ mnemonicMinDestroyTtlDays: 45 }));
    config.getPolicyconfigMap().set("secret-versions-recoverable", recoverable);
    await rpcs.configure(config);
    const mnemonicSecret = resourceView({
      type: "gcp:secretmanager/secret:Secret",
      name: "mnemonic-secret",
      props: { secretId: "wallet-executor-mnemonic", labels: { credential: "mnemonic" }, versionDestroyTtl: "2592000s" },
      protect: true,
    });
    const response = await rpcs.analyze(analyzeRequest(mnemonicSecret));
    const expected = await checkResource(secretVersionsRecoverable, mnemonicSecret, {
      policyConfig: { "secret-versions-recoverable": { enforcementLevel: "advisory", mnemonicMinDestroyTtlDays: 45 } },
    });
    expect(expected).toEqual([
      {
        policy: "secret-versions-recoverable",
        enforcementLevel: "advisory",
        urn: mnemonicSecret.urn,
        message:
          "mnemonic-secret holds the wallet mnemonic but keeps destroyed versions restorable for 30 days (versionDestroyTtl 2592000s), " +
          "less than 45: set versionDestroyTtl to at least 3888000s.",
      },
    ]);
    expect(diagnostics(response)).toEqual([asDiagnostic(expected[0])]);
    expect(packStderr).toBe("");
  });
});
