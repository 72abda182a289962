/** Where requests go: weighted shares, the old/new mix during a traffic change (pure logic, no sockets). */
import {
  Mixer,
  Routing,
  WeightedPicker,
  percentsOf,
  reachableRevisions,
  routingForRequest,
  sameRouting,
  tagsOf,
} from "../../localcloud/cloud-run/routing";
import { LATEST, REVISION } from "../../localcloud/cloud-run/spec";

const routing = (...targets: [string, number, string?][]): Routing => ({
  targets: targets.map(([revision, percent, tag]) => ({ type: REVISION, revision, percent, ...(tag ? { tag } : {}) })),
});

describe("WeightedPicker", () => {
  test("gives each revision exactly its percent of every 100 picks, interleaved rather than in runs", () => {
    const picker = new WeightedPicker();
    const weights = new Map([
      ["a", 70],
      ["b", 20],
      ["c", 10],
    ]);
    const picks = Array.from({ length: 100 }, () => picker.pick(weights));
    expect(picks.filter((p) => p === "a")).toHaveLength(70);
    expect(picks.filter((p) => p === "b")).toHaveLength(20);
    expect(picks.filter((p) => p === "c")).toHaveLength(10);
    // Smooth: the 10% revision is not starved until the end.
    expect(picks.slice(0, 20)).toContain("c");
  });

  test("with one revision always picks it; with none picks nothing", () => {
    const picker = new WeightedPicker();
    expect([1, 2, 3].map(() => picker.pick(new Map([["only", 100]])))).toEqual(["only", "only", "only"]);
    expect(picker.pick(new Map())).toBeUndefined();
  });
});

describe("Mixer", () => {
  test.each([0, 0.25, 0.5, 1])("picks the new routing for a fraction %p of the calls", (fraction) => {
    const mixer = new Mixer();
    const news = Array.from({ length: 100 }, () => mixer.next(fraction)).filter(Boolean).length;
    expect(news).toBe(Math.round(fraction * 100));
  });

  test("clamps fractions outside 0..1", () => {
    const mixer = new Mixer();
    expect(mixer.next(-3)).toBe(false);
    expect(mixer.next(7)).toBe(true);
  });
});

describe("routingForRequest", () => {
  const from = routing(["r1", 100]);
  const to = routing(["r2", 100]);

  test("without a transition, the applied routing", () => {
    expect(routingForRequest(from, undefined, 0)).toBe(from);
  });

  test("during a transition, more and more new requests see the new routing; after it, all of them", () => {
    const transition = { from, to, startMs: 1_000, durationMs: 1_000, mixer: new Mixer() };
    const share = (now: number): number =>
      Array.from({ length: 100 }, () => routingForRequest(from, transition, now)).filter((r) => r === to).length;
    expect(share(1_000)).toBe(0);
    expect(share(1_500)).toBe(50);
    expect(share(2_000)).toBe(100);
    expect(share(9_000)).toBe(100);
  });
});

describe("routing views", () => {
  test("percents and tags per revision, reachability, and equality regardless of order", () => {
    const r = routing(["a", 60, "blue"], ["b", 40], ["c", 0, "green"]);
    expect(percentsOf(r)).toEqual(
      new Map([
        ["a", 60],
        ["b", 40],
      ]),
    );
    expect(tagsOf(r)).toEqual(
      new Map([
        ["blue", "a"],
        ["green", "c"],
      ]),
    );
    expect(reachableRevisions(r)).toEqual(new Set(["a", "b", "c"]));
    expect(sameRouting(r, routing(["c", 0, "green"], ["b", 40], ["a", 60, "blue"]))).toBe(true);
    expect(sameRouting(r, routing(["a", 60, "blue"], ["b", 40]))).toBe(false);
    expect(LATEST).not.toBe(REVISION);
  });
});
