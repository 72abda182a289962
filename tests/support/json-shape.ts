/**
 * The JSON documents the CLIs print, held to the examples docs/reference/cli.md shows: same keys,
 * same types, recursively. Each documented example is a ```json block whose document carries a
 * `schema`. Arrays: every element of the real one has the shape of the example's first element. A
 * `null` in either stands for "absent or of the documented type" (a nullable field). Free-form maps
 * (a resource's inputs) are named by path and only checked to be objects.
 */
import * as fs from "node:fs";
import * as path from "node:path";

const kind = (value: unknown): string => (value === null ? "null" : Array.isArray(value) ? "array" : typeof value);

/** Where `actual` does not have the shape of `example`; empty when it does. Paths look like `$.checks[].name`. */
export function shapeMismatches(example: unknown, actual: unknown, freeForm: readonly string[] = [], at = "$"): string[] {
  if (example === null || actual === null) return [];
  if (kind(example) !== kind(actual)) return [`${at}: documented ${kind(example)}, got ${kind(actual)}`];
  if (Array.isArray(example) && Array.isArray(actual)) {
    if (example.length === 0) return [];
    return actual.flatMap((item, i) =>
      shapeMismatches(example[0], item, freeForm, `${at}[]`).map((m) => m.replace(`${at}[]`, `${at}[${i}]`)),
    );
  }
  if (kind(example) !== "object" || freeForm.includes(at)) return [];
  const documented = example as Record<string, unknown>;
  const real = actual as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(real))
    if (!(key in documented)) problems.push(`${at}.${key}: in the output, not in the documented example`);
  for (const key of Object.keys(documented)) {
    if (!(key in real)) problems.push(`${at}.${key}: documented, not in the output`);
    else problems.push(...shapeMismatches(documented[key], real[key], freeForm, `${at}.${key}`));
  }
  return problems;
}

/** The documented examples of docs/reference/cli.md, by schema. */
export function documentedExamples(root: string): Map<string, unknown> {
  const markdown = fs.readFileSync(path.join(root, "docs", "reference", "cli.md"), "utf8");
  const examples = new Map<string, unknown>();
  for (const match of markdown.matchAll(/```json\n([\s\S]*?)\n```/g)) {
    let doc: unknown;
    try {
      doc = JSON.parse(match[1]);
    } catch (error) {
      throw new Error(`docs/reference/cli.md: a json block does not parse (${(error as Error).message}):\n${match[1].slice(0, 200)}`);
    }
    const schema = (doc as { schema?: unknown } | null)?.schema;
    if (typeof schema === "string") examples.set(schema, doc);
  }
  return examples;
}

/**
 * The maps of each schema (keys that vary with the content: counts by operation or status, a
 * resource's inputs, one of several documented forms), checked only to be objects.
 */
export const FREE_FORM: Readonly<Record<string, readonly string[]>> = {
  "wallet-executor/plan/v1": ["$.resources[].inputs"],
  "wallet-executor/drill-report/v1": ["$.source", "$.timeline.runs[].resourceChanges", "$.timeline.runs[].tokenConfig"],
  "wallet-executor/rehearsal-report/v1": [
    "$.drill",
    "$.oldToken.lastAnswers",
    "$.traffic.total.outcomes",
    "$.traffic.perPhase[].outcomes",
    "$.traffic.failureWindow.outcomes",
  ],
  "wallet-executor/bench/v1": ["$.figures[].target"],
};

/** Where `doc` departs from the example docs/reference/cli.md documents for its `schema`. */
export function documentedShapeMismatches(root: string, doc: unknown): string[] {
  const schema = (doc as { schema?: unknown } | null)?.schema;
  if (typeof schema !== "string") return ["$.schema: missing"];
  const example = documentedExamples(root).get(schema);
  if (example === undefined) return [`docs/reference/cli.md documents no example for ${schema}`];
  return shapeMismatches(example, doc, FREE_FORM[schema] ?? []);
}
