/**
 * A mock resource monitor that records every registration as the engine would see it: type,
 * name, URN, parent, inputs (with which of them are secret), direct and per-property
 * dependencies, and options such as `protect`. Tests, the policy harness and the offline plan all
 * evaluate the real program through it, so they read the same graph `pulumi up` builds.
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { appliedOutputsFromConfig } from "../stack/last-applied";
import { TYPES } from "../stack/phases";
import { EvaluationWatchdog } from "./evaluation-watchdog";

import {
  MockMonitorInstance,
  ReadResourceRequestLike,
  RegisterResourceOutputsRequestLike,
  RegisterResourceRequestLike,
  mockMonitor,
  outputIsKnown,
  runtimeSettings,
  getRuntimeStore,
  wireFormat,
} from "../lib/sdk-internals/mock-runtime";

/** An unknown value (computed during preview), as recorded in inputs. */
export const UNKNOWN = Symbol.for("wallet-executor.unknown");

/** One registration, as the engine received it. */
export interface RecordedResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  /** True for a read of an existing resource (a `StackReference`, a `.get`), not a managed one. */
  readonly read: boolean;
  /** The parent's URN, or undefined at the top level. */
  readonly parent?: string;
  /** Direct dependencies (URNs), from inputs and `dependsOn`. */
  readonly dependencies: readonly string[];
  /** Which input properties depend on which resources. */
  readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
  /** Inputs with secrets unwrapped and unknowns as `UNKNOWN`; see `secretPaths`. */
  readonly inputs: Readonly<Record<string, unknown>>;
  /** Dotted paths of the inputs that were marked secret (`secretData`, `payment`, ...). */
  readonly secretPaths: readonly string[];
  readonly protect: boolean;
  readonly retainOnDelete: boolean;
  readonly deleteBeforeReplace: boolean;
  readonly ignoreChanges: readonly string[];
  readonly additionalSecretOutputs: readonly string[];
  readonly provider?: string;
  readonly deletedWith?: string;
  /** Registration order. */
  readonly sequence: number;
}

/**
 * Converts a wire value: the unknown marker to `UNKNOWN`, secrets unwrapped (their paths noted in
 * `secretPaths`), resource references to URNs. The monitor's registrations and the policy harness's
 * recorded outputs both read the wire with it.
 */
export function decodeWireValue(value: unknown, at = "", secretPaths: string[] = []): unknown {
  const rpc = wireFormat.get();
  if (value === rpc.unknownValue) return UNKNOWN;
  if (Array.isArray(value)) return value.map((item, i) => decodeWireValue(item, `${at}[${i}]`, secretPaths));
  if (value === null || typeof value !== "object") return value;
  const obj = value as Record<string, unknown>;
  const sig = obj[rpc.specialSigKey];
  if (sig === rpc.specialSecretSig) {
    secretPaths.push(at);
    return decodeWireValue(obj.value, at, []);
  }
  if (sig === rpc.specialResourceSig) return obj.urn;
  if (sig === rpc.specialOutputValueSig) {
    if (obj.secret === true) secretPaths.push(at);
    return "value" in obj ? decodeWireValue(obj.value, at, []) : UNKNOWN;
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(obj)) {
    if (item !== undefined) out[key] = decodeWireValue(item, at ? `${at}.${key}` : key, secretPaths);
  }
  return out;
}

/** The engine's URN: the parent's full type chain, except the root stack's type. */
export function engineUrn(stack: string, project: string, parent: string, type: string, name: string): string {
  let qualified = type;
  if (parent) {
    const parentQualified = parent.split("::")[2];
    if (parentQualified !== "pulumi:pulumi:Stack") qualified = `${parentQualified}$${type}`;
  }
  return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}

