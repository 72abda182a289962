/**
 * The local `gcp` provider plugin as the engine runs it: the executable installed into a Pulumi home
 * of the test's own, driven over gRPC (check, diff, create, read, update, delete, invoke) against a
 * running local cloud.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { TYPES } from "../../localcloud/replacement-rules";
import { installPlugins } from "../../providers/install";
import {
  Cloud,
  PROJECT_ID,
  REGION,
  TOKEN_V1,
  TOKEN_V2,
  createAccount,
  createSecret,
  addVersion,
  get,
  short,
  startCloud,
} from "../support/local-cloud";
import { CallError, ProviderProcess, UNKNOWN, isSecret, secret, urn } from "../support/provider-process";

jest.setTimeout(120_000);

let env: Cloud;
let gcp: ProviderProcess;

beforeAll(async () => {
  env = await startCloud();
  const [plugin] = installPlugins(mkdtempSync(path.join(tmpdir(), "gcp-provider-home-")));
  gcp = await ProviderProcess.start(plugin.executable, { PATH: process.env.PATH, HOME: process.env.HOME, ...env.cloud.env });
});
afterAll(async () => {
  await gcp.stop();
  await env.cloud.close();
});

/** check then create, as the engine does; fails the test on check failures. */
async function create(
  type: string,
  name: string,
  news: Record<string, unknown>,
): Promise<{ id: string; inputs: Record<string, unknown>; outs: Record<string, unknown> }> {
  const checked = await gcp.check(urn(type, name), {}, news);
  expect(checked.failures).toEqual([]);
  const created = await gcp.create(urn(type, name), checked.inputs);
  return { id: created.id, inputs: checked.inputs, outs: created.properties };
}

async function callError(promise: Promise<unknown>): Promise<CallError> {
  try {
    await promise;
  } catch (err) {
    return err as CallError;
  }
  throw new Error("expected the call to fail");
}

const replication = { userManaged: { replicas: [{ location: REGION }] } };

describe("the plugin", () => {
  test("reports @pulumi/gcp's version (valid semver) and accepts secrets", async () => {
    const expected = (require("@pulumi/gcp/package.json") as { version: string }).version;
    expect(await gcp.pluginVersion()).toBe(expected);
    expect(expected).toMatch(/^[0-9]+\.[0-9]+\.[0-9]+$/);
    expect(await gcp.configure()).toEqual({ acceptSecrets: true });
  });

  test("check refuses a property the local cloud does not model, and a missing required one, naming them", async () => {
    const checked = await gcp.check(urn(TYPES.secret, "s"), {}, { project: PROJECT_ID, replication, ttl: "3600s" });
    expect(checked.failures).toEqual([
      {
        property: "ttl",
        reason: expect.stringMatching(
          /^the local gcp provider does not model ttl on gcp:secretmanager\/secret:Secret; supported: secretId, /,
        ) as unknown,
      },
      { property: "secretId", reason: "secretId is required" },
    ]);
  });

  test("check applies the provider's defaults and keeps secret inputs wrapped (the engine keeps them secret)", async () => {
    const checked = await gcp.check(urn(TYPES.secretVersion, "v"), {}, { secret: "projects/p/secrets/s", secretData: secret("x") });
    expect(checked.inputs).toMatchObject({ enabled: true, deletionPolicy: "DELETE", isSecretDataBase64: false });
    expect(isSecret(checked.inputs.secretData)).toBe(true);
    const service = await gcp.check(
      urn(TYPES.cloudRunService, "svc"),
      {},
      { name: "svc", location: REGION, project: PROJECT_ID, template: {} },
    );
    expect(service.inputs.deletionProtection).toBe(true);
  });

  test("an unknown type is an error naming the types it implements", async () => {
    const error = await callError(gcp.check(urn("gcp:storage/bucket:Bucket", "b"), {}, {}));
    expect(error.details).toMatch(/does not implement gcp:storage\/bucket:Bucket; it implements gcp:secretmanager\/secret:Secret, /);
  });
});

