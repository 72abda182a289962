/**
 * The one redaction module every output channel uses: the plan, the verifier, the drill's reports,
 * and every error message. Pure: no Pulumi, no I/O.
 *
 * It works on VALUES: a caller redacts each string it is about to show, then serializes. Redacting a
 * serialized document instead would let a secret that happens to be `"` or `}` corrupt the JSON.
 *
 * Two things are removed:
 * - every configured secret value, and any part of one at least `min(12, its length)` characters long
 *   (a partial echo is an echo), and the start of one that a bounded quote cut off (text ending in "…");
 * - strings shaped like credentials whoever configured them: `Authorization: …`, `Bearer …` in any
 *   spelling, `x-api-key: …`, `access_token=…`, `secretData: …`, URL passwords, private keys, and the
 *   token shapes of Google, GitHub and Stripe, JWTs and BOLT11 invoices.
 *
 * Why hand-rolled: the rules are the project's own (what counts as an echo, which shapes matter here);
 * general-purpose secret scanners report findings, they do not rewrite a message in place.
 */

export const REDACTED = "[redacted]";

/** A part of a secret at least this long (or the whole secret, if shorter) counts as the secret. */
export const MIN_ECHO_FRAGMENT = 12;

/** What a bounded quote appends when it cut a value off. */
export const CLIP_MARK = "…";

/** The start of a secret cut off by a bounded quote is redacted from this many characters on. */
const MIN_CLIPPED_FRAGMENT = 6;

/** How long a part of `secret` must be to count as an echo of it. */
export function echoFragmentLength(secret: string): number {
  return Math.min(MIN_ECHO_FRAGMENT, secret.length);
}

/** The non-empty secrets, longest first, without duplicates. */
export function secretList(secrets: Iterable<string | null | undefined>): string[] {
  const unique = new Set<string>();
  for (const secret of secrets) if (typeof secret === "string" && secret !== "") unique.add(secret);
  return [...unique].sort((a, b) => b.length - a.length);
}

/** Every distinct part of `secret` of the echo length. */
function fragmentsOf(secret: string): Set<string> {
  const length = echoFragmentLength(secret);
  const fragments = new Set<string>();
  for (let i = 0; i + length <= secret.length; i++) fragments.add(secret.slice(i, i + length));
  return fragments;
}

/** True when `text` carries `secret`, or any part of it of at least `min(12, length)` characters. */
export function carriesSecret(text: string, secret: string): boolean {
  if (secret === "") return false;
  for (const fragment of fragmentsOf(secret)) if (text.includes(fragment)) return true;
  return false;
}

/** Marks the characters of `text` that belong to a part (of echo length or more) of any secret. */
function markEchoes(text: string, secrets: readonly string[]): Uint8Array {
  const marked = new Uint8Array(text.length);
  for (const secret of secrets) {
    for (const fragment of fragmentsOf(secret)) {
      for (let at = text.indexOf(fragment); at !== -1; at = text.indexOf(fragment, at + 1)) {
        marked.fill(1, at, at + fragment.length);
      }
    }
  }
  // An earlier redaction's marker stays as it is (redacting twice changes nothing), unless a secret
  // runs through it: then the marker is part of what is removed.
  for (let at = text.indexOf(REDACTED); at !== -1; at = text.indexOf(REDACTED, at + 1)) {
    const inside = marked.subarray(at, at + REDACTED.length);
    const crossed =
      (at > 0 && marked[at - 1] === 1 && inside[0] === 1) || (marked[at + REDACTED.length] === 1 && inside[inside.length - 1] === 1);
    if (!crossed) inside.fill(0);
  }
  return marked;
}

/** Marks the end of each clipped piece (text before "…") that is the start of a secret. */
function markClippedStarts(text: string, secrets: readonly string[], marked: Uint8Array): void {
  for (let mark = text.indexOf(CLIP_MARK); mark !== -1; mark = text.indexOf(CLIP_MARK, mark + 1)) {
    for (const secret of secrets) {
      for (let length = Math.min(secret.length - 1, mark); length >= MIN_CLIPPED_FRAGMENT; length--) {
        if (text.startsWith(secret.slice(0, length), mark - length)) {
          marked.fill(1, mark - length, mark);
          break;
        }
      }
    }
  }
}

/**
 * Replaces every configured secret (and every part of one of echo length) by "[redacted]". With
 * `limit`, only the first `limit` characters are returned, redacted as part of the whole `text`: a
 * caller that shows a prefix passes a little more text than it shows (the echo length more), so a
 * partial echo straddling the cut is still recognised.
 */