/** Builds the recording monitor class lazily (the SDK's mock module is loaded on first use). */
function recordingMonitorClass() {
  const MockMonitor: new (mocks: pulumi.runtime.Mocks) => MockMonitorInstance = mockMonitor.get();
  return class RecordingMonitor extends MockMonitor {
    readonly records: RecordedResource[] = [];
    /** What each component registered as its outputs (`registerOutputs`), by URN; secrets unwrapped. */
    readonly registeredOutputs: Record<string, Record<string, unknown>> = {};

    registerResourceOutputs(req: RegisterResourceOutputsRequestLike, callback: (err: unknown, res?: unknown) => void): void {
      this.registeredOutputs[req.getUrn()] = decodeWireValue(req.getOutputs()?.toJavaScript() ?? {}, "", []) as Record<string, unknown>;
      super.registerResourceOutputs(req, callback);
    }

    newUrn(parent: string, type: string, name: string): string {
      return engineUrn(pulumi.getStack(), pulumi.getProject(), parent, type, name);
    }

    async registerResource(req: RegisterResourceRequestLike, callback: (err: unknown, res?: unknown) => void): Promise<void> {
      const secretPaths: string[] = [];
      const raw = req.getObject()?.toJavaScript() ?? {};
      const inputs = decodeWireValue(raw, "", secretPaths) as Record<string, unknown>;
      const propertyDependencies: Record<string, string[]> = {};
      req.getPropertydependenciesMap().forEach((deps, key) => {
        propertyDependencies[key] = [...deps.getUrnsList()];
      });
      this.records.push({
        urn: this.newUrn(req.getParent(), req.getType(), req.getName()),
        type: req.getType(),
        name: req.getName(),
        custom: req.getCustom(),
        read: false,
        parent: req.getParent() || undefined,
        dependencies: [...new Set(req.getDependenciesList())],
        propertyDependencies,
        inputs,
        secretPaths,
        protect: req.getProtect() === true,
        retainOnDelete: req.getRetainondelete() === true,
        deleteBeforeReplace: req.getDeletebeforereplace(),
        ignoreChanges: req.getIgnorechangesList(),
        additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
        provider: req.getProvider() || undefined,
        deletedWith: req.getDeletedwith() || undefined,
        sequence: this.records.length,
      });
      return super.registerResource(req, callback);
    }

    async readResource(req: ReadResourceRequestLike, callback: (err: unknown, res?: unknown) => void): Promise<void> {
      const secretPaths: string[] = [];
      const inputs = decodeWireValue(req.getProperties()?.toJavaScript() ?? {}, "", secretPaths) as Record<string, unknown>;
      this.records.push({
        urn: this.newUrn(req.getParent(), req.getType(), req.getName()),
        type: req.getType(),
        name: req.getName(),
        custom: true,
        read: true,
        parent: req.getParent() || undefined,
        dependencies: [...new Set(req.getDependenciesList())],
        propertyDependencies: {},
        inputs,
        secretPaths,
        protect: false,
        retainOnDelete: false,
        deleteBeforeReplace: false,
        ignoreChanges: [],
        additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
        provider: req.getProvider() || undefined,
        sequence: this.records.length,
      });
      return super.readResource(req, callback);
    }
  };
}
export type RecordingMonitor = InstanceType<ReturnType<typeof recordingMonitorClass>>;
let RecordingMonitorClass: ReturnType<typeof recordingMonitorClass> | undefined;

/** Placeholder values the mocks give generated secrets: tests and tools check they never leak. */
export const MOCK_SECRET_PREFIX = "MOCKSECRET";

/**
 * Version numbers the mocks give secret versions named `<credential>-g<N>`: the generation plus
 * this offset, so a test can tell a pinned version NUMBER (from the resource's output) from the
 * generation it holds. Other versions are numbered 1, 2, ... per secret, in order of creation.
 */
export const MOCK_VERSION_OFFSET = 10;

/** Options for the mocks: outputs of referenced stacks (`StackReference`). */
export interface MockOptions {
  /** Outputs by stack name: fully qualified (`org/project/stack`) or the bare stack name. */
  readonly stackOutputs?: Readonly<Record<string, Record<string, unknown>>>;
}

/** The organization offline evaluations run in (the engine's default for individual accounts). */
export const OFFLINE_ORGANIZATION = "organization";

