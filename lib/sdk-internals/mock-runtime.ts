/**
 * The SDK's runtime internals the offline evaluation stands on (harness/recording-monitor.ts, the
 * policy harness): the mock monitor to extend, the settings that install it, the runtime store's
 * feature flags, the engine's wire format, and whether an Output is known. `pulumi.runtime.setMocks`
 * installs a monitor that records nothing and cannot be subclassed; recording what the engine would
 * receive needs the class itself.
 */
import * as pulumi from "@pulumi/pulumi";
import { SdkInternalError, constant, member, method } from "./fence";
import { defineInternal } from "./internal";

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/** The parts of a RegisterResourceRequest the recording monitor reads. */
export interface ProtoStruct {
  toJavaScript(): Record<string, unknown>;
}
export interface RegisterResourceRequestLike {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getObject(): ProtoStruct | undefined;
  getProtect(): boolean | undefined;
  getDependenciesList(): string[];
  getProvider(): string;
  getPropertydependenciesMap(): { forEach(cb: (value: { getUrnsList(): string[] }, key: string) => void): void };
  getDeletebeforereplace(): boolean;
  getIgnorechangesList(): string[];
  getAdditionalsecretoutputsList(): string[];
  getRetainondelete(): boolean | undefined;
  getDeletedwith(): string;
}
export interface ReadResourceRequestLike {
  getType(): string;
  getName(): string;
  getParent(): string;
  getProperties(): ProtoStruct | undefined;
  getDependenciesList(): string[];
  getProvider(): string;
  getAdditionalsecretoutputsList(): string[];
}
export interface RegisterResourceOutputsRequestLike {
  getUrn(): string;
  getOutputs(): ProtoStruct | undefined;
}
export type Callback = (err: unknown, res?: unknown) => void;
export interface MockMonitorInstance {
  registerResourceOutputs(req: RegisterResourceOutputsRequestLike, callback: Callback): void;
  registerResource(req: RegisterResourceRequestLike, callback: Callback): Promise<void>;
  readResource(req: ReadResourceRequestLike, callback: Callback): Promise<void>;
  newUrn(parent: string, type: string, name: string): string;
}
export type MockMonitorClass = new (mocks: pulumi.runtime.Mocks) => MockMonitorInstance;

const MOCK_MONITOR_ID = "@pulumi/pulumi/runtime/mocks#MockMonitor";
export const mockMonitor = defineInternal({
  id: MOCK_MONITOR_ID,
  moduleId: "@pulumi/pulumi/runtime/mocks",
  usedBy: ["harness/recording-monitor.ts"],
  why: "setMocks installs a MockMonitor that keeps nothing; the recording monitor subclasses it to see every request the engine would",
  extract: (module) => {
    const klass = member<MockMonitorClass>(MOCK_MONITOR_ID, module, "MockMonitor", "function");
    for (const name of ["registerResource", "readResource", "registerResourceOutputs", "newUrn"]) method(MOCK_MONITOR_ID, klass, name);
    return klass;
  },
  behaviour: "a MockMonitor answers registerResource with the mocks' id and state",
  behaves: async (MockMonitor) => {
    const monitor = new MockMonitor({
      newResource: (args) => ({ id: `${args.name}-id`, state: { seen: (args.inputs as Record<string, unknown>).value } }),
      call: () => ({}),
    });
    const request = {
      getType: () => "fence:index:Thing",
      getName: () => "thing",
      getParent: () => "",
      getCustom: () => true,
      getObject: () => ({ toJavaScript: () => ({ value: 7 }) }),
      getProvider: () => "",
      getSupportsresultreporting: () => false,
      getImportid: () => "",
      getSourceposition: () => undefined,
      getStacktrace: () => undefined,
      getPropertydependenciesMap: () => ({ forEach: () => undefined }),
      getDependenciesList: () => [],
    } as unknown as RegisterResourceRequestLike;
    const response = await new Promise<unknown>((resolve, reject) => {
      void monitor.registerResource(request, (err, res) => (err ? reject(asError(err)) : resolve(res)));
    });
    const typed = response as { getId(): string; getObject(): ProtoStruct | undefined };
    return typed.getId() === "thing-id" && typed.getObject()?.toJavaScript().seen === 7;
  },
});

export interface MockSettings {
  setMockOptions(monitor: unknown, project?: string, stack?: string, preview?: boolean, organization?: string): void;
  waitForRPCs(): Promise<void>;
}

const RUNTIME_SETTINGS_ID = "@pulumi/pulumi/runtime/settings#setMockOptions,waitForRPCs";
export const runtimeSettings = defineInternal({
  id: RUNTIME_SETTINGS_ID,
  moduleId: "@pulumi/pulumi/runtime/settings",
  usedBy: ["harness/recording-monitor.ts"],
  why: "installing a monitor of our own (setMocks takes only Mocks) and waiting for every registration to settle",
  extract: (module): MockSettings => ({
    setMockOptions: member(RUNTIME_SETTINGS_ID, module, "setMockOptions", "function"),
    waitForRPCs: member(RUNTIME_SETTINGS_ID, module, "waitForRPCs", "function"),
  }),
  behaviour: "setMockOptions sets the project, the stack and dry-run as pulumi.getProject/getStack/runtime.isDryRun report them",
  behaves: (settings) => {
    settings.setMockOptions({}, "fence-project", "fence-stack", true, "fence-org");
    return pulumi.getProject() === "fence-project" && pulumi.getStack() === "fence-stack" && pulumi.runtime.isDryRun();
  },
});

