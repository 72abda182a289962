/**
 * How the fenced modules load a non-public part of an SDK: by module id, checked on first use, so an
 * upgrade that moves or reshapes it fails with a message naming the internal (never a later
 * `undefined is not a function` deep inside the plan or the harness).
 */
import * as path from "path";

/** The pack's own directory: @pulumi/policy and its copy of @pulumi/pulumi resolve from there. */
export const POLICY_DIR = path.resolve(__dirname, "../../policy");

/** The versions every internal was checked against (package.json and policy/package.json pin them). */
export const CHECKED_AGAINST = { "@pulumi/pulumi": "3.248.0", "@pulumi/policy": "1.21.0" } as const;

/** An internal of an SDK is missing or no longer has the shape the project relies on. */
export class SdkInternalError extends Error {
  constructor(
    /** `<module>#<member>`, e.g. `@pulumi/pulumi/runtime/config#isConfigSecret`. */
    readonly internal: string,
    problem: string,
  ) {
    super(`SDK internal ${internal}: ${problem}. ${upgradeHint(internal)}`);
    this.name = "SdkInternalError";
  }
}

function installedVersion(pkg: string, from?: string): string {
  try {
    const file = require.resolve(`${pkg}/package.json`, from ? { paths: [from] } : undefined);
    const version = (require(file) as { version?: unknown }).version;
    return typeof version === "string" ? version.replace(/^v/, "") : "unknown";
  } catch {
    return "not installed";
  }
}

function upgradeHint(internal: string): string {
  const pkg = internal.startsWith("@pulumi/policy") ? "@pulumi/policy" : "@pulumi/pulumi";
  const found = pkg === "@pulumi/policy" ? installedVersion(pkg, POLICY_DIR) : installedVersion(pkg);
  return `It was checked against ${pkg} ${CHECKED_AGAINST[pkg]} (installed: ${found}); see lib/sdk-internals/index.ts for what uses it and how to re-check it`;
}

/** Loads a module, from the pack's directory when `fromPack`; any failure names the internal. */
export function loadModule(internal: string, moduleId: string, fromPack = false): Record<string, unknown> {
  try {
    const resolved = require.resolve(moduleId, fromPack ? { paths: [POLICY_DIR] } : undefined);
    return require(resolved) as Record<string, unknown>;
  } catch (error) {
    throw new SdkInternalError(internal, `cannot load ${moduleId} (${(error as Error).message.split("\n")[0]})`);
  }
}

type Kind = "function" | "string" | "object";

/** The member of a loaded module, checked to be of the expected kind. */
export function member<T>(internal: string, module: Record<string, unknown>, key: string, kind: Kind): T {
  const value = module[key];
  const actual = value === null ? "null" : typeof value;
  if (actual !== kind) throw new SdkInternalError(internal, `expected ${key} to be a ${kind}, found ${actual}`);
  return value as T;
}

/** A member that must hold exactly this value (a wire-format constant the engine also knows). */
export function constant(internal: string, module: Record<string, unknown>, key: string, expected: string): string {
  const value = member<string>(internal, module, key, "string");
  if (value !== expected)
    throw new SdkInternalError(internal, `expected ${key} to be ${JSON.stringify(expected)}, found ${JSON.stringify(value)}`);
  return value;
}

/** A prototype (class) method that must exist. */
export function method(internal: string, klass: { prototype: unknown }, name: string): void {
  const proto = klass.prototype as Record<string, unknown> | undefined;
  if (typeof proto?.[name] !== "function") throw new SdkInternalError(internal, `expected the class to have a ${name}() method`);
}

/** Memoizes a loader (each internal is checked once per process). */
export function once<T>(load: () => T): () => T {
  let loaded: { value: T } | undefined;
  return () => (loaded ??= { value: load() }).value;
}
