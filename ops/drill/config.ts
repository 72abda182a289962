/**
 * The drill's edits to `Pulumi.<stack>.yaml`: bump the auth token's generation, then ask for the
 * previous one to be revoked. Pure text -> text, so the change is exactly what a person would
 * commit: only `wallet-executor:authToken` changes; comments, key order, other keys, encrypted
 * values and formatting stay byte-for-byte.
 *
 * How: the `yaml` Document API reads and validates the file; the edit itself is made on the
 * `yaml` CST (its lossless syntax tree), because re-serialising the whole Document would re-indent
 * sequences and re-quote strings elsewhere in the file. If the token is not written as a plain block
 * map (e.g. flow style `{ current: 3 }`), the Document API serialises the edit instead. Either way the
 * result is parsed back and must equal the original with only the token changed.
 */
import { isDeepStrictEqual } from "node:util";
import * as YAML from "yaml";
import { ConfigError, MAX_GENERATION, projectKey } from "../../stack/config";

/** The stack config key of the executor auth token's generations. */
export const AUTH_TOKEN_KEY = projectKey("authToken");
/** The CLI also reads a bare key in the stack file as the project's own. */
const BARE_AUTH_TOKEN_KEY = "authToken";

/** `wallet-executor:authToken` as the design defines it (docs/design/rotation-model.md). */
export interface TokenGenerations {
  /** The generation both services use (>= 1). */
  current: number;
  /** The generation being rotated out, still enabled until revoked (< current). */
  previous?: number;
  /** When true, the previous generation's version is disabled once `current` is verified. */
  revokePrevious?: boolean;
}

export interface GenerationBump {
  yamlText: string;
  /** The generation rotated out (now `previous`). */
  from: number;
  /** The new `current`. */
  to: number;
  /** True when `revokePrevious` was set in the same edit (rotation and revocation in one `up`). */
  revokePrevious: boolean;
}

export interface RevocationRequest {
  yamlText: string;
  /** The generation that will be disabled. */
  previous: number;
  current: number;
}

type TokenKey = keyof TokenGenerations;
type TokenChange = readonly [TokenKey, number | boolean];
/** Where a new key goes: after the nearest earlier one of these that exists. */
const KEY_ORDER: readonly TokenKey[] = ["current", "previous", "revokePrevious"];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function loadFile(yamlText: string): Record<string, unknown> {
  const doc = YAML.parseDocument(yamlText);
  if (doc.errors.length > 0) throw new ConfigError([`stack file is not valid YAML: ${doc.errors[0].message}`]);
  const data: unknown = doc.toJS();
  if (!isRecord(data)) throw new ConfigError(["stack file is not a YAML mapping"]);
  return data;
}

/** The key the token is written under in this file. */
function tokenKeyIn(data: Record<string, unknown>): string {
  const config = data.config;
  if (!isRecord(config)) throw new ConfigError(["stack file has no `config:` mapping"]);
  const present = [AUTH_TOKEN_KEY, BARE_AUTH_TOKEN_KEY].filter((key) => key in config);
  if (present.length === 0) throw new ConfigError([`${AUTH_TOKEN_KEY} is not set in the stack file`]);
  if (present.length > 1) throw new ConfigError([`both ${AUTH_TOKEN_KEY} and ${BARE_AUTH_TOKEN_KEY} are set; keep one`]);
  return present[0];
}

function tokenValue(data: Record<string, unknown>): Record<string, unknown> {
  const value = (data.config as Record<string, unknown>)[tokenKeyIn(data)];
  if (!isRecord(value) || "secure" in value) {
    throw new ConfigError([`${AUTH_TOKEN_KEY} must be a plain mapping { current, previous?, revokePrevious? }`]);
  }
  return value;
}

function validate(value: Record<string, unknown>): TokenGenerations {
  const { current, previous, revokePrevious } = value;
  // The same bounds stack/config.ts enforces when the program reads the config.
  if (typeof current !== "number" || !Number.isInteger(current) || current < 1 || current >= MAX_GENERATION) {
    throw new ConfigError([`${AUTH_TOKEN_KEY}.current must be an integer >= 1 and below ${MAX_GENERATION}`]);
  }
  const generations: TokenGenerations = { current };
  if (previous !== undefined) {
    if (typeof previous !== "number" || !Number.isInteger(previous) || previous < 1 || previous >= current) {
      throw new ConfigError([`${AUTH_TOKEN_KEY}.previous must be an integer >= 1 and below current (${current})`]);
    }
    generations.previous = previous;
  }
  if (revokePrevious !== undefined) {
    if (typeof revokePrevious !== "boolean") throw new ConfigError([`${AUTH_TOKEN_KEY}.revokePrevious must be true or false`]);
    generations.revokePrevious = revokePrevious;
  }
  return generations;
}

/** Reads and validates `wallet-executor:authToken` from a stack file's text. */
export function readTokenGenerations(yamlText: string): TokenGenerations {
  return validate(tokenValue(loadFile(yamlText)));
}

/**
 * Starts a rotation: `current: n` becomes `current: n+1, previous: n`. With `compromised`, also
 * `revokePrevious: true` (rotation and revocation in one `up`); otherwise an existing
 * `revokePrevious` is set to false (the new previous must stay enabled until verified).
 * Refuses while an earlier rotation is still open (previous set, not revoked).
 */