export function redactSecrets(text: string, secrets: Iterable<string | null | undefined>, limit = text.length): string {
  const present = secretList(secrets);
  if (present.length === 0 || text === "") return text.slice(0, limit);
  const marked = markEchoes(text, present);
  markClippedStarts(text, present, marked);
  let out = "";
  for (let i = 0; i < Math.min(limit, text.length); i++) {
    if (marked[i] === 0) out += text[i];
    else if (i === 0 || marked[i - 1] === 0) out += REDACTED;
  }
  return out;
}

/** A value delimited like a token: up to whitespace, a quote, or a separator. */
const TOKEN_VALUE = String.raw`[^\s"'<>,;&(){}[\]]+`;
/** Not a redaction this module already made. */
const NOT_DONE = String.raw`(?!\[redacted\])`;

/** Headers whose value is a credential: an optional scheme (`Basic`, `Bearer`, ...) and a token. */
const CREDENTIAL_HEADERS = String.raw`(?:proxy-)?authorization|x-api-key|x-goog-api-key|api-key|x-auth-token`;
/** Field names whose value is a credential in any notation (`access_token=…`, `password: …`). */
const CREDENTIAL_FIELDS =
  String.raw`access[_-]token|refresh[_-]token|id[_-]token|client[_-]secret|api[_-]key|secret[_-]?data|private[_-]?key|` +
  String.raw`session[_-]token|auth[_-]token|bearer[_-]token|client[_-]?secret|refresh[_-]?token|password|passwd`;
/**
 * The same in camelCase: only `=`, a quoted key or value, or `:` with no space (`accessToken=…`,
 * `"secretData": "…"`, `secretData: "…"`), since `authToken: is required` is how config errors read.
 */
const CAMEL_CREDENTIAL_FIELDS = String.raw`accessToken|idToken|apiKey|apikey|sessionToken|authToken|bearerToken`;
/** Words that follow "bearer" in prose (`missing or invalid bearer token`): not credentials. */
const BEARER_PROSE = String.raw`token|tokens|auth|authentication|authorization|scheme|header|headers|credential|credentials|string|value|prefix|format|the|a|an|is|was|and|or|not|only|required|missing|invalid`;
/** Field names that hold secrets in this project's own JSON (`"token": "…"`), only when quoted. */
const QUOTED_SECRET_FIELDS = String.raw`token|previousToken|secret|mnemonic|sparkApiKey|invoice|preimage|preimageHex|accessToken|privateKey`;

type Replacement = string | ((match: string, ...groups: string[]) => string);

