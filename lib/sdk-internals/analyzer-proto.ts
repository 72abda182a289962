/**
 * The analyzer's gRPC stubs shipped in @pulumi/pulumi (generated, not part of its API) and the
 * entry point the CLI starts a Node policy pack with: the process test talks to the pack exactly
 * as the engine does. Only tests load this module.
 */
import * as analyzerGrpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as analyzerPb from "@pulumi/pulumi/proto/analyzer_pb";
import { POLICY_DIR, SdkInternalError, member } from "./fence";
import { defineInternal } from "./internal";

export { analyzerGrpc, analyzerPb };

const PROTO_ID = "@pulumi/pulumi/proto/analyzer_pb,analyzer_grpc_pb#AnalyzerClient,AnalyzeRequest,AnalyzeStackRequest";
export const analyzerProto = defineInternal({
  id: PROTO_ID,
  moduleId: "@pulumi/pulumi/proto/analyzer_grpc_pb",
  usedBy: ["tests/policy/pack-process.test.ts"],
  why: "the engine's side of the analyzer protocol, to drive the pack as a process",
  extract: (module) => {
    const client = member<new (...args: never[]) => unknown>(PROTO_ID, module, "AnalyzerClient", "function");
    for (const message of [
      "AnalyzeRequest",
      "AnalyzeStackRequest",
      "AnalyzerResource",
      "AnalyzerResourceOptions",
      "ConfigureAnalyzerRequest",
    ]) {
      member(PROTO_ID, analyzerPb as unknown as Record<string, unknown>, message, "function");
    }
    return client;
  },
  behaviour: "an AnalyzeRequest round-trips its type, URN and name through the binary wire format",
  behaves: () => {
    const request = new analyzerPb.AnalyzeRequest();
    request.setType("gcp:x:Y");
    request.setUrn("urn:pulumi:s::p::gcp:x:Y::n");
    request.setName("n");
    const decoded = analyzerPb.AnalyzeRequest.deserializeBinary(request.serializeBinary());
    return decoded.getType() === "gcp:x:Y" && decoded.getUrn() === "urn:pulumi:s::p::gcp:x:Y::n" && decoded.getName() === "n";
  },
});

const RUNNER_ID = "@pulumi/pulumi/cmd/run-policy-pack";
export const policyPackRunner = defineInternal({
  id: RUNNER_ID,
  moduleId: "@pulumi/pulumi/package.json",
  fromPack: true,
  usedBy: ["tests/policy/pack-process.test.ts"],
  why: "the CLI's analyzer plugin starts a Node pack as `node <this> <engine address> <pack dir>`",
  extract: (module) => {
    // The runner ships with the pack's @pulumi/pulumi: its package must be there first.
    member(RUNNER_ID, module, "version", "string");
    try {
      return require.resolve(RUNNER_ID, { paths: [POLICY_DIR] });
    } catch (error) {
      throw new SdkInternalError(RUNNER_ID, `cannot be resolved from the pack's directory (${(error as Error).message.split("\n")[0]})`);
    }
  },
  behaviour: "it is a file under the pack's @pulumi/pulumi",
  behaves: (file) => /[\\/]@pulumi[\\/]pulumi[\\/]cmd[\\/]run-policy-pack[\\/]/.test(file),
});
