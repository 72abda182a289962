/**
 * The policy pack, offline: evaluates a Pulumi program under the recording mock monitor, turns each
 * registration into exactly the arguments CrossGuard's server (`@pulumi/policy/server.js`) builds
 * from the engine's requests, runs every policy of the pack, and returns the violations. Tests use
 * it, and so does the offline plan.
 *
 * What it mirrors, and how:
 * - `Analyze` (resource policies): one call per registered resource, with its INPUTS as props (the
 *   wire struct deserialized by @pulumi/policy's own `deserializeProperties`, then wrapped in its
 *   own `unknownCheckingProxy`), its options, its provider, `isType`/`asType`/`getConfig`/
 *   `notApplicable`.
 * - `AnalyzeStack` (stack policies): every resource of the stack, including the root stack resource
 *   and the default providers the engine adds, with OUTPUTS as props (the mocks' state: what the
 *   resource would hold after the update; in preview, computed values are unknown), dependencies,
 *   property dependencies and parent resolved to resource objects, as the server does.
 * - A value unknown during preview is sent as the engine's unknown marker; a policy that touches it
 *   through the proxy is skipped with the server's advisory note ("can't run policy ... during
 *   preview: ..."), never failed.
 * - Enforcement: per-policy config level, else the policy's own, else the pack's; `remediate` counts
 *   as mandatory for validation; `disabled` policies do not run. Config is validated like the CLI
 *   validates `--policy-pack-config` (unknown policy or property, wrong type) and schema defaults
 *   are applied.
 * - Violation messages are what the policy reported. The engine shows the policy's description
 *   first (`<description>\n<message>`); the process test checks that correspondence.
 */
import "./module-resolution";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { wireFormat } from "../lib/sdk-internals/mock-runtime";
import {
  PolicyProxy,
  policyDeserialize,
  policyKinds,
  policyProxy as policyProxyInternal,
  toWireStruct,
} from "../lib/sdk-internals/policy-server";
import {
  EnforcementLevel,
  PolicyConfigSchema,
  PolicyResource,
  PolicyResourceOptions,
  ReportViolation,
  ResourceValidation,
  ResourceValidationArgs,
  StackValidationArgs,
} from "@pulumi/policy";
import { ALL_POLICIES, PACK_ENFORCEMENT_LEVEL, POLICY_PACK_NAME, WalletPolicy } from "../policy/policies";
import { EvaluateOptions, Evaluation, RecordedResource, UNKNOWN, decodeWireValue, evaluateProgram, stackMocks } from "./recording-monitor";

// CrossGuard's server helpers (from the pack's own @pulumi/policy) and the SDK's wire format, so the
// harness deserializes and proxies exactly as the pack's server does: see lib/sdk-internals.
const policyProxy = (): PolicyProxy => policyProxyInternal.get();

export type { EnforcementLevel };

/** One diagnostic of the pack. */
export interface Violation {
  readonly policy: string;
  readonly enforcementLevel: "advisory" | "mandatory" | "remediate" | "disabled";
  /** The resource it is about: the analyzed resource for resource policies; as reported for stack policies. */
  readonly urn?: string;
  /** What the policy reported (the engine prints the policy's description before it). */
  readonly message: string;
}

/** The pack's config, as in a `--policy-pack-config` file: a level, or a level and properties. */
export type PolicyConfig = Readonly<
  Record<string, EnforcementLevel | { readonly enforcementLevel?: EnforcementLevel; readonly [property: string]: unknown }>
>;

/** A resource as the engine sends it to the analyzer (plain data; `UNKNOWN` marks unknown values). */
export interface AnalyzerResourceView {
  readonly type: string;
  readonly urn: string;
  readonly name: string;
  readonly props: Readonly<Record<string, unknown>>;
  readonly parent?: string;
  readonly dependencies: readonly string[];
  readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
  readonly options: AnalyzerOptionsView;
  readonly provider?: ProviderView;
}

export interface AnalyzerOptionsView {
  readonly protect: boolean;
  readonly ignoreChanges: readonly string[];
  readonly deleteBeforeReplace?: boolean;
  readonly additionalSecretOutputs: readonly string[];
  readonly aliases: readonly string[];
  readonly parent?: string;
}

export interface ProviderView {
  readonly type: string;
  readonly urn: string;
  readonly name: string;
  readonly props: Readonly<Record<string, unknown>>;
}