/** Realistic outputs for the provider resources this stack uses, deterministic for snapshots. */
export function stackMocks(options: MockOptions = {}): pulumi.runtime.Mocks {
  // Version numbers already given, per secret: a version named without `-g<N>` gets the next free
  // number in order of creation, as Secret Manager numbers them, so no two versions share one.
  const numbered = new Map<string, Set<number>>();
  return {
    newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
      const inputs = args.inputs as Record<string, unknown>;
      const project = typeof inputs.project === "string" ? inputs.project : "mock-project";
      switch (args.type) {
        case TYPES.secret: {
          const id = `projects/${project}/secrets/${String(inputs.secretId)}`;
          return { id, state: { ...inputs, name: id } };
        }
        case TYPES.secretVersion: {
          const generation = /-g([0-9]+)$/.exec(args.name);
          const used = numbered.get(String(inputs.secret)) ?? new Set<number>();
          numbered.set(String(inputs.secret), used);
          let number = generation ? Number(generation[1]) + MOCK_VERSION_OFFSET : 1;
          while (!generation && used.has(number)) number++;
          used.add(number);
          const version = String(number);
          const name = `${String(inputs.secret)}/versions/${version}`;
          return { id: name, state: { ...inputs, name, version } };
        }
        case TYPES.randomPassword: {
          const length = Number(inputs.length ?? 32);
          const result = `${MOCK_SECRET_PREFIX}_${args.name.replace(/[^A-Za-z0-9]/g, "")}`
            .padEnd(length, "x")
            .slice(0, Math.max(length, 24));
          return { id: args.name, state: { ...inputs, result } };
        }
        case TYPES.serviceAccount: {
          const email = `${String(inputs.accountId)}@${project}.iam.gserviceaccount.com`;
          return {
            id: `projects/${project}/serviceAccounts/${email}`,
            state: { ...inputs, email, member: `serviceAccount:${email}`, name: `projects/${project}/serviceAccounts/${email}` },
          };
        }
        case TYPES.cloudRunService: {
          const name = String(inputs.name);
          // A named template's revision is that name; tags get URLs of their own, as Cloud Run reports them.
          const template = (inputs.template ?? {}) as { revision?: unknown };
          const revision = typeof template.revision === "string" ? template.revision : `${name}-00001-mck`;
          const traffics = Array.isArray(inputs.traffics) ? (inputs.traffics as Record<string, unknown>[]) : [];
          // Only what the tag targets add (the URL); the rest of a status repeats the inputs.
          const trafficStatuses = traffics
            .filter((target) => typeof target.tag === "string" && target.tag !== "")
            .map((target) => ({ tag: target.tag, uri: `https://${String(target.tag)}---${name}-mock-uc.a.run.app` }));
          return {
            id: `projects/${project}/locations/${String(inputs.location)}/services/${name}`,
            state: {
              ...inputs,
              uri: `https://${name}-mock-uc.a.run.app`,
              latestReadyRevision: revision,
              latestCreatedRevision: revision,
              trafficStatuses,
            },
          };
        }
        case TYPES.verification: {
          // The gate's secrets are inputs only; its outputs are a non-secret report.
          const { token: _token, previousToken: _previous, payment: _payment, __provider: _provider, ...rest } = inputs;
          return { id: `${args.name}-mock`, state: { ...rest, verifiedAt: "2026-01-01T00:00:00.000Z", checks: [] } };
        }
        case TYPES.executorTagRemoval: {
          const { accessToken: _token, __provider: _provider, ...rest } = inputs;
          const name = String(inputs.service).split("/").pop() as string;
          return {
            id: `${String(inputs.service)}#${String(inputs.tag)}`,
            state: {
              ...rest,
              removedUri: `https://${String(inputs.tag)}---${name}-mock-uc.a.run.app`,
              mainUri: `https://${name}-mock-uc.a.run.app`,
              remainingUris: [],
            },
          };
        }
        case TYPES.revocationCheck: {
          const { token: _token, __provider: _provider, ...rest } = inputs;
          return { id: `${args.name}-mock`, state: { ...rest, checkedAt: "2026-01-01T00:00:00.000Z", checks: [] } };
        }
        case TYPES.publishedVersionRevocation: {
          const { accessToken: _token, __provider: _provider, ...rest } = inputs;
          return { id: String(inputs.versionName), state: { ...rest, state: "DISABLED" } };
        }
        case "pulumi:pulumi:StackReference": {
          const stackName = String(inputs.name);
          const outputs = options.stackOutputs?.[stackName] ?? options.stackOutputs?.[stackName.split("/").pop() as string] ?? {};
          return { id: stackName, state: { name: stackName, outputs, secretOutputNames: [] } };
        }
        default:
          return { id: `${args.name}-id`, state: inputs };
      }
    },
    call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
      if (args.token === "gcp:organizations/getClientConfig:getClientConfig") {
        return { accessToken: `${MOCK_SECRET_PREFIX}_deployer_access_token`, project: "mock-project", region: "us-central1", id: "mock" };
      }
      return args.inputs as Record<string, unknown>;
    },
  };
}

