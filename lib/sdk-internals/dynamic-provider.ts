/**
 * How a dynamic resource's provider code is serialized: `pulumi.dynamic.Resource` calls
 * `serializeFunction` of the SDK's closure module at registration (looked up on the module object
 * then) and sends the code as the `__provider` input. The offline plan never shows that code (the
 * plan prints a mark in its place) and no policy reads it, yet serializing it (an inspector session
 * and a TypeScript parse of each provider) is most of a cold plan's evaluation: the plan skips it.
 */
import { member } from "./fence";
import { defineInternal } from "./internal";

/** What `serializeFunction` resolves to (the fields dynamic.Resource reads). */
export interface SerializedFunctionLike {
  readonly text: string;
  readonly exportName: string;
  readonly containsSecrets: boolean;
}
type SerializeFunction = (func: () => unknown, args?: Record<string, unknown>) => Promise<SerializedFunctionLike>;
interface ClosureModule {
  serializeFunction: SerializeFunction;
}

const SERIALIZE_ID = "@pulumi/pulumi/runtime/closure/serializeClosure#serializeFunction";
export const closureSerialization = defineInternal({
  id: SERIALIZE_ID,
  moduleId: "@pulumi/pulumi/runtime/closure/serializeClosure",
  usedBy: ["ops/plan/cli.ts"],
  why: "the offline plan registers dynamic resources without serializing their providers' code, which it never shows",
  extract: (module): ClosureModule => {
    member<SerializeFunction>(SERIALIZE_ID, module, "serializeFunction", "function");
    return module as unknown as ClosureModule;
  },
  behaviour: "serializeFunction is a writable property of the module (replaced in place, read by dynamic.Resource at registration)",
  behaves: (module) => Object.getOwnPropertyDescriptor(module, "serializeFunction")?.writable === true,
});

/** The `__provider` input of every dynamic resource registered after `skipDynamicProviderCode()`. */
export const PROVIDER_CODE_NOT_SERIALIZED = "[dynamic provider code: not serialized offline]";

/**
 * From now on in this process, dynamic resources register with a marker instead of their
 * provider's serialized code. For processes that never deploy (the offline plan): the SDK caches a
 * provider's serialization for the life of the process.
 */
export function skipDynamicProviderCode(): void {
  closureSerialization.get().serializeFunction = () =>
    Promise.resolve({ text: PROVIDER_CODE_NOT_SERIALIZED, exportName: "handler", containsSecrets: false });
}
