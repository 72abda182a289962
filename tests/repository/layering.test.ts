/**
 * The import graph: every subsystem imports only from subsystems below it (CONTRIBUTING.md,
 * "Layers"), no module imports itself back through a chain of imports, the policy pack imports
 * nothing of the program, and nothing outside tests/ imports from tests/. Read from the sources as
 * committed (`git ls-files`), with TypeScript's own import scanner, so a new import is checked
 * the moment it is written.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

const ROOT = path.resolve(__dirname, "../..");

/**
 * The subsystems, lowest first: a module may import from its own subsystem and from any LOWER
 * layer, never from its own layer's neighbours or above. Longest prefix wins (`ops/plan` before
 * `ops`). Keep in step with CONTRIBUTING.md's table.
 */
export const LAYERS: readonly (readonly string[])[] = [
  // 0. Shared leaves: argument parsing, redaction, errors, the fenced SDK internals.
  ["lib"],
  // 1. What ships or runs on its own: the pack, the local cloud, the CLI's build, build glue.
  ["policy", "localcloud", "pulumi-cli", "tools"],
  // 2. Libraries with no Pulumi program: the verification, the local cloud's provider plugins.
  ["verification", "providers"],
  // 3. The program: config, load, wire, components.
  ["stack"],
  // 4. What runs the program offline: the recording monitor, the policy harness, the stand-ins.
  ["harness"],
  // 5. The deploy gate: preview with the pack, then apply the saved plan.
  ["ops/deploy"],
  // 6. The operators' tools that read the program or its events (the drill deploys through the gate).
  ["ops/plan", "ops/drill", "ops/doctor"],
  // 7. The rehearsal: the real engine against the local cloud, reported as a drill.
  ["rehearsal"],
  // 8. Benchmarks of everything below.
  ["ops/bench"],
  // 9. Entry points: the engine's, and the one command with every CLI under it.
  ["index.ts", "ops/commands.ts"],
  // 10. The `wallet-executor` bin, which only starts ops/commands.ts.
  ["tools/wallet-executor.js"],
];

/** Test tooling outside tests/: they load the suites by design (mutation/suites.js requires them by path). */
const TEST_TOOLING = ["mutation", "jest.config.js", "jest.e2e.config.js", "eslint.config.js"];

interface ImportEdge {
  readonly from: string;
  readonly to: string;
}

const subsystems = LAYERS.flat().sort((a, b) => b.length - a.length);

/** The subsystem a repository-relative path belongs to: `tests`, test tooling, a layer's name, or undefined. */
export function subsystemOf(file: string): string | undefined {
  if (file === "tests" || file.startsWith("tests/")) return "tests";
  if (TEST_TOOLING.some((t) => file === t || file.startsWith(`${t}/`))) return "test tooling";
  return subsystems.find((s) => file === s || file.startsWith(`${s}/`));
}

export function layerOf(subsystem: string): number {
  return LAYERS.findIndex((layer) => layer.includes(subsystem));
}

/** A relative import resolved to a repository file (`.ts`, `.js`, `/index.ts`), or undefined when none exists. */
function resolveImport(from: string, specifier: string): string | undefined {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  for (const candidate of [base, `${base}.ts`, `${base}.js`, `${base}/index.ts`, `${base}/index.js`]) {
    const absolute = path.join(ROOT, candidate);
    if (fs.existsSync(absolute) && fs.statSync(absolute).isFile()) return candidate;
  }
  return undefined;
}

/** Every relative import (static, dynamic, `require`, `export ... from`) of the given files. */
export function importEdges(files: readonly string[], read: (file: string) => string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const from of files) {
    const scanned = ts.preProcessFile(read(from), true, true);
    for (const { fileName } of scanned.importedFiles) {
      if (!fileName.startsWith(".")) continue;
      const to = resolveImport(from, fileName);
      edges.push({ from, to: to ?? path.posix.normalize(path.posix.join(path.posix.dirname(from), fileName)) });
    }
  }
  return edges;
}

/** What the layering rules forbid in these edges, one line each. */
export function layeringViolations(edges: readonly ImportEdge[]): string[] {
  const problems: string[] = [];
  for (const { from, to } of edges) {
    const source = subsystemOf(from);
    const target = subsystemOf(to);
    if (source === undefined) {
      problems.push(`${from}: in no subsystem; add its folder to LAYERS (tests/repository/layering.test.ts) and CONTRIBUTING.md`);
      continue;
    }
    if (target === "tests" && source !== "tests" && source !== "test tooling") {
      problems.push(`${from} imports ${to}: nothing outside tests/ imports from tests/`);
      continue;
    }
    if (source === "tests" || source === "test tooling") continue;
    if (target === undefined) {
      problems.push(`${from} imports ${to}, which is in no subsystem`);
      continue;
    }
    if (source === "policy" && target !== "policy") {
      problems.push(`${from} imports ${to}: the policy pack ships alone and imports nothing of the program`);
      continue;
    }
    if (source !== target && layerOf(target) >= layerOf(source)) {
      problems.push(
        `${from} imports ${to}: ${source} (layer ${layerOf(source)}) may import only from lower layers, not ${target} (layer ${layerOf(target)})`,
      );
    }
  }
  return problems;
}