describe("Secret", () => {
  test("create, read, update in place (labels), replace on replication, and deletion protection", async () => {
    const { id, inputs, outs } = await create(TYPES.secret, "token", {
      secretId: "token",
      project: PROJECT_ID,
      replication,
      labels: { a: "1" },
      deletionProtection: true,
    });
    expect(id).toBe(`projects/${PROJECT_ID}/secrets/token`);
    expect(outs.name).toMatch(/^projects\/[0-9]{12}\/secrets\/token$/);
    expect((await gcp.read(urn(TYPES.secret, "token"), id, outs)).id).toBe(id);

    expect(await gcp.diff(urn(TYPES.secret, "token"), id, outs, inputs)).toEqual({
      changes: "none",
      replaces: [],
      deleteBeforeReplace: false,
    });
    expect(await gcp.diff(urn(TYPES.secret, "token"), id, outs, { ...inputs, labels: { a: "2" } })).toMatchObject({
      changes: "some",
      replaces: [],
    });
    expect(await gcp.diff(urn(TYPES.secret, "token"), id, outs, { ...inputs, replication: { auto: {} } })).toMatchObject({
      changes: "some",
      replaces: ["replication"],
    });
    expect(await gcp.diff(urn(TYPES.secret, "token"), id, outs, { ...inputs, secretId: UNKNOWN })).toMatchObject({
      changes: "some",
      replaces: ["secretId"],
    });

    const updated = await gcp.update(urn(TYPES.secret, "token"), id, outs, { ...inputs, labels: { a: "2" } });
    expect(updated.labels).toEqual({ a: "2" });
    expect((await env.api.call<{ labels: Record<string, string> }>("GET", `/v1/${id}`)).labels).toEqual({ a: "2" });

    const refused = await callError(gcp.delete(urn(TYPES.secret, "token"), id, updated));
    expect(refused.details).toMatch(/cannot destroy secret .* without setting deletionProtection=false/);
    await gcp.delete(urn(TYPES.secret, "token"), id, { ...updated, deletionProtection: false });
    expect(await gcp.read(urn(TYPES.secret, "token"), id, updated)).toEqual({ id: "", properties: {} });
  });
});

describe("SecretVersion", () => {
  test("a new version per create, its data kept secret in state; enabled updates in place, data replaces", async () => {
    const secretName = await createSecret(env.api, "versions");
    const { id, inputs, outs } = await create(TYPES.secretVersion, "g1", {
      secret: secretName,
      secretData: secret(TOKEN_V1),
      deletionPolicy: "DISABLE",
    });
    expect(outs).toMatchObject({ version: "1", enabled: true, name: id });
    expect(isSecret(outs.secretData)).toBe(true);
    expect(await env.api.accessSecretVersion(id)).toBe(TOKEN_V1);

    // The same secret value arrives wrapped again on the next run: no change.
    expect(await gcp.diff(urn(TYPES.secretVersion, "g1"), id, outs, { ...inputs, secretData: secret(TOKEN_V1) })).toMatchObject({
      changes: "none",
    });
    expect(await gcp.diff(urn(TYPES.secretVersion, "g1"), id, outs, { ...inputs, secretData: secret(TOKEN_V2) })).toMatchObject({
      replaces: ["secretData"],
    });
    expect(await gcp.diff(urn(TYPES.secretVersion, "g1"), id, outs, { ...inputs, enabled: false })).toMatchObject({
      changes: "some",
      replaces: [],
    });

    const disabled = await gcp.update(urn(TYPES.secretVersion, "g1"), id, outs, { ...inputs, enabled: false });
    expect(disabled.enabled).toBe(false);
    expect(isSecret(disabled.secretData)).toBe(true);
    expect((await env.api.call<{ state: string }>("GET", `/v1/${id}`)).state).toBe("DISABLED");
  });

  test("delete follows deletionPolicy: DISABLE disables, DELETE destroys, PREVENT refuses; a destroyed version reads as gone", async () => {
    const secretName = await createSecret(env.api, "deletion");
    const disable = await create(TYPES.secretVersion, "d1", { secret: secretName, secretData: secret("1"), deletionPolicy: "DISABLE" });
    const destroy = await create(TYPES.secretVersion, "d2", { secret: secretName, secretData: secret("2") });
    const prevent = await create(TYPES.secretVersion, "d3", { secret: secretName, secretData: secret("3"), deletionPolicy: "PREVENT" });
    await gcp.delete(urn(TYPES.secretVersion, "d1"), disable.id, disable.outs);
    await gcp.delete(urn(TYPES.secretVersion, "d2"), destroy.id, destroy.outs);
    expect((await callError(gcp.delete(urn(TYPES.secretVersion, "d3"), prevent.id, prevent.outs))).details).toMatch(
      /deletionPolicy is PREVENT/,
    );
    const states = await env.api.call<{ versions: { state: string }[] }>("GET", `/v1/${secretName}/versions`);
    expect(states.versions.map((v) => v.state)).toEqual(["ENABLED", "DESTROYED", "DISABLED"]);
    expect((await gcp.read(urn(TYPES.secretVersion, "d2"), destroy.id, destroy.outs)).id).toBe("");
  });

  test("created disabled when enabled is false", async () => {
    const secretName = await createSecret(env.api, "born-disabled");
    const { outs } = await create(TYPES.secretVersion, "off", { secret: secretName, secretData: secret("x"), enabled: false });
    expect(outs.enabled).toBe(false);
  });
});