export interface RuntimeStore {
  supportsSecrets: boolean;
  supportsResourceReferences: boolean;
  supportsOutputValues: boolean;
  supportsDeletedWith: boolean;
  supportsAliasSpecs: boolean;
}
const STORE_FLAGS: readonly (keyof RuntimeStore)[] = [
  "supportsSecrets",
  "supportsResourceReferences",
  "supportsOutputValues",
  "supportsDeletedWith",
  "supportsAliasSpecs",
];

const RUNTIME_STORE_ID = "@pulumi/pulumi/runtime/state#getStore";
export const runtimeStore = defineInternal({
  id: RUNTIME_STORE_ID,
  moduleId: "@pulumi/pulumi/runtime/state",
  usedBy: ["harness/recording-monitor.ts"],
  why: "the monitor's feature flags (secrets, resource references, ...) that setMocks turns on; a monitor of our own must turn them on too",
  extract: (module) => member<() => RuntimeStore>(RUNTIME_STORE_ID, module, "getStore", "function"),
  behaviour: "the store carries the feature flags as booleans",
  behaves: (getStore) => {
    const store = getStore() as unknown as Record<string, unknown>;
    const missing = STORE_FLAGS.filter((flag) => typeof store[flag] !== "boolean");
    if (missing.length > 0) throw new SdkInternalError(RUNTIME_STORE_ID, `the store has no boolean ${missing.join(", ")}`);
    return true;
  },
});

/** The runtime's store (the current monitor's feature flags). */
export function getRuntimeStore(): RuntimeStore {
  return runtimeStore.get()();
}

/** The engine's wire format: values are compared with these, so they must be the engine's own. */
export interface WireFormat {
  readonly specialSigKey: string;
  readonly specialSecretSig: string;
  readonly specialResourceSig: string;
  readonly specialOutputValueSig: string;
  readonly unknownValue: string;
  serializeProperties(label: string, props: Record<string, unknown>): Promise<Record<string, unknown>>;
}

/** The values the engine (Go, sdk/go/common/resource/sig and plugin/rpc.go) uses; fixed by the wire protocol. */
export const ENGINE_WIRE = {
  specialSigKey: "4dabf18193072939515e22adb298388d",
  specialSecretSig: "1b47061264138c4ac30d75fd1eb44270",
  specialResourceSig: "5cf8f73096256a8f31e491e813e4eb8e",
  specialOutputValueSig: "d0e6a833031e9bbcd3f4e8bde6ca49a4",
  unknownValue: "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
} as const;

const WIRE_FORMAT_ID = "@pulumi/pulumi/runtime/rpc#special signatures,unknownValue,serializeProperties";
export const wireFormat = defineInternal({
  id: WIRE_FORMAT_ID,
  moduleId: "@pulumi/pulumi/runtime/rpc",
  usedBy: ["harness/recording-monitor.ts", "harness/policy-harness.ts"],
  why: "decoding what a monitor receives (secrets, resource references, unknowns) and serializing outputs as the engine sends them to analyzers",
  extract: (module): WireFormat => ({
    specialSigKey: constant(WIRE_FORMAT_ID, module, "specialSigKey", ENGINE_WIRE.specialSigKey),
    specialSecretSig: constant(WIRE_FORMAT_ID, module, "specialSecretSig", ENGINE_WIRE.specialSecretSig),
    specialResourceSig: constant(WIRE_FORMAT_ID, module, "specialResourceSig", ENGINE_WIRE.specialResourceSig),
    specialOutputValueSig: constant(WIRE_FORMAT_ID, module, "specialOutputValueSig", ENGINE_WIRE.specialOutputValueSig),
    unknownValue: constant(WIRE_FORMAT_ID, module, "unknownValue", ENGINE_WIRE.unknownValue),
    serializeProperties: member(WIRE_FORMAT_ID, module, "serializeProperties", "function"),
  }),
  behaviour:
    "with secrets supported (as the recording monitor sets), serializeProperties writes a secret as {<sig key>: <secret sig>, value}",
  behaves: async (wire) => {
    const store = getRuntimeStore();
    const saved = store.supportsSecrets;
    store.supportsSecrets = true;
    try {
      const hidden = (await wire.serializeProperties("fence", { hidden: pulumi.secret("x") })).hidden as
        Record<string, unknown> | undefined;
      return hidden?.[wire.specialSigKey] === wire.specialSecretSig && hidden?.value === "x";
    } finally {
      store.supportsSecrets = saved;
    }
  },
});

const OUTPUT_KNOWN_ID = "@pulumi/pulumi/output#Output.isKnown";
export const outputKnown = defineInternal({
  id: OUTPUT_KNOWN_ID,
  moduleId: "@pulumi/pulumi/output",
  usedBy: ["harness/recording-monitor.ts", "harness/policy-harness.ts"],
  why: "an unknown Output never runs its apply callbacks in preview: resolving a stack output must ask first (isKnown is marked internal)",
  extract: (module) => {
    member(OUTPUT_KNOWN_ID, module, "Output", "function");
    return (value: pulumi.Output<unknown>): Promise<boolean> => {
      const isKnown = (value as unknown as { isKnown?: unknown }).isKnown;
      if (!(isKnown instanceof Promise)) throw new SdkInternalError(OUTPUT_KNOWN_ID, "an Output has no isKnown promise");
      return isKnown as Promise<boolean>;
    };
  },
  behaviour: "isKnown resolves true for a plain value and false for pulumi.unknown",
  behaves: async (isKnown) =>
    (await isKnown(pulumi.output(1))) && !(await isKnown(pulumi.output(pulumi.unknown) as pulumi.Output<unknown>)),
});

/** Whether an Output's value is known (false in preview for values the cloud computes). */
export function outputIsKnown(value: pulumi.Output<unknown>): Promise<boolean> {
  return outputKnown.get()(value);
}
