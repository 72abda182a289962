/**
 * Who can reach the executor. Public invocation at the Cloud Run layer is the stack's design (the
 * executor's bearer token is its gate), so this is ADVISORY: it flags a public executor whose token
 * is not wired, i.e. one that runs with `authMode=disabled` for anyone on the internet.
 */
import { ReportViolation, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { PreviewGaps, StackGraph, StackNode, TYPES, isUnknown, list, text } from "./graph";
import { ENV, StackWorkload, envNamed, isExecutor, workloadsOf } from "./workloads";

const PUBLIC_MEMBERS: readonly string[] = ["allUsers", "allAuthenticatedUsers"];
const INVOKER_ROLE = "roles/run.invoker";

/** Invoker grants, and which property names the service (v2: `name`, v1: `service`). */
const INVOKER_GRANT_TYPES: Readonly<Record<string, string>> = {
  [TYPES.cloudRunServiceIamMember]: "name",
  [TYPES.cloudRunServiceIamBinding]: "name",
  [TYPES.cloudRunServiceIamPolicy]: "name",
  [TYPES.cloudRunV1IamMember]: "service",
  [TYPES.cloudRunV1IamBinding]: "service",
  [TYPES.cloudRunV1IamPolicy]: "service",
};

/** The public members an invoker grant adds; "unknown" when its role or members are not known yet. */
function publicMembers(grant: StackNode): string[] | "unknown" {
  let bindings: { role: unknown; members: unknown }[];
  if (/IamMember$/.test(grant.type)) bindings = [{ role: grant.props.role, members: [grant.props.member] }];
  else if (/IamBinding$/.test(grant.type)) bindings = [{ role: grant.props.role, members: grant.props.members }];
  else {
    const policyData = text(grant.props.policyData);
    if (isUnknown(policyData)) return "unknown";
    try {
      const parsed = JSON.parse(policyData ?? "{}") as { bindings?: { role?: unknown; members?: unknown }[] };
      bindings = Array.isArray(parsed.bindings) ? parsed.bindings.map((b) => ({ role: b.role, members: b.members })) : [];
    } catch {
      return [];
    }
  }
  const found: string[] = [];
  for (const binding of bindings) {
    if (isUnknown(binding.role)) return "unknown";
    if (binding.role !== INVOKER_ROLE) continue;
    const members = list(binding.members);
    if (isUnknown(members) || members.some(isUnknown)) return "unknown";
    found.push(...members.filter((member): member is string => typeof member === "string" && PUBLIC_MEMBERS.includes(member)));
  }
  return found;
}

/** The workload a grant is on: by property dependency (known in preview), else by name (and location/project). */
function targetOf(
  graph: StackGraph,
  grant: StackNode,
  key: string,
  workloads: readonly StackWorkload[],
): StackWorkload | undefined | "unknown" {
  const byDependency = graph.inputsFrom(grant, key);
  const dependent = workloads.find((w) => byDependency.includes(w.node));
  if (dependent) return dependent;
  const name = text(grant.props[key]);
  if (isUnknown(name)) return "unknown";
  if (name === undefined) return undefined;
  const same = (a: unknown, b: unknown): boolean => a === undefined || b === undefined || isUnknown(a) || isUnknown(b) || a === b;
  return workloads.find(
    (w) =>
      (w.node.props.name === name || (typeof name === "string" && name.endsWith(`/services/${String(w.node.props.name)}`))) &&
      same(w.node.props.location, grant.props.location) &&
      same(w.node.props.project, grant.props.project),
  );
}

export const executorExposure: StackValidationPolicy = {
  name: "executor-exposure",
  description:
    "Flags a wallet executor that anyone can call: public invocation (roles/run.invoker for allUsers or " +
    "allAuthenticatedUsers, or invokerIamDisabled) is acceptable only when the executor's bearer auth is wired " +
    "(OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN set, from Secret Manager); an empty or missing token means authMode=disabled " +
    "and open /pay-bolt11. To fix: wire the token with a secretKeyRef, or drop the public invoker (publicInvoker: false) and " +
    "grant roles/run.invoker to the control service's account only.",
  enforcementLevel: "advisory",
  validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
    const graph = new StackGraph(args.resources);
    const gaps = new PreviewGaps();
    const workloads = workloadsOf(graph);
    const executors = workloads.filter((w) => isExecutor(w.node.urn, w.workload));
    if (executors.length === 0) return;
    const exposure = new Map<StackWorkload, string[]>();
    const expose = (workload: StackWorkload, how: string): void => {
      exposure.set(workload, [...(exposure.get(workload) ?? []), how]);
    };
    for (const grant of graph.ofType(...Object.keys(INVOKER_GRANT_TYPES))) {
      const members = publicMembers(grant);
      if (members === "unknown") {
        gaps.skip(`${grant.name}: its role or members`);
        continue;
      }
      if (members.length === 0) continue;
      const target = targetOf(graph, grant, INVOKER_GRANT_TYPES[grant.type], workloads);
      if (target === "unknown") gaps.skip(`${grant.name}: which service it is on`);
      else if (target && executors.includes(target)) expose(target, `${members.join(" and ")} through ${grant.name}`);
    }
    for (const executor of executors) {
      const disabled = executor.node.props.invokerIamDisabled;
      if (isUnknown(disabled)) gaps.skip(`${executor.node.name}: invokerIamDisabled`);
      else if (disabled === true) expose(executor, "anyone (invokerIamDisabled: true)");
    }
    for (const [executor, hows] of exposure) {
      const token = envNamed(executor.workload, ENV.token);
      if (token?.secretKeyRef && !token.literal) continue;
      // A non-empty literal still turns auth on; credentials-from-secret-manager reports the literal itself.
      if (token?.literal && isUnknown(token.value)) {
        gaps.skip(`${executor.node.name} ${token.where}: whether it is empty`);
        continue;
      }
      if (token?.literal && typeof token.value === "string" && token.value !== "") continue;
      if (executor.workload.unknownParts.length > 0) {
        gaps.skip(`${executor.node.name}: ${executor.workload.unknownParts[0]}`);
        continue;
      }
      reportViolation(
        `${executor.node.name} can be invoked by ${hows.join("; ")}, but its bearer auth is not wired (${ENV.token} is ` +
          `${token ? "empty" : "not set"}), so it runs with authMode=disabled and anyone can call /status and /pay-bolt11. ` +
          `Wire ${ENV.token} from Secret Manager (secretKeyRef), or remove the public invoker.`,
        executor.node.urn,
      );
    }
    gaps.finish();
  },
};
