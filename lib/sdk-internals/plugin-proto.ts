/**
 * The language-runtime, provider and plugin gRPC stubs shipped in @pulumi/pulumi (generated, not part
 * of its API): the language host's and the local provider plugins' tests talk to those processes
 * exactly as the engine does. Only tests load this module.
 */
import * as languageGrpc from "@pulumi/pulumi/proto/language_grpc_pb";
import * as languagePb from "@pulumi/pulumi/proto/language_pb";
import * as pluginPb from "@pulumi/pulumi/proto/plugin_pb";
import * as providerGrpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as providerPb from "@pulumi/pulumi/proto/provider_pb";
import { member } from "./fence";
import { defineInternal } from "./internal";

export { languageGrpc, languagePb, pluginPb, providerGrpc, providerPb };

const LANGUAGE_ID = "@pulumi/pulumi/proto/language_pb,language_grpc_pb#LanguageRuntimeClient,RunRequest";
export const languageProto = defineInternal({
  id: LANGUAGE_ID,
  moduleId: "@pulumi/pulumi/proto/language_grpc_pb",
  usedBy: ["tests/pulumi-cli/language-host.test.ts"],
  why: "the engine's side of the language-runtime protocol, to drive the project's language host as a process",
  extract: (module) => {
    const client = member<new (...args: never[]) => unknown>(LANGUAGE_ID, module, "LanguageRuntimeClient", "function");
    for (const message of ["RunRequest", "GetRequiredPackagesRequest", "RunPluginRequest", "ProgramInfo"]) {
      member(LANGUAGE_ID, languagePb as unknown as Record<string, unknown>, message, "function");
    }
    return client;
  },
  behaviour: "a RunRequest round-trips its project, stack and dry-run flag through the binary wire format",
  behaves: () => {
    const request = new languagePb.RunRequest();
    request.setProject("p");
    request.setStack("s");
    request.setDryrun(true);
    const decoded = languagePb.RunRequest.deserializeBinary(request.serializeBinary());
    return decoded.getProject() === "p" && decoded.getStack() === "s" && decoded.getDryrun() === true;
  },
});

const PROVIDER_ID = "@pulumi/pulumi/proto/provider_pb,provider_grpc_pb,plugin_pb#ResourceProviderClient,CheckRequest,PluginInfo";
export const providerProto = defineInternal({
  id: PROVIDER_ID,
  moduleId: "@pulumi/pulumi/proto/provider_grpc_pb",
  usedBy: ["tests/support/provider-process.ts"],
  why: "the engine's side of the provider protocol, to drive the local gcp and random plugins as processes",
  extract: (module) => {
    const client = member<new (...args: never[]) => unknown>(PROVIDER_ID, module, "ResourceProviderClient", "function");
    for (const message of ["CheckRequest", "DiffRequest", "CreateRequest", "UpdateRequest", "DeleteRequest", "ReadRequest"]) {
      member(PROVIDER_ID, providerPb as unknown as Record<string, unknown>, message, "function");
    }
    member(PROVIDER_ID, pluginPb as unknown as Record<string, unknown>, "PluginInfo", "function");
    return client;
  },
  behaviour: "a CheckRequest round-trips its URN through the binary wire format",
  behaves: () => {
    const request = new providerPb.CheckRequest();
    request.setUrn("urn:pulumi:s::p::random:index/randomPassword:RandomPassword::n");
    const decoded = providerPb.CheckRequest.deserializeBinary(request.serializeBinary());
    return decoded.getUrn() === "urn:pulumi:s::p::random:index/randomPassword:RandomPassword::n";
  },
});