/** What `Analyze` is called with (one per registration) and what `AnalyzeStack` gets (the whole stack). */
export interface AnalyzerViews {
  readonly analyze: readonly AnalyzerResourceView[];
  readonly stack: readonly AnalyzerResourceView[];
}

export interface RunPoliciesOptions {
  readonly policyConfig?: PolicyConfig;
  /** Outputs by URN, the props stack policies see; a resource without an entry shows its inputs. */
  readonly outputs?: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
  /** The program's stack outputs: the root stack resource's props in `AnalyzeStack`. */
  readonly stackOutputs?: Readonly<Record<string, unknown>>;
  /** The program's config (`gcp:project`, ...): the default providers' props. */
  readonly config?: Readonly<Record<string, string>>;
  /** False when the update failed: the engine then never calls `AnalyzeStack`. */
  readonly stackPolicies?: boolean;
  /** The policies to run; all of the pack's by default. */
  readonly policies?: readonly WalletPolicy[];
}

export interface PolicyEvaluationOptions extends EvaluateOptions {
  readonly policyConfig?: PolicyConfig;
  /**
   * Evaluate as the first `pulumi preview` of a new stack: every value a provider computes (ids,
   * version numbers, account emails, URLs) is unknown, as the engine reports it before anything
   * exists. Implies `preview`.
   */
  readonly firstPreview?: boolean;
  /**
   * Evaluate as a `pulumi preview` of an update in which only the resources this picks are created
   * (their computed values unknown); every other resource exists already (its outputs known).
   * Implies `preview`. E.g. a rotation's new version and its value: `(r) => /-g5(-value)?$/.test(r.name)`.
   */
  readonly previewCreates?: (resource: { readonly type: string; readonly name: string }) => boolean;
}

export interface PolicyEvaluation {
  readonly evaluation: Evaluation;
  readonly violations: Violation[];
  /** Each resource's outputs (the mocks' state), by URN: what stack policies saw. */
  readonly resourceOutputs: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
}

const PACK_VERSION = (JSON.parse(fs.readFileSync(path.resolve(__dirname, "../policy/package.json"), "utf8")) as { version: string })
  .version;

const ENFORCEMENT_LEVELS: readonly EnforcementLevel[] = ["advisory", "mandatory", "remediate", "disabled"];

// ------------------------------------------------------------------------------------------------
// Config, as the CLI validates it and the server applies it
// ------------------------------------------------------------------------------------------------

interface EffectiveConfig {
  readonly level: EnforcementLevel;
  readonly properties: Readonly<Record<string, unknown>>;
}

function schemaProblem(schema: unknown, value: unknown, at: string): string | undefined {
  if (schema === null || typeof schema !== "object") return undefined;
  const s = schema as { type?: string; minimum?: number; minLength?: number; minItems?: number; pattern?: string; items?: unknown };
  const show = JSON.stringify(value);
  switch (s.type) {
    case "integer":
    case "number":
      if (typeof value !== "number" || (s.type === "integer" && !Number.isInteger(value))) return `${at}: ${show} is not an ${s.type}`;
      if (s.minimum !== undefined && value < s.minimum) return `${at}: ${show} is below the minimum ${s.minimum}`;
      return undefined;
    case "string":
      if (typeof value !== "string") return `${at}: ${show} is not a string`;
      if (s.minLength !== undefined && value.length < s.minLength) return `${at}: ${show} is shorter than ${s.minLength}`;
      if (s.pattern !== undefined && !new RegExp(s.pattern).test(value)) return `${at}: ${show} does not match ${s.pattern}`;
      return undefined;
    case "boolean":
      return typeof value === "boolean" ? undefined : `${at}: ${show} is not a boolean`;
    case "array":
      if (!Array.isArray(value)) return `${at}: ${show} is not an array`;
      if (s.minItems !== undefined && value.length < s.minItems) return `${at}: has fewer than ${s.minItems} items`;
      for (let i = 0; i < value.length; i++) {
        const problem = schemaProblem(s.items, value[i], `${at}[${i}]`);
        if (problem) return problem;
      }
      return undefined;
    default:
      return undefined;
  }
}

