/**
 * Ordering: the control rollout waits for the executor's. The executor accepts exactly one token;
 * a control service that rolls out first sends the new token to an executor that still expects
 * the old one, and every call gets 401 until the executor catches up. The edge must be in the
 * graph even when nothing else links them (the control's executor URL written as a literal).
 */
import { ReportViolation, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { StackGraph } from "./graph";
import { callersOf } from "./rotation";
import { StackWorkload, isExecutor, workloadsOf } from "./workloads";

export const executorBeforeControl: StackValidationPolicy = {
  name: "executor-before-control",
  description:
    "Protects control -> executor calls during a rotation: every workload that calls the wallet executor (under a " +
    "ControlService component, setting a control env var such as OA_LIGHTNING_WALLET_EXECUTOR_BASE_URL or its token, or " +
    "reading the executor's token secret under any name) must depend, transitively, on the executor's Cloud Run service, " +
    "even when its executor URL is a literal (executor -> control). To fix: add the executor's service to the control " +
    "service's dependsOn (ControlService's `executorService`).",
  enforcementLevel: "mandatory",
  validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
    const graph = new StackGraph(args.resources);
    const workloads = workloadsOf(graph);
    const executors = workloads.filter((w) => isExecutor(w.node.urn, w.workload));
    const calls = new Map<StackWorkload, StackWorkload[]>();
    for (const executor of executors) {
      for (const caller of callersOf(graph, workloads, executor)) calls.set(caller, [...(calls.get(caller) ?? []), executor]);
    }
    for (const [caller, called] of calls) {
      // A caller built from one executor's outputs (its URL) calls that one; otherwise it may call any.
      const inputs = graph.inputsFrom(caller.node);
      const wired = called.filter((executor) => inputs.includes(executor.node));
      for (const executor of wired.length > 0 ? wired : called) {
        if (graph.dependsOn(caller.node, executor.node)) continue;
        reportViolation(
          `${caller.node.name} calls the executor ${executor.node.name} but does not depend on it: its rollout could finish ` +
            `first and send a token ${executor.node.name} does not accept yet (every call gets 401 until the executor rolls ` +
            `out). Missing edge: ${caller.node.name} -> ${executor.node.name}. To fix: add ${executor.node.name} to ` +
            `${caller.node.name}'s dependsOn (ControlService's executorService).`,
          caller.node.urn,
        );
      }
    }
  },
};
