/**
 * The recording monitor's evaluation (harness/recording-monitor.ts `evaluateProgram`): no stack
 * trace is captured while a program runs (the SDK takes one per promise, for diagnostics nothing
 * reads), and V8's limit is back afterwards, whether the program returned or threw, and only after
 * the last of evaluations running side by side.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { evaluateProgram } from "../../harness/recording-monitor";

afterAll(() => pulumi.runtime.disconnect());

const evaluate = (program: () => unknown) => evaluateProgram({ program, project: "p", stack: "s", config: { "gcp:project": "p" } });

test("while the program runs no stack trace is captured; an error keeps its message; the limit is back after", async () => {
  const limit = Error.stackTraceLimit;
  expect(limit).toBeGreaterThan(0);
  let during: number | undefined;
  let stack: string | undefined;
  const evaluation = await evaluate(() => {
    during = Error.stackTraceLimit;
    stack = new Error("inside").stack;
    new gcp.secretmanager.Secret("s", { secretId: "s", replication: { auto: {} } });
    return {};
  });
  expect(evaluation.error).toBeUndefined();
  expect(evaluation.resources.map((r) => r.name)).toContain("s");
  expect(during).toBe(0);
  expect(stack).toBe("Error: inside");
  expect(Error.stackTraceLimit).toBe(limit);

  const failed = await evaluate(() => {
    throw new Error("a bad config");
  });
  expect((failed.error as Error).message).toBe("a bad config");
  expect(Error.stackTraceLimit).toBe(limit);
});

test("evaluations side by side: the limit comes back once, after the last one ends, whichever ends first", async () => {
  const limit = Error.stackTraceLimit;
  const gated = () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    return { release: () => release(), evaluation: evaluate(() => gate.then(() => ({}))) };
  };
  const first = gated();
  const second = gated();
  // The first to start ends first: the second still runs, its traces stay off.
  first.release();
  await first.evaluation;
  expect(Error.stackTraceLimit).toBe(0);
  second.release();
  await second.evaluation;
  expect(Error.stackTraceLimit).toBe(limit);
});
