/**
 * Identity and access: who is calling (a bearer token names a principal), the service accounts
 * of each project, and allow policies on resources (secrets, services) with the handful of roles
 * the stack uses. The deployer (the token the local cloud prints at start, the identity the
 * providers act as) may do anything, like a project owner; a service account may do only what a
 * binding on the resource grants it. Project-level bindings are not modelled: the stack grants
 * per secret, and a grant that only works through a project binding is what the policy pack refuses.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { ApiError, invalid, notFound } from "./errors";

export type Principal = { readonly kind: "deployer" } | { readonly kind: "serviceAccount"; readonly email: string };

export interface ServiceAccountRecord {
  readonly projectId: string;
  readonly accountId: string;
  readonly email: string;
  readonly uniqueId: string;
  displayName: string;
  description: string;
  disabled: boolean;
  readonly createTime: string;
}

export interface IamBinding {
  readonly role: string;
  readonly members: readonly string[];
  readonly condition?: { readonly expression: string; readonly title: string; readonly description?: string };
}

export interface IamPolicy {
  readonly version: number;
  readonly bindings: readonly IamBinding[];
  readonly etag: string;
}

/** The permissions of the roles the stack uses (from Google's IAM roles reference). */
export const ROLE_PERMISSIONS: Readonly<Record<string, readonly string[]>> = {
  "roles/secretmanager.secretAccessor": ["secretmanager.versions.access"],
  "roles/secretmanager.viewer": ["secretmanager.secrets.get", "secretmanager.versions.get", "secretmanager.versions.list"],
  "roles/secretmanager.secretVersionManager": [
    "secretmanager.versions.add",
    "secretmanager.versions.disable",
    "secretmanager.versions.enable",
    "secretmanager.versions.destroy",
    "secretmanager.versions.get",
    "secretmanager.versions.list",
  ],
  "roles/run.invoker": ["run.routes.invoke"],
};

const ACCOUNT_ID_PATTERN = /^[a-z](?:[-a-z0-9]{4,28}[a-z0-9])$/;

export class Iam {
  /** The deployer's token: what the providers and the operator present. */
  readonly deployerToken: string;
  private readonly tokens = new Map<string, Principal>();
  private readonly accounts = new Map<string, ServiceAccountRecord>();
  private readonly policies = new Map<string, IamPolicy>();

  constructor(
    private readonly now: () => number,
    deployerToken?: string,
  ) {
    this.deployerToken = deployerToken ?? `lc-deployer-${randomBytes(24).toString("hex")}`;
    this.tokens.set(this.deployerToken, { kind: "deployer" });
  }

  /** A token for a principal (an instance's identity, standing in for the metadata server). */
  issueToken(principal: Principal): string {
    const token = `lc-${principal.kind === "deployer" ? "deployer" : "sa"}-${randomBytes(24).toString("hex")}`;
    this.tokens.set(token, principal);
    return token;
  }

  revokeToken(token: string): void {
    if (token !== this.deployerToken) this.tokens.delete(token);
  }

  /** Who the `Authorization` header names; UNAUTHENTICATED without a known bearer token. */
  authenticate(authorization: string | undefined): Principal {
    const match = /^bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
    const principal = match ? this.tokens.get(match[1]) : undefined;
    if (!principal) {
      throw new ApiError(
        "UNAUTHENTICATED",
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
      );
    }
    return principal;
  }

  // ----------------------------------------------------------------------------------------------
  // Service accounts
  // ----------------------------------------------------------------------------------------------

  createServiceAccount(projectId: string, accountId: string, fields: { displayName?: string; description?: string }): ServiceAccountRecord {
    if (!ACCOUNT_ID_PATTERN.test(accountId)) {
      throw invalid(
        `accountId ${JSON.stringify(accountId)} must be 6-30 characters, lowercase letters, digits and hyphens, starting with a letter.`,
      );
    }
    const email = `${accountId}@${projectId}.iam.gserviceaccount.com`;
    if (this.accounts.has(email))
      throw new ApiError("ALREADY_EXISTS", `Service account ${accountId} already exists within project projects/${projectId}.`);
    const record: ServiceAccountRecord = {
      projectId,
      accountId,
      email,
      uniqueId: String(100_000_000_000_000_000n + BigInt(`0x${randomBytes(7).toString("hex")}`)),
      displayName: fields.displayName ?? "",
      description: fields.description ?? "",
      disabled: false,
      createTime: new Date(this.now()).toISOString(),
    };
    this.accounts.set(email, record);
    return record;
  }

