/**
 * What the policies share: resource type tokens, URN parsing, reading props that may hold values
 * unknown during preview, reporting checks skipped for that reason, and the stack's graph
 * (dependencies, secrets and their versions) as CrossGuard's `validateStack` presents it.
 *
 * The pack is deployed on its own (`pulumi preview --policy-pack policy`), so nothing here imports
 * the program: the few constants it shares with `stack/phases.ts` are copied below.
 */
import * as policySdk from "@pulumi/policy";
import { PolicyResource } from "@pulumi/policy";

/** Type tokens the policies read. The first five are copied from `stack/phases.ts` TYPES. */
export const TYPES = {
  rotatingSecret: "wallet:rotation:RotatingSecret",
  executorService: "wallet:service:ExecutorService",
  controlService: "wallet:service:ControlService",
  /** The verification gate: a dynamic resource with its own type token (module "rotation"). */
  verification: "pulumi-nodejs:dynamic/rotation:Verification",
  /** Revocation of a version published out of band (disabled through Secret Manager's API). */
  publishedVersionRevocation: "pulumi-nodejs:dynamic/rotation:PublishedVersionRevocation",
  /** `tagged`: removal of the revoked generation's tag from the executor (Cloud Run Admin API). */
  executorTagRemoval: "pulumi-nodejs:dynamic/rotation:ExecutorTagRemoval",
  /** `tagged`: the check that the revoked token is refused at every URL of the executor. */
  revocationCheck: "pulumi-nodejs:dynamic/rotation:RevocationCheck",
  secret: "gcp:secretmanager/secret:Secret",
  secretVersion: "gcp:secretmanager/secretVersion:SecretVersion",
  regionalSecretVersion: "gcp:secretmanager/regionalSecretVersion:RegionalSecretVersion",
  secretIamMember: "gcp:secretmanager/secretIamMember:SecretIamMember",
  secretIamBinding: "gcp:secretmanager/secretIamBinding:SecretIamBinding",
  secretIamPolicy: "gcp:secretmanager/secretIamPolicy:SecretIamPolicy",
  cloudRunService: "gcp:cloudrunv2/service:Service",
  cloudRunJob: "gcp:cloudrunv2/job:Job",
  cloudRunV1Service: "gcp:cloudrun/service:Service",
  cloudRunWorkerPool: "gcp:cloudrunv2/workerPool:WorkerPool",
  cloudFunction: "gcp:cloudfunctions/function:Function",
  cloudFunctionV2: "gcp:cloudfunctionsv2/function:Function",
  regionalSecret: "gcp:secretmanager/regionalSecret:RegionalSecret",
  cloudRunServiceIamMember: "gcp:cloudrunv2/serviceIamMember:ServiceIamMember",
  cloudRunServiceIamBinding: "gcp:cloudrunv2/serviceIamBinding:ServiceIamBinding",
  cloudRunServiceIamPolicy: "gcp:cloudrunv2/serviceIamPolicy:ServiceIamPolicy",
  cloudRunV1IamMember: "gcp:cloudrun/iamMember:IamMember",
  cloudRunV1IamBinding: "gcp:cloudrun/iamBinding:IamBinding",
  cloudRunV1IamPolicy: "gcp:cloudrun/iamPolicy:IamPolicy",
  serviceAccount: "gcp:serviceaccount/account:Account",
  projectIamMember: "gcp:projects/iAMMember:IAMMember",
  projectIamBinding: "gcp:projects/iAMBinding:IAMBinding",
  projectIamPolicy: "gcp:projects/iAMPolicy:IAMPolicy",
  folderIamMember: "gcp:folder/iAMMember:IAMMember",
  folderIamBinding: "gcp:folder/iAMBinding:IAMBinding",
  folderIamPolicy: "gcp:folder/iAMPolicy:IAMPolicy",
  organizationIamMember: "gcp:organizations/iAMMember:IAMMember",
  organizationIamBinding: "gcp:organizations/iAMBinding:IAMBinding",
  organizationIamPolicy: "gcp:organizations/iAMPolicy:IAMPolicy",
  randomPassword: "random:index/randomPassword:RandomPassword",
  randomString: "random:index/randomString:RandomString",
  randomBytes: "random:index/randomBytes:RandomBytes",
  randomId: "random:index/randomId:RandomId",
  randomUuid: "random:index/randomUuid:RandomUuid",
  randomUuid4: "random:index/randomUuid4:RandomUuid4",
  randomUuid7: "random:index/randomUuid7:RandomUuid7",
  randomInteger: "random:index/randomInteger:RandomInteger",
  randomPet: "random:index/randomPet:RandomPet",
} as const;

