/**
 * Ordering: a workload's rollout waits for the grant that lets its account read each secret it
 * reads. Without that edge the engine may start both at once, and a new instance that starts
 * before the grant exists cannot read its secret (Cloud Run then fails the revision; the executor
 * reads its mnemonic through the API at run time and fails later).
 */
import { ReportViolation, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import {
  Account,
  SCOPE_GRANT_TYPES,
  SECRET_GRANT_TYPES,
  SECRET_READING_ROLES,
  accountOfWorkload,
  bindingsOf,
  memberOf,
  sameAccount,
  showMember,
} from "./accounts";
import { PreviewGaps, StackGraph, StackNode, TYPES, isUnknown, parseSecretName, text } from "./graph";
import { reads, workloadsOf } from "./workloads";

/** Does this grant give `account` a secret-reading role? "unknown" when preview cannot tell. */
function grantsTo(graph: StackGraph, grant: StackNode, account: Account): boolean | "unknown" {
  const bindings = bindingsOf(grant);
  if (isUnknown(bindings)) return "unknown";
  let undecided = false;
  for (const binding of bindings) {
    if (isUnknown(binding.role)) {
      undecided = true;
      continue;
    }
    if (binding.role === undefined || !SECRET_READING_ROLES.includes(binding.role)) continue;
    if (isUnknown(binding.members)) {
      undecided = true;
      continue;
    }
    for (const raw of binding.members) {
      const member = memberOf(graph, grant, raw, binding.dependencyKey);
      if (isUnknown(member)) undecided = true;
      else if ("account" in member && sameAccount(member.account, account)) return true;
    }
  }
  return undecided ? "unknown" : false;
}

/** Is this grant on that secret (or on a whole scope, which covers it)? */
function covers(graph: StackGraph, grant: StackNode, secret: StackNode): boolean | "unknown" {
  if (grant.type in SCOPE_GRANT_TYPES) return true;
  if (graph.inputsFrom(grant, "secretId").includes(secret)) return true;
  const secretId = text(grant.props.secretId);
  if (isUnknown(secretId)) return "unknown";
  const name = typeof secretId === "string" ? parseSecretName(secretId) : undefined;
  return name !== undefined && graph.secretNamed(name) === secret;
}

export const secretAccessBeforeRollout: StackValidationPolicy = {
  name: "secret-access-before-rollout",
  description:
    "Protects rollouts from starting before they may read their secrets: every workload (Cloud Run service, job or worker " +
    "pool, Cloud Function) that reads a secret of this stack must depend, transitively, on a grant of this stack that gives " +
    "its service account a secret-reading role on that secret (grant -> reading workload). To fix: grant " +
    "roles/secretmanager.secretAccessor with a SecretIamMember on the secret to the workload's own account, and add that " +
    "grant to the workload's dependsOn.",
  enforcementLevel: "mandatory",
  validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
    const graph = new StackGraph(args.resources);
    const gaps = new PreviewGaps();
    const grants = graph.ofType(...SECRET_GRANT_TYPES, ...Object.keys(SCOPE_GRANT_TYPES));
    for (const workload of workloadsOf(graph)) {
      const account = accountOfWorkload(graph, workload);
      // No account of its own is least-privilege-secret-access's finding; nothing to order here.
      if (account === undefined) continue;
      const secrets = graph.ofType(TYPES.secret).filter((secret) => reads(graph, workload, secret));
      if (secrets.length === 0) continue;
      if (isUnknown(account)) {
        gaps.skip(`${workload.node.name}: which service account it runs as`);
        continue;
      }
      for (const secret of secrets) {
        const found = grants.map((grant) => ({ grant, covers: covers(graph, grant, secret), to: grantsTo(graph, grant, account) }));
        const definite = found.filter((g) => g.covers === true && g.to === true).map((g) => g.grant);
        const possible = found.filter((g) => g.covers !== false && g.to !== false && !definite.includes(g.grant));
        const who = showMember({ account });
        if (definite.some((grant) => graph.dependsOn(workload.node, grant))) continue;
        if (definite.length > 0) {
          reportViolation(
            `${workload.node.name} reads ${secret.name} as ${who}, but does not depend on ${definite.map((g) => g.name).join(" or ")}, ` +
              `which grants that access: its new instances may start before they may read the secret. Missing edge: ` +
              `${workload.node.name} -> ${definite[0].name}. To fix: add ${definite[0].name} to ${workload.node.name}'s dependsOn.`,
            workload.node.urn,
          );
        } else if (possible.length > 0) {
          gaps.skip(
            `${workload.node.name}: whether ${possible.map((g) => g.grant.name).join(", ")} grants ${who} access to ${secret.name}`,
          );
        } else {
          reportViolation(
            `${workload.node.name} reads ${secret.name} as ${who}, but no grant of this stack gives that account access to it: ` +
              `the rollout cannot read the secret, or relies on access granted outside the stack that nothing orders. To fix: ` +
              `add a SecretIamMember (roles/secretmanager.secretAccessor) on ${secret.name} for ${who}, and add it to ` +
              `${workload.node.name}'s dependsOn.`,
            workload.node.urn,
          );
        }
      }
    }
    gaps.finish();
  },
};
