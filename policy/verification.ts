/**
 * The verification gate (pulumi-nodejs:dynamic/rotation:Verification) checks what is deployed:
 * it must run after every rollout it vouches for (executor -> control -> verification), and it
 * must expect the token generation both services pin, the one the executor advertises on
 * `/status` (OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN_VERSION). A verification that expects another
 * generation either fails every rotation or, worse, vouches for a generation nobody runs.
 */
import { ReportViolation, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { PreviewGaps, StackGraph, StackNode, TYPES, at, isUnknown } from "./graph";
import { advertisedTokenGeneration, callersOf, credentialOf, generationOf, tokenSecretOf } from "./rotation";
import { StackWorkload, isExecutor, pinsOf, reads, workloadsOf } from "./workloads";

/** The executors a verification checks: those its inputs are built from (its URL), else every one. */
function executorsVerifiedBy(graph: StackGraph, executors: readonly StackWorkload[], verification: StackNode): StackWorkload[] {
  const inputs = graph.inputsFrom(verification);
  const wired = executors.filter((executor) => inputs.includes(executor.node));
  return wired.length > 0 ? wired : [...executors];
}

export const verificationAfterRollouts: StackValidationPolicy = {
  name: "verification-after-rollouts",
  description:
    "Protects the verification from vouching for a rollout that has not finished: every verification resource " +
    "(pulumi-nodejs:dynamic/rotation:Verification) must depend, transitively, on the executor, on every workload that " +
    "calls it, and on every workload that reads a secret of this stack (control -> verification; the revocation then " +
    "depends on the verification, see revocation-requires-verification). To fix: add the control service's Cloud Run " +
    "service (the resource, not its component) to the verification's dependsOn.",
  enforcementLevel: "mandatory",
  validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
    const graph = new StackGraph(args.resources);
    const workloads = workloadsOf(graph);
    const secrets = graph.ofType(TYPES.secret);
    const executors = workloads.filter((w) => isExecutor(w.node.urn, w.workload));
    const callers = new Set(executors.flatMap((executor) => callersOf(graph, workloads, executor)));
    const rollouts = workloads.filter((w) => executors.includes(w) || callers.has(w) || secrets.some((secret) => reads(graph, w, secret)));
    for (const verification of graph.ofType(TYPES.verification)) {
      for (const rollout of rollouts) {
        if (graph.dependsOn(verification, rollout.node)) continue;
        const role = executors.includes(rollout)
          ? "the executor"
          : callers.has(rollout)
            ? "a caller of the executor"
            : "a reader of a secret";
        reportViolation(
          `${verification.name} does not depend on ${rollout.node.name} (${role}): it could check the services before that ` +
            `rollout finished, and what it vouches for (the revocation after it) would not be what runs. Missing edge: ` +
            `${verification.name} -> ${rollout.node.name}. To fix: add ${rollout.node.name} to ${verification.name}'s dependsOn.`,
          verification.urn,
        );
      }
    }
  },
};

export const verificationExpectsPinnedGeneration: StackValidationPolicy = {
  name: "verification-expects-pinned-generation",
  description:
    "Protects the verification from checking the wrong generation: a verification's expectTokenVersion must equal its " +
    "generations.authToken, the generation the executor advertises (OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN_VERSION, echoed " +
    "by /status; 1 when unset) and the generation of the token version the executor and its callers pin; and each other " +
    "credential it vouches for (generations.<credential>) must be the generation of the version the executor pins. To fix: " +
    "take all of them from the same config value (the credential's `current` generation).",
  enforcementLevel: "mandatory",
  validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
    const graph = new StackGraph(args.resources);
    const gaps = new PreviewGaps();
    const workloads = workloadsOf(graph);
    const executors = workloads.filter((w) => isExecutor(w.node.urn, w.workload));
    for (const verification of graph.ofType(TYPES.verification)) {
      const expected = verification.props.expectTokenVersion;
      const generations = verification.props.generations;
      const vouched = at(generations, "authToken");
      const report = (what: string): void =>
        reportViolation(
          `${verification.name} expects token generation ${JSON.stringify(expected)}, but ${what}: it would verify a generation ` +
            `the services do not run (or fail every rotation). To fix: set expectTokenVersion and generations from the ` +
            `credential's current generation, the one both services pin.`,
          verification.urn,
        );
      if (isUnknown(expected) || isUnknown(generations) || isUnknown(vouched)) {
        gaps.skip(`${verification.name}: the generations it expects`);
        continue;
      }
      if (typeof expected !== "number") continue;
      if (typeof vouched === "number" && vouched !== expected) report(`it vouches for generations.authToken = ${vouched}`);
      for (const executor of executorsVerifiedBy(graph, executors, verification)) {
        const advertised = advertisedTokenGeneration(executor);
        if (isUnknown(advertised)) gaps.skip(`${executor.node.name}: the token generation it advertises`);
        else if (typeof advertised === "number" && advertised !== expected) {
          report(`${executor.node.name} advertises generation ${advertised} (OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN_VERSION)`);
        }
        const token = tokenSecretOf(graph, workloads, executor)?.node;
        if (token) {
          for (const workload of [executor, ...callersOf(graph, workloads, executor)]) {
            for (const pin of pinsOf(graph, workload, token)) {
              if (pin.kind !== "version") continue;
              const generation = generationOf(graph, workloads, pin.version);
              if (generation !== undefined && generation !== expected) {
                report(`${workload.node.name} ${pin.where} pins ${pin.version.name} (generation ${generation})`);
              }
            }
          }
        }
        // The other credentials it vouches for: the generation of the version the executor pins.
        for (const secret of graph.ofType(TYPES.secret).filter((s) => s !== token && reads(graph, executor, s))) {
          const versions = graph.versionsOf(secret);
          const { key, label } = credentialOf(
            graph,
            workloads,
            { node: secret },
            versions.map((v) => v.name),
          );
          const claimed = key === undefined ? undefined : at(generations, key);
          if (isUnknown(claimed)) gaps.skip(`${verification.name}: the generation of ${label} it vouches for`);
          if (typeof claimed !== "number") continue;
          for (const pin of pinsOf(graph, executor, secret)) {
            if (pin.kind !== "version") continue;
            const generation = generationOf(graph, workloads, pin.version);
            if (generation !== undefined && generation !== claimed) {
              reportViolation(
                `${verification.name} vouches for ${label} generation ${claimed} (generations.${key}), but ${executor.node.name} ` +
                  `${pin.where} pins ${pin.version.name} (generation ${generation}): it would vouch for a generation the executor ` +
                  `does not run. To fix: set generations.${key} from the credential's current generation.`,
                verification.urn,
              );
            }
          }
        }
      }
    }
    gaps.finish();
  },
};