/** Each import cycle among the files once, as `a -> b -> a`. */
export function importCycles(edges: readonly ImportEdge[]): string[] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) next.set(from, [...(next.get(from) ?? []), to]);
  const cycles = new Set<string>();
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (file: string): void => {
    if (state.get(file) === "done") return;
    if (state.get(file) === "visiting") {
      const cycle = stack.slice(stack.indexOf(file));
      // One spelling per cycle: start at its smallest file.
      const start = cycle.indexOf([...cycle].sort()[0]);
      const rotated = [...cycle.slice(start), ...cycle.slice(0, start)];
      cycles.add([...rotated, rotated[0]].join(" -> "));
      return;
    }
    state.set(file, "visiting");
    stack.push(file);
    for (const to of next.get(file) ?? []) visit(to);
    stack.pop();
    state.set(file, "done");
  };
  for (const file of [...next.keys()].sort()) visit(file);
  return [...cycles].sort();
}

/** The committed TypeScript and JavaScript sources (not the dependencies). */
function sourceFiles(): string[] {
  const listed = execFileSync("git", ["ls-files", "-z", "--", "*.ts", "*.js"], { cwd: ROOT, encoding: "utf8" });
  return listed
    .split("\0")
    .filter((file) => file !== "" && !file.includes("node_modules/") && fs.existsSync(path.join(ROOT, file)))
    .sort();
}

const read = (file: string): string => fs.readFileSync(path.join(ROOT, file), "utf8");

describe("the repository's import graph", () => {
  const edges = importEdges(sourceFiles(), read);

  test("reads the real graph (the program's own edges are in it)", () => {
    expect(edges).toContainEqual({ from: "index.ts", to: "stack/program.ts" });
    expect(edges).toContainEqual({ from: "stack/program.ts", to: "stack/wire.ts" });
    expect(edges.length).toBeGreaterThan(300);
  });

  test("every import points down between subsystems; the pack imports nothing of the program; nothing outside tests/ imports tests/", () => {
    expect(layeringViolations(edges)).toEqual([]);
  });

  test("no import cycle", () => {
    expect(importCycles(edges)).toEqual([]);
  });
});

describe("the rules themselves", () => {
  test("an import up a layer, across a layer, of tests/, and out of the pack are each named", () => {
    expect(
      layeringViolations([
        { from: "lib/errors.ts", to: "stack/config.ts" },
        { from: "ops/plan/cli.ts", to: "ops/drill/report.ts" },
        { from: "ops/plan/cli.ts", to: "tests/support/stack.ts" },
        { from: "policy/graph.ts", to: "lib/redact.ts" },
        { from: "weird/thing.ts", to: "lib/redact.ts" },
      ]),
    ).toEqual([
      "lib/errors.ts imports stack/config.ts: lib (layer 0) may import only from lower layers, not stack (layer 3)",
      "ops/plan/cli.ts imports ops/drill/report.ts: ops/plan (layer 6) may import only from lower layers, not ops/drill (layer 6)",
      "ops/plan/cli.ts imports tests/support/stack.ts: nothing outside tests/ imports from tests/",
      "policy/graph.ts imports lib/redact.ts: the policy pack ships alone and imports nothing of the program",
      "weird/thing.ts: in no subsystem; add its folder to LAYERS (tests/repository/layering.test.ts) and CONTRIBUTING.md",
    ]);
  });

  test("downward imports, imports within a subsystem, and tests importing anything pass", () => {
    expect(
      layeringViolations([
        { from: "stack/wire.ts", to: "stack/config.ts" },
        { from: "ops/bench/cli.ts", to: "rehearsal/rehearse.ts" },
        { from: "harness/policy-harness.ts", to: "policy/policies.ts" },
        { from: "tests/stack/program.test.ts", to: "index.ts" },
        { from: "mutation/suites.js", to: "tests/stack/program.test.ts" },
      ]),
    ).toEqual([]);
  });

  test("a cycle is found however long, and reported once", () => {
    const cycle = importCycles([
      { from: "stack/b.ts", to: "stack/c.ts" },
      { from: "stack/c.ts", to: "stack/a.ts" },
      { from: "stack/a.ts", to: "stack/b.ts" },
      { from: "stack/d.ts", to: "stack/a.ts" },
    ]);
    expect(cycle).toEqual(["stack/a.ts -> stack/b.ts -> stack/c.ts -> stack/a.ts"]);
    expect(importCycles([{ from: "stack/a.ts", to: "stack/b.ts" }])).toEqual([]);
  });
});
