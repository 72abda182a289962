/**
 * In-process, the policy pack's dependencies are the project's copies when they are the same
 * version (tools/pack-resolution.js): loading the pack's policies loads one Pulumi SDK, while the
 * pack itself (@pulumi/policy) and any package at another version still come from policy/.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../support/stack";

const { usesProjectCopy } = require("../../tools/pack-resolution") as {
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
    `require(${JSON.stringify(path.join(ROOT, "tools/pack-resolution.js"))}).installProjectCopies();`,
    `require(${JSON.stringify(path.join(ROOT, "policy/node_modules/@pulumi/policy"))});`,
    "const sdks = new Set(Object.keys(require.cache).filter((f) => f.includes('/@pulumi/pulumi/')).map((f) => f.split('/@pulumi/pulumi/')[0]));",
    "process.stdout.write(JSON.stringify([...sdks]));",
  ].join("\n");
  const sdks = JSON.parse(execFileSync(process.execPath, ["-e", script], { cwd: ROOT, encoding: "utf8" })) as string[];
  expect(sdks).toEqual([path.join(ROOT, "node_modules")]);
});
