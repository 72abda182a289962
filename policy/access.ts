/**
 * Who may read the secrets: each service account exactly the secrets its own service reads, granted
 * per secret; no project-wide (or folder/organization-wide) secret access, and no editor or owner
 * for the services' accounts. A stack policy: it relates grants to services through their accounts.
 */
import { ReportViolation, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import {
  PreviewGaps,
  SecretName,
  StackGraph,
  StackNode,
  TYPES,
  UNKNOWN,
  Unknown,
  isRecord,
  isUnknown,
  list,
  parseSecretName,
  showSecret,
  text,
} from "./graph";
import { StackWorkload, reads, secretRefsOf, workloadsOf } from "./workloads";

/** Roles that can read secret payloads. */
export const SECRET_READING_ROLES: readonly string[] = ["roles/secretmanager.secretAccessor", "roles/secretmanager.admin"];

/** Basic roles that include far more than any service needs (and, for owner, secret access). */
export const BASIC_ROLES: readonly string[] = ["roles/editor", "roles/owner"];

const SECRET_GRANT_TYPES: readonly string[] = [TYPES.secretIamMember, TYPES.secretIamBinding, TYPES.secretIamPolicy];

const SCOPE_GRANT_TYPES: Readonly<Record<string, { readonly scope: string; readonly key: string }>> = {
  [TYPES.projectIamMember]: { scope: "project", key: "project" },
  [TYPES.projectIamBinding]: { scope: "project", key: "project" },
  [TYPES.projectIamPolicy]: { scope: "project", key: "project" },
  [TYPES.folderIamMember]: { scope: "folder", key: "folder" },
  [TYPES.folderIamBinding]: { scope: "folder", key: "folder" },
  [TYPES.folderIamPolicy]: { scope: "folder", key: "folder" },
  [TYPES.organizationIamMember]: { scope: "organization", key: "orgId" },
  [TYPES.organizationIamBinding]: { scope: "organization", key: "orgId" },
  [TYPES.organizationIamPolicy]: { scope: "organization", key: "orgId" },
};

/** A service account, by email and/or by its resource in the stack. */
interface Account {
  readonly email?: string;
  readonly node?: StackNode;
}

function emailOf(account: StackNode): string | undefined {
  const email = text(account.props.email);
  if (typeof email === "string") return email;
  const accountId = text(account.props.accountId);
  const project = text(account.props.project);
  return typeof accountId === "string" && typeof project === "string" ? `${accountId}@${project}.iam.gserviceaccount.com` : undefined;
}

function sameAccount(a: Account, b: Account): boolean {
  if (a.node && b.node) return a.node === b.node;
  return a.email !== undefined && a.email === b.email;
}

function accountByEmail(graph: StackGraph, email: string): Account {
  return { email, node: graph.ofType(TYPES.serviceAccount).find((account) => emailOf(account) === email) };
}

/** The one service account a resource's property is built from (known in preview), if exactly one. */
function accountFromDependency(graph: StackGraph, node: StackNode, key?: string): Account | undefined {
  const accounts = graph.inputsFrom(node, key).filter((dep) => dep.type === TYPES.serviceAccount);
  return accounts.length === 1 ? { node: accounts[0], email: emailOf(accounts[0]) } : undefined;
}

/** A workload's runtime account; undefined for Cloud Run's default account. */
function accountOfWorkload(graph: StackGraph, workload: StackWorkload): Account | Unknown | undefined {
  const email = workload.workload.serviceAccount;
  if (typeof email === "string") return accountByEmail(graph, email);
  if (email === undefined) return undefined;
  return accountFromDependency(graph, workload.node) ?? email;
}

type Member = { readonly account: Account } | { readonly other: string } | Unknown;

function memberOf(graph: StackGraph, grant: StackNode, member: unknown, dependencyKey: string): Member {
  if (typeof member === "string") {
    const match = /^serviceAccount:(.+)$/.exec(member);
    return match ? { account: accountByEmail(graph, match[1]) } : { other: member };
  }
  const account = accountFromDependency(graph, grant, dependencyKey);
  return account ? { account } : UNKNOWN;
}

/** One role binding of a grant resource: an IAM member, a binding, or one binding of a policy. */
interface Binding {
  readonly role: string | Unknown | undefined;
  readonly members: readonly unknown[] | Unknown;
  /** The property whose dependencies identify an unknown member's account. */
  readonly dependencyKey: string;
}

function bindingsOf(grant: StackNode): Binding[] | Unknown {
  if (/IamMember$|IAMMember$/.test(grant.type))
    return [{ role: text(grant.props.role), members: [grant.props.member], dependencyKey: "member" }];
  if (/IamBinding$|IAMBinding$/.test(grant.type))
    return [{ role: text(grant.props.role), members: list(grant.props.members), dependencyKey: "members" }];
  const policyData = text(grant.props.policyData);
  if (typeof policyData !== "string") return isUnknown(policyData) ? policyData : [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(policyData);
  } catch {
    return [];
  }
  const bindings = isRecord(parsed) && Array.isArray(parsed.bindings) ? parsed.bindings : [];
  return bindings
    .filter(isRecord)
    .map((binding) => ({ role: text(binding.role), members: list(binding.members), dependencyKey: "policyData" }));
}

function showMember(member: Exclude<Member, Unknown>): string {
  return "other" in member ? member.other : `serviceAccount:${member.account.email ?? member.account.node?.name ?? "?"}`;
}

export const leastPrivilegeSecretAccess: StackValidationPolicy = {
  name: "least-privilege-secret-access",
  description:
    "Protects each credential from every identity that does not need it: a secret-reading role (secretmanager.secretAccessor " +
    "or secretmanager.admin) may be granted only on one secret (SecretIamMember/Binding/Policy), only to the service account of " +
    "a Cloud Run service of this stack that reads that secret; never on a whole project, folder or organization; and no " +
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
          }
        }
      }
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
