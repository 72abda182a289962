/**
 * Who may read the secrets: each service account exactly the secrets its own service reads, granted
 * per secret; no project-wide (or folder/organization-wide) secret access, and no editor or owner
 * for the services' accounts. A stack policy: it relates grants to services through their accounts.
 */
import { ReportViolation, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import {
  Account,
  BASIC_ROLES,
  SCOPE_GRANT_TYPES,
  SECRET_GRANT_TYPES,
  SECRET_READING_ROLES,
  accountOfWorkload,
  bindingsOf,
  memberOf,
  sameAccount,
  showMember,
} from "./accounts";
import { PreviewGaps, SecretName, StackGraph, TYPES, Unknown, isUnknown, parseSecretName, showSecret, text } from "./graph";
import { StackWorkload, reads, secretRefsOf, workloadsOf } from "./workloads";

export { BASIC_ROLES, SECRET_READING_ROLES } from "./accounts";

export const leastPrivilegeSecretAccess: StackValidationPolicy = {
  name: "least-privilege-secret-access",
  description:
    "Protects each credential from every identity that does not need it: a secret-reading role (secretmanager.secretAccessor " +
    "or secretmanager.admin) may be granted only on one secret (SecretIamMember/Binding/Policy), only to the service account of " +
    "a workload of this stack (Cloud Run service, job or worker pool, Cloud Function) that reads that secret, and to no " +
    "account another workload shares without reading it; never on a whole project, folder or organization; a workload " +
    "that reads a secret runs as an account of its own, never the project's default compute account; and no " +
    "service's account may hold roles/editor or roles/owner there. To fix: grant roles/secretmanager.secretAccessor with a " +
    "SecretIamMember on the one secret, to the account of the service that references it, and remove the broader grant.",
  enforcementLevel: "mandatory",
  validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
    const graph = new StackGraph(args.resources);
    const gaps = new PreviewGaps();
    const workloads = workloadsOf(graph).map((workload): { workload: StackWorkload; account: Account | Unknown | undefined } => ({
      workload,
      account: accountOfWorkload(graph, workload),
    }));
    const runsAs = (account: Account): { readers: StackWorkload[]; undecided: boolean } => ({
      readers: workloads
        .filter((w) => w.account !== undefined && !isUnknown(w.account) && sameAccount(w.account, account))
        .map((w) => w.workload),
      undecided: workloads.some((w) => isUnknown(w.account)),
    });

    for (const grant of graph.ofType(...SECRET_GRANT_TYPES)) {
      const bindings = bindingsOf(grant);
      if (isUnknown(bindings)) {
        gaps.skip(`${grant.name}: its policy data`);
        continue;
      }
      const secretNode = graph.inputsFrom(grant, "secretId").find((node) => node.type === TYPES.secret);
      const secretId = text(grant.props.secretId);
      const secretName: SecretName | undefined = secretNode
        ? graph.secretNameOf(secretNode)
        : typeof secretId === "string"
          ? parseSecretName(secretId)
          : undefined;
      const secretText = secretName ? showSecret(secretName) : (secretNode?.name ?? "its secret");
      const readsSecret = (workload: StackWorkload): boolean =>
        secretNode
          ? reads(graph, workload, secretNode)
          : secretName !== undefined &&
            secretRefsOf(workload.workload).some((ref) => {
              const name = typeof ref.secret === "string" ? parseSecretName(ref.secret) : undefined;
              return name !== undefined && graph.sameSecret(name, secretName);
            });
      for (const binding of bindings) {
        if (isUnknown(binding.role)) {
          gaps.skip(`${grant.name}: its role`);
          continue;
        }
        if (binding.role === undefined || !SECRET_READING_ROLES.includes(binding.role)) continue;
        if (isUnknown(binding.members)) {
          gaps.skip(`${grant.name}: its members`);
          continue;
        }
        for (const rawMember of binding.members) {
          const member = memberOf(graph, grant, rawMember, binding.dependencyKey);
          if (isUnknown(member)) {
            gaps.skip(`${grant.name}: who it grants ${binding.role} to`);
            continue;
          }
          if ("other" in member) {
            reportViolation(
              `${grant.name} grants ${binding.role} on ${secretText} to ${member.other}, which is not the service account of a ` +
                `service that reads it: grant secret access only to the reading service's own account.`,
              grant.urn,
            );
            continue;
          }
          const { readers, undecided } = runsAs(member.account);
          if (readers.length === 0) {
            if (undecided) gaps.skip(`${grant.name}: which service runs as ${showMember(member)}`);
            else {
              reportViolation(
                `${grant.name} grants ${binding.role} on ${secretText} to ${showMember(member)}, which runs no Cloud Run service ` +
                  `of this stack: remove the grant, or grant it to the account of the service that reads the secret.`,
                grant.urn,
              );
            }
            continue;
          }
          if (!readers.some(readsSecret)) {
            reportViolation(
              `${grant.name} grants ${binding.role} on ${secretText} to ${showMember(member)}, the account of ` +
                `${readers.map((w) => w.node.name).join(", ")}, which does not read that secret: remove the grant.`,
              grant.urn,
            );
            continue;
          }
          // A shared account: every workload running as it could read the secret, not only the one that needs it.
          const others = readers.filter((workload) => !readsSecret(workload));
          if (others.length > 0) {
            reportViolation(
              `${grant.name} grants ${binding.role} on ${secretText} to ${showMember(member)}, an account shared by ` +
                `${others.map((w) => w.node.name).join(", ")}, which ${others.length === 1 ? "does" : "do"} not read that secret: ` +
                `${others.length === 1 ? "it" : "they"} could read it too. To fix: give each workload its own service account, ` +
                `and grant the secret only to the account of the workload that reads it.`,
              grant.urn,
            );
          }
        }
      }
    }

    // A workload that reads a credential runs as an account of its own, never the project's default one.
    for (const { workload, account } of workloads) {
      if (account !== undefined) continue;
      const secrets = graph.ofType(TYPES.secret).filter((secret) => reads(graph, workload, secret));
      const named = secretRefsOf(workload.workload).some(
        (ref) => typeof ref.secret === "string" && parseSecretName(ref.secret) !== undefined,
      );
      if (secrets.length === 0 && !named) continue;
      reportViolation(
        `${workload.node.name} reads ${secrets.length > 0 ? secrets.map((secret) => secret.name).join(", ") : "a secret"} but sets no ` +
          `service account, so it runs as the project's default compute account, which other workloads share and which holds ` +
          `roles/editor by default. To fix: give ${workload.node.name} a service account of its own (template.serviceAccount, or ` +
          `serviceAccountEmail for a Cloud Function) and grant it only the secrets it reads.`,
        workload.node.urn,
      );
    }

    for (const grant of graph.ofType(...Object.keys(SCOPE_GRANT_TYPES))) {
      const { scope, key } = SCOPE_GRANT_TYPES[grant.type];
      const scopeId = text(grant.props[key]);
      const where = `${scope} ${typeof scopeId === "string" ? scopeId : "(from the provider)"}`;
      const bindings = bindingsOf(grant);
      if (isUnknown(bindings)) {
        gaps.skip(`${grant.name}: its policy data`);
        continue;
      }
      for (const binding of bindings) {
        if (isUnknown(binding.role)) {
          gaps.skip(`${grant.name}: its role`);
          continue;
        }
        if (binding.role === undefined) continue;
        const reading = SECRET_READING_ROLES.includes(binding.role);
        if (!reading && !BASIC_ROLES.includes(binding.role)) continue;
        if (isUnknown(binding.members)) {
          if (reading)
            reportViolation(
              `${grant.name} grants ${binding.role} on the whole ${where}: grant secret access per secret instead.`,
              grant.urn,
            );
          else gaps.skip(`${grant.name}: its members`);
          continue;
        }
        for (const rawMember of binding.members) {
          const member = memberOf(graph, grant, rawMember, binding.dependencyKey);
          const readers = !isUnknown(member) && "account" in member ? runsAs(member.account).readers : [];
          const whose = readers.length > 0 ? ` (the account of ${readers.map((w) => w.node.name).join(", ")})` : "";
          if (reading) {
            reportViolation(
              `${grant.name} grants ${binding.role} on the whole ${where} to ${isUnknown(member) ? "an account unknown until apply" : showMember(member)}${whose}: ` +
                `every secret of the ${scope} becomes readable. Grant roles/secretmanager.secretAccessor per secret (SecretIamMember) instead.`,
              grant.urn,
            );
          } else if (readers.length > 0 && !isUnknown(member)) {
            reportViolation(
              `${grant.name} grants ${binding.role} on the whole ${where} to ${showMember(member)}${whose}: ` +
                `a compromised service could read and change everything. Remove it; grant only per-secret access.`,
              grant.urn,
            );
          } else if (isUnknown(member)) {
            gaps.skip(`${grant.name}: who it grants ${binding.role} to`);
          }
        }
      }
    }
    gaps.finish();
  },
};
