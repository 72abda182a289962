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

/** Parses the text of a stack file; `project` namespaces bare keys, as the CLI does. */
export function readStackFile(text: string, project: string, fileName = "stack file"): StackFileConfig {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new ConfigError([`${fileName}: is not valid YAML (${(err as Error).message.split("\n")[0]})`]);
  }
  if (doc === null || doc === undefined) return { config: {}, secretKeys: [] };
  if (typeof doc !== "object" || Array.isArray(doc)) throw new ConfigError([`${fileName}: must be a YAML mapping with a config: section`]);
  const section = (doc as Record<string, unknown>).config ?? {};
  if (typeof section !== "object" || section === null || Array.isArray(section)) {
    throw new ConfigError([`${fileName}: config must be a mapping of keys to values`]);
  }
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [rawKey, value] of Object.entries(section)) {
    const key = rawKey.includes(":") ? rawKey : `${project}:${rawKey}`;
    if (isSecure(value)) {
      config[key] = redactedPlaceholder(key);
      secretKeys.push(key);
    } else if (containsSecure(value)) {
      throw new ConfigError([
        `${key}: holds a nested secure value; allowed: secure values only at the top level of a key (pulumi config set --secret <key>)`,
      ]);
    } else if (typeof value === "string") {
      config[key] = value;
    } else {
      config[key] = JSON.stringify(value);
    }
  }
  return { config, secretKeys };
}

function containsSecure(value: unknown): boolean {
  if (isSecure(value)) return true;
  if (Array.isArray(value)) return value.some(containsSecure);
  if (typeof value === "object" && value !== null) return Object.values(value).some(containsSecure);
  return false;
}

/**
 * The secret config keys this stack's config needs (lib/config.ts `requiredSecretKeys`) that the
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
