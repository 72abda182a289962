/**
 * Reads a `Pulumi.<stack>.yaml` into the config map the engine hands a program: every key
 * namespaced, every value a string (objects as JSON text), and the list of keys that hold secure
 * values. Secure values are NEVER decrypted: each becomes a redacted placeholder.
 *
 * The shipped stack files hold no secure values (no key in this repository could decrypt them): an
 * operator sets them per stack (docs/runbooks/secrets-provider.md). Offline evaluations stand in for
 * the ones not set yet with the same placeholder, and report them (`withUnsetSecrets`).
 */
import { parse } from "yaml";
import { ConfigError, decodeConfigMap, parseStackConfig, requiredSecretKeys } from "./config";

/** Stands in for every secure value in offline evaluations; it must never appear in any output. */
export const REDACTED_PLACEHOLDER_PREFIX = "REDACTED-SECURE-VALUE";

export function redactedPlaceholder(key: string): string {
  return `${REDACTED_PLACEHOLDER_PREFIX}:${key}`;
}

export interface StackFileConfig {
  readonly config: Record<string, string>;
  readonly secretKeys: string[];
}

function isSecure(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length === 1 && "secure" in value;
}

/**
 * A stack file's key as the CLI reads it: a bare key is the project's own, `<ns>:config:<name>` is
 * the old spelling of `<ns>:<name>` (sdk/go/common/resource/config/key.go, workspace/loaders.go).
 */
function normalizeKey(rawKey: string, project: string): string | undefined {
  const parts = rawKey.split(":");
  if (parts.length === 1) return `${project}:${rawKey}`;
  if (parts.length === 2) return rawKey;
  if (parts.length === 3 && parts[1] === "config") return `${parts[0]}:${parts[2]}`;
  return undefined;
}

/** YAML's `.inf`, `-.inf` and `.nan` anywhere in a value: JSON (how the engine passes objects) has no such numbers. */
function nonFiniteNumbers(value: unknown, at: string): string[] {
  if (typeof value === "number") {
    if (Number.isFinite(value)) return [];
    const written = Number.isNaN(value) ? ".nan" : value > 0 ? ".inf" : "-.inf";
    return [`${at}: ${written} is not allowed; allowed: a finite number (YAML .inf, -.inf and .nan are not numbers config accepts)`];
  }
  if (Array.isArray(value)) return value.flatMap((item, i) => nonFiniteNumbers(item, `${at}[${i}]`));
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([key, item]) => nonFiniteNumbers(item, `${at}.${key}`));
  }
  return [];
}

const WHAT_A_STACK_FILE_HOLDS =
  "a YAML mapping with a config: section of keys (gcp:project, gcp:region, wallet-executor:environment, ...; see docs/reference/config.md)";

/**
 * Parses the text of a stack file; `project` namespaces bare keys, as the CLI does. Refuses what the
 * CLI would read differently from a reviewer: one key written twice (bare and namespaced, or in the
 * old `<ns>:config:<name>` form: the CLI keeps one of them at random), `.inf`/`.nan` numbers, and a
 * file with no config at all.
 */
