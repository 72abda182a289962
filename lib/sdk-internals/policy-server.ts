/**
 * CrossGuard's own server-side helpers, loaded from the pack's directory (policy/node_modules, the
 * copy the CLI runs): the offline harness (harness/policy-harness.ts) builds each policy's arguments
 * with them, so props are deserialized and proxied exactly as `@pulumi/policy/server.js` does for
 * the engine. @pulumi/policy exports none of them for this: its server is not callable in-process
 * (constructing a PolicyPack starts a gRPC server that never returns).
 */
import { constant, member } from "./fence";
import { defineInternal } from "./internal";
import { ENGINE_WIRE } from "./mock-runtime";

/** Builds a wire struct (google.protobuf.Struct) from plain data, as the engine's request carries it. */
type StructFromJavaScript = (value: Record<string, unknown>) => unknown;
const structFromJavaScript = (): StructFromJavaScript => {
  const { Struct } = require("google-protobuf/google/protobuf/struct_pb") as { Struct: { fromJavaScript: StructFromJavaScript } };
  return (value) => Struct.fromJavaScript(value);
};

const DESERIALIZE_ID = "@pulumi/policy/deserialize#deserializeProperties";
export const policyDeserialize = defineInternal({
  id: DESERIALIZE_ID,
  moduleId: "@pulumi/policy/deserialize",
  fromPack: true,
  usedBy: ["harness/policy-harness.ts"],
  why: "props reach a policy through the server's own deserialization (secrets, assets, unknowns)",
  extract: (module) =>
    member<(struct: unknown, proxySecrets: boolean) => Record<string, unknown>>(
      DESERIALIZE_ID,
      module,
      "deserializeProperties",
      "function",
    ),
  behaviour: "a wire struct with a secret deserializes to the plain value when secrets are not proxied",
  behaves: (deserializeProperties) => {
    const struct = structFromJavaScript()({
      n: 1,
      hidden: { [ENGINE_WIRE.specialSigKey]: ENGINE_WIRE.specialSecretSig, value: "x" },
    });
    const props = deserializeProperties(struct, false);
    return props.n === 1 && props.hidden === "x";
  },
});

export interface PolicyProxy {
  unknownCheckingProxy<T extends object>(value: T): T;
  readonly UnknownValueError: new (...args: never[]) => Error;
  /** The engine's marker for an unknown value (the one it sends analyzers). */
  readonly unknownStringValue: string;
}

const PROXY_ID = "@pulumi/policy/proxy#unknownCheckingProxy,UnknownValueError,unknownStringValue";
export const policyProxy = defineInternal({
  id: PROXY_ID,
  moduleId: "@pulumi/policy/proxy",
  fromPack: true,
  usedBy: ["harness/policy-harness.ts"],
  why: "a policy that reads an unknown value must be skipped with the server's advisory note, which needs the server's proxy and its error class",
  extract: (module): PolicyProxy => ({
    unknownCheckingProxy: member(PROXY_ID, module, "unknownCheckingProxy", "function"),
    UnknownValueError: member(PROXY_ID, module, "UnknownValueError", "function"),
    unknownStringValue: constant(PROXY_ID, module, "unknownStringValue", ENGINE_WIRE.unknownValue),
  }),
  behaviour: "reading an unknown value through the proxy throws UnknownValueError; known values read through",
  behaves: (proxy) => {
    const props = proxy.unknownCheckingProxy({ known: "k", later: proxy.unknownStringValue });
    if (props.known !== "k") return false;
    try {
      void props.later;
      return false;
    } catch (error) {
      return error instanceof proxy.UnknownValueError;
    }
  },
});

export interface PolicyKinds {
  isResourcePolicy(policy: unknown): boolean;
  isStackPolicy(policy: unknown): boolean;
  getPulumiType(value: unknown): string | undefined;
}

const KINDS_ID = "@pulumi/policy/policy#isResourcePolicy,isStackPolicy,getPulumiType";
export const policyKinds = defineInternal({
  id: KINDS_ID,
  moduleId: "@pulumi/policy/policy",
  fromPack: true,
  usedBy: ["harness/policy-harness.ts"],
  why: "the server's own tests for which policies run in Analyze or AnalyzeStack and which type a typed validation is for",
  extract: (module): PolicyKinds => ({
    isResourcePolicy: member(KINDS_ID, module, "isResourcePolicy", "function"),
    isStackPolicy: member(KINDS_ID, module, "isStackPolicy", "function"),
    getPulumiType: member(KINDS_ID, module, "getPulumiType", "function"),
  }),
  behaviour: "validateResource makes a resource policy, validateStack a stack policy, __pulumiType is read",
  behaves: (kinds) =>
    kinds.isResourcePolicy({ validateResource: () => undefined }) &&
    !kinds.isResourcePolicy({ validateStack: () => undefined }) &&
    kinds.isStackPolicy({ validateStack: () => undefined }) &&
    kinds.getPulumiType({ __pulumiType: "gcp:x:Y" }) === "gcp:x:Y",
});

/** The wire struct builder, for the harness (google-protobuf is the SDK's own wire library). */
export function toWireStruct(value: Record<string, unknown>): unknown {
  return structFromJavaScript()(value);
}