/** Installs a fresh recording monitor as the Pulumi runtime's monitor. */
export function installRecordingMonitor(
  mocks: pulumi.runtime.Mocks,
  project: string,
  stack: string,
  preview = false,
  organization = OFFLINE_ORGANIZATION,
): RecordingMonitor {
  RecordingMonitorClass ??= recordingMonitorClass();
  const monitor = new RecordingMonitorClass(mocks);
  runtimeSettings.get().setMockOptions(monitor, project, stack, preview, organization);
  // What setMocks enables: secrets and resource references travel as they do with the engine.
  const store = getRuntimeStore();
  store.supportsSecrets = true;
  store.supportsResourceReferences = true;
  store.supportsOutputValues = false;
  store.supportsDeletedWith = true;
  store.supportsAliasSpecs = true;
  return monitor;
}

/** What one evaluation of a program produced. */
export interface Evaluation {
  /** Everything registered, in order (also when the program failed part-way). */
  readonly resources: readonly RecordedResource[];
  /** The program's stack outputs, resolved; secret ones are "[secret]". Empty when it failed. */
  readonly outputs: Readonly<Record<string, unknown>>;
  /** What each component registered as its outputs, by URN (secrets unwrapped, unknowns as UNKNOWN). */
  readonly registeredOutputs: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** What the program threw (a config error, say), if it failed. */
  readonly error?: unknown;
}

export interface EvaluateOptions {
  /**
   * The program: the path of its entry module (a Pulumi TypeScript/JavaScript program), or a
   * function that registers its resources and returns its outputs (how tests run `defineStack`:
   * under Jest a module cannot be re-executed by clearing `require.cache`, so the policy fixtures
   * export a function too).
   */
  readonly program: string | (() => unknown);
  readonly project: string;
  readonly stack: string;
  /** Config as the engine passes it: `namespace:key` -> string (objects as JSON text). */
  readonly config: Readonly<Record<string, string>>;
  /** Keys of `config` that were set with --secret. */
  readonly secretKeys?: readonly string[];
  readonly preview?: boolean;
  readonly mocks?: pulumi.runtime.Mocks;
  /** The organization the stack is in (`pulumi.getOrganization()`); default `organization`. */
  readonly organization?: string;
  /**
   * The outputs the program reads from its own stack (a StackReference to itself: what it last
   * applied). Default: what this very config would export, i.e. an unchanged stack; `null`: none
   * (a stack never applied, or an unknown state).
   */
  readonly lastApplied?: Readonly<Record<string, unknown>> | null;
  /**
   * A program that makes no progress for this long without finishing is reported as stalled
   * (a cycle is reported as soon as it is seen; see evaluation-watchdog.ts). Default 10 s.
   */
  readonly stallTimeoutMs?: number;
  /** What an output still unknown (preview) is exported as: default the text `[unknown]`; the policy harness asks for `UNKNOWN`. */
  readonly unknownOutput?: string | typeof UNKNOWN;
}

/** Answers the program's StackReference to its own stack with `outputs`; everything else goes to `mocks`. */
function withLastApplied(mocks: pulumi.runtime.Mocks, selfName: string, outputs: Readonly<Record<string, unknown>>): pulumi.runtime.Mocks {
  return {
    newResource(args) {
      if (args.type === "pulumi:pulumi:StackReference" && (args.inputs as { name?: unknown }).name === selfName) {
        return { id: selfName, state: { name: selfName, outputs, secretOutputNames: [] } };
      }
      return mocks.newResource(args);
    },
    call: (args) => mocks.call(args),
  };
}

/** How long registrations of a program that threw may still take to settle (see evaluateProgram). */
const FAILED_PROGRAM_GRACE_MS = 250;

/** Resolves after `ms`, unless cancelled first (the timer then no longer holds the process). */
function delay(ms: number): { readonly elapsed: Promise<void>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const elapsed = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return { elapsed, cancel: () => clearTimeout(timer) };
}

const SECRET_MARK = "[secret]";
const UNKNOWN_OUTPUT = "[unknown]";

/**
 * Resolves an exported value the way stack outputs are resolved: secrets become "[secret]", and an
 * output unknown in preview becomes `unknown` (its apply callbacks never run: waiting would hang).
 */
