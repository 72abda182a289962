/**
 * The SDK's closure modules' eager requests that load on first use instead (lib/sdk-internals/
 * deferred/, resolved there by tools/module-resolution.js for every CLI and by Jest's resolver for
 * every test file). Should an upgrade change a request, its stand-in would silently stop applying
 * (the SDK would load TypeScript or Arborist at import again): the check names it.
 */
import * as fs from "fs";
import { SdkInternalError } from "./fence";
import { defineInternal } from "./internal";

const { DEFERRED_REQUESTS } = require("./deferred") as { DEFERRED_REQUESTS: ReadonlyMap<string, string> };

/** Each closure module and the request of it that is deferred. */
const EAGER_REQUESTS: ReadonlyMap<string, string> = new Map([
  ["@pulumi/pulumi/runtime/closure/parseFunction", "../../typescript-shim"],
  ["@pulumi/pulumi/runtime/closure/codePaths", "@npmcli/arborist"],
]);

const CLOSURE_ID = "@pulumi/pulumi/runtime/closure/{parseFunction,codePaths}#require(typescript-shim,@npmcli/arborist)";
export const closureDependencies = defineInternal({
  id: CLOSURE_ID,
  moduleId: "@pulumi/pulumi/runtime/closure/parseFunction",
  usedBy: ["tools/module-resolution.js", "tools/jest-resolver.js"],
  why: "TypeScript and Arborist are half of the SDK's load and only closure serialization uses them: they load on first use",
  extract: (module) => {
    if (typeof module.parseFunction !== "function") throw new SdkInternalError(CLOSURE_ID, "expected parseFunction to be a function");
    const sources = new Map<string, string>();
    for (const moduleId of EAGER_REQUESTS.keys()) sources.set(moduleId, fs.readFileSync(require.resolve(moduleId), "utf8"));
    return sources;
  },
  behaviour: "parseFunction requires ../../typescript-shim and codePaths requires @npmcli/arborist, the requests deferred",
  behaves: (sources) =>
    [...EAGER_REQUESTS].every(
      ([moduleId, request]) => DEFERRED_REQUESTS.has(request) && (sources.get(moduleId) ?? "").includes(`require("${request}")`),
    ),
});
