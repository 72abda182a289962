/**
 * The fence around the SDKs' internals (lib/sdk-internals): nothing outside it imports a non-public
 * module of @pulumi/pulumi or @pulumi/policy, and every internal it lists still has the shape and
 * the behaviour the project relies on. When an upgrade changes one, its test fails with a message
 * naming it.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { SDK_INTERNALS, SdkInternalError } from "../../lib/sdk-internals";
import { loadModule } from "../../lib/sdk-internals/fence";
import { policyProxy } from "../../lib/sdk-internals/policy-server";
import { configSecretKeys } from "../../lib/sdk-internals/runtime-config";
import { ENGINE_WIRE, wireFormat } from "../../lib/sdk-internals/mock-runtime";
import { UNKNOWN, isUnknownValueError, plain } from "../../policy/graph";
import { ROOT } from "../support/project";

afterAll(() => pulumi.runtime.disconnect());

const FENCE = path.join("lib", "sdk-internals");
const SKIPPED_DIRS = new Set(["node_modules", ".git", "bin", "coverage", "reports"]);

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name) && !entry.name.startsWith(".stryker-tmp")) files.push(...sourceFiles(path.join(dir, entry.name)));
    } else if (/\.(ts|js)$/.test(entry.name)) {
      files.push(path.join(dir, entry.name));
    }
  }
  return files;
}

/**
 * Module ids loaded by import, require, require.resolve or import(); `@pulumi/pulumi/automation` and
 * `@pulumi/pulumi/provider` (the provider interface, `pulumi.provider`) are public.
 */
function internalImports(source: string): string[] {
  const loads = /(?:\brequire(?:\.resolve)?\s*\(\s*|\bimport\s*\(\s*|\bfrom\s+|\bimport\s+)["'`]([^"'`]+)["'`]/g;
  const found: string[] = [];
  for (const match of source.matchAll(loads)) {
    const id = match[1];
    if ((/^@pulumi\/pulumi\/./.test(id) && !/^@pulumi\/pulumi\/(automation|provider)(\/|$)/.test(id)) || /^@pulumi\/policy\/./.test(id))
      found.push(id);
  }
  return found;
}

describe("the fence", () => {
  test("no file outside lib/sdk-internals loads a non-public module of @pulumi/pulumi or @pulumi/policy", () => {
    const files = sourceFiles(ROOT);
    expect(files.length).toBeGreaterThan(50);
    const outside: string[] = [];
    for (const file of files) {
      const relative = path.relative(ROOT, file);
      if (relative.startsWith(FENCE + path.sep)) continue;
      for (const id of internalImports(fs.readFileSync(file, "utf8"))) outside.push(`${relative}: ${id}`);
    }
    expect(outside).toEqual([]);
  });

  test("the scan recognizes every way a module is loaded", () => {
    // Built from parts, so this file does not trip its own scan.
    const sdk = "@pulumi/pulumi";
    const pack = "@pulumi/policy";
    expect(
      internalImports(
        [
          `import * as a from "${sdk}/runtime/rpc";`,
          `const b = require('${sdk}/runtime/mocks');`,
          `require.resolve("${sdk}/cmd/run-policy-pack", { paths });`,
          `await import("${pack}/proxy");`,
          `import "${sdk}/proto/analyzer_pb";`,
          `import { LocalWorkspace } from "${sdk}/automation";`,
          `import * as pulumi from "${sdk}";`,
          `import { PolicyPack } from "${pack}";`,
        ].join("\n"),
      ),
    ).toEqual([`${sdk}/runtime/rpc`, `${sdk}/runtime/mocks`, `${sdk}/cmd/run-policy-pack`, `${pack}/proxy`, `${sdk}/proto/analyzer_pb`]);
  });

  test("every internal says who uses it, and each of those files exists", () => {
    for (const internal of SDK_INTERNALS) {
      expect(internal.usedBy.length).toBeGreaterThan(0);
      for (const file of internal.usedBy) expect(fs.existsSync(path.join(ROOT, file))).toBe(true);
    }
    expect(new Set(SDK_INTERNALS.map((i) => i.id)).size).toBe(SDK_INTERNALS.length);
  });
});

describe("each internal still has the shape and behaviour we use", () => {
  test.each(SDK_INTERNALS.map((internal) => [internal.id, internal] as const))("%s", async (_id, internal) => {
    await internal.verify();
  });
});

describe("a changed internal fails with a message naming it", () => {
  test.each(SDK_INTERNALS.map((internal) => [internal.id, internal] as const))("%s, gone from its module", async (id, internal) => {
    const failure = internal.verify({});
    await expect(failure).rejects.toThrow(SdkInternalError);
    await expect(failure).rejects.toThrow(`SDK internal ${id}:`);
  });

  test("a module that moved names the internal and the module", () => {
    expect(() => loadModule("@pulumi/pulumi/runtime/gone#thing", "@pulumi/pulumi/runtime/gone")).toThrow(
      /^SDK internal @pulumi\/pulumi\/runtime\/gone#thing: cannot load @pulumi\/pulumi\/runtime\/gone \(.*\)\. It was checked against @pulumi\/pulumi 3\.248\.0 \(installed: 3\.248\.0\)/,
    );
  });

  test("a wire constant with another value names the constant and both values", async () => {
    const rpc = loadModule(wireFormat.id, wireFormat.moduleId);
    await expect(wireFormat.verify({ ...rpc, unknownValue: "changed" })).rejects.toThrow(
      `SDK internal ${wireFormat.id}: expected unknownValue to be "${ENGINE_WIRE.unknownValue}", found "changed"`,
    );
  });

  test("the same shape with another behaviour names what no longer holds", async () => {
    await expect(configSecretKeys.verify({ isConfigSecret: () => true })).rejects.toThrow(
      `SDK internal ${configSecretKeys.id}: no longer true: a key passed as secret to pulumi.runtime.setAllConfig is reported secret, another key is not`,
    );
  });
});

describe("the pack's own copy (policy/graph.ts), which cannot import the fence", () => {
  test("its wire marker is the proxy's: a hand-copied unknown becomes UNKNOWN", () => {
    expect(plain({ a: policyProxy.get().unknownStringValue })).toEqual({ a: UNKNOWN });
  });

  test("it recognizes the proxy's UnknownValueError", () => {
    const props = policyProxy.get().unknownCheckingProxy({ later: policyProxy.get().unknownStringValue });
    let thrown: unknown;
    try {
      void props.later;
    } catch (error) {
      thrown = error;
    }
    expect(isUnknownValueError(thrown)).toBe(true);
    expect(isUnknownValueError(new Error("other"))).toBe(false);
  });
});
