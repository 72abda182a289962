/**
 * Secret Manager on the local cloud, over real HTTP: version numbers, states, access, the destroy
 * TTL (with an injected clock), IAM on access, and the REST calls the published-version revocation
 * makes (the component's own function against the local endpoint).
 */
import { request } from "undici";
import { setVersionState } from "../../stack/components/published-version-revocation";
import { LocalCloudApiError, LocalCloudClient } from "../../localcloud/client";
import { Cloud, PROJECT_ID, addVersion, createAccount, createSecret, grantAccessor, startCloud } from "../support/local-cloud";

let clock = Date.parse("2026-06-01T00:00:00Z");
let env: Cloud;

beforeAll(async () => {
  env = await startCloud({ now: () => clock });
});
afterAll(() => env.cloud.close());

async function failure(promise: Promise<unknown>): Promise<{ httpStatus: number; status: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof LocalCloudApiError) return { httpStatus: err.httpStatus, status: err.status, message: err.message };
    throw err;
  }
  throw new Error("expected the call to fail");
}

describe("versions", () => {
  test("are numbered 1, 2, 3 in creation order, per secret, and a number is never reused after a destroy", async () => {
    const a = await createSecret(env.api, "numbering-a");
    const b = await createSecret(env.api, "numbering-b");
    expect(await addVersion(env.api, a, "a1")).toBe("1");
    expect(await addVersion(env.api, a, "a2")).toBe("2");
    expect(await addVersion(env.api, b, "b1")).toBe("1");
    await env.api.call("POST", `/v1/${a}/versions/2:destroy`, {});
    expect(await addVersion(env.api, a, "a3")).toBe("3");
    const listed = await env.api.call<{ versions: { name: string; state: string }[] }>("GET", `/v1/${a}/versions`);
    expect(listed.versions.map((v) => [v.name.split("/").pop(), v.state])).toEqual([
      ["3", "ENABLED"],
      ["2", "DESTROYED"],
      ["1", "ENABLED"],
    ]);
  });

  test("are accessed by number (and `latest`, the newest version), the payload as base64", async () => {
    const secret = await createSecret(env.api, "access");
    await addVersion(env.api, secret, "first");
    await addVersion(env.api, secret, "second");
    expect(await env.api.accessSecretVersion(`${secret}/versions/1`)).toBe("first");
    expect(await env.api.accessSecretVersion(`${secret}/versions/latest`)).toBe("second");
    // Names carry the project NUMBER, as Google's do; the project id works in paths too.
    const version = await env.api.call<{ name: string }>("GET", `/v1/${secret}/versions/2`);
    expect(version.name).toMatch(/^projects\/[0-9]{12}\/secrets\/access\/versions\/2$/);
    expect(await env.api.accessSecretVersion(version.name)).toBe("second");
  });

  test("a disabled version fails to access with FAILED_PRECONDITION until it is enabled again", async () => {
    const secret = await createSecret(env.api, "disable");
    await addVersion(env.api, secret, "v1");
    const disabled = await env.api.call<{ state: string }>("POST", `/v1/${secret}/versions/1:disable`, {});
    expect(disabled.state).toBe("DISABLED");
    const refused = await failure(env.api.accessSecretVersion(`${secret}/versions/1`));
    expect(refused).toMatchObject({ httpStatus: 400, status: "FAILED_PRECONDITION" });
    expect(refused.message).toMatch(/is in DISABLED state/);
    await env.api.call("POST", `/v1/${secret}/versions/1:enable`, {});
    expect(await env.api.accessSecretVersion(`${secret}/versions/1`)).toBe("v1");
  });

  test("`latest` is the newest version whatever its state: a disabled newest one fails", async () => {
    const secret = await createSecret(env.api, "latest-disabled");
    await addVersion(env.api, secret, "old");
    await addVersion(env.api, secret, "new");
    await env.api.call("POST", `/v1/${secret}/versions/2:disable`, {});
    expect((await failure(env.api.accessSecretVersion(`${secret}/versions/latest`))).status).toBe("FAILED_PRECONDITION");
  });

  test("without a destroy TTL a destroy is final: the payload is gone and the version cannot be enabled", async () => {
    const secret = await createSecret(env.api, "destroy-now");
    await addVersion(env.api, secret, "v1");
    const destroyed = await env.api.call<{ state: string; destroyTime?: string }>("POST", `/v1/${secret}/versions/1:destroy`, {});
    expect(destroyed.state).toBe("DESTROYED");
    expect(destroyed.destroyTime).toBeDefined();
    expect((await failure(env.api.accessSecretVersion(`${secret}/versions/1`))).message).toMatch(/DESTROYED state/);
    expect((await failure(env.api.call("POST", `/v1/${secret}/versions/1:enable`, {}))).status).toBe("FAILED_PRECONDITION");
  });

  test("with a destroy TTL a destroy disables the version and schedules it; enabling within the TTL cancels it", async () => {
    const secret = await createSecret(env.api, "destroy-ttl", { versionDestroyTtl: "86400s" });
    await addVersion(env.api, secret, "keep");
    await addVersion(env.api, secret, "lose");
    for (const n of ["1", "2"]) {
      const scheduled = await env.api.call<{ state: string; scheduledDestroyTime?: string }>(
        "POST",
        `/v1/${secret}/versions/${n}:destroy`,
        {},
      );
      expect(scheduled.state).toBe("DISABLED");
      expect(Date.parse(scheduled.scheduledDestroyTime ?? "")).toBe(clock + 86_400_000);
    }
    // Restored within the TTL: enabled, nothing scheduled any more.
    clock += 3_600_000;
    const restored = await env.api.call<{ state: string; scheduledDestroyTime?: string }>("POST", `/v1/${secret}/versions/1:enable`, {});
    expect(restored).toMatchObject({ state: "ENABLED" });
    expect(restored.scheduledDestroyTime).toBeUndefined();
    // The other one is destroyed once the TTL has passed.
    clock += 86_400_000;
    const version2 = await env.api.call<{ state: string }>("GET", `/v1/${secret}/versions/2`);
    expect(version2.state).toBe("DESTROYED");
    expect(await env.api.accessSecretVersion(`${secret}/versions/1`)).toBe("keep");
  });

  test("the destroy TTL is a field of the secret that a PATCH with an update mask changes", async () => {
    const secret = await createSecret(env.api, "ttl-update", { labels: { a: "1" } });
    const patched = await env.api.call<{ versionDestroyTtl?: string; labels: Record<string, string> }>(
      "PATCH",
      `/v1/${secret}?updateMask=versionDestroyTtl`,
      {
        versionDestroyTtl: "2592000s",
        labels: { ignored: "not in the mask" },
      },
    );
    expect(patched.versionDestroyTtl).toBe("2592000s");
    expect(patched.labels).toEqual({ a: "1" });
    expect((await failure(env.api.call("PATCH", `/v1/${secret}?updateMask=replication`, {}))).status).toBe("INVALID_ARGUMENT");
  });

  test("a second secret with the same id in a project is ALREADY_EXISTS", async () => {
    await createSecret(env.api, "twice");
    expect(await failure(createSecret(env.api, "twice"))).toMatchObject({ httpStatus: 409, status: "ALREADY_EXISTS" });
  });
});