export function readStackFile(text: string, project: string, fileName = "stack file"): StackFileConfig {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new ConfigError([`${fileName}: is not valid YAML (${(err as Error).message.split("\n")[0]})`]);
  }
  if (doc === null || doc === undefined) throw new ConfigError([`${fileName}: is empty; allowed: ${WHAT_A_STACK_FILE_HOLDS}`]);
  if (typeof doc !== "object" || Array.isArray(doc)) throw new ConfigError([`${fileName}: must be ${WHAT_A_STACK_FILE_HOLDS}`]);
  const section = (doc as Record<string, unknown>).config;
  if (section === undefined || section === null) {
    throw new ConfigError([`${fileName}: has no config (the config: section is missing or empty); allowed: ${WHAT_A_STACK_FILE_HOLDS}`]);
  }
  if (typeof section !== "object" || Array.isArray(section)) {
    throw new ConfigError([`${fileName}: config must be a mapping of keys to values`]);
  }
  if (Object.keys(section).length === 0) {
    throw new ConfigError([`${fileName}: has no config (the config: section is empty); allowed: ${WHAT_A_STACK_FILE_HOLDS}`]);
  }
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  const spelledAs = new Map<string, string>();
  const problems: string[] = [];
  for (const [rawKey, value] of Object.entries(section as Record<string, unknown>)) {
    const key = normalizeKey(rawKey, project);
    if (key === undefined) {
      problems.push(`${rawKey}: is not a config key; allowed: <namespace>:<name>, or a bare <name> for ${project}:<name>`);
      continue;
    }
    const earlier = spelledAs.get(key);
    if (earlier !== undefined) {
      problems.push(
        `${key}: is given twice in ${fileName}, as ${JSON.stringify(earlier)} and ${JSON.stringify(rawKey)}; ` +
          `allowed: one of them (the CLI would keep either, at random): keep ${key}`,
      );
      continue;
    }
    spelledAs.set(key, rawKey);
    if (isSecure(value)) {
      config[key] = redactedPlaceholder(key);
      secretKeys.push(key);
    } else if (containsSecure(value)) {
      problems.push(
        `${key}: holds a nested secure value; allowed: secure values only at the top level of a key (pulumi config set --secret <key>)`,
      );
    } else if (nonFiniteNumbers(value, key).length > 0) {
      problems.push(...nonFiniteNumbers(value, key));
    } else if (typeof value === "string") {
      config[key] = value;
    } else {
      config[key] = JSON.stringify(value);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { config, secretKeys };
}

/** What a secure value changed between two versions of a stack file (ciphertexts compared, never decrypted). */
export interface SecureValueChanges {
  /** Keys (namespaced) set in both files whose encrypted values differ, sorted. */
  readonly changed: readonly string[];
  /**
   * The files' encryption settings differ (`secretsprovider`, `encryptedkey`, `encryptionsalt`):
   * every value was encrypted again, so a changed ciphertext need not be a changed value.
   */
  readonly encryptionChanged: boolean;
}

/**
 * The secure values that differ between two versions of a stack file: a value set again under the
 * same key, which the engine applies in place (a credential generation's value must not change:
 * rotate to a new generation instead). The files alone cannot tell a new value from the same value
 * encrypted again; no value is ever decrypted. A file that does not parse changes nothing here
 * (the plan reports it).
 */
export function secureValueChanges(baseText: string, nextText: string, project: string): SecureValueChanges {
  const read = (text: string): { values: Map<string, unknown>; encryption: string } | undefined => {
    let doc: unknown;
    try {
      doc = parse(text);
    } catch {
      return undefined;
    }
    const file = (typeof doc === "object" && doc !== null && !Array.isArray(doc) ? doc : {}) as Record<string, unknown>;
    const section = typeof file.config === "object" && file.config !== null && !Array.isArray(file.config) ? file.config : {};
    const values = new Map<string, unknown>();
    for (const [rawKey, value] of Object.entries(section as Record<string, unknown>)) {
      const key = normalizeKey(rawKey, project);
      if (key !== undefined && isSecure(value)) values.set(key, (value as { secure: unknown }).secure);
    }
    return { values, encryption: JSON.stringify([file.secretsprovider, file.encryptedkey, file.encryptionsalt]) };
  };
  const base = read(baseText);
  const next = read(nextText);
  if (base === undefined || next === undefined) return { changed: [], encryptionChanged: false };
  const changed = [...next.values]
    .filter(([key, value]) => base.values.has(key) && base.values.get(key) !== value)
    .map(([key]) => key)
    .sort();
  return { changed, encryptionChanged: base.encryption !== next.encryption };
}

function containsSecure(value: unknown): boolean {
  if (isSecure(value)) return true;
  if (Array.isArray(value)) return value.some(containsSecure);
  if (typeof value === "object" && value !== null) return Object.values(value).some(containsSecure);
  return false;
}

/**
 * The secret config keys this stack's config needs (stack/config.ts `requiredSecretKeys`) that the
 * file does not set. A config that does not parse needs nothing here: the program reports it.
 */
export function unsetSecretKeys(file: StackFileConfig): string[] {
  const secret = new Set(file.secretKeys);
  let required: string[];
  try {
    required = requiredSecretKeys(parseStackConfig(decodeConfigMap(file.config, (key) => secret.has(key)).raw));
  } catch (err) {
    if (err instanceof ConfigError) return [];
    throw err;
  }
  return required.filter((key) => !(key in file.config));
}

export interface OfflineStackConfig extends StackFileConfig {
  /** Secret keys the config needs and the file does not set yet: `pulumi up` refuses until they are. */
  readonly unsetSecrets: readonly string[];
}

/** The file's config with a redacted placeholder, marked secret, for each secret not set yet. */
export function withUnsetSecrets(file: StackFileConfig): OfflineStackConfig {
  const unsetSecrets = unsetSecretKeys(file);
  const config = { ...file.config };
  for (const key of unsetSecrets) config[key] = redactedPlaceholder(key);
  return { config, secretKeys: [...file.secretKeys, ...unsetSecrets], unsetSecrets };
}
