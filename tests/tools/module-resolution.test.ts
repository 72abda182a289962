/**
 * How the project's processes resolve modules (tools/module-resolution.js): the SDK's closure
 * serialization dependencies load on first use, and, in-process, the policy pack's dependencies are the project's copies when they are the same
 * version (tools/module-resolution.js): loading the pack's policies loads one Pulumi SDK, while the
 * pack itself (@pulumi/policy) and any package at another version still come from policy/.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../support/project";
import { engineNodeOptions } from "../../rehearsal/workspace";

const { usesProjectCopy } = require("../../tools/module-resolution") as {
  usesProjectCopy: (request: string, fromDir: string) => boolean;
};
const jestResolver = require("../../tools/jest-resolver") as (
  request: string,
  options: { basedir: string; defaultResolver: (request: string, options: { basedir: string }) => string },
) => string;

const PACK_SDK_USER = path.join(ROOT, "policy", "node_modules", "@pulumi", "policy");
const version = (dir: string): string =>
  (JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { version: string }).version;

describe("which requests use the project's copy", () => {
  test("the pack's @pulumi/pulumi (and its deep modules), at the project's version, from inside the pack's node_modules", () => {
    expect(version(path.join(ROOT, "policy/node_modules/@pulumi/pulumi"))).toBe(version(path.join(ROOT, "node_modules/@pulumi/pulumi")));
    expect(usesProjectCopy("@pulumi/pulumi", PACK_SDK_USER)).toBe(true);
    expect(usesProjectCopy("@pulumi/pulumi/runtime/rpc", PACK_SDK_USER)).toBe(true);
  });

  test("a package the pack holds at another version stays the pack's", () => {
    const packUndici = path.join(ROOT, "policy/node_modules/undici");
    if (!fs.existsSync(packUndici) || version(packUndici) === version(path.join(ROOT, "node_modules/undici"))) return;
    expect(usesProjectCopy("undici", PACK_SDK_USER)).toBe(false);
  });

  test("the pack's own files, the project's files, relative and built-in ids are left alone", () => {
    expect(usesProjectCopy("@pulumi/policy", path.join(ROOT, "policy"))).toBe(false);
    expect(usesProjectCopy("@pulumi/pulumi", path.join(ROOT, "harness"))).toBe(false);
    expect(usesProjectCopy("./deserialize", PACK_SDK_USER)).toBe(false);
    expect(usesProjectCopy("node:fs", PACK_SDK_USER)).toBe(false);
    expect(usesProjectCopy("no-such-package-anywhere", PACK_SDK_USER)).toBe(false);
  });

  test("Jest's resolver resolves a redirected request from the project's root", () => {
    const seen: string[] = [];
    const defaultResolver = (_request: string, options: { basedir: string }) => {
      seen.push(options.basedir);
      return "resolved";
    };
    jestResolver("@pulumi/pulumi", { basedir: PACK_SDK_USER, defaultResolver });
    jestResolver("./policy", { basedir: PACK_SDK_USER, defaultResolver });
    expect(seen).toEqual([ROOT, PACK_SDK_USER]);
  });
});

test("a Node process that loads the pack through the harness's hook loads one Pulumi SDK", () => {
  const script = [
    `require(${JSON.stringify(path.join(ROOT, "tools/module-resolution.js"))}).installModuleResolution();`,
    `require(${JSON.stringify(path.join(ROOT, "policy/node_modules/@pulumi/policy"))});`,
    "const sdks = new Set(Object.keys(require.cache).filter((f) => f.includes('/@pulumi/pulumi/')).map((f) => f.split('/@pulumi/pulumi/')[0]));",
    "process.stdout.write(JSON.stringify([...sdks]));",
  ].join("\n");
  const sdks = JSON.parse(execFileSync(process.execPath, ["-e", script], { cwd: ROOT, encoding: "utf8" })) as string[];
  expect(sdks).toEqual([path.join(ROOT, "node_modules")]);
});

describe("the SDK's closure serialization dependencies load on first use", () => {
  const loaded = (script: string): { before: string[]; after: string[]; text: string } =>
    JSON.parse(
      execFileSync(
        process.execPath,
        [
          "-e",
          [
            "const heavy = () => Object.keys(require.cache).map((f) => (f.includes('/node_modules/typescript/') ? 'typescript' : f.includes('/node_modules/@npmcli/arborist/') ? 'arborist' : '')).filter((name) => name !== '');",
            script,
          ].join("\n"),
        ],
        // As the rehearsal starts the engine's Node.js processes: the preload through NODE_OPTIONS.
        { cwd: ROOT, encoding: "utf8", env: { ...process.env, NODE_OPTIONS: engineNodeOptions(ROOT, undefined) } },
      ),
    ) as { before: string[]; after: string[]; text: string };

  test("the engine's processes get the preload after whatever NODE_OPTIONS they already had", () => {
    const preload = `--require ${JSON.stringify(path.join("/p q", "tools", "module-resolution-preload.js"))}`;
    expect(engineNodeOptions("/p q", undefined)).toBe(preload);
    expect(engineNodeOptions("/p q", "  ")).toBe(preload);
    expect(engineNodeOptions("/p q", "--max-old-space-size=512")).toBe(`--max-old-space-size=512 ${preload}`);
  });

  test("importing the SDK loads neither TypeScript nor Arborist; serializing a function loads them and works", () => {
    const result = loaded(
      [
        "const pulumi = require('@pulumi/pulumi');",
        "const before = [...new Set(heavy())];",
        "const answer = 42;",
        "pulumi.runtime.serializeFunction(() => answer).then((sf) =>",
        "  process.stdout.write(JSON.stringify({ before, after: [...new Set(heavy())].sort(), text: sf.text })));",
      ].join("\n"),
    );
    expect(result.before).toEqual([]);
    expect(result.after).toEqual(["typescript"]);
    expect(result.text).toContain("answer");
  });

  test("only the closure modules' own requests are deferred", () => {
    const { deferredFor } = require("../../tools/module-resolution") as {
      deferredFor: (request: string, fromDir: string) => string | undefined;
    };
    const closure = path.join(ROOT, "node_modules/@pulumi/pulumi/runtime/closure");
    expect(deferredFor("../../typescript-shim", closure)).toMatch(/deferred\/typescript\.js$/);
    expect(deferredFor("@npmcli/arborist", closure)).toMatch(/deferred\/arborist\.js$/);
    expect(deferredFor("typescript", path.join(ROOT, "node_modules/@pulumi/pulumi"))).toBeUndefined();
    expect(deferredFor("@npmcli/arborist", path.join(ROOT, "node_modules/pacote/lib"))).toBeUndefined();
  });

  test("a deferred module reads through to the real one (properties, `in`, keys) and says it is an ES module when asked to", () => {
    const { deferredModule } = require("../../lib/sdk-internals/deferred/deferred-module") as {
      deferredModule: (load: () => object, esModule: boolean) => Record<string, unknown>;
    };
    let loads = 0;
    const real = { a: 1, b: () => 2 };
    const lazy = deferredModule(() => (loads++, real), true);
    expect(lazy.__esModule).toBe(true);
    expect(loads).toBe(0);
    expect(lazy.a).toBe(1);
    expect("b" in lazy).toBe(true);
    expect(Object.keys(lazy)).toEqual(["a", "b"]);
    expect(loads).toBe(1);
    expect(deferredModule(() => real, false).__esModule).toBeUndefined();
  });
});