/** Each policy's level and properties under this config; throws on config the CLI would refuse. */
export function effectiveConfig(policies: readonly WalletPolicy[], config: PolicyConfig = {}): Map<string, EffectiveConfig> {
  const byName = new Map(policies.map((policy) => [policy.name, policy]));
  const problems: string[] = [];
  const normalized = new Map<string, { enforcementLevel?: EnforcementLevel; properties: Record<string, unknown> }>();
  for (const [name, value] of Object.entries(config)) {
    if (name !== "all" && !byName.has(name)) {
      problems.push(`${name}: no such policy in ${POLICY_PACK_NAME}; policies: ${[...byName.keys()].join(", ")}`);
      continue;
    }
    const { enforcementLevel, ...properties } = typeof value === "string" ? { enforcementLevel: value } : value;
    if (enforcementLevel !== undefined && !ENFORCEMENT_LEVELS.includes(enforcementLevel)) {
      problems.push(`${name}.enforcementLevel: ${JSON.stringify(enforcementLevel)} is not one of ${ENFORCEMENT_LEVELS.join(", ")}`);
    }
    const schema: PolicyConfigSchema | undefined = name === "all" ? undefined : byName.get(name)?.configSchema;
    for (const [key, item] of Object.entries(properties)) {
      const propertySchema = schema?.properties[key];
      if (!propertySchema)
        problems.push(
          `${name}.${key}: not a setting of this policy${schema ? `; settings: ${Object.keys(schema.properties).join(", ")}` : ""}`,
        );
      else {
        const problem = schemaProblem(propertySchema, item, `${name}.${key}`);
        if (problem) problems.push(problem);
      }
    }
    normalized.set(name, { enforcementLevel, properties });
  }
  if (problems.length > 0) throw new Error(`invalid policy pack config:\n  - ${problems.join("\n  - ")}`);
  const all = normalized.get("all");
  const effective = new Map<string, EffectiveConfig>();
  for (const policy of policies) {
    const own = normalized.get(policy.name);
    const properties: Record<string, unknown> = {};
    for (const [key, schema] of Object.entries(policy.configSchema?.properties ?? {})) {
      if (typeof schema === "object" && schema.default !== undefined) properties[key] = schema.default;
    }
    Object.assign(properties, own?.properties);
    effective.set(policy.name, {
      level: own?.enforcementLevel ?? all?.enforcementLevel ?? policy.enforcementLevel ?? PACK_ENFORCEMENT_LEVEL,
      properties,
    });
  }
  return effective;
}

// ------------------------------------------------------------------------------------------------
// From recorded registrations to what the engine sends
// ------------------------------------------------------------------------------------------------

/** A plain value in the engine's wire form: `UNKNOWN` becomes the unknown marker, `undefined` keys go. */
export function toWireValue(value: unknown): unknown {
  if (value === UNKNOWN) return policyProxy().unknownStringValue;
  if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : toWireValue(item)));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (item !== undefined && typeof item !== "function") out[key] = toWireValue(item);
    }
    return out;
  }
  return value;
}

/** Props as the server hands them to a policy: wire struct -> deserializeProperties -> proxy. */
function policyProps(props: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const struct = toWireStruct(toWireValue(props) as Record<string, unknown>);
  return policyProxy().unknownCheckingProxy(policyDeserialize.get()(struct, false));
}

/** `urn:pulumi:<stack>::<project>::...` -> stack and project. */
function stackAndProject(urn: string): { stack: string; project: string } {
  const parts = urn.split("::");
  return { stack: parts[0].slice("urn:pulumi:".length), project: parts[1] };
}

