/**
 * The offline plan registers dynamic resources without serializing their providers' code
 * (lib/sdk-internals/dynamic-provider.ts): the recorded `__provider` input is the marker, and the
 * provider's code is never serialized.
 */
import * as pulumi from "@pulumi/pulumi";
import { PROVIDER_CODE_NOT_SERIALIZED, skipDynamicProviderCode } from "../../lib/sdk-internals/dynamic-provider";
import { evaluateProgram } from "../../harness/recording-monitor";

afterAll(() => pulumi.runtime.disconnect());

class Probe extends pulumi.dynamic.Resource {
  constructor(name: string, provider: pulumi.dynamic.ResourceProvider) {
    super(provider, name, { value: "v" }, undefined, "probe", "Probe");
  }
}

const programWith = (provider: pulumi.dynamic.ResourceProvider) => () => {
  new Probe("probe", provider);
  return {};
};

const provider: pulumi.dynamic.ResourceProvider = { create: () => Promise.resolve({ id: "x", outs: {} }) };

test("by default a dynamic resource carries its provider's serialized code, as under the engine", async () => {
  const evaluation = await evaluateProgram({ program: programWith(provider), project: "p", stack: "s", config: {} });
  expect(evaluation.error).toBeUndefined();
  const code = evaluation.resources.find((r) => r.name === "probe")?.inputs.__provider;
  expect(typeof code).toBe("string");
  expect(code).toContain("exports.handler");
});

test("after skipDynamicProviderCode a new provider registers with the marker in place of its code", async () => {
  skipDynamicProviderCode();
  // Another provider object: the SDK caches each provider's serialization for the process.
  const another: pulumi.dynamic.ResourceProvider = { create: () => Promise.resolve({ id: "y", outs: {} }) };
  const evaluation = await evaluateProgram({ program: programWith(another), project: "p", stack: "s", config: {} });
  expect(evaluation.error).toBeUndefined();
  expect(evaluation.resources.find((r) => r.name === "probe")?.inputs.__provider).toBe(PROVIDER_CODE_NOT_SERIALIZED);
});
