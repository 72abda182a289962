/** The rehearsal report's `tagged` rollback checks, from the local cloud's timeline and the failed-call count. */
import type { LocalCloudEvent } from "../../localcloud/events";
import { taggedRollbackChecks } from "../../rehearsal/report";
import type { RehearsalRun } from "../../rehearsal/rehearse";
import { scenarioFor } from "../../rehearsal/scenarios";

const staging = { authToken: { current: 4 }, sparkApiKey: { current: 2 }, mnemonic: { current: 1 } };
const service = (name: string) => ({ name: `projects/p/locations/l/services/${name}` });

function run(events: Partial<LocalCloudEvent>[], overrides: Partial<RehearsalRun> = {}): RehearsalRun {
  return {
    scenario: scenarioFor("rollback", staging),
    rotation: "tagged",
    scenarioStartMs: 1_000,
    afterBaseline: { executor: service("wallet-executor"), control: service("wallet-control") },
    cloudEvents: events.map((e, seq) => ({ seq, ...e })),
    ...overrides,
  } as unknown as RehearsalRun;
}

const controlBack = { atMs: 5_000, type: "traffic-changed", service: "wallet-control" };
const g5Removed = (atMs: number) => ({ atMs, type: "tag-removed", service: "wallet-executor", tag: "g5" });

test("ok: no failed call, and tag g5 removed after the control's last traffic change", () => {
  const checks = taggedRollbackChecks(run([controlBack, g5Removed(30_000)]), 0);
  expect(checks.map((c) => [c.name, c.ok])).toEqual([
    ["no call failed while the control moved back to generation 4", true],
    ["tag g5 (the generation rolled back from) removed after the control was back", true],
  ]);
  expect(checks[1].detail).toBe("removed 25000 ms after the control's last traffic change");
});

test("failed calls, a tag removed before the control moved back, or never removed, fail", () => {
  expect(taggedRollbackChecks(run([controlBack, g5Removed(30_000)]), 3)[0]).toMatchObject({ ok: false, detail: "3 failed calls" });
  expect(taggedRollbackChecks(run([g5Removed(4_000), controlBack]), 0)[1].ok).toBe(false);
  expect(taggedRollbackChecks(run([controlBack]), 0)[1]).toMatchObject({ ok: false, detail: "tag g5 never removed" });
  // Another service's tag, or the tag of another generation, is not the one.
  expect(taggedRollbackChecks(run([controlBack, { ...g5Removed(30_000), service: "wallet-control" }]), 0)[1].ok).toBe(false);
  expect(taggedRollbackChecks(run([controlBack, { ...g5Removed(30_000), tag: "g4" }]), 0)[1].ok).toBe(false);
});

test("only for a tagged rollback", () => {
  expect(taggedRollbackChecks(run([], { rotation: "in-place" }), 5)).toEqual([]);
  expect(taggedRollbackChecks(run([], { scenario: scenarioFor("rotate", staging) }), 5)).toEqual([]);
});
