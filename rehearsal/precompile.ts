/**
 * Compiles a project copy's TypeScript to JavaScript once, before the engine runs it. Without it,
 * every `pulumi preview` and every `pulumi up` compiles the program again (ts-node, transpile-only:
 * seconds for the program's files) and the policy pack again WITH a full type check (the SDK's
 * `cmd/run-policy-pack` always registers ts-node with `typeCheck: true`): most of each engine run.
 *
 * What runs is the same code: the entry points' import closures compiled file by file with swc
 * (the project's own TypeScript loader, tools/register.js), JavaScript written beside each source,
 * the copy's `Pulumi.yaml` pointed at `index.js` with TypeScript off, and the pack's
 * `package.json` `main` at `index.js`. The engine, the policy pack and the gate are unchanged.
 * Type checking stays `npm run build`'s job (CI), as it is for the engine's transpile-only program.
 * Only ever applied to a copy: it refuses a directory that is a git checkout.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { transformSync } from "@swc/core";
import { parseDocument } from "yaml";

export interface PrecompileResult {
  /** Source files compiled (relative to the project), in the order they were reached. */
  readonly files: readonly string[];
  readonly ms: number;
}

const SWC_OPTIONS = {
  jsc: { target: "es2022" as const, parser: { syntax: "typescript" as const } },
  module: { type: "commonjs" as const },
  sourceMaps: "inline" as const,
};

/** A relative import's file: `./x` -> x.ts or x/index.ts; undefined when it is not TypeScript source. */
function resolveSource(fromFile: string, specifier: string): string | undefined {
  const base = path.resolve(path.dirname(fromFile), specifier);
  for (const candidate of [`${base}.ts`, path.join(base, "index.ts")]) if (fs.existsSync(candidate)) return candidate;
  if (base.endsWith(".ts") && !base.endsWith(".d.ts") && fs.existsSync(base)) return base;
  return undefined;
}

/** The relative module specifiers a compiled CommonJS file requires. */
export function relativeRequires(code: string): string[] {
  const found = new Set<string>();
  for (const match of code.matchAll(/\brequire\(\s*["'](\.{1,2}\/[^"']*|\.{1,2})["']\s*\)/g)) found.add(match[1]);
  return [...found];
}

/**
 * Compiles one source file of a precompiled copy again, after it was edited (the engine runs the
 * JavaScript beside it; an edit to the TypeScript alone would change nothing).
 */
export function recompileFile(file: string): void {
  const { code } = transformSync(fs.readFileSync(file, "utf8"), { ...SWC_OPTIONS, filename: file });
  fs.writeFileSync(file.replace(/\.ts$/, ".js"), code);
}

/** Compiles `entry` and every TypeScript file it reaches by relative imports; returns the files compiled. */
function compileClosure(root: string, entry: string, done: Set<string>, order: string[]): void {
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (done.has(file)) continue;
    done.add(file);
    const { code } = transformSync(fs.readFileSync(file, "utf8"), { ...SWC_OPTIONS, filename: file });
    fs.writeFileSync(file.replace(/\.ts$/, ".js"), code);
    order.push(path.relative(root, file));
    for (const specifier of relativeRequires(code)) {
      const next = resolveSource(file, specifier);
      if (next !== undefined && !done.has(next)) queue.push(next);
    }
  }
}

/**
 * Precompiles the program (from `Pulumi.yaml`'s `main`) and the policy pack (from `policy/package.json`'s
 * `main`) of the project copy in `projectDir`, and points both at the JavaScript.
 */
export function precompileProject(projectDir: string, packDir: string = path.join(projectDir, "policy")): PrecompileResult {
  const started = Date.now();
  const root = path.resolve(projectDir);
  if (fs.existsSync(path.join(root, ".git"))) throw new Error(`${root} is a checkout: only a project copy is precompiled`);
  const done = new Set<string>();
  const order: string[] = [];

  const projectFile = path.join(root, "Pulumi.yaml");
  const project = parseDocument(fs.readFileSync(projectFile, "utf8"));
  const declared = project.get("main");
  const main = typeof declared === "string" ? declared : "index.ts";
  if (!main.endsWith(".ts")) throw new Error(`Pulumi.yaml main ${main} is not a TypeScript file: nothing to precompile`);
  compileClosure(root, path.join(root, main), done, order);
  project.set("main", main.replace(/\.ts$/, ".js"));
  const runtime = project.get("runtime");
  if (typeof runtime === "string") project.set("runtime", project.createNode({ name: runtime, options: { typescript: false } }));
  else {
    project.setIn(["runtime", "options", "typescript"], false);
    project.deleteIn(["runtime", "options", "tsconfig"]);
  }
  fs.writeFileSync(projectFile, project.toString());

  const packageFile = path.join(packDir, "package.json");
  const pack = JSON.parse(fs.readFileSync(packageFile, "utf8")) as Record<string, unknown>;
  const packMain = typeof pack.main === "string" ? pack.main : "index.ts";
  if (packMain.endsWith(".ts")) {
    compileClosure(root, path.join(packDir, packMain), done, order);
    pack.main = packMain.replace(/\.ts$/, ".js");
    fs.writeFileSync(packageFile, `${JSON.stringify(pack, null, 2)}\n`);
  }
  return { files: order, ms: Date.now() - started };
}