  getServiceAccount(projectId: string, email: string): ServiceAccountRecord {
    const record = this.accounts.get(email);
    if (!record || record.projectId !== projectId) throw notFound(`Service account projects/${projectId}/serviceAccounts/${email}`);
    return record;
  }

  /** The account behind an email, in any project; undefined when it does not exist. */
  findServiceAccount(email: string): ServiceAccountRecord | undefined {
    return this.accounts.get(email);
  }

  deleteServiceAccount(projectId: string, email: string): void {
    this.getServiceAccount(projectId, email);
    this.accounts.delete(email);
    // Its bindings stay, as Google keeps them (shown as deleted:serviceAccount:...), but grant nothing:
    // a new account with the same email is a different principal and does not inherit them.
    for (const [resource, policy] of this.policies) {
      const bindings = policy.bindings.map((b) => ({
        ...b,
        members: b.members.map((m) => (m === `serviceAccount:${email}` ? `deleted:serviceAccount:${email}?uid=${this.now()}` : m)),
      }));
      this.policies.set(resource, { ...policy, bindings });
    }
  }

  // ----------------------------------------------------------------------------------------------
  // Allow policies
  // ----------------------------------------------------------------------------------------------

  getPolicy(resource: string): IamPolicy {
    return this.policies.get(resource) ?? { version: 1, bindings: [], etag: "ACAB" };
  }

  /** Replaces a resource's policy; a stale etag (a concurrent writer) is ABORTED, as Google does. */
  setPolicy(resource: string, policy: { bindings?: readonly IamBinding[]; etag?: string; version?: number }): IamPolicy {
    const current = this.getPolicy(resource);
    if (policy.etag !== undefined && policy.etag !== current.etag) {
      throw new ApiError(
        "ABORTED",
        `There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.`,
      );
    }
    const bindings: IamBinding[] = [];
    for (const binding of policy.bindings ?? []) {
      if (typeof binding.role !== "string" || !Array.isArray(binding.members)) throw invalid("Each binding needs a role and members.");
      for (const member of binding.members as readonly unknown[]) {
        if (typeof member !== "string" || !/^(allUsers|allAuthenticatedUsers|[a-zA-Z]+:.+)$/.test(member)) {
          throw invalid(`Invalid member ${JSON.stringify(member)}.`);
        }
      }
      const members = [...new Set(binding.members)].sort();
      if (members.length > 0)
        bindings.push({ role: binding.role, members, ...(binding.condition ? { condition: binding.condition } : {}) });
    }
    const next: IamPolicy = { version: policy.version ?? 1, bindings, etag: Buffer.from(randomUUID()).toString("base64").slice(0, 12) };
    this.policies.set(resource, next);
    return next;
  }

  dropPolicy(resource: string): void {
    this.policies.delete(resource);
  }

  /** Whether the principal holds the permission on the resource (unconditional bindings only). */
  allows(principal: Principal, permission: string, resource: string): boolean {
    if (principal.kind === "deployer") return true;
    const account = this.accounts.get(principal.email);
    if (!account || account.disabled) return false;
    const member = `serviceAccount:${principal.email}`;
    return this.getPolicy(resource).bindings.some(
      (b) => b.condition === undefined && b.members.includes(member) && (ROLE_PERMISSIONS[b.role] ?? []).includes(permission),
    );
  }
}

/** How a principal is named in error messages and bindings. */
export function describePrincipal(principal: Principal): string {
  return principal.kind === "deployer" ? "the deployer" : `serviceAccount:${principal.email}`;
}
