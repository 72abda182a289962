/**
 * Where a published version is revoked: `gcp:secretManagerCustomEndpoint` points the revocation at
 * the local cloud in a rehearsal, and the pack refuses any endpoint but Google's outside one (the
 * revocation sends the deployer's access token there).
 */
import * as pulumi from "@pulumi/pulumi";
import { SECRET_MANAGER_API, secretManagerApiBase } from "../../stack/components/published-version-revocation";
import { endpointProblem, revocationEndpoint } from "../../policy/revocation-endpoint";
import { checkResource } from "../../harness/policy-harness";
import { T, U } from "../support/policy-builders";
import { resourceView } from "../../harness/policy-harness";
import { runStack } from "../support/stack";
import { runPolicies } from "../../harness/policy-harness";

afterAll(() => pulumi.runtime.disconnect());

describe("endpointProblem", () => {
  test.each([
    "https://secretmanager.googleapis.com/v1",
    "https://secretmanager.googleapis.com/v1/",
    "https://secretmanager.us-central1.rep.googleapis.com/v1",
  ])("allows Google's endpoint %s anywhere", (endpoint) => {
    expect(endpointProblem(endpoint, false)).toBeUndefined();
  });

  test.each(["http://127.0.0.1:4100/v1", "http://localhost:4100/v1/", "http://[::1]:4100/v1"])(
    "allows the loopback %s only in a rehearsal",
    (endpoint) => {
      expect(endpointProblem(endpoint, true)).toBeUndefined();
      expect(endpointProblem(endpoint, false)).toMatch(/loopback address .* allowed only in a rehearsal/);
    },
  );

  test.each([
    ["http://secretmanager.googleapis.com/v1", /not Google's Secret Manager endpoint/],
    ["https://secretmanager.googleapis.com.evil.example/v1", /not Google's/],
    ["https://secretmanager.googleapis.com:8443/v1", /not Google's/],
    ["https://evil.example/v1", /not Google's/],
    ["http://127.0.0.1.evil.example/v1", /not Google's/],
    ["https://user:pw@secretmanager.googleapis.com/v1", /credentials/],
    ["https://secretmanager.googleapis.com/v1?x=1", /query/],
    ["https://secretmanager.googleapis.com/v2", /expected \/v1/],
    ["secretmanager.googleapis.com", /not a URL/],
  ])("refuses %s even in a rehearsal", (endpoint, problem) => {
    expect(endpointProblem(endpoint, true)).toMatch(problem);
  });
});

test("secretManagerApiBase: Google's unless the custom endpoint is set (its trailing slash dropped)", () => {
  expect(secretManagerApiBase(undefined)).toBe(SECRET_MANAGER_API);
  expect(secretManagerApiBase("  ")).toBe(SECRET_MANAGER_API);
  expect(secretManagerApiBase("http://127.0.0.1:4100/v1/")).toBe("http://127.0.0.1:4100/v1");
});

describe("the policy", () => {
  const revocation = (apiBase: unknown) =>
    resourceView({
      type: T.publishedRevocation,
      name: "spark-api-key-g2-revocation",
      urn: U(T.publishedRevocation, "spark-api-key-g2-revocation"),
      props: { versionName: "projects/p/secrets/s/versions/5", apiBase },
    });

  test("is mandatory, names the resource and the endpoint, and says how to fix it", async () => {
    const [violation] = await checkResource(revocationEndpoint, revocation("https://collector.example/v1"));
    expect(violation.enforcementLevel).toBe("mandatory");
    expect(violation.message).toBe(
      `spark-api-key-g2-revocation would send the deployer's access token to "https://collector.example/v1", which is not Google's Secret Manager endpoint. ` +
        "Revoke through https://secretmanager.googleapis.com/v1 (unset gcp:secretManagerCustomEndpoint).",
    );
    expect(await checkResource(revocationEndpoint, revocation(undefined))).toHaveLength(1);
    expect(await checkResource(revocationEndpoint, revocation(SECRET_MANAGER_API))).toEqual([]);
  });

  test("only the rehearsal setting allows a loopback endpoint", async () => {
    expect(await checkResource(revocationEndpoint, revocation("http://127.0.0.1:4100/v1"))).toHaveLength(1);
    const rehearsal = { policyConfig: { "revocation-endpoint": { rehearsal: true } } };
    expect(await checkResource(revocationEndpoint, revocation("http://127.0.0.1:4100/v1"), rehearsal)).toEqual([]);
    expect(await checkResource(revocationEndpoint, revocation("https://collector.example/v1"), rehearsal)).toHaveLength(1);
  });
});

describe("the program", () => {
  const publishedRevocation = {
    sparkApiKey: { current: 3, previous: 2, revokePrevious: true, published: { "2": 5 } },
    sparkApiKeyG3: "sk_new",
  };

  test("revokes a published version through Google's endpoint by default, and through gcp:secretManagerCustomEndpoint when set", async () => {
    const byDefault = await runStack({ stack: "staging", set: publishedRevocation, secret: ["sparkApiKeyG3"] });
    expect(byDefault.byName("spark-api-key-g2-revocation").inputs.apiBase).toBe(SECRET_MANAGER_API);
    expect(await runPolicies(byDefault.resources, { policies: [revocationEndpoint] })).toEqual([]);

    const local = await runStack({
      stack: "staging",
      set: { ...publishedRevocation, "gcp:secretManagerCustomEndpoint": "http://127.0.0.1:4100/v1/" },
      secret: ["sparkApiKeyG3"],
    });
    expect(local.byName("spark-api-key-g2-revocation").inputs.apiBase).toBe("http://127.0.0.1:4100/v1");
    const refused = await runPolicies(local.resources, { policies: [revocationEndpoint] });
    expect(refused.map((v) => [v.policy, v.enforcementLevel, v.urn])).toEqual([
      ["revocation-endpoint", "mandatory", local.byName("spark-api-key-g2-revocation").urn],
    ]);
    expect(
      await runPolicies(local.resources, { policies: [revocationEndpoint], policyConfig: { "revocation-endpoint": { rehearsal: true } } }),
    ).toEqual([]);
  });
});