export async function resolveOutput(value: unknown, unknown: string | typeof UNKNOWN = UNKNOWN_OUTPUT): Promise<unknown> {
  const resolve = (item: unknown): Promise<unknown> => resolveOutput(item, unknown);
  if (pulumi.Output.isInstance(value)) {
    const output = value;
    if (!(await outputIsKnown(output))) return unknown;
    const [inner, isSecret] = await Promise.all([
      new Promise<unknown>((resolve) =>
        output.apply((v) => {
          resolve(v);
          return v;
        }),
      ),
      pulumi.isSecret(output),
    ]);
    return isSecret ? SECRET_MARK : resolve(inner);
  }
  if (Array.isArray(value)) return Promise.all(value.map(resolve));
  if (value instanceof Promise) return resolve(await value);
  if (value !== null && typeof value === "object" && !pulumi.Resource.isInstance(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = await resolve(item);
    return out;
  }
  return value;
}

/**
 * Runs a program once, as the Node language host does: a function is called; a path has its entry
 * module executed anew (its imports stay cached); an exported function is the program, and what
 * it returns (a promise, maybe) its outputs.
 */
export function runProgram(program: string | (() => unknown)): unknown {
  let exported: unknown;
  if (typeof program === "function") {
    exported = program();
  } else {
    const programPath = require.resolve(path.resolve(program));
    delete require.cache[programPath];
    exported = require(programPath);
  }
  return typeof exported === "function" ? (exported as () => unknown)() : exported;
}

/**
 * Evaluates a program under the recording monitor with the given config, waits for every
 * registration, and returns what was registered. A program that throws (a config error, say) is
 * reported in `error`, with whatever it registered before throwing.
 */
export async function evaluateProgram(options: EvaluateOptions): Promise<Evaluation> {
  const restoreStackTraces = withoutPromiseStackTraces();
  try {
    return await evaluate(options);
  } finally {
    restoreStackTraces();
  }
}

let quietEvaluations = 0;
let savedStackTraceLimit = Error.stackTraceLimit;

/**
 * The SDK captures a stack trace for every promise it creates, for leak diagnostics that an
 * offline evaluation never shows: about half of a warm evaluation's time. None is captured while
 * an evaluation runs (errors keep their messages, which is what the plan and the harness show; the
 * SDK still takes a resource's own source position, with a limit of its own). Counted, so that
 * evaluations running side by side restore the limit once, after the last.
 */
function withoutPromiseStackTraces(): () => void {
  if (quietEvaluations++ === 0) {
    savedStackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
  }
  return () => {
    if (--quietEvaluations === 0) Error.stackTraceLimit = savedStackTraceLimit;
  };
}

async function evaluate(options: EvaluateOptions): Promise<Evaluation> {
  const organization = options.organization ?? OFFLINE_ORGANIZATION;
  const lastApplied = options.lastApplied === undefined ? appliedOutputsFromConfig(options.config) : (options.lastApplied ?? {});
  const mocks = withLastApplied(options.mocks ?? stackMocks(), `${organization}/${options.project}/${options.stack}`, lastApplied);
  const monitor = installRecordingMonitor(mocks, options.project, options.stack, options.preview ?? false, organization);
  pulumi.runtime.setAllConfig({ ...options.config }, [...(options.secretKeys ?? [])]);
  const program = options.program;
  let exported: unknown;
  let error: unknown;
  // A program that can never finish (a dependency cycle, a gate never released) fails here, naming
  // the resources involved, instead of hanging or exiting with "leaked promises".
  const watchdog = new EvaluationWatchdog({ stallTimeoutMs: options.stallTimeoutMs });
  watchdog.start();
  try {
    exported = await watchdog.race(Promise.resolve(runProgram(program)));
  } catch (err) {
    error = err;
  }
  const outputs: Record<string, unknown> = {};
  if (error === undefined && exported !== null && typeof exported === "object") {
    try {
      for (const [key, value] of Object.entries(exported)) {
        if (key !== "__esModule" && key !== "default") outputs[key] = await watchdog.race(resolveOutput(value, options.unknownOutput));
      }
    } catch (err) {
      error = err;
    }
  }
  try {
    const settled = watchdog.race(runtimeSettings.get().waitForRPCs());
    // A program that threw may leave registrations waiting forever on a promise it never settled
    // (a revocation gate it did not release); the language host exits all the same, once only such
    // promises remain. Registrations already under way settle within this grace.
    if (error === undefined) await settled;
    else {
      const grace = delay(FAILED_PROGRAM_GRACE_MS);
      try {
        await Promise.race([settled, grace.elapsed]);
      } finally {
        grace.cancel();
      }
    }
  } catch (err) {
    error ??= err;
  } finally {
    watchdog.stop();
  }
  return {
    resources: [...monitor.records],
    outputs: error === undefined ? outputs : {},
    registeredOutputs: { ...monitor.registeredOutputs },
    error,
  };
}