describe("access control", () => {
  test("a call without the deployer's (or an instance's) token is UNAUTHENTICATED", async () => {
    const response = await request(`${env.cloud.url}/v1/projects/${PROJECT_ID}/secrets`);
    expect(response.statusCode).toBe(401);
    expect(((await response.body.json()) as { error: { status: string } }).error.status).toBe("UNAUTHENTICATED");
    const stranger = new LocalCloudClient(env.cloud.url, "not-a-token");
    expect((await failure(stranger.call("GET", `/v1/projects/${PROJECT_ID}/secrets`))).status).toBe("UNAUTHENTICATED");
  });

  test("a concurrent IAM write with a stale etag is ABORTED, as Google's read-modify-write contract says", async () => {
    const secret = await createSecret(env.api, "etag");
    const account = await createAccount(env.api, "etag-reader");
    const read = await env.api.call<{ etag: string }>("POST", `/v1/${secret}:getIamPolicy`, {});
    const binding = { role: "roles/secretmanager.secretAccessor", members: [`serviceAccount:${account}`] };
    await env.api.call("POST", `/v1/${secret}:setIamPolicy`, { policy: { etag: read.etag, bindings: [binding] } });
    const stale = await failure(env.api.call("POST", `/v1/${secret}:setIamPolicy`, { policy: { etag: read.etag, bindings: [] } }));
    expect(stale).toMatchObject({ httpStatus: 409, status: "ABORTED" });
  });
});

describe("the published-version revocation's REST calls, against the local endpoint", () => {
  test("setVersionState disables and enables a version through `:disable` / `:enable` with the deployer's token", async () => {
    const secret = await createSecret(env.api, "published");
    await addVersion(env.api, secret, "published value");
    const versionName = `${secret}/versions/1`;
    const inputs = { versionName, accessToken: env.cloud.token, apiBase: env.cloud.secretManagerApi };
    expect(await setVersionState(inputs, "disable")).toBe("DISABLED");
    expect((await failure(env.api.accessSecretVersion(versionName))).status).toBe("FAILED_PRECONDITION");
    expect(await setVersionState(inputs, "enable")).toBe("ENABLED");
    expect(await env.api.accessSecretVersion(versionName)).toBe("published value");
  });

  test("a token the local cloud did not issue is refused, and the error never echoes it", async () => {
    const secret = await createSecret(env.api, "published-bad-token");
    await addVersion(env.api, secret, "x");
    const leaked = "ya29.a-token-that-must-not-leak";
    const error = await setVersionState(
      { versionName: `${secret}/versions/1`, accessToken: leaked, apiBase: env.cloud.secretManagerApi },
      "disable",
    ).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(error?.message).toMatch(/HTTP 401/);
    expect(error?.message).not.toContain(leaked);
    expect(await env.api.accessSecretVersion(`${secret}/versions/1`)).toBe("x");
  });
});

describe("service accounts", () => {
  test("get an email in the project, a unique id, and may only read secrets they are granted", async () => {
    const secret = await createSecret(env.api, "granted");
    await addVersion(env.api, secret, "for the reader");
    const email = await createAccount(env.api, "secret-reader");
    expect(email).toBe(`secret-reader@${PROJECT_ID}.iam.gserviceaccount.com`);
    await grantAccessor(env.api, secret, email);
    const policy = await env.api.call<{ bindings: { role: string; members: string[] }[] }>("POST", `/v1/${secret}:getIamPolicy`, {});
    expect(policy.bindings).toEqual([{ role: "roles/secretmanager.secretAccessor", members: [`serviceAccount:${email}`] }]);
    expect((await failure(env.api.call("POST", `/v1/projects/${PROJECT_ID}/serviceAccounts`, { accountId: "secret-reader" }))).status).toBe(
      "ALREADY_EXISTS",
    );
    expect((await failure(env.api.call("POST", `/v1/projects/${PROJECT_ID}/serviceAccounts`, { accountId: "x" }))).status).toBe(
      "INVALID_ARGUMENT",
    );
  });
});
