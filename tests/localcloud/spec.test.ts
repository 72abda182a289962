/** Cloud Run service specs: validation, defaults, what is a template change (pure logic). */
import { ApiError } from "../../localcloud/errors";
import { LATEST, generatedRevisionName, normalizeSpec, sameTemplate, secretOfRef, timeoutMs } from "../../localcloud/cloud-run/spec";

const container = (env: unknown[] = []): Record<string, unknown> => ({ image: "img", env });
const body = (extra: Record<string, unknown> = {}, template: Record<string, unknown> = {}): Record<string, unknown> => ({
  template: { containers: [container()], ...template },
  ...extra,
});

function invalid(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe("INVALID_ARGUMENT");
    return (err as ApiError).message;
  }
  throw new Error("expected INVALID_ARGUMENT");
}

describe("normalizeSpec", () => {
  test("applies Cloud Run's defaults: all ingress, LATEST 100%, 0..100 instances, a 300 s timeout", () => {
    const spec = normalizeSpec("svc", body());
    expect(spec.ingress).toBe("INGRESS_TRAFFIC_ALL");
    expect(spec.traffic).toEqual([{ type: LATEST, percent: 100 }]);
    expect(spec.template.scaling).toEqual({ minInstanceCount: 0, maxInstanceCount: 100 });
    expect(spec.template.timeout).toBe("300s");
  });

  test("defaults a secret reference's version to latest and keeps plain values as given", () => {
    const spec = normalizeSpec(
      "svc",
      body(
        {},
        {
          containers: [
            container([
              { name: "A", value: "1" },
              { name: "B", valueSource: { secretKeyRef: { secret: "s" } } },
            ]),
          ],
        },
      ),
    );
    expect(spec.template.containers[0].env).toEqual([
      { name: "A", value: "1" },
      { name: "B", valueSource: { secretKeyRef: { secret: "s", version: "latest" } } },
    ]);
  });

  test.each([
    ["no template", {}, /template is required/],
    ["two containers", { template: { containers: [container(), container()] } }, /exactly one container/],
    ["no image", { template: { containers: [{}] } }, /image is required/],
    [
      "a revision not prefixed by the service",
      { template: { containers: [container()], revision: "other-1" } },
      /must start with the service name/,
    ],
    ["PORT set by the template", { template: { containers: [container([{ name: "PORT", value: "1" }])] } }, /reserved by Cloud Run/],
    [
      "a variable set twice",
      {
        template: {
          containers: [
            container([
              { name: "A", value: "1" },
              { name: "A", value: "2" },
            ]),
          ],
        },
      },
      /set twice/,
    ],
    [
      "a value and a secret",
      { template: { containers: [container([{ name: "A", value: "1", valueSource: { secretKeyRef: { secret: "s" } } }])] } },
      /mutually exclusive/,
    ],
    [
      "min above max",
      { template: { containers: [container()], scaling: { minInstanceCount: 3, maxInstanceCount: 2 } } },
      /must not exceed/,
    ],
    ["percents not adding up", { ...body(), traffic: [{ type: LATEST, percent: 90 }] }, /add up to 100, got 90/],
    [
      "a tag used twice",
      {
        ...body(),
        traffic: [
          { type: LATEST, percent: 100, tag: "a" },
          { revision: "svc-1", percent: 0, tag: "a" },
        ],
      },
      /used twice/,
    ],
    [
      "a 0% target without a tag",
      {
        ...body(),
        traffic: [
          { type: LATEST, percent: 100 },
          { revision: "svc-1", percent: 0 },
        ],
      },
      /needs a tag/,
    ],
    [
      "a REVISION target without a revision",
      { ...body(), traffic: [{ type: "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", percent: 100 }] },
      /needs a revision/,
    ],
    ["an unknown ingress", { ...body(), ingress: "PUBLIC" }, /ingress must be one of/],
  ])("refuses %s", (_what, input, message) => {
    expect(invalid(() => normalizeSpec("svc", input))).toMatch(message);
  });
});

describe("templates and names", () => {
  test("any difference of the template is a new revision; key order is not", () => {
    const a = normalizeSpec("svc", body({}, { containers: [container([{ name: "A", value: "1" }])] })).template;
    const b = normalizeSpec("svc", body({}, { containers: [container([{ name: "A", value: "2" }])] })).template;
    const reordered = { ...a, containers: a.containers.map((c) => ({ env: c.env, image: c.image })) };
    expect(sameTemplate(a, a)).toBe(true);
    expect(sameTemplate(a, reordered as typeof a)).toBe(true);
    expect(sameTemplate(a, b)).toBe(false);
  });

  test("generated revision names are <service>-<5-digit generation>-<3 letters>", () => {
    expect(generatedRevisionName("wallet-executor", 7, () => 0)).toBe("wallet-executor-00007-aaa");
    expect(generatedRevisionName("svc", 12345)).toMatch(/^svc-12345-[a-z]{3}$/);
  });

  test("a secret reference names a secret of the service's project or any project", () => {
    expect(secretOfRef("tok", "p1")).toEqual({ project: "p1", secretId: "tok" });
    expect(secretOfRef("projects/p2/secrets/tok", "p1")).toEqual({ project: "p2", secretId: "tok" });
    expect(invalid(() => secretOfRef("projects/p2/secrets/tok/versions/1", "p1"))).toMatch(/must be a secret id/);
  });

  test("timeouts are protobuf durations", () => {
    expect(timeoutMs("300s")).toBe(300_000);
    expect(timeoutMs("1.5s")).toBe(1_500);
    expect(invalid(() => timeoutMs("5m"))).toMatch(/duration/);
    expect(invalid(() => timeoutMs("0s"))).toMatch(/between/);
  });
});