/** Resources that hold a credential's versions: a secret, global or regional. */
export const SECRET_TYPES: readonly string[] = [TYPES.secret, TYPES.regionalSecret];

/** One version (generation) of a secret. */
export const VERSION_TYPES: readonly string[] = [TYPES.secretVersion, TYPES.regionalSecretVersion];

/** @pulumi/random's sources of random values. */
export const RANDOM_TYPES: readonly string[] = [
  TYPES.randomPassword,
  TYPES.randomString,
  TYPES.randomBytes,
  TYPES.randomId,
  TYPES.randomUuid,
  TYPES.randomUuid4,
  TYPES.randomUuid7,
  TYPES.randomInteger,
  TYPES.randomPet,
];

// ------------------------------------------------------------------------------------------------
// Values unknown during preview
// ------------------------------------------------------------------------------------------------

/**
 * Marks a value that is unknown until apply (a computed output during `pulumi preview`). CrossGuard
 * hands policies props wrapped in a proxy that THROWS on access to such a value; `plain` copies the
 * props out of that proxy and puts this marker in its place, so a policy can skip exactly the checks
 * that need it and still run the others.
 */
export const UNKNOWN: unique symbol = Symbol("unknown until apply");
export type Unknown = typeof UNKNOWN;

export function isUnknown(value: unknown): value is Unknown {
  return value === UNKNOWN;
}

/**
 * The engine's wire marker for an unknown value (`unknownStringValue` in @pulumi/policy's proxy.js):
 * the only unknown marker the engine sends. Also recognized un-proxied, for callers that build
 * props by hand.
 */
const UNKNOWN_WIRE_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/**
 * @pulumi/policy's `UnknownValueError`: thrown by its proxy, and the one error its server turns into
 * an advisory "can't run policy ... during preview" note instead of a failure. Its declaration file
 * does not type it (the class is marked internal), hence the narrow cast.
 */
const UnknownValueError = (policySdk as unknown as { UnknownValueError: new (sentinel: string, props: string[]) => Error })
  .UnknownValueError;

export function isUnknownValueError(err: unknown): boolean {
  // By shape too: a second copy of @pulumi/policy (the pack's own and a host's) has its own class.
  return (
    err instanceof UnknownValueError || (err instanceof Error && "unknownTypeSentinel" in err && "props" in err && Array.isArray(err.props))
  );
}

/** Copies a value out of CrossGuard's unknown-checking proxy; unknowns become `UNKNOWN`. */
export function plain(value: unknown): unknown {
  if (value === UNKNOWN_WIRE_VALUE) return UNKNOWN;
  if (value === null || typeof value !== "object") return value;
  const read = (container: Record<string | number, unknown>, key: string | number): unknown => {
    try {
      return plain(container[key]);
    } catch (err) {
      if (isUnknownValueError(err)) return UNKNOWN;
      throw err;
    }
  };
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) out.push(read(value as unknown as Record<number, unknown>, i));
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = read(value as Record<string, unknown>, key);
  return out;
}

