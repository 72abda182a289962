/**
 * The offline policy harness's evaluations (harness/policy-harness.ts over harness/recording-monitor.ts):
 * how it numbers secret versions whatever their names, which values a preview leaves unknown
 * (a first preview, or an update that creates only some resources), and that reads stay known.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { evaluateWithPolicies } from "../../harness/policy-harness";
import { MOCK_VERSION_OFFSET, UNKNOWN, stackMocks } from "../../harness/recording-monitor";

afterAll(() => pulumi.runtime.disconnect());

const program = () => {
  const secret = new gcp.secretmanager.Secret("tok", { secretId: "tok", replication: { auto: {} } });
  const other = new gcp.secretmanager.Secret("other", { secretId: "other", replication: { auto: {} } });
  for (const name of ["old", "new", "tok-g4", "newest"]) {
    new gcp.secretmanager.SecretVersion(name, { secret: secret.id, secretData: "x", deletionPolicy: "DISABLE" });
  }
  new gcp.secretmanager.SecretVersion("first-of-other", { secret: other.id, secretData: "x", deletionPolicy: "DISABLE" });
  new pulumi.StackReference("staging", { name: "org/p/staging" });
  return {};
};

const evaluate = (mode: { firstPreview?: boolean; previewCreates?: (r: { type: string; name: string }) => boolean } = {}) =>
  evaluateWithPolicies({
    program,
    project: "p",
    stack: "s",
    config: { "gcp:project": "p" },
    mocks: stackMocks({ stackOutputs: { staging: { verifiedGenerations: { authToken: 4 } } } }),
    ...mode,
  });

const outputsByName = async (mode?: Parameters<typeof evaluate>[0]): Promise<Map<string, Readonly<Record<string, unknown>>>> => {
  const { evaluation, resourceOutputs } = await evaluate(mode);
  return new Map(evaluation.resources.map((r) => [r.name, resourceOutputs.get(r.urn) ?? {}]));
};

test("versions are numbered per secret in order of creation; a -g<N> name keeps its generation plus the offset", async () => {
  const outputs = await outputsByName();
  expect(["old", "new", "tok-g4", "newest", "first-of-other"].map((name) => outputs.get(name)?.version)).toEqual([
    "1",
    "2",
    String(4 + MOCK_VERSION_OFFSET),
    "3",
    "1",
  ]);
});

test("a first preview leaves every computed value unknown; a read (StackReference) stays known", async () => {
  const outputs = await outputsByName({ firstPreview: true });
  expect(outputs.get("old")?.version).toBe(UNKNOWN);
  expect(outputs.get("tok")?.name).toBe(UNKNOWN);
  expect(outputs.get("tok")?.secretId).toBe("tok");
  expect(outputs.get("staging")?.outputs).toEqual({ verifiedGenerations: { authToken: 4 } });
});

test("a preview that creates only some resources leaves only theirs unknown", async () => {
  const outputs = await outputsByName({ previewCreates: (r) => r.name === "newest" });
  expect(outputs.get("newest")?.version).toBe(UNKNOWN);
  expect(outputs.get("new")?.version).toBe("2");
  expect(outputs.get("tok")?.name).toBe("projects/mock-project/secrets/tok");
});
