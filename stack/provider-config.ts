/**
 * The config keys of the providers this program uses, as the installed provider declares them, so a
 * misspelled `gcp:projct` is refused with a suggestion instead of being silently ignored. Each
 * provider's SDK declares one export per config key in `config/vars.d.ts`; reading that file keeps the
 * list in step with the provider version in package.json (a provider upgrade that adds a key needs
 * no change here).
 */
import * as fs from "fs";
import * as path from "path";

/** The providers whose namespaces a stack file of this project may use (besides the project's own). */
export const PROVIDER_NAMESPACES = ["gcp", "random"] as const;

/** The engine's own namespace (`pulumi:disable-default-providers`, ...): not a provider's, not checked. */
export const ENGINE_NAMESPACE = "pulumi";

/** Provider keys whose values are credentials: refused in plaintext, like the project's own secrets. */
export const SECRET_PROVIDER_KEYS: ReadonlySet<string> = new Set(["gcp:accessToken", "gcp:credentials", "gcp:externalCredentials"]);

const cache = new Map<string, ReadonlySet<string>>();

/** The config keys (names without the namespace) the installed provider `@pulumi/<namespace>` declares. */
export function providerConfigKeys(namespace: string): ReadonlySet<string> {
  const cached = cache.get(namespace);
  if (cached) return cached;
  let keys: ReadonlySet<string> = new Set();
  try {
    const root = path.dirname(require.resolve(`@pulumi/${namespace}/package.json`));
    const declarations = path.join(root, "config", "vars.d.ts");
    // A provider without config (random) has no config/ directory: it takes no keys.
    if (fs.existsSync(declarations)) {
      const text = fs.readFileSync(declarations, "utf8");
      keys = new Set([...text.matchAll(/^export declare const ([A-Za-z0-9_]+)\s*:/gm)].map((m) => m[1]));
    }
  } catch {
    // Not installed: no key of it can be told apart from a typo, so none is accepted.
  }
  cache.set(namespace, keys);
  return keys;
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const rows: number[][] = Array.from({ length: s.length + 1 }, (_, i) => [i, ...new Array<number>(t.length).fill(0)]);
  for (let j = 1; j <= t.length; j++) rows[0][j] = j;
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) best = Math.min(best, rows[i - 2][j - 2] + 1);
      rows[i][j] = best;
    }
  }
  return rows[s.length][t.length];
}

/**
 * The candidate a typo most likely meant: the closest one within a third of its length (at least 1,
 * at most 3 edits); ties go to the first candidate. Undefined when nothing is that close.
 */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const limit = Math.min(3, Math.max(1, Math.floor(candidate.length / 3)));
    const distance = editDistance(name, candidate);
    if (distance <= limit && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
