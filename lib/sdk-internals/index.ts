/**
 * Every use of a non-public part of @pulumi/pulumi and @pulumi/policy, in one list. Nothing else in
 * the repository imports an SDK's internal module: the program, the tools and the tests go through
 * the modules of this folder (tests/lib/sdk-internals.test.ts holds the whole tree to that), and each
 * internal has a test that fails with a message naming it when an upgrade changes it.
 *
 * | internal | module | used by |
 * | --- | --- | --- |
 * | which config keys are secret | runtime-config.ts | stack/load.ts |
 * | the mock monitor, its settings, the store's feature flags, the wire format, Output.isKnown | mock-runtime.ts | harness/recording-monitor.ts, harness/policy-harness.ts |
 * | CrossGuard's deserializer, unknown-checking proxy, policy kinds | policy-server.ts | harness/policy-harness.ts |
 * | the analyzer's gRPC stubs, the pack runner | analyzer-proto.ts (tests only) | tests/policy/pack-process.test.ts |
 * | resource registration and dependsOn resolution | resource-registration.ts | harness/evaluation-watchdog.ts |
 * | dynamic providers' code serialization (skipped offline) | dynamic-provider.ts | ops/plan/cli.ts |
 * | closure serialization's TypeScript and Arborist, loaded on first use | closure-dependencies.ts, deferred/ | tools/module-resolution.js, tools/jest-resolver.js |
 * | the language-runtime, provider and plugin gRPC stubs | plugin-proto.ts (tests only) | tests/pulumi-cli/language-host.test.ts, tests/support/provider-process.ts |
 * | @pulumi/policy's UnknownValueError and the engine's unknown marker | (listed here) | policy/graph.ts |
 *
 * The last row cannot go through this folder: the pack is its own package (the CLI runs `policy/`
 * with its own node_modules, and it imports nothing from the program), so it is listed and checked
 * here and nowhere else reaches into @pulumi/policy.
 *
 * After upgrading either SDK: `npx jest tests/lib/sdk-internals.test.ts`, then bump CHECKED_AGAINST.
 */
import { CHECKED_AGAINST, SdkInternalError, constant, member } from "./fence";
import { SdkInternalEntry, defineInternal } from "./internal";
import { analyzerProto, policyPackRunner } from "./analyzer-proto";
import { languageProto, providerProto } from "./plugin-proto";
import { dependsOnResolution, resourceRegistration } from "./resource-registration";
import { ENGINE_WIRE, mockMonitor, outputKnown, runtimeSettings, runtimeStore, wireFormat } from "./mock-runtime";
import { policyDeserialize, policyKinds, policyProxy } from "./policy-server";
import { configSecretKeys } from "./runtime-config";
import { closureSerialization } from "./dynamic-provider";
import { closureDependencies } from "./closure-dependencies";

export { CHECKED_AGAINST, SdkInternalError };
export type { SdkInternalEntry };

const PACK_ERROR_ID = "@pulumi/policy#UnknownValueError (policy/graph.ts)";
/** policy/graph.ts recognizes the proxy's error by class and by shape (`unknownTypeSentinel`, `props`). */
export const packUnknownValueError = defineInternal({
  id: PACK_ERROR_ID,
  moduleId: "@pulumi/policy",
  fromPack: true,
  usedBy: ["policy/graph.ts"],
  why: "a policy that meets an unknown value skips only the checks that need it; the server turns this error into the advisory note",
  extract: (module) => member<new (sentinel: string, props: string[]) => Error>(PACK_ERROR_ID, module, "UnknownValueError", "function"),
  behaviour: "an UnknownValueError carries unknownTypeSentinel and the props path",
  behaves: (UnknownValueError) => {
    const error = new UnknownValueError(ENGINE_WIRE.unknownValue, ["a", "b"]) as Error & { unknownTypeSentinel?: unknown; props?: unknown };
    return error.unknownTypeSentinel === ENGINE_WIRE.unknownValue && Array.isArray(error.props) && error.props.join(".") === "a.b";
  },
});

const PACK_MARKER_ID = "@pulumi/policy/proxy#unknownStringValue (copied in policy/graph.ts)";
/** policy/graph.ts holds a copy of the engine's unknown marker (the pack cannot import this folder). */
export const packUnknownMarker = defineInternal({
  id: PACK_MARKER_ID,
  moduleId: "@pulumi/policy/proxy",
  fromPack: true,
  usedBy: ["policy/graph.ts"],
  why: "props copied out of the proxy by hand still carry the engine's marker for an unknown value",
  extract: (module) => constant(PACK_MARKER_ID, module, "unknownStringValue", ENGINE_WIRE.unknownValue),
  behaviour: "the proxy's marker is the engine's (plugin.UnknownStringValue)",
  behaves: (marker) => marker === ENGINE_WIRE.unknownValue,
});

/** Every internal, in the table's order. */
export const SDK_INTERNALS: readonly SdkInternalEntry[] = [
  configSecretKeys,
  mockMonitor,
  runtimeSettings,
  runtimeStore,
  wireFormat,
  outputKnown,
  policyDeserialize,
  policyProxy,
  policyKinds,
  analyzerProto,
  policyPackRunner,
  languageProto,
  providerProto,
  resourceRegistration,
  dependsOnResolution,
  closureSerialization,
  closureDependencies,
  packUnknownValueError,
  packUnknownMarker,
];
