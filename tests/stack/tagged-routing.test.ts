/**
 * The `tagged` rotation strategy (docs/design/zero-downtime.md): the naming and traffic logic, the
 * program's wiring under mocks (exact traffic, the control on its generation's tag URL, the tag
 * removal and its check after verification, URNs of existing resources unchanged), the
 * tag removal and the refused-everywhere check against real HTTP servers on 127.0.0.1, the
 * plan's prediction, and the two policies on small unsafe stacks.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import * as pulumi from "@pulumi/pulumi";
import { CLOCK_SKEW_ALLOWANCE_MS, remainingDrainMs, removeTag, trafficWithout } from "../../stack/components/executor-tag-removal";
import { TYPES, phaseOf } from "../../stack/phases";
import { predictRouting } from "../../ops/plan/plan";
import { revisionName, rolledBackGeneration, tagUri, taggedTraffic, templateHash } from "../../stack/tagged-routing";
import { verifyRefusedEverywhere } from "../../verification/verify";
import { inPlaceRotationWindow, taggedRouting } from "../../policy/policies";
import { checkStack } from "../../harness/policy-harness";
import { T, U, cloudRun, plainEnv, secretEnv } from "../support/policy-builders";
import { runStack } from "../support/stack";

afterAll(() => pulumi.runtime.disconnect());

const env = (name: string, value: string) => ({ name, value });
const template = (image: string, generation: number) => ({
  serviceAccount: "sa@p.iam.gserviceaccount.com",
  containers: [
    {
      image,
      envs: [env("A", "1"), env("OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN_VERSION", String(generation)), env("B", "2")],
    },
  ],
});

describe("naming and traffic", () => {
  test("the template hash ignores the token's env vars and key order, and changes with anything else", () => {
    expect(templateHash(template("img:1", 4))).toBe(templateHash(template("img:1", 5)));
    const reordered = { containers: template("img:1", 4).containers, serviceAccount: "sa@p.iam.gserviceaccount.com" };
    expect(templateHash(reordered)).toBe(templateHash(template("img:1", 4)));
    expect(templateHash(template("img:2", 4))).not.toBe(templateHash(template("img:1", 4)));
    expect(templateHash(template("img:1", 4))).toMatch(/^[0-9a-f]{7}$/);
  });

  test("revision names carry the generation and hash, start with the service name, and fit 63 characters", () => {
    expect(revisionName("wallet-executor", 5, "abcdef0")).toBe("wallet-executor-g5-abcdef0");
    const long = revisionName("x".repeat(49), 123456, "abcdef0");
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long.endsWith("-g123456-abcdef0")).toBe(true);
  });

  test("all main traffic on the current revision; the previous keeps its tag at 0%", () => {
    expect(taggedTraffic({ current: { generation: 5, revision: "s-g5-h" }, previous: { generation: 4, revision: "s-g4-h" } })).toEqual([
      { type: "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", revision: "s-g5-h", percent: 100, tag: "g5" },
      { type: "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", revision: "s-g4-h", percent: 0, tag: "g4" },
    ]);
  });

  test("a tag URL is read from the statuses, never built; a missing tag is an error naming the tags", () => {
    expect(
      tagUri(
        [
          { tag: "g4", uri: "https://a" },
          { tag: "g5", uri: "https://b" },
        ],
        "g5",
      ),
    ).toBe("https://b");
    expect(() => tagUri([{ tag: "g4", uri: "https://a" }], "g5")).toThrow("reports no URL for tag g5 (its tags: g4)");
  });

  test("removing a tag's target hands its percent to the first target left", () => {
    expect(
      trafficWithout(
        [
          { tag: "g5", percent: 90, revision: "r5" },
          { tag: "g4", percent: 10, revision: "r4" },
        ],
        "g4",
      ),
    ).toEqual([{ tag: "g5", percent: 100, revision: "r5" }]);
  });
});

describe("the program, tagged, mid-rotation (generation 5 current, 4 previous)", () => {
  const rotating = { authToken: { current: 5, previous: 4 }, rotation: "tagged" };

  test("both generations' named revisions carry their tags; the control calls g5's tag URL", async () => {
    const run = await runStack({ set: rotating });
    const executor = run.byName("executor-service");
    const revision = (executor.inputs.template as { revision: string }).revision;
    const hash = /^wallet-executor-g5-([0-9a-f]{7})$/.exec(revision)?.[1];
    expect(hash).toBeDefined();
    expect(executor.inputs.traffics).toEqual([
      { type: "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", revision, percent: 100, tag: "g5" },
      // The previous generation's revision: same template, so the same hash.
      { type: "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", revision: `wallet-executor-g4-${hash}`, percent: 0, tag: "g4" },
    ]);
    const control = run.byName("control-service").inputs.template as { containers: { envs: { name: string; value?: string }[] }[] };
    const base = control.containers[0].envs.find((e) => e.name === "OA_LIGHTNING_WALLET_EXECUTOR_BASE_URL");
    expect(base?.value).toBe("https://g5---wallet-executor-mock-uc.a.run.app");
    // Not revoking yet: the g4 tag stays, nothing removes it.
    expect(run.ofType(TYPES.executorTagRemoval)).toEqual([]);
    expect(run.outputs.rotation).toEqual({ strategy: "tagged", taggedGenerations: [5, 4] });
  });

  test("revoking: the g4 tag is removed after verification and the control, then the old token checked everywhere", async () => {
    const run = await runStack({ set: { ...rotating, authToken: { current: 5, previous: 4, revokePrevious: true } } });
    const removal = run.byName("executor-previous-tag-removal");
    const check = run.byName("executor-previous-token-refused");
    expect(removal.inputs).toMatchObject({
      service: "projects/oa-wallet-staging/locations/us-central1/services/wallet-executor",
      tag: "g4",
      // The control's timeout (12 s) + Cloud Run's shutdown grace (10 s), from the control's rollout.
      drainMs: 22_000,
      controlService: "projects/oa-wallet-staging/locations/us-central1/services/wallet-control",
      apiBase: "https://run.googleapis.com/v2",
    });
    expect(removal.dependencies).toEqual(expect.arrayContaining([run.byName("verification").urn, run.byName("control-service").urn]));
    expect(check.dependencies).toContain(removal.urn);
    expect(check.inputs).toMatchObject({ generation: 4 });
    // The deployer's token and the old token reach the engine as secrets.
    expect(removal.secretPaths).toContain("accessToken");
    expect(check.secretPaths).toContain("token");
  });

  test("moving from in-place changes no URN of an existing resource; it only adds the tag removal and its check", async () => {
    const revoking = { authToken: { current: 5, previous: 4, revokePrevious: true } };
    const inPlace = await runStack({ set: { ...revoking, rotation: "in-place" } });
    const tagged = await runStack({ set: { ...revoking, rotation: "tagged" } });
    const before = new Set(inPlace.resources.map((r) => r.urn));
    const after = tagged.resources.map((r) => r.urn);
    expect(after.filter((urn) => !before.has(urn)).map((urn) => urn.split("::").pop())).toEqual([
      "executor-previous-tag-removal",
      "executor-previous-token-refused",
    ]);
    expect([...before].every((urn) => after.includes(urn))).toBe(true);
    expect(inPlace.byName("executor-service").inputs.traffics).toEqual([{ type: "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", percent: 100 }]);
  });

  test("a previous generation older than taggedSince has no tag to keep", async () => {
    const run = await runStack({ set: { ...rotating, rotation: { strategy: "tagged", taggedSince: 5 } } });
    expect((run.byName("executor-service").inputs.traffics as { tag: string }[]).map((t) => t.tag)).toEqual(["g5"]);
  });

  test("a rollback before revocation (current back to 4 after 5 was applied): g5's revision keeps its tag until the control has moved back, then a step removes it", async () => {
    const lastApplied = {
      environment: "staging",
      credentials: {
        authToken: { currentGeneration: 5, previousGeneration: 4 },
        mnemonic: { currentGeneration: 1, currentSource: "config" },
      },
    };
    const run = await runStack({ set: { authToken: { current: 4 }, rotation: "tagged" }, lastApplied });
    const executor = run.byName("executor-service");
    const revision = (executor.inputs.template as { revision: string }).revision;
    const hash = /^wallet-executor-g4-([0-9a-f]{7})$/.exec(revision)?.[1];
    expect(hash).toBeDefined();
    expect(executor.inputs.traffics).toEqual([
      { type: "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", revision, percent: 100, tag: "g4" },
      { type: "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", revision: `wallet-executor-g5-${hash}`, percent: 0, tag: "g5" },
    ]);
    const removal = run.byName("executor-rolled-back-tag-removal");
    expect(removal.inputs).toMatchObject({
      tag: "g5",
      drainMs: 22_000,
      controlService: "projects/oa-wallet-staging/locations/us-central1/services/wallet-control",
      apiBase: "https://run.googleapis.com/v2",
    });
    expect(removal.dependencies).toEqual(expect.arrayContaining([run.byName("verification").urn, run.byName("control-service").urn]));
    expect(removal.secretPaths).toContain("accessToken");
    expect(phaseOf({ urn: removal.urn })).toBe("revoke");
    // Not a rollback: the same generation as applied, a forward rotation, or in-place.
    expect((await runStack({ set: { authToken: { current: 4 }, rotation: "tagged" } })).ofType(TYPES.executorTagRemoval)).toEqual([]);
    const inPlace = await runStack({ set: { authToken: { current: 4 }, rotation: "in-place" }, lastApplied });
    expect(inPlace.ofType(TYPES.executorTagRemoval)).toEqual([]);
  });

  test("rolledBackGeneration: only a lower current than the one applied, and only a generation deployed tagged", () => {
    expect(rolledBackGeneration(4, 5, 4)).toBe(5);
    expect(rolledBackGeneration(4, 5, 6)).toBeUndefined();
    expect(rolledBackGeneration(5, 5, 1)).toBeUndefined();
    expect(rolledBackGeneration(6, 5, 1)).toBeUndefined();
    expect(rolledBackGeneration(4, undefined, 1)).toBeUndefined();
  });

  test("a bad rotation value is refused naming the key and the allowed values", async () => {
    const run = await runStack({ set: { rotation: "blue-green" } });
    expect(String(run.error)).toContain('wallet-executor:rotation: "blue-green" is not allowed; allowed: one of tagged, in-place');
    const nested = await runStack({ set: { rotation: { strategy: "tagged", since: 3 } } });
    expect(String(nested.error)).toContain(
      'wallet-executor:rotation: unknown key "since"; allowed keys: strategy, taggedSince, shutdownGraceMs',
    );
  });
});

// -----------------------------------------------------------------------------------------------
// Real HTTP servers

async function listen(
  handler: (req: IncomingMessage, res: ServerResponse, body: string) => void,
): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => handler(req, res, body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}
const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

describe("the tag removal and the refused-everywhere check, against real servers", () => {
  test("removes the tag with a PATCH of the whole service, waits for the operation, reports the URLs left", async () => {
    let traffic: Record<string, unknown>[] = [
      { type: "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", revision: "s-g5-h", percent: 100, tag: "g5" },
      { type: "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", revision: "s-g4-h", percent: 0, tag: "g4" },
    ];
    const seen: string[] = [];
    let polls = 0;
    const api = await listen((req, res, body) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization === "Bearer deployer" ? "auth" : "no-auth"}`);
      res.setHeader("content-type", "application/json");
      if (req.method === "PATCH") {
        traffic = (JSON.parse(body) as { traffic: Record<string, unknown>[] }).traffic;
        res.end(JSON.stringify({ name: "projects/p/locations/l/operations/op1", done: false }));
      } else if (req.url?.includes("operations")) {
        res.end(JSON.stringify({ name: "projects/p/locations/l/operations/op1", done: ++polls >= 2 }));
      } else {
        res.end(
          JSON.stringify({
            uri: "https://main",
            traffic,
            trafficStatuses: traffic.map((t) => ({ ...t, uri: `https://${String(t.tag)}` })),
          }),
        );
      }
    });
    try {
      const waited: number[] = [];
      const out = await removeTag(
        { service: "projects/p/locations/l/services/s", tag: "g4", drainMs: 22_000, accessToken: "deployer", apiBase: `${api.url}/v2` },
        (ms) => Promise.resolve(void waited.push(ms)),
      );
      expect(waited).toEqual([22_000]);
      expect(out).toMatchObject({ removedUri: "https://g4", mainUri: "https://main", remainingUris: ["https://g5"] });
      expect(traffic.map((t) => t.tag)).toEqual(["g5"]);
      expect(seen[0]).toBe("GET /v2/projects/p/locations/l/services/s auth");
      expect(seen).toContain("PATCH /v2/projects/p/locations/l/services/s auth");
      // A second run finds the tag gone: no PATCH, still a success (an interrupted up runs it again).
      seen.length = 0;
      await removeTag(
        { service: "projects/p/locations/l/services/s", tag: "g4", drainMs: 0, accessToken: "deployer", apiBase: `${api.url}/v2` },
        () => Promise.resolve(undefined),
      );
      expect(seen.some((line) => line.startsWith("PATCH"))).toBe(false);
    } finally {
      await close(api.server);
    }
  });

  test("the drain runs from the end of the control's last rollout: a late revocation waits what is left, or nothing", () => {
    const now = Date.parse("2026-12-01T12:00:30.000Z");
    const ready = (at: string, state = "CONDITION_SUCCEEDED") => ({ state, lastTransitionTime: at });
    // Rolled out 30 s ago: a 22 s drain is long over (the skew allowance included).
    expect(remainingDrainMs(22_000, ready("2026-12-01T12:00:00.000Z"), now)).toBe(0);
    // Rolled out 10 s ago: 12 s left, plus the skew allowance.
    expect(remainingDrainMs(22_000, ready("2026-12-01T12:00:20.000Z"), now)).toBe(12_000 + CLOCK_SKEW_ALLOWANCE_MS);
    // Just rolled out (an emergency's one apply): the whole drain, never more.
    expect(remainingDrainMs(22_000, ready("2026-12-01T12:00:30.000Z"), now)).toBe(22_000);
    // Anything not known to be over waits the whole drain: a rollout in progress or failed, a time
    // missing, unreadable or in the future (this machine's clock behind Cloud Run's), no condition.
    for (const condition of [
      ready("2026-12-01T12:00:00.000Z", "CONDITION_RECONCILING"),
      ready("2026-12-01T12:00:00.000Z", "CONDITION_FAILED"),
      { state: "CONDITION_SUCCEEDED" },
      ready("yesterday"),
      ready("2026-12-01T12:01:00.000Z"),
      undefined,
    ])
      expect(remainingDrainMs(22_000, condition, now)).toBe(22_000);
  });

  test("the removal reads the control's Ready condition and waits only what is left of the drain", async () => {
    const readyAt = Date.parse("2026-12-01T12:00:00.000Z");
    const seen: string[] = [];
    const api = await listen((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.setHeader("content-type", "application/json");
      if (req.url?.endsWith("/services/control"))
        res.end(
          JSON.stringify({
            terminalCondition: { type: "Ready", state: "CONDITION_SUCCEEDED", lastTransitionTime: "2026-12-01T12:00:00.000Z" },
          }),
        );
      else
        res.end(JSON.stringify({ uri: "https://main", traffic: [{ revision: "s-g5-h", percent: 100, tag: "g5" }], trafficStatuses: [] }));
    });
    try {
      const inputs = {
        service: "projects/p/locations/l/services/s",
        controlService: "projects/p/locations/l/services/control",
        tag: "g4",
        drainMs: 4_000,
        accessToken: "deployer",
        apiBase: `${api.url}/v2`,
      };
      const waited: number[] = [];
      const record = (ms: number) => Promise.resolve(void waited.push(ms));
      // 2 s after the control's rollout: 4 s - 2 s + the allowance left; a minute after: nothing.
      const soon = await removeTag(inputs, record, () => readyAt + 2_000);
      const late = await removeTag(inputs, record, () => readyAt + 60_000);
      expect(waited).toEqual([2_000 + CLOCK_SKEW_ALLOWANCE_MS, 0]);
      expect([soon.waitedMs, late.waitedMs]).toEqual(waited);
      // The control is read before the drain, the executor after it.
      expect(seen[0]).toBe("GET /v2/projects/p/locations/l/services/control");
      expect(seen[1]).toBe("GET /v2/projects/p/locations/l/services/s");
    } finally {
      await close(api.server);
    }
  });

  test("an API error fails the removal with its status, never the token", async () => {
    const api = await listen((_req, res) => {
      res.statusCode = 403;
      res.end("denied for deployer-secret-token");
    });
    try {
      await expect(
        removeTag({ service: "s", tag: "g4", drainMs: 0, accessToken: "deployer-secret-token", apiBase: api.url }, () =>
          Promise.resolve(undefined),
        ),
      ).rejects.toThrow(/HTTP 403 denied for \[redacted\]$/);
    } finally {
      await close(api.server);
    }
  });

  test("the old token must get 401 at every URL, and a removed tag must route nowhere", async () => {
    const refusing = await listen((_req, res) => {
      res.statusCode = 401;
      res.end("{}");
    });
    const accepting = await listen((_req, res) => res.end("{}"));
    const gone = await listen((_req, res) => {
      res.statusCode = 404;
      res.end("{}");
    });
    try {
      const ok = await verifyRefusedEverywhere({ urls: [refusing.url], goneUrls: [gone.url], token: "old-token-value" });
      expect(ok.ok).toBe(true);
      const bad = await verifyRefusedEverywhere({
        urls: [refusing.url, accepting.url],
        goneUrls: [accepting.url],
        token: "old-token-value",
      });
      expect(bad.ok).toBe(false);
      expect(bad.checks.map((c) => [c.name, c.ok])).toEqual([
        ["previous-token-refused", false],
        ["previous-tag-gone", false],
      ]);
      expect(bad.checks[0].detail).toContain(`${accepting.url} (HTTP 200)`);
      expect(JSON.stringify(bad)).not.toContain("old-token-value");
    } finally {
      await Promise.all([close(refusing.server), close(accepting.server), close(gone.server)]);
    }
  });
});

// -----------------------------------------------------------------------------------------------
// The plan and the policies

describe("the plan's prediction", () => {
  const resources = (traffics: unknown) => [
    {
      urn: U(`wallet:service:ExecutorService$${T.cloudRunService}`, "executor-service"),
      type: T.cloudRunService,
      name: "executor-service",
      custom: true,
      dependencies: [],
      secretPaths: [],
      inputs: { traffics, template: { revision: "s-g5-h" } },
    },
    {
      urn: U(`wallet:service:ControlService$${T.cloudRunService}`, "control-service"),
      type: T.cloudRunService,
      name: "control-service",
      custom: true,
      dependencies: [],
      secretPaths: [],
      inputs: {},
    },
  ];
  const credentials = [{ name: "authToken", current: 5, previous: 4, revokePrevious: false }];
  const waves = [[resources([])[0].urn], [resources([])[1].urn]];

  test("tagged: every control revision reaches a revision that accepts its token; window 0", () => {
    const prediction = predictRouting(
      resources(taggedTraffic({ current: { generation: 5, revision: "s-g5-h" }, previous: { generation: 4, revision: "s-g4-h" } })),
      credentials,
      waves,
      undefined,
    );
    expect(prediction?.failedCallWindowRollouts).toBe(0);
    expect(prediction?.waves.flatMap((w) => w.lines).every((l) => l.accepted)).toBe(true);
    expect(prediction?.waves[2].lines).toEqual([
      { control: "control@old", tokenGeneration: 4, via: "tag g4", executorRevision: "s-g4-h", accepted: true },
      { control: "control@new", tokenGeneration: 5, via: "tag g5", executorRevision: "s-g5-h", accepted: true },
    ]);
  });

  test("in-place: the old control's calls are refused from the executor's rollout to the control's; about one rollout", () => {
    const prediction = predictRouting(
      resources([{ type: "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", percent: 100 }]),
      credentials,
      waves,
      undefined,
    );
    expect(prediction?.strategy).toBe("in-place");
    expect(prediction?.failedCallWindowRollouts).toBe(1);
    expect(prediction?.waves[1]).toMatchObject({ wave: 1, lines: [{ control: "control@old", accepted: false }] });
  });

  test("no previous generation: no rotation to predict", () => {
    expect(
      predictRouting(resources([]), [{ name: "authToken", current: 5, previous: null, revokePrevious: false }], waves, undefined),
    ).toBeNull();
  });
});

describe("tagged-routing and in-place-rotation-window policies", () => {
  const EXEC = `wallet:service:ExecutorService$${T.cloudRunService}`;
  function stack(options: { controlUrl?: string; g4Revision?: string; mainRevision?: string; traffics?: unknown[] } = {}) {
    const traffics = options.traffics ?? [
      { type: "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", revision: options.mainRevision ?? "ex-g5-abc", percent: 100, tag: "g5" },
      { type: "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", revision: options.g4Revision ?? "ex-g4-abc", percent: 0, tag: "g4" },
    ];
    const statuses = traffics.map((t) => ({ ...(t as object), uri: `https://${String((t as { tag?: string }).tag)}---ex` }));
    const executor = cloudRun(
      "executor-service",
      [plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_MODE", "mock"), plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN_VERSION", "5")],
      {
        urn: U(EXEC, "executor-service"),
        props: { traffics, trafficStatuses: statuses },
      },
    );
    (executor.props.template as Record<string, unknown>).revision = "ex-g5-abc";
    const control = cloudRun("control-service", [
      plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_BASE_URL", options.controlUrl ?? "https://g5---ex"),
      secretEnv("OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN", "projects/p/secrets/tok", "15"),
    ]);
    return [executor, control];
  }

  test("the program's wiring passes", async () => {
    expect(await checkStack(taggedRouting, stack())).toEqual([]);
    expect(await checkStack(inPlaceRotationWindow, stack())).toEqual([]);
  });

  test("a control on the previous generation's tag, or on the main URL, is refused", async () => {
    const onOld = await checkStack(taggedRouting, stack({ controlUrl: "https://g4---ex" }));
    expect(onOld.map((v) => [v.policy, v.enforcementLevel])).toEqual([["tagged-routing", "mandatory"]]);
    expect(onOld[0].message).toContain("calls tag g4's URL but holds generation 5's token");
    const onMain = await checkStack(taggedRouting, stack({ controlUrl: "https://main---ex" }));
    expect(onMain[0].message).toContain("not a generation's tag URL");
  });

  test("a tag routed to another generation's revision, or main traffic off the current revision, is refused", async () => {
    const swapped = await checkStack(taggedRouting, stack({ g4Revision: "ex-g5-abc" }));
    expect(swapped.map((v) => v.message)).toEqual([
      expect.stringContaining('tag g4 routes to "ex-g5-abc", not a revision of generation 4'),
    ]);
    const latest = await checkStack(
      taggedRouting,
      stack({ traffics: [{ type: "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", percent: 100, tag: "g5" }] }),
    );
    expect(latest.map((v) => v.message).join("\n")).toContain("tag g5 follows the latest revision");
  });

  test("in-place gets an advisory naming the predicted window", async () => {
    const inPlace = stack({ traffics: [{ type: "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", percent: 100 }] });
    delete (inPlace[0].props.template as Record<string, unknown>).revision;
    const warnings = await checkStack(inPlaceRotationWindow, inPlace);
    expect(warnings.map((v) => [v.policy, v.enforcementLevel])).toEqual([["in-place-rotation-window", "advisory"]]);
    expect(warnings[0].message).toContain("predicted failed-call window of a token rotation = about one control rollout");
    expect(await checkStack(taggedRouting, inPlace)).toEqual([]);
  });
});

describe("phases of the tagged revocation's steps", () => {
  test("the tag removal and the proof that it took effect are both the revocation step, after verification", () => {
    const urn = (type: string, name: string) => `urn:pulumi:staging::wallet-executor::${type}::${name}`;
    expect(phaseOf({ urn: urn(TYPES.executorTagRemoval, "executor-previous-tag-removal") })).toBe("revoke");
    expect(phaseOf({ urn: urn(TYPES.revocationCheck, "executor-previous-token-refused") })).toBe("revoke");
    expect(phaseOf({ urn: urn(TYPES.verification, "verification") })).toBe("verify");
  });
});