/** `plain` for a resource's props. */
export function plainProps(props: Record<string, unknown>): Record<string, unknown> {
  const copied = plain(props);
  return isRecord(copied) ? copied : {};
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The value at a path of plain data; `UNKNOWN` if any step is unknown, undefined if absent. */
export function at(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  for (const step of path) {
    if (isUnknown(current)) return UNKNOWN;
    if (typeof step === "number") {
      if (!Array.isArray(current)) return undefined;
      current = current[step];
    } else {
      if (!isRecord(current)) return undefined;
      current = current[step];
    }
  }
  return current;
}

/** A string, `UNKNOWN`, or undefined for anything else (absent, null, a number...). */
export function text(value: unknown): string | Unknown | undefined {
  if (isUnknown(value) || typeof value === "string") return value;
  return undefined;
}

/** The items of a list; absent or null is an empty list. */
export function list(value: unknown): unknown[] | Unknown {
  if (isUnknown(value)) return UNKNOWN;
  return Array.isArray(value) ? (value as unknown[]) : [];
}

/**
 * Collects the checks a policy had to skip because a value it needs is unknown during preview.
 * `finish` reports them the way CrossGuard reports a policy that met an unknown value: its server
 * catches an `UnknownValueError` and records an ADVISORY "can't run policy ... during preview: ..."
 * diagnostic, never a violation. Violations found before `finish` are reported as usual.
 */
export class PreviewGaps {
  private readonly skipped: string[] = [];

  skip(check: string): void {
    if (!this.skipped.includes(check)) this.skipped.push(check);
  }

  get count(): number {
    return this.skipped.length;
  }

  /** Call last: throws when a check was skipped, after every violation has been reported. */
  finish(): void {
    if (this.skipped.length === 0) return;
    const err = new UnknownValueError(UNKNOWN_WIRE_VALUE, []);
    const checks = this.skipped.length === 1 ? "1 check" : `${this.skipped.length} checks`;
    err.message =
      `${checks} skipped because a value is unknown until apply (no violation assumed; ` +
      `the check runs again when the value is known): ${this.skipped.join("; ")}`;
    throw err;
  }
}

// ------------------------------------------------------------------------------------------------
// URNs
// ------------------------------------------------------------------------------------------------

/** The type chain of a URN `urn:pulumi:<stack>::<project>::<parentType$...$type>::<name>`. */
export function urnTypes(urn: string): { type: string; parentTypes: string[] } {
  const parts = urn.split("::");
  const chain = (parts[2] ?? "").split("$");
  return { type: chain[chain.length - 1], parentTypes: chain.slice(0, -1) };
}

/** True when the URN's resource is a (transitive) child of a component of this type. */
export function isWithin(urn: string, componentType: string): boolean {
  return urnTypes(urn).parentTypes.includes(componentType);
}

/** `auth-token` -> `authToken`: a credential's label as the verification's `generations` key. */
export function camelCase(name: string): string {
  return name.replace(/[-_]+([a-z0-9])/gi, (_match, next: string) => next.toUpperCase());
}

// ------------------------------------------------------------------------------------------------
// Secret names
// ------------------------------------------------------------------------------------------------

/** A Secret Manager secret as a reference names it: `projects/<p>/secrets/<id>` or a bare `<id>`. */
export interface SecretName {
  readonly project?: string;
  readonly secretId: string;
}

const SECRET_PATH = /^projects\/([^/]+)\/secrets\/([^/]+)(?:\/versions\/[^/]+)?$/;
const BARE_SECRET_ID = /^[A-Za-z0-9_-]+$/;

/** Parses a secret reference (a version path names its secret too); undefined if it is neither. */
export function parseSecretName(reference: string): SecretName | undefined {
  const path = SECRET_PATH.exec(reference);
  if (path) return { project: path[1], secretId: path[2] };
  return BARE_SECRET_ID.test(reference) ? { secretId: reference } : undefined;
}

/**
 * Another spelling of a project: Secret Manager's answers name a project by its NUMBER
 * (`projects/123456789012/secrets/S/versions/N`) where the program's inputs name it by its id.
 * The other spellings of a project the stack shows (none when it shows none).
 */
export type ProjectAliases = (project: string) => readonly string[];

const NO_ALIASES: ProjectAliases = () => [];

/**
 * Same secret id, and the same project when both name one (a bare id means "this project"). A
 * project's id and its number are the same project: `aliases` says which numbers go with which ids
 * (the stack's own secrets show both), so a version name read back from Secret Manager matches the
 * grant that names the project by id.
 */
export function sameSecret(a: SecretName, b: SecretName, aliases: ProjectAliases = NO_ALIASES): boolean {
  if (a.secretId !== b.secretId) return false;
  if (a.project === undefined || b.project === undefined || a.project === b.project) return true;
  return aliases(a.project).includes(b.project) || aliases(b.project).includes(a.project);
}

export function showSecret(name: SecretName): string {
  return name.project === undefined ? name.secretId : `projects/${name.project}/secrets/${name.secretId}`;
}

/**
 * From each Secret: the project its inputs name (`project`, an id) and the one its `name` output
 * names (`projects/<number>/secrets/<id>`, as Secret Manager answers). Both spellings, both ways.
 */
function collectProjectAliases(nodes: readonly StackNode[]): Map<string, string[]> {
  const aliases = new Map<string, string[]>();
  const add = (from: string, to: string): void => {
    const known = aliases.get(from) ?? [];
    if (!known.includes(to)) aliases.set(from, [...known, to]);
  };
  for (const node of nodes) {
    if (node.type !== TYPES.secret) continue;
    const project = text(node.props.project);
    const name = text(node.props.name);
    const parsed = typeof name === "string" ? parseSecretName(name) : undefined;
    if (typeof project !== "string" || parsed?.project === undefined || parsed.project === project) continue;
    add(project, parsed.project);
    add(parsed.project, project);
  }
  return aliases;
}

/** `projects/<p>/secrets/<s>/versions/<v>`: the executor's mnemonic reference. */
export const VERSION_PATH = /^projects\/([^/]+)\/secrets\/([^/]+)\/versions\/([^/]+)$/;

/** A Secret Manager version number: what every reference must pin (never `latest` or an alias). */
export const VERSION_NUMBER = /^[0-9]+$/;

// ------------------------------------------------------------------------------------------------
// The stack, as `validateStack` sees it
// ------------------------------------------------------------------------------------------------

/** One resource of the stack, its props copied out of the proxy (unknowns as `UNKNOWN`). */
export interface StackNode {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  /** In `AnalyzeStack`, these are the resource's OUTPUTS (its state), not only its inputs. */
  readonly props: Readonly<Record<string, unknown>>;
  readonly dependencies: readonly string[];
  readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
  readonly parentTypes: readonly string[];
  /** Position in the stack as the engine lists it (registration order): the order of creation. */
  readonly sequence: number;
}

/**
 * The stack's resources and their dependency graph. Everything structural here (dependencies,
 * property dependencies, parents, names) is known even during preview; only some props are not.
 */
export class StackGraph {
  readonly nodes: readonly StackNode[];
  private readonly byUrn: ReadonlyMap<string, StackNode>;

  constructor(resources: readonly PolicyResource[]) {
    this.nodes = resources.map((resource, sequence) => {
      const propertyDependencies: Record<string, string[]> = {};
      for (const [key, deps] of Object.entries(resource.propertyDependencies ?? {})) {
        propertyDependencies[key] = deps.map((dep) => dep.urn);
      }
      return {
        urn: resource.urn,
        type: resource.type,
        name: resource.name,
        props: plainProps(resource.props),
        dependencies: (resource.dependencies ?? []).map((dep) => dep.urn),
        propertyDependencies,
        parentTypes: urnTypes(resource.urn).parentTypes,
        sequence,
      };
    });
    this.byUrn = new Map(this.nodes.map((node) => [node.urn, node]));
    this.projectAliases = collectProjectAliases(this.nodes);
  }

  /** Project id <-> number pairs the stack's secrets show (their `project` input, their `name` output). */
  private readonly projectAliases: ReadonlyMap<string, readonly string[]>;

  /** Every other spelling of a project (its number for an id, its id for a number) the stack shows. */
  readonly aliasesOf: ProjectAliases = (project) => this.projectAliases.get(project) ?? [];

  /** `sameSecret`, knowing which project numbers and ids are the same project here. */
  sameSecret(a: SecretName, b: SecretName): boolean {
    return sameSecret(a, b, this.aliasesOf);
  }

  ofType(...types: string[]): StackNode[] {
    return this.nodes.filter((node) => types.includes(node.type));
  }

  /** True when `from` depends on `to` through any chain of dependencies (inputs and `dependsOn`). */
  dependsOn(from: StackNode, to: StackNode): boolean {
    const seen = new Set<string>();
    const pending = [...from.dependencies];
    while (pending.length > 0) {
      const urn = pending.pop() as string;
      if (urn === to.urn) return true;
      if (seen.has(urn)) continue;
      seen.add(urn);
      pending.push(...(this.byUrn.get(urn)?.dependencies ?? []));
    }
    return false;
  }

  /** The resources whose outputs a property (or, without `key`, any property) is built from. */
  inputsFrom(node: StackNode, key?: string): StackNode[] {
    const urns = key === undefined ? Object.values(node.propertyDependencies).flat() : (node.propertyDependencies[key] ?? []);
    return [...new Set(urns)].map((urn) => this.byUrn.get(urn)).filter((found): found is StackNode => found !== undefined);
  }

  /** A Secret resource's name as references spell it; undefined while its id is unknown. */
  secretNameOf(secret: StackNode): SecretName | undefined {
    const secretId = text(secret.props.secretId);
    if (typeof secretId !== "string") return undefined;
    const project = text(secret.props.project);
    return { secretId, project: typeof project === "string" ? project : undefined };
  }

  /** The Secret resources a reference names (one, unless the program declares the same secret twice). */
  secretsNamed(name: SecretName): StackNode[] {
    return this.ofType(TYPES.secret).filter((secret) => {
      const own = this.secretNameOf(secret);
      return own !== undefined && this.sameSecret(own, name);
    });
  }

  /** The Secret resource a reference names, when exactly one in the stack matches. */
  secretNamed(name: SecretName): StackNode | undefined {
    const matches = this.secretsNamed(name);
    return matches.length === 1 ? matches[0] : undefined;
  }

  /** The Secret a version belongs to: by property dependency (known in preview), else by name. */
  secretOfVersion(version: StackNode): StackNode | undefined {
    const byDependency = this.inputsFrom(version, "secret").find((node) => SECRET_TYPES.includes(node.type));
    if (byDependency) return byDependency;
    const reference = text(version.props.secret);
    const name = typeof reference === "string" ? parseSecretName(reference) : undefined;
    return name ? this.secretNamed(name) : undefined;
  }

  versionsOf(secret: StackNode): StackNode[] {
    return this.ofType(...VERSION_TYPES).filter((version) => this.secretOfVersion(version) === secret);
  }

  /** The resources that use this one's outputs in any of their properties. */
  consumersOf(node: StackNode): StackNode[] {
    return this.nodes.filter((other) => Object.values(other.propertyDependencies).some((urns) => urns.includes(node.urn)));
  }

  /** The version resource of `secret` whose `version` output is this number. */
  versionNumbered(secret: StackNode, number: string): StackNode | undefined {
    return this.versionsOf(secret).find((version) => versionNumberOf(version) === number);
  }
}

/** A version's number (its `version` OUTPUT): known after apply, UNKNOWN for a new one in preview. */
export function versionNumberOf(version: StackNode): string | Unknown | undefined {
  return text(version.props.version);
}

/**
 * The generation a logical name carries by the stack's naming convention (`auth-token-g4`, and a
 * published version's revocation `spark-api-key-g2-revocation`). A hint only: the policies
 * identify revocations and current versions from the graph, and use this to relate a version to
 * the generation numbers a verification names.
 */
export function nameGeneration(name: string): number | undefined {
  const suffix = /-g([0-9]+)(?:-revocation)?$/.exec(name);
  return suffix ? Number(suffix[1]) : undefined;
}