function packageVersion(pkg: string): string | undefined {
  try {
    return (require(`@pulumi/${pkg}/package.json`) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/** The resources `Analyze` and `AnalyzeStack` would see for these registrations. */
export function analyzerViews(resources: readonly RecordedResource[], options: RunPoliciesOptions = {}): AnalyzerViews {
  if (resources.length === 0) return { analyze: [], stack: [] };
  const { stack, project } = stackAndProject(resources[0].urn);
  const rootUrn = `urn:pulumi:${stack}::${project}::pulumi:pulumi:Stack::${project}-${stack}`;
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const defaultProviders = new Map<string, ProviderView>();
  const defaultProvider = (type: string): ProviderView => {
    const pkg = type.split(":")[0];
    const existing = defaultProviders.get(pkg);
    if (existing) return existing;
    // The engine's built-in providers (`pulumi`, and `pulumi-nodejs` for dynamic resources) are unversioned.
    const version = pkg === "pulumi" || pkg === "pulumi-nodejs" ? undefined : packageVersion(pkg);
    const props: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(options.config ?? {})) {
      if (key.startsWith(`${pkg}:`)) props[key.slice(pkg.length + 1)] = value;
    }
    if (version) props.version = version;
    const name = version ? `default_${version.replace(/[.-]/g, "_")}` : "default";
    const view = { type: `pulumi:providers:${pkg}`, urn: `urn:pulumi:${stack}::${project}::pulumi:providers:${pkg}::${name}`, name, props };
    defaultProviders.set(pkg, view);
    return view;
  };
  const providerOf = (r: RecordedResource): ProviderView | undefined => {
    if (!r.custom || r.type.startsWith("pulumi:providers:")) return undefined;
    if (r.provider) {
      // A provider reference is `<urn>::<id>`.
      const urn = r.provider.split("::").slice(0, -1).join("::");
      const registered = byUrn.get(urn);
      if (registered) return { type: registered.type, urn, name: registered.name, props: registered.inputs };
    }
    return defaultProvider(r.type);
  };
  const view = (r: RecordedResource, props: Readonly<Record<string, unknown>>): AnalyzerResourceView => {
    const parent = r.parent ?? rootUrn;
    return {
      type: r.type,
      urn: r.urn,
      name: r.name,
      props,
      parent,
      dependencies: r.dependencies,
      propertyDependencies: r.propertyDependencies,
      options: {
        protect: r.protect,
        ignoreChanges: r.ignoreChanges,
        deleteBeforeReplace: r.deleteBeforeReplace,
        additionalSecretOutputs: r.additionalSecretOutputs,
        aliases: [],
        parent,
      },
      provider: providerOf(r),
    };
  };
  // Reads (a StackReference, a `.get`) are in the stack's state, but nothing is created or updated: no `Analyze`.
  const analyze = resources.filter((r) => !r.read).map((r) => view(r, r.inputs));
  const registered = resources.map((r) => view(r, options.outputs?.get(r.urn) ?? r.inputs));
  const root: AnalyzerResourceView = {
    type: "pulumi:pulumi:Stack",
    urn: rootUrn,
    name: `${project}-${stack}`,
    props: options.stackOutputs ?? {},
    dependencies: [],
    propertyDependencies: {},
    options: { protect: false, ignoreChanges: [], additionalSecretOutputs: [], aliases: [] },
  };
  const providers: AnalyzerResourceView[] = [...defaultProviders.values()].map((provider) => ({
    type: provider.type,
    urn: provider.urn,
    name: provider.name,
    props: provider.props,
    parent: rootUrn,
    dependencies: [],
    propertyDependencies: {},
    options: { protect: false, ignoreChanges: [], additionalSecretOutputs: [], aliases: [], parent: rootUrn },
  }));
  return { analyze, stack: [root, ...providers, ...registered] };
}

/** A hand-built resource for unit tests: defaults for everything but type, name and props. */
export function resourceView(resource: {
  readonly type: string;
  readonly name: string;
  readonly props: Readonly<Record<string, unknown>>;
  readonly urn?: string;
  readonly parent?: string;
  readonly dependencies?: readonly string[];
  readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
  readonly protect?: boolean;
}): AnalyzerResourceView {
  const urn = resource.urn ?? `urn:pulumi:test::test::${resource.type}::${resource.name}`;
  return {
    type: resource.type,
    urn,
    name: resource.name,
    props: resource.props,
    parent: resource.parent,
    dependencies: resource.dependencies ?? [],
    propertyDependencies: resource.propertyDependencies ?? {},
    options: { protect: resource.protect ?? false, ignoreChanges: [], additionalSecretOutputs: [], aliases: [], parent: resource.parent },
  };
}

// ------------------------------------------------------------------------------------------------
// Running policies, as the server does
// ------------------------------------------------------------------------------------------------

class NotApplicable extends Error {}

const throwNotApplicable = (reason?: string): never => {
  throw new NotApplicable(reason ?? "Policy does not apply");
};

const NO_STACK_TAGS: ReadonlyMap<string, string> = new Map();

function policyOptions(options: AnalyzerOptionsView): PolicyResourceOptions {
  const result: PolicyResourceOptions = {
    protect: options.protect,
    ignoreChanges: [...options.ignoreChanges],
    aliases: [...options.aliases],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [...options.additionalSecretOutputs],
  };
  if (options.deleteBeforeReplace !== undefined) result.deleteBeforeReplace = options.deleteBeforeReplace;
  if (options.parent) result.parent = options.parent;
  return result;
}

/** The server's type test: a class's `__pulumiType`, else its `isInstance`. */
function isTypeOf(type: string, resourceClass: unknown): boolean {
  const pulumiType = policyKinds.get().getPulumiType(resourceClass);
  if (pulumiType) return type === pulumiType;
  const isInstance = (resourceClass as { isInstance?: unknown }).isInstance;
  return typeof isInstance === "function" && (isInstance as (value: unknown) => boolean)({ __pulumiType: type }) === true;
}

function skippedNote(policy: WalletPolicy, err: Error): string {
  return `can't run policy '${policy.name}' from policy pack '${POLICY_PACK_NAME}@v${PACK_VERSION}' during preview: ${err.message}`;
}

function failure(policy: WalletPolicy, err: unknown, what: string): Error {
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  return new Error(
    `Error validating ${what} with policy '${policy.name}' from policy pack '${POLICY_PACK_NAME}@v${PACK_VERSION}':\n${detail}`,
  );
}

/** The level a diagnostic carries; undefined when the policy does not run. */
function runningLevel(policy: WalletPolicy, config: ReadonlyMap<string, EffectiveConfig>): Violation["enforcementLevel"] | undefined {
  const level = config.get(policy.name)?.level ?? policy.enforcementLevel ?? PACK_ENFORCEMENT_LEVEL;
  if (level === "disabled") return undefined;
  return level === "remediate" ? "mandatory" : level;
}

function getConfigOf(policy: WalletPolicy, config: ReadonlyMap<string, EffectiveConfig>): <T extends object>() => T {
  return <T extends object>() => ({ ...(config.get(policy.name)?.properties ?? {}) }) as T;
}

async function analyzeResource(
  policy: WalletPolicy,
  resource: AnalyzerResourceView,
  config: ReadonlyMap<string, EffectiveConfig>,
): Promise<Violation[]> {
  const level = runningLevel(policy, config);
  if (level === undefined || !policyKinds.get().isResourcePolicy(policy) || !("validateResource" in policy) || !policy.validateResource)
    return [];
  const validations: ResourceValidation[] = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
  const pulumiType = validations.length === 1 ? policyKinds.get().getPulumiType(validations[0]) : undefined;
  if (pulumiType && pulumiType !== resource.type) return [];
  const found: Violation[] = [];
  const reportViolation: ReportViolation = (message: string, urn?: string) => {
    // The engine files a diagnostic without a URN under the resource being analyzed.
    found.push({ policy: policy.name, enforcementLevel: level, urn: urn ?? resource.urn, message: message || policy.description });
  };
  for (const validation of validations) {
    const props = policyProps(resource.props);
    const args: ResourceValidationArgs = {
      type: resource.type,
      props,
      urn: resource.urn,
      name: resource.name,
      opts: policyOptions(resource.options),
      stackTags: NO_STACK_TAGS,
      isType: (resourceClass) => isTypeOf(resource.type, resourceClass),
      asType: ((resourceClass: unknown) =>
        isTypeOf(resource.type, resourceClass) ? props : undefined) as ResourceValidationArgs["asType"],
      getConfig: getConfigOf(policy, config),
      notApplicable: throwNotApplicable,
    };
    if (resource.provider) {
      args.provider = {
        type: resource.provider.type,
        urn: resource.provider.urn,
        name: resource.provider.name,
        props: policyProps(resource.provider.props),
      };
    }
    try {
      await validation(args, reportViolation);
    } catch (err) {
      if (err instanceof policyProxy().UnknownValueError) {
        found.push({ policy: policy.name, enforcementLevel: "advisory", urn: resource.urn, message: skippedNote(policy, err) });
      } else if (!(err instanceof NotApplicable)) {
        throw failure(policy, err, `resource ${resource.urn}`);
      }
    }
  }
  return found;
}

async function analyzeStack(
  policy: WalletPolicy,
  resources: readonly AnalyzerResourceView[],
  config: ReadonlyMap<string, EffectiveConfig>,
): Promise<Violation[]> {
  const level = runningLevel(policy, config);
  if (level === undefined || !policyKinds.get().isStackPolicy(policy) || !("validateStack" in policy)) return [];
  const pulumiType = policyKinds.get().getPulumiType(policy.validateStack);
  if (pulumiType && !resources.some((r) => r.type === pulumiType)) return [];
  const found: Violation[] = [];
  const reportViolation: ReportViolation = (message: string, urn?: string) => {
    found.push({ policy: policy.name, enforcementLevel: level, urn, message: message || policy.description });
  };
  const policyResources = resources.map((resource): PolicyResource => {
    const props = policyProps(resource.props);
    const policyResource: PolicyResource = {
      type: resource.type,
      props,
      urn: resource.urn,
      name: resource.name,
      opts: policyOptions(resource.options),
      dependencies: [],
      propertyDependencies: {},
      isType: (resourceClass) => isTypeOf(resource.type, resourceClass),
      asType: ((resourceClass: unknown) => (isTypeOf(resource.type, resourceClass) ? props : undefined)) as PolicyResource["asType"],
    };
    if (resource.provider) {
      policyResource.provider = {
        type: resource.provider.type,
        urn: resource.provider.urn,
        name: resource.provider.name,
        props: policyProps(resource.provider.props),
      };
    }
    return policyResource;
  });
  const byUrn = new Map(policyResources.map((r) => [r.urn, r]));
  resources.forEach((resource, i) => {
    const target = policyResources[i];
    const parent = resource.parent ? byUrn.get(resource.parent) : undefined;
    if (parent) target.parent = parent;
    target.dependencies = resource.dependencies.map((urn) => byUrn.get(urn)).filter((r): r is PolicyResource => r !== undefined);
    for (const [key, urns] of Object.entries(resource.propertyDependencies)) {
      target.propertyDependencies[key] = urns.map((urn) => byUrn.get(urn)).filter((r): r is PolicyResource => r !== undefined);
    }
  });
  const args: StackValidationArgs = {
    resources: policyResources,
    getConfig: getConfigOf(policy, config),
    stackTags: NO_STACK_TAGS,
    notApplicable: throwNotApplicable,
  };
  try {
    await policy.validateStack(args, reportViolation);
  } catch (err) {
    if (err instanceof policyProxy().UnknownValueError) {
      found.push({ policy: policy.name, enforcementLevel: "advisory", message: skippedNote(policy, err) });
    } else if (!(err instanceof NotApplicable)) {
      throw failure(policy, err, "the stack");
    }
  }
  return found;
}

/** Deterministic order: policy, then URN, then message. */
export function sortViolations(violations: readonly Violation[]): Violation[] {
  const key = (v: Violation): string => `${v.policy}\u0000${v.urn ?? ""}\u0000${v.message}`;
  return [...violations].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** Runs policies on prepared views: `Analyze` for each resource, then `AnalyzeStack` once. */
export async function runPoliciesOnViews(views: AnalyzerViews, options: RunPoliciesOptions = {}): Promise<Violation[]> {
  const policies = options.policies ?? ALL_POLICIES;
  const config = effectiveConfig(policies, options.policyConfig);
  const violations: Violation[] = [];
  for (const resource of views.analyze) {
    for (const policy of policies) violations.push(...(await analyzeResource(policy, resource, config)));
  }
  if (options.stackPolicies !== false) {
    for (const policy of policies) violations.push(...(await analyzeStack(policy, views.stack, config)));
  }
  return sortViolations(violations);
}

/** Runs every policy of the pack (or `options.policies`) on these registrations. */
export async function runPolicies(resources: readonly RecordedResource[], options: RunPoliciesOptions = {}): Promise<Violation[]> {
  return runPoliciesOnViews(analyzerViews(resources, options), options);
}

/** One resource policy on one hand-built resource (unit tests). */
export async function checkResource(
  policy: WalletPolicy,
  resource: AnalyzerResourceView,
  options: RunPoliciesOptions = {},
): Promise<Violation[]> {
  return runPoliciesOnViews({ analyze: [resource], stack: [] }, { ...options, policies: [policy], stackPolicies: false });
}

/** One stack policy on hand-built resources (unit tests). */
export async function checkStack(
  policy: WalletPolicy,
  resources: readonly AnalyzerResourceView[],
  options: RunPoliciesOptions = {},
): Promise<Violation[]> {
  return runPoliciesOnViews({ analyze: [], stack: resources }, { ...options, policies: [policy] });
}

// ------------------------------------------------------------------------------------------------
// Evaluating a program, with its resources' outputs
// ------------------------------------------------------------------------------------------------

/**
 * Wraps the mocks to keep each resource's state (its outputs). For a resource `creating` picks
 * (every one in a first preview), every value the mocks compute beyond the inputs, and the id, is
 * withheld: the SDK then treats it as unknown, as it is in a preview, and the recorded outputs
 * mark it `UNKNOWN`.
 */
class OutputRecorder {
  private readonly queues = new Map<string, Promise<Record<string, unknown>>[]>();
  readonly mocks: pulumi.runtime.Mocks;

  constructor(base: pulumi.runtime.Mocks, creating: (resource: { readonly type: string; readonly name: string }) => boolean) {
    this.mocks = {
      newResource: (args: pulumi.runtime.MockResourceArgs) => {
        const shaped = Promise.resolve(base.newResource(args)).then((result) => {
          const inputs = (args.inputs ?? {}) as Record<string, unknown>;
          // A read (a StackReference, a `.get`) looks up what exists already: known in preview too.
          const creates = creating(args) && !(typeof args.id === "string" && args.id !== "");
          const computed = creates
            ? Object.keys(result.state).filter((key) => !(key in inputs) || !sameValue(result.state[key], inputs[key]))
            : [];
          const state: Record<string, unknown> = {};
          for (const [key, value] of Object.entries(result.state)) if (!computed.includes(key)) state[key] = value;
          return { result: { id: creates ? undefined : result.id, state }, computed };
        });
        // Queued in call order (the order of registration), before any await.
        const key = `${args.type}\u0000${args.name}`;
        const queue = this.queues.get(key) ?? [];
        queue.push(
          shaped.then(async ({ result, computed }) => {
            const outputs = decodeWireValue(await wireFormat.get().serializeProperties("policy-harness", result.state)) as Record<
              string,
              unknown
            >;
            for (const name of computed) outputs[name] = UNKNOWN;
            return outputs;
          }),
        );
        this.queues.set(key, queue);
        return shaped.then(({ result }) => result);
      },
      call: (args: pulumi.runtime.MockCallArgs) => base.call(args),
    };
  }

  /** The outputs of each registration, by URN. */
  async outputsFor(resources: readonly RecordedResource[]): Promise<Map<string, Readonly<Record<string, unknown>>>> {
    const outputs = new Map<string, Readonly<Record<string, unknown>>>();
    for (const resource of resources) {
      const next = this.queues.get(`${resource.type}\u0000${resource.name}`)?.shift();
      outputs.set(resource.urn, next ? await next : resource.inputs);
    }
    return outputs;
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  try {
    return JSON.stringify(a) === JSON.stringify(b);
  } catch {
    return false;
  }
}

/** In a preview, an output still unknown is exported as `UNKNOWN`, as the pack sees it. */
async function evaluate(options: PolicyEvaluationOptions, mocks: pulumi.runtime.Mocks): Promise<Evaluation> {
  const preview = options.preview === true || options.firstPreview === true || options.previewCreates !== undefined;
  return evaluateProgram({ ...options, preview, mocks, unknownOutput: UNKNOWN });
}

/**
 * Evaluates a program (a path, or a function such as `defineStack`) under the recording monitor
 * and runs the pack on what it registered. When the program fails, only the resource policies run
 * (on what it registered before failing), as the engine never reaches `AnalyzeStack` then.
 */
export async function evaluateWithPolicies(options: PolicyEvaluationOptions): Promise<PolicyEvaluation> {
  const creating = options.firstPreview === true ? () => true : (options.previewCreates ?? (() => false));
  const recorder = new OutputRecorder(options.mocks ?? stackMocks(), creating);
  const evaluation = await evaluate(options, recorder.mocks);
  const resourceOutputs = await recorder.outputsFor(evaluation.resources);
  const violations = await runPolicies(evaluation.resources, {
    policyConfig: options.policyConfig,
    outputs: resourceOutputs,
    stackOutputs: evaluation.outputs,
    config: options.config,
    stackPolicies: evaluation.error === undefined,
  });
  return { evaluation, violations, resourceOutputs };
}