export function bumpTokenGeneration(yamlText: string, options: { compromised: boolean }): GenerationBump {
  const data = loadFile(yamlText);
  const existing = tokenValue(data);
  const generations = validate(existing);
  if (generations.previous !== undefined && generations.revokePrevious !== true) {
    throw new ConfigError([
      `a rotation is still open: previous ${generations.previous} is set without revokePrevious: true. ` +
        `Finish it (revokePrevious: true, then pulumi up) or remove previous before starting a drill`,
    ]);
  }
  const from = generations.current;
  const changes: TokenChange[] = [
    ["current", from + 1],
    ["previous", from],
  ];
  if (options.compromised) changes.push(["revokePrevious", true]);
  else if ("revokePrevious" in existing) changes.push(["revokePrevious", false]);
  return { yamlText: applyChanges(yamlText, changes), from, to: from + 1, revokePrevious: options.compromised };
}

/** Finishes a rotation: sets `revokePrevious: true`. Requires `previous`. Idempotent. */
export function setRevokePrevious(yamlText: string): RevocationRequest {
  const data = loadFile(yamlText);
  const generations = validate(tokenValue(data));
  if (generations.previous === undefined) {
    throw new ConfigError([`${AUTH_TOKEN_KEY}.previous is not set: there is no previous generation to revoke`]);
  }
  const text = generations.revokePrevious === true ? yamlText : applyChanges(yamlText, [["revokePrevious", true]]);
  return { yamlText: text, previous: generations.previous, current: generations.current };
}

function applyChanges(yamlText: string, changes: readonly TokenChange[]): string {
  // Parsed afresh (not cloned) so both sides of the comparison below come from the same parser.
  const expected = loadFile(yamlText);
  const key = tokenKeyIn(expected);
  const config = expected.config as Record<string, unknown>;
  config[key] = { ...(config[key] as Record<string, unknown>), ...Object.fromEntries(changes) };
  const text = editLosslessly(yamlText, key, changes) ?? editWithDocument(yamlText, key, changes);
  // The guarantee, whichever way the text was produced: nothing but the token changed.
  if (!isDeepStrictEqual(YAML.parse(text), expected)) {
    throw new Error(`internal error: rewriting ${AUTH_TOKEN_KEY} would change other parts of the stack file`);
  }
  return text;
}

function editWithDocument(yamlText: string, tokenKey: string, changes: readonly TokenChange[]): string {
  const doc = YAML.parseDocument(yamlText);
  const node = doc.getIn(["config", tokenKey], true);
  if (!YAML.isMap(node)) throw new ConfigError([`${AUTH_TOKEN_KEY} must be a mapping`]);
  for (const [key, value] of changes) node.set(key, value);
  // lineWidth 0: never fold long lines (encrypted `secure:` values are long).
  return doc.toString({ lineWidth: 0 });
}

type BlockMapItem = YAML.CST.BlockMap["items"][number];

function keyOf(item: BlockMapItem): string | undefined {
  if (!item.key) return undefined;
  const scalar = YAML.CST.resolveAsScalar(item.key);
  return scalar?.value;
}

function findBlockMap(token: YAML.CST.Token | undefined, path: readonly string[]): YAML.CST.BlockMap | null {
  let current = token;
  for (const key of path) {
    if (current?.type !== "block-map") return null;
    current = current.items.find((item) => keyOf(item) === key)?.value;
  }
  return current?.type === "block-map" ? current : null;
}

/** Edits the token's block map in the CST; null when the layout is not the plain one this handles. */
function editLosslessly(yamlText: string, tokenKey: string, changes: readonly TokenChange[]): string | null {
  const tokens = Array.from(new YAML.Parser().parse(yamlText));
  const render = (): string => tokens.map((t) => YAML.CST.stringify(t)).join("");
  if (render() !== yamlText) return null;
  const documents = tokens.filter((t): t is YAML.CST.Document => t.type === "document");
  if (documents.length !== 1) return null;
  const map = findBlockMap(documents[0].value, ["config", tokenKey]);
  if (map === null) return null;
  const newline = yamlText.includes("\r\n") ? "\r\n" : "\n";

  for (const [key, value] of changes) {
    const source = String(value);
    const existing = map.items.find((item) => keyOf(item) === key);
    if (existing) {
      const token = existing.value;
      if (!token || (token.type !== "scalar" && token.type !== "single-quoted-scalar" && token.type !== "double-quoted-scalar")) {
        return null;
      }
      YAML.CST.setScalarValue(token, source, { type: "PLAIN" });
      continue;
    }
    // Insert after the nearest earlier key that exists, at the map's indentation.
    const earlier = KEY_ORDER.slice(0, KEY_ORDER.indexOf(key)).reverse();
    let at = map.items.length - 1;
    for (const candidate of earlier) {
      const index = map.items.findIndex((item) => keyOf(item) === candidate);
      if (index >= 0) {
        at = index;
        break;
      }
    }
    const anchor = map.items[at]?.value;
    if (!anchor || (anchor.type !== "scalar" && anchor.type !== "single-quoted-scalar" && anchor.type !== "double-quoted-scalar")) {
      return null;
    }
    const pos = { offset: 0, indent: map.indent };
    const anchorEnd = (anchor.end ??= []);
    const anchorHadNewline = anchorEnd.some((t) => t.type === "newline");
    if (!anchorHadNewline) anchorEnd.push({ type: "newline", ...pos, source: newline });
    map.items.splice(at + 1, 0, {
      start: [{ type: "space", ...pos, source: " ".repeat(map.indent) }],
      key: { type: "scalar", ...pos, source: key },
      sep: [
        { type: "map-value-ind", ...pos, source: ":" },
        { type: "space", ...pos, source: " " },
      ],
      value: { type: "scalar", ...pos, source, end: anchorHadNewline ? [{ type: "newline", ...pos, source: newline }] : [] },
    });
  }
  return render();
}
