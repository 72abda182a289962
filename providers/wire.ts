/**
 * Property values as the engine sends them to a provider that accepts secrets (the SDK's provider
 * server says it does): secrets arrive wrapped in the engine's secret signature, values unknown
 * during a preview as a sentinel string, resources as references. The providers compute on plain
 * values and wrap again, on the way out, every output whose input was secret (the engine does not
 * do it for a provider that accepts secrets), so a secret never lands in plain state.
 */

/** The engine's special signatures (sdk/go/common/resource/sig). */
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
export const RESOURCE_REFERENCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
export const OUTPUT_VALUE_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4";
/** A value unknown until apply (a computed output during preview). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export type Plain = Record<string, unknown>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function isSecretWire(value: unknown): value is { value: unknown } {
  return isRecord(value) && value[SIG_KEY] === SECRET_SIG;
}

export function secretWire(value: unknown): Record<string, unknown> {
  return isSecretWire(value) ? value : { [SIG_KEY]: SECRET_SIG, value };
}

/** The plain value: secrets unwrapped, resource references as their id, output values as their value. */
export function reveal(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reveal);
  if (!isRecord(value)) return value;
  const sig = value[SIG_KEY];
  if (sig === SECRET_SIG) return reveal(value.value);
  if (sig === RESOURCE_REFERENCE_SIG) return value.id === undefined || value.id === "" ? value.urn : reveal(value.id);
  if (sig === OUTPUT_VALUE_SIG) return "value" in value ? reveal(value.value) : UNKNOWN;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = reveal(v);
  return out;
}

export function revealAll(props: Plain): Plain {
  return reveal(props) as Plain;
}

export function containsSecret(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(containsSecret);
  if (!isRecord(value)) return false;
  if (value[SIG_KEY] === SECRET_SIG) return true;
  if (value[SIG_KEY] === OUTPUT_VALUE_SIG && value.secret === true) return true;
  return Object.values(value).some(containsSecret);
}

export function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (isRecord(value)) {
    if (value[SIG_KEY] === OUTPUT_VALUE_SIG && !("value" in value)) return true;
    return Object.values(value).some(containsUnknown);
  }
  return false;
}

/**
 * Outputs as the engine must store them: each key wrapped as secret when its input (or the old
 * state) held a secret, or when the type always keeps it secret (a generated password).
 */
export function protect(outs: Plain, secretSources: readonly Plain[], alwaysSecret: readonly string[] = []): Plain {
  const wrapped: Plain = {};
  for (const [key, value] of Object.entries(outs)) {
    if (value === undefined) continue;
    const secret = alwaysSecret.includes(key) || secretSources.some((source) => containsSecret(source[key]));
    wrapped[key] = secret ? secretWire(value) : value;
  }
  return wrapped;
}

/** Deep equality of revealed values (object key order ignored). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => sameValue(v, b[i]));
  if (isRecord(a) && isRecord(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) {
      if (!sameValue(normalizeAbsent(a[key]), normalizeAbsent(b[key]))) return false;
    }
    return true;
  }
  return normalizeAbsent(a) === normalizeAbsent(b);
}

/** Absent, null and empty collections are the same "not set" (the engine and the SDK mix them). */
function normalizeAbsent(value: unknown): unknown {
  if (value === null) return undefined;
  if (Array.isArray(value) && value.length === 0) return undefined;
  if (isRecord(value) && Object.keys(value).length === 0) return undefined;
  return value;
}