describe("SecretIamMember", () => {
  test("grants made at once on one secret are all kept (read-modify-write retried on a stale etag); delete removes only its own", async () => {
    const secretName = await createSecret(env.api, "shared");
    const accounts = await Promise.all(["reader-one", "reader-two", "reader-three"].map((a) => createAccount(env.api, a)));
    const grants = await Promise.all(
      accounts.map((email, i) =>
        create(TYPES.secretIamMember, `grant-${i}`, {
          secretId: secretName,
          role: "roles/secretmanager.secretAccessor",
          member: `serviceAccount:${email}`,
        }),
      ),
    );
    expect(grants[0].id).toBe(`${secretName}/roles/secretmanager.secretAccessor/serviceAccount:${accounts[0]}`);
    const policy = async (): Promise<string[]> =>
      (await env.api.call<{ bindings: { members: string[] }[] }>("POST", `/v1/${secretName}:getIamPolicy`, {})).bindings
        .flatMap((b) => b.members)
        .sort();
    expect(await policy()).toEqual(accounts.map((a) => `serviceAccount:${a}`).sort());

    const { id, inputs, outs } = grants[0];
    expect(
      await gcp.diff(urn(TYPES.secretIamMember, "grant-0"), id, outs, {
        ...inputs,
        member: "serviceAccount:other@x.iam.gserviceaccount.com",
      }),
    ).toMatchObject({
      replaces: ["member"],
    });
    await gcp.delete(urn(TYPES.secretIamMember, "grant-0"), id, outs);
    expect(await policy()).toEqual(
      accounts
        .slice(1)
        .map((a) => `serviceAccount:${a}`)
        .sort(),
    );
    expect((await gcp.read(urn(TYPES.secretIamMember, "grant-0"), id, outs)).id).toBe("");
  });
});

describe("Account", () => {
  test("create gives its email and member; displayName updates in place; accountId replaces", async () => {
    const { id, inputs, outs } = await create(TYPES.serviceAccount, "sa", {
      accountId: "wallet-executor-run",
      project: PROJECT_ID,
      displayName: "Wallet executor",
    });
    expect(outs).toMatchObject({
      email: `wallet-executor-run@${PROJECT_ID}.iam.gserviceaccount.com`,
      member: `serviceAccount:wallet-executor-run@${PROJECT_ID}.iam.gserviceaccount.com`,
    });
    expect(id).toBe(`projects/${PROJECT_ID}/serviceAccounts/${String(outs.email)}`);
    expect(await gcp.diff(urn(TYPES.serviceAccount, "sa"), id, outs, { ...inputs, accountId: "other-account" })).toMatchObject({
      replaces: ["accountId"],
    });
    const updated = await gcp.update(urn(TYPES.serviceAccount, "sa"), id, outs, { ...inputs, displayName: "Renamed" });
    expect(updated.displayName).toBe("Renamed");
    expect((await env.api.call<{ displayName: string }>("GET", `/v1/${id}`)).displayName).toBe("Renamed");
    await gcp.delete(urn(TYPES.serviceAccount, "sa"), id, updated);
    expect((await gcp.read(urn(TYPES.serviceAccount, "sa"), id, updated)).id).toBe("");
  });
});

