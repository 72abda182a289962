/** A rehearsal's copy compiled once: the program's and the pack's import closures, and both pointed at the JavaScript. */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { precompileProject, relativeRequires } from "../../rehearsal/precompile";

function project(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "precompile-"));
  const write = (file: string, text: string): void => {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  };
  write(
    "Pulumi.yaml",
    "name: demo\n# kept\nruntime:\n  name: nodejs\n  options:\n    typescript: true\n    tsconfig: tsconfig.pulumi.json\nmain: index.ts\n",
  );
  write("index.ts", 'import { defineStack } from "./program";\nexport = defineStack();\n');
  write("program.ts", 'import { twice } from "./lib";\nexport function defineStack(): { n: number } {\n  return { n: twice(21) };\n}\n');
  write("lib/index.ts", "export const twice = (n: number): number => n * 2;\n");
  write("unreached.ts", "export const never: number = 1;\n");
  write("policy/package.json", JSON.stringify({ name: "pack", version: "0.1.0", main: "index.ts" }));
  write(
    "policy/index.ts",
    'import { twice } from "../lib";\ninterface Verdict { readonly ok: boolean }\nexport const verdict: Verdict = { ok: twice(2) === 4 };\n',
  );
  return dir;
}

test("the program's and the pack's closures are compiled beside their sources; the copy runs them as JavaScript", () => {
  const dir = project();
  try {
    const result = precompileProject(dir);
    expect([...result.files].sort()).toEqual(["index.ts", "lib/index.ts", "policy/index.ts", "program.ts"]);
    expect(fs.existsSync(path.join(dir, "unreached.js"))).toBe(false);
    const yaml = fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8");
    expect(yaml).toContain("# kept");
    expect(parse(yaml)).toEqual({ name: "demo", runtime: { name: "nodejs", options: { typescript: false } }, main: "index.js" });
    expect((JSON.parse(fs.readFileSync(path.join(dir, "policy", "package.json"), "utf8")) as { main: string }).main).toBe("index.js");
    // Plain node, no TypeScript loader: what the engine runs with typescript off.
    const out = execFileSync(
      process.execPath,
      ["-e", "process.stdout.write(JSON.stringify([require('./index.js'), require('./policy')]))"],
      {
        cwd: dir,
      },
    ).toString();
    expect(JSON.parse(out)).toEqual([{ n: 42 }, { verdict: { ok: true } }]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a string runtime gets its options; a checkout is refused", () => {
  const dir = project();
  try {
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: demo\nruntime: nodejs\nmain: index.ts\n");
    precompileProject(dir);
    expect(parse(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8"))).toEqual({
      name: "demo",
      runtime: { name: "nodejs", options: { typescript: false } },
      main: "index.js",
    });
    fs.mkdirSync(path.join(dir, ".git"));
    expect(() => precompileProject(dir)).toThrow(/is a checkout/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("relative requires only: packages and node built-ins are not followed", () => {
  expect(
    relativeRequires('const a = require("./a"); const b = require(\'../lib/b\'); require("undici"); require("node:fs"); require("..");'),
  ).toEqual(["./a", "../lib/b", ".."]);
});
