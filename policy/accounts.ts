/**
 * Who runs as whom and who may read what: service accounts (by email or by their resource, known
 * in preview through property dependencies), the members and role bindings of IAM grants on a
 * secret or on a whole project, folder or organization. Shared by the access and ordering policies.
 */
import { StackGraph, StackNode, TYPES, UNKNOWN, Unknown, isRecord, isUnknown, list, text } from "./graph";
import { StackWorkload } from "./workloads";

/** Roles that can read secret payloads. */
export const SECRET_READING_ROLES: readonly string[] = ["roles/secretmanager.secretAccessor", "roles/secretmanager.admin"];

/** Basic roles that include far more than any service needs (and, for owner, secret access). */
export const BASIC_ROLES: readonly string[] = ["roles/editor", "roles/owner"];

export const SECRET_GRANT_TYPES: readonly string[] = [TYPES.secretIamMember, TYPES.secretIamBinding, TYPES.secretIamPolicy];

export const SCOPE_GRANT_TYPES: Readonly<Record<string, { readonly scope: string; readonly key: string }>> = {
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
export interface Account {
  readonly email?: string;
  readonly node?: StackNode;
}

export function emailOf(account: StackNode): string | undefined {
  const email = text(account.props.email);
  if (typeof email === "string") return email;
  const accountId = text(account.props.accountId);
  const project = text(account.props.project);
  return typeof accountId === "string" && typeof project === "string" ? `${accountId}@${project}.iam.gserviceaccount.com` : undefined;
}

export function sameAccount(a: Account, b: Account): boolean {
  if (a.node && b.node) return a.node === b.node;
  return a.email !== undefined && a.email === b.email;
}

export function accountByEmail(graph: StackGraph, email: string): Account {
  return { email, node: graph.ofType(TYPES.serviceAccount).find((account) => emailOf(account) === email) };
}

/** The one service account a resource's property is built from (known in preview), if exactly one. */
export function accountFromDependency(graph: StackGraph, node: StackNode, key?: string): Account | undefined {
  const accounts = graph.inputsFrom(node, key).filter((dep) => dep.type === TYPES.serviceAccount);
  return accounts.length === 1 ? { node: accounts[0], email: emailOf(accounts[0]) } : undefined;
}

/** A workload's runtime account; undefined for Cloud Run's default account. */
export function accountOfWorkload(graph: StackGraph, workload: StackWorkload): Account | Unknown | undefined {
  const email = workload.workload.serviceAccount;
  if (typeof email === "string") return accountByEmail(graph, email);
  if (email === undefined) return undefined;
  return accountFromDependency(graph, workload.node) ?? email;
}

export type Member = { readonly account: Account } | { readonly other: string } | Unknown;

export function memberOf(graph: StackGraph, grant: StackNode, member: unknown, dependencyKey: string): Member {
  if (typeof member === "string") {
    const match = /^serviceAccount:(.+)$/.exec(member);
    return match ? { account: accountByEmail(graph, match[1]) } : { other: member };
  }
  const account = accountFromDependency(graph, grant, dependencyKey);
  return account ? { account } : UNKNOWN;
}

/** One role binding of a grant resource: an IAM member, a binding, or one binding of a policy. */
export interface Binding {
  readonly role: string | Unknown | undefined;
  readonly members: readonly unknown[] | Unknown;
  /** The property whose dependencies identify an unknown member's account. */
  readonly dependencyKey: string;
}

export function bindingsOf(grant: StackNode): Binding[] | Unknown {
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

export function showMember(member: Exclude<Member, Unknown>): string {
  return "other" in member ? member.other : `serviceAccount:${member.account.email ?? member.account.node?.name ?? "?"}`;
}
