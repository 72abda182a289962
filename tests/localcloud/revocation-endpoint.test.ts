/**
 * Where a published version is revoked: `gcp:secretManagerCustomEndpoint` points the revocation at
 * the local cloud in a rehearsal, and the pack refuses any endpoint but Google's outside one (the
 * revocation sends the deployer's access token there).
 */
import * as pulumi from "@pulumi/pulumi";
import { SECRET_MANAGER_API, secretManagerApiBase } from "../../stack/components/published-version-revocation";
import { CLOUD_RUN_API } from "../../stack/components/executor-tag-removal";
import { CLOUD_RUN_ADMIN, endpointProblem, revocationEndpoint } from "../../policy/revocation-endpoint";
import { TYPES } from "../../policy/graph";
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

describe("endpointProblem for the Cloud Run Admin API (the tag removal)", () => {
  test.each(["https://run.googleapis.com/v2", "https://run.googleapis.com/v2/", "https://us-central1-run.googleapis.com/v2"])(
    "allows Google's endpoint %s anywhere",
    (endpoint) => {
      expect(endpointProblem(endpoint, false, CLOUD_RUN_ADMIN)).toBeUndefined();
    },
  );

  test("allows the loopback only in a rehearsal", () => {
    expect(endpointProblem("http://127.0.0.1:4100/v2/", true, CLOUD_RUN_ADMIN)).toBeUndefined();
    expect(endpointProblem("http://127.0.0.1:4100/v2/", false, CLOUD_RUN_ADMIN)).toMatch(/loopback address .* allowed only in a rehearsal/);
  });

  test.each([
    ["https://secretmanager.googleapis.com/v2", /not Google's Cloud Run Admin endpoint/],
    ["https://run.googleapis.com.evil.example/v2", /not Google's Cloud Run Admin endpoint/],
    ["https://evil-run.googleapis.com.example/v2", /not Google's/],
    ["https://run.googleapis.com/v1", /expected \/v2/],
    ["https://run.googleapis.com:444/v2", /not Google's/],
    ["http://run.googleapis.com/v2", /not Google's/],
  ])("refuses %s even in a rehearsal", (endpoint, problem) => {
    expect(endpointProblem(endpoint, true, CLOUD_RUN_ADMIN)).toMatch(problem);
  });

  test("Secret Manager's endpoint is not the Cloud Run Admin API's, nor the other way round", () => {
    expect(endpointProblem("https://run.googleapis.com/v2", false)).toMatch(/expected \/v1/);
    expect(endpointProblem("https://secretmanager.googleapis.com/v1", false, CLOUD_RUN_ADMIN)).toMatch(/expected \/v2/);
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
        "To fix: unset gcp:secretManagerCustomEndpoint, or set it to Google's Secret Manager endpoint (https://secretmanager.googleapis.com/v1).",
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

describe("the policy on the tag removal and other dynamic resources", () => {
  const removal = (apiBase: unknown) =>
    resourceView({
      type: TYPES.executorTagRemoval,
      name: "executor-previous-tag-removal",
      urn: U(TYPES.executorTagRemoval, "executor-previous-tag-removal"),
      props: { service: "projects/p/locations/l/services/s", tag: "g4", drainMs: 22000, accessToken: "[secret]", apiBase },
    });

  test("refuses a tag removal that would send the token anywhere but the Cloud Run Admin API, saying how to fix it", async () => {
    const [violation] = await checkResource(revocationEndpoint, removal("https://collector.example/v2"));
    expect(violation.enforcementLevel).toBe("mandatory");
    expect(violation.message).toBe(
      `executor-previous-tag-removal would send the deployer's access token to "https://collector.example/v2", which is not Google's Cloud Run Admin endpoint. ` +
        "To fix: unset gcp:cloudRunV2CustomEndpoint, or set it to Google's Cloud Run Admin endpoint (https://run.googleapis.com/v2).",
    );
    expect((await checkResource(revocationEndpoint, removal(undefined)))[0].message).toMatch(
      /has no apiBase.*To fix: give it https:\/\/run\.googleapis\.com\/v2/,
    );
    expect(await checkResource(revocationEndpoint, removal(CLOUD_RUN_API))).toEqual([]);
    // The Secret Manager endpoint is Google's, but not the API this resource calls.
    expect(await checkResource(revocationEndpoint, removal("https://secretmanager.googleapis.com/v1"))).toHaveLength(1);
  });

  test("a loopback tag removal only in a rehearsal", async () => {
    expect(await checkResource(revocationEndpoint, removal("http://127.0.0.1:4100/v2"))).toHaveLength(1);
    const rehearsal = { policyConfig: { "revocation-endpoint": { rehearsal: true } } };
    expect(await checkResource(revocationEndpoint, removal("http://127.0.0.1:4100/v2"), rehearsal)).toEqual([]);
  });

  test("an unknown dynamic resource with an access token or an endpoint is refused; one without either is not", async () => {
    const dynamic = (props: Record<string, unknown>) =>
      resourceView({
        type: "pulumi-nodejs:dynamic/ops:Notifier",
        name: "notifier",
        urn: U("pulumi-nodejs:dynamic/ops:Notifier", "notifier"),
        props,
      });
    const [violation] = await checkResource(
      revocationEndpoint,
      dynamic({ accessToken: "[secret]", apiBase: "https://run.googleapis.com/v2" }),
    );
    expect(violation.message).toMatch(
      /notifier \(pulumi-nodejs:dynamic\/ops:Notifier\) is a dynamic resource with accessToken and apiBase.*To fix: add its type/,
    );
    expect(await checkResource(revocationEndpoint, dynamic({ accessToken: "[secret]" }))).toHaveLength(1);
    expect(await checkResource(revocationEndpoint, dynamic({ channel: "ops" }))).toEqual([]);
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

  test("removes a revoked generation's tag through Google's Cloud Run Admin API by default, and refuses gcp:cloudRunV2CustomEndpoint outside a rehearsal", async () => {
    const revoking = { authToken: { current: 5, previous: 4, revokePrevious: true }, rotation: "tagged" };
    const byDefault = await runStack({ stack: "staging", set: revoking });
    expect(byDefault.byName("executor-previous-tag-removal").inputs.apiBase).toBe(CLOUD_RUN_API);
    expect(await runPolicies(byDefault.resources, { policies: [revocationEndpoint] })).toEqual([]);

    const local = await runStack({ stack: "staging", set: { ...revoking, "gcp:cloudRunV2CustomEndpoint": "http://127.0.0.1:4100/v2/" } });
    expect(local.byName("executor-previous-tag-removal").inputs.apiBase).toBe("http://127.0.0.1:4100/v2");
    const refused = await runPolicies(local.resources, { policies: [revocationEndpoint] });
    expect(refused.map((v) => [v.policy, v.enforcementLevel, v.urn])).toEqual([
      ["revocation-endpoint", "mandatory", local.byName("executor-previous-tag-removal").urn],
    ]);
    expect(refused[0].message).toContain("To fix: unset gcp:cloudRunV2CustomEndpoint");
    expect(
      await runPolicies(local.resources, { policies: [revocationEndpoint], policyConfig: { "revocation-endpoint": { rehearsal: true } } }),
    ).toEqual([]);
  });
});