describe("Cloud Run Service", () => {
  const executorInputs = (account: string, secretName: string, version: string, generation: number): Record<string, unknown> => ({
    name: "wallet-executor",
    project: PROJECT_ID,
    location: REGION,
    ingress: "INGRESS_TRAFFIC_ALL",
    template: {
      serviceAccount: account,
      scaling: { minInstanceCount: 1, maxInstanceCount: 2 },
      containers: [
        {
          image: "us-docker.pkg.dev/demo/executor@sha256:0",
          ports: { containerPort: 8080 },
          envs: [
            { name: "OA_LIGHTNING_WALLET_EXECUTOR_MODE", value: "mock" },
            { name: "OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN", valueSource: { secretKeyRef: { secret: secretName, version } } },
            { name: "OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN_VERSION", value: String(generation) },
          ],
        },
      ],
    },
    traffics: [{ type: "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", percent: 100 }],
  });

  test("create waits for the revision and reports URL, revisions and traffic; a template change is a new revision", async () => {
    const account = await createAccount(env.api, "run-executor");
    const secretName = await createSecret(env.api, "run-token");
    await addVersion(env.api, secretName, TOKEN_V1);
    await addVersion(env.api, secretName, TOKEN_V2);
    await env.api.call("POST", `/v1/${secretName}:setIamPolicy`, {
      policy: { bindings: [{ role: "roles/secretmanager.secretAccessor", members: [`serviceAccount:${account}`] }] },
    });

    const { id, inputs, outs } = await create(TYPES.cloudRunService, "executor-service", executorInputs(account, secretName, "1", 1));
    expect(id).toBe(`projects/${PROJECT_ID}/locations/${REGION}/services/wallet-executor`);
    expect(outs.uri).toMatch(/^http:\/\/127\.0\.0\.1:[0-9]+$/);
    expect(outs.latestReadyRevision).toBe(outs.latestCreatedRevision);
    expect(outs.trafficStatuses).toEqual([
      { type: "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", revision: short(outs.latestReadyRevision), percent: 100, tag: "", uri: "" },
    ]);
    expect((outs.terminalConditions as { state: string }[])[0].state).toBe("CONDITION_SUCCEEDED");
    expect((await get(`${String(outs.uri)}/status`, TOKEN_V1)).status).toBe(200);

    const next = executorInputs(account, secretName, "2", 2);
    expect(await gcp.diff(urn(TYPES.cloudRunService, "executor-service"), id, outs, next)).toMatchObject({ changes: "some", replaces: [] });
    expect(await gcp.diff(urn(TYPES.cloudRunService, "executor-service"), id, outs, { ...inputs, location: "europe-west1" })).toMatchObject(
      { replaces: ["location"] },
    );
    const updated = await gcp.update(urn(TYPES.cloudRunService, "executor-service"), id, outs, { ...next, deletionProtection: true });
    expect(updated.latestReadyRevision).not.toBe(outs.latestReadyRevision);
    expect(updated.uri).toBe(outs.uri);
    expect((await get(`${String(updated.uri)}/status`, TOKEN_V2)).status).toBe(200);
    expect((await get(`${String(updated.uri)}/status`, TOKEN_V1)).status).toBe(401);
  });

  test("a revision that cannot start fails the update as 'created but not initialized', and the same inputs succeed once the grant exists", async () => {
    const account = await createAccount(env.api, "run-no-grant");
    const granted = await createSecret(env.api, "retry-token");
    await addVersion(env.api, granted, TOKEN_V1);
    await env.api.call("POST", `/v1/${granted}:setIamPolicy`, {
      policy: { bindings: [{ role: "roles/secretmanager.secretAccessor", members: [`serviceAccount:${account}`] }] },
    });
    const base: Record<string, unknown> = { ...executorInputs(account, granted, "1", 1), name: "retry-service" };
    const { id, outs } = await create(TYPES.cloudRunService, "retry", base);

    const ungranted = await createSecret(env.api, "retry-extra");
    await addVersion(env.api, ungranted, "x");
    const template = base.template as { containers: { envs: unknown[] }[] };
    const withExtra = {
      ...base,
      deletionProtection: true,
      template: {
        ...template,
        containers: [
          {
            ...template.containers[0],
            envs: [...template.containers[0].envs, { name: "EXTRA", valueSource: { secretKeyRef: { secret: ungranted, version: "1" } } }],
          },
        ],
      },
    };
    const failed = await callError(gcp.update(urn(TYPES.cloudRunService, "retry"), id, outs, withExtra));
    expect(failed.details).toMatch(/Permission denied on secret: projects\/demo-project\/secrets\/retry-extra/);
    // The engine learns the resource's current state from the error's details (ErrorResourceInitFailed).
    expect(failed.metadata?.get("grpc-status-details-bin")).toHaveLength(1);
    expect((await env.api.call<{ latestReadyRevision: string }>("GET", `/v2/${id}`)).latestReadyRevision).toBe(outs.latestReadyRevision);

    await env.api.call("POST", `/v1/${ungranted}:setIamPolicy`, {
      policy: { bindings: [{ role: "roles/secretmanager.secretAccessor", members: [`serviceAccount:${account}`] }] },
    });
    const retried = await gcp.update(urn(TYPES.cloudRunService, "retry"), id, outs, withExtra);
    expect(retried.latestReadyRevision).toBe(retried.latestCreatedRevision);
    expect(retried.latestReadyRevision).not.toBe(outs.latestReadyRevision);
  });

  test("delete is refused while deletionProtection is on, and stops the service once it is off", async () => {
    const account = await createAccount(env.api, "run-deleted");
    const secretName = await createSecret(env.api, "deleted-token");
    await addVersion(env.api, secretName, TOKEN_V1);
    await env.api.call("POST", `/v1/${secretName}:setIamPolicy`, {
      policy: { bindings: [{ role: "roles/secretmanager.secretAccessor", members: [`serviceAccount:${account}`] }] },
    });
    const { id, outs } = await create(TYPES.cloudRunService, "doomed", { ...executorInputs(account, secretName, "1", 1), name: "doomed" });
    expect((await callError(gcp.delete(urn(TYPES.cloudRunService, "doomed"), id, outs))).details).toMatch(
      /without setting deletionProtection=false/,
    );
    await gcp.delete(urn(TYPES.cloudRunService, "doomed"), id, { ...outs, deletionProtection: false });
    expect((await gcp.read(urn(TYPES.cloudRunService, "doomed"), id, outs)).id).toBe("");
  });

  test("a ServiceIamMember binds a role on the service and removes it on delete", async () => {
    const account = await createAccount(env.api, "run-invoked");
    const secretName = await createSecret(env.api, "invoked-token");
    await addVersion(env.api, secretName, TOKEN_V1);
    await env.api.call("POST", `/v1/${secretName}:setIamPolicy`, {
      policy: { bindings: [{ role: "roles/secretmanager.secretAccessor", members: [`serviceAccount:${account}`] }] },
    });
    await create(TYPES.cloudRunService, "invoked", { ...executorInputs(account, secretName, "1", 1), name: "invoked" });
    const { id, outs } = await create(TYPES.cloudRunServiceIamMember, "public", {
      project: PROJECT_ID,
      location: REGION,
      name: "invoked",
      role: "roles/run.invoker",
      member: "allUsers",
    });
    expect(id).toBe(`projects/${PROJECT_ID}/locations/${REGION}/services/invoked/roles/run.invoker/allUsers`);
    const policy = () =>
      env.api.call<{ bindings: unknown[] }>("POST", `/v2/projects/${PROJECT_ID}/locations/${REGION}/services/invoked:getIamPolicy`, {});
    expect((await policy()).bindings).toEqual([{ role: "roles/run.invoker", members: ["allUsers"] }]);
    await gcp.delete(urn(TYPES.cloudRunServiceIamMember, "public"), id, outs);
    expect((await policy()).bindings).toEqual([]);
  });
});

describe("functions", () => {
  test("getClientConfig answers the deployer's identity: the local cloud's token, kept secret", async () => {
    const config = await gcp.invoke("gcp:organizations/getClientConfig:getClientConfig", {});
    expect(isSecret(config.accessToken)).toBe(true);
    expect((config.accessToken as { value: string }).value).toBe(env.cloud.token);
    expect((await callError(gcp.invoke("gcp:storage/getBucket:getBucket", {}))).details).toMatch(
      /does not implement the function gcp:storage\/getBucket:getBucket/,
    );
  });
});