const CREDENTIAL_SHAPES: readonly (readonly [RegExp, Replacement])[] = [
  // PEM private keys, whole (or to the end when cut off).
  [/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g, REDACTED],
  // `"authorization": "Basic …"`, `Authorization: Bearer …`, `x-api-key=…`: the scheme and the token.
  [
    new RegExp(
      String.raw`\b(${CREDENTIAL_HEADERS})("\s*:\s*"|'\s*:\s*'|\s*[:=]\s*)${NOT_DONE}(?:"(?:[^"\\]|\\.)*"|(?:(?:basic|bearer|digest|token|negotiate|ntlm|apikey|key|hoba|mutual|aws4-hmac-sha256)\s+(?=[^\s"',;}]))?${TOKEN_VALUE})`,
      "gi",
    ),
    (_m, name: string, separator: string) => `${name}${separator}${REDACTED}`,
  ],
  // Cookies: the whole header line.
  [/\b((?:set-)?cookie)(\s*:\s*)(?!\[redacted\])[^\r\n]+/gi, `$1$2${REDACTED}`],
  // `access_token=…`, `password: …`, `"client_secret":"…"`.
  [
    new RegExp(String.raw`\b(${CREDENTIAL_FIELDS})("\s*:\s*"|'\s*:\s*'|"?\s*[:=]\s*"?)${NOT_DONE}${TOKEN_VALUE}`, "gi"),
    (_m, name: string, separator: string) => `${name}${separator}${REDACTED}`,
  ],
  // `accessToken=…`, `"secretData": "…"`, `secretData: "…"`, `apiKey:…`.
  [
    new RegExp(String.raw`\b(${CAMEL_CREDENTIAL_FIELDS})("\s*:\s*"|\s*=\s*"?|:\s*"|:(?=\S))${NOT_DONE}${TOKEN_VALUE}`, "g"),
    (_m, name: string, separator: string) => `${name}${separator}${REDACTED}`,
  ],
  // This project's secret fields in JSON text: `"token":"…"`.
  [
    new RegExp(String.raw`"(${QUOTED_SECRET_FIELDS})"\s*:\s*"${NOT_DONE}(?:[^"\\]|\\.)*"`, "g"),
    (_m, name: string) => `"${name}":"${REDACTED}"`,
  ],
  // `Bearer …` in any spelling (`bearer`, `BEARER`, `Bearer%20…`, `bearer: …`). Not a challenge's
  // parameters (`Bearer realm="…"`), and not a plain lowercase word (`bearer token`).
  [
    new RegExp(
      String.raw`\b(bearer)(\s+|%20|\+|\s*[:=]\s*"?)${NOT_DONE}(?![A-Za-z_]+=\\?")(?!(?:${BEARER_PROSE})[.,;:!?)]*(?:\s|$|\\?["']))[A-Za-z0-9\-._~+/]+=*`,
      "gi",
    ),
    (_m, word: string, separator: string) => `${word}${separator}${REDACTED}`,
  ],
  // `?token=…` in a URL or a form.
  [/([?&]token=)(?!\[redacted\])[^\s&#"']+/gi, `$1${REDACTED}`],
  // `https://user:password@host`.
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"']+@/gi, `$1${REDACTED}@`],
  // Google OAuth access tokens and API keys, JWTs, GitHub and Stripe-style keys.
  [/\bya29\.[0-9A-Za-z_-]{8,}/g, REDACTED],
  [/\bAIza[0-9A-Za-z_-]{30,}/g, REDACTED],
  [/\beyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]*/g, REDACTED],
  [/\bgh[pousr]_[A-Za-z0-9]{20,}/g, REDACTED],
  [/\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{8,}/g, REDACTED],
  // BOLT11 invoices (the smoke invoice is a secret of this stack).
  [/\bln(?:bcrt|bc|tbs|tb|sb)[0-9]*[munp]?1[02-9ac-hj-np-z]{40,}/gi, REDACTED],
];

/** Removes credential-shaped strings, whoever configured them. */
export function redactCredentials(text: string): string {
  let out = text;
  for (const [pattern, replacement] of CREDENTIAL_SHAPES) {
    out = typeof replacement === "string" ? out.replace(pattern, replacement) : out.replace(pattern, replacement);
  }
  return out;
}

/** Both: the configured secrets first (so a known secret is removed whole), then credential shapes. */
export function redactText(text: string, secrets: Iterable<string | null | undefined> = []): string {
  return redactCredentials(redactSecrets(text, secrets));
}

/**
 * Redacts every string VALUE inside a JSON-like value (object keys are the document's structure and
 * stay); `skip` names keys whose values are this program's own vocabulary (never redacted).
 */
export function redactValues<T>(value: T, redactString: (text: string) => string, skip: ReadonlySet<string> = new Set()): T {
  const walk = (item: unknown): unknown => {
    if (typeof item === "string") return redactString(item);
    if (Array.isArray(item)) return item.map(walk);
    if (item !== null && typeof item === "object") {
      const out: Record<string, unknown> = {};
      for (const [key, inner] of Object.entries(item)) out[key] = skip.has(key) ? inner : walk(inner);
      return out;
    }
    return item;
  };
  return walk(value) as T;
}

/** A redactor bound to one channel's configured secrets. */
export class Redactor {
  private readonly secrets: string[];

  constructor(secrets: Iterable<string | null | undefined> = []) {
    this.secrets = secretList(secrets);
  }

  /** Adds secrets learnt later (a preimage received, a value read from an event log). */
  add(...secrets: (string | null | undefined)[]): void {
    const merged = secretList([...this.secrets, ...secrets]);
    this.secrets.splice(0, this.secrets.length, ...merged);
  }

  text(text: string): string {
    return redactText(text, this.secrets);
  }

  values<T>(value: T, skip?: ReadonlySet<string>): T {
    return redactValues(value, (text) => this.text(text), skip);
  }
}

/* eslint-disable no-control-regex */
/** Characters a terminal or a markdown table must not receive raw: controls, bidi overrides, separators. */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;
/* eslint-enable no-control-regex */

const NAMED_ESCAPES: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** Text from outside (a server, an event log) made safe for one line of a terminal: escapes, never raw controls. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => NAMED_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** At most `max` characters, the cut marked with "…". */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}${CLIP_MARK}`;
}

/**
 * Engine messages carry colour directives like `<{%reset%}>` and ANSI sequences (stripped), and may
 * quote credentials (`Authorization: …`, `Bearer …`, `secretData: …`: redacted by the shared module);
 * one line, bounded. Configured secret values are removed later, from the whole report.
 */
export function sanitizeMessage(message: string): string {
  const cleaned = redactCredentials(
    message
      .replace(/<\{%[^%]*%\}>/g, "")
      // eslint-disable-next-line no-control-regex
      .replace(/\u001b\[[0-9;?]*[A-Za-z]/g, "")
      .replace(/\s+/g, " ")
      .trim(),
  );
  return clip(printable(cleaned), 400);
}
