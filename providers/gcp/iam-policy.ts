/**
 * IAM members as the real provider manages them: read the resource's policy, add (or remove) one
 * member of one role, write it back with the etag it read; a concurrent writer (two grants on one
 * secret in the same `up`) makes the write ABORTED, and the whole read-modify-write is retried.
 */
import { LocalCloudApiError } from "../../localcloud/client";
import { cloud } from "./common";

interface Binding {
  role: string;
  members: string[];
  condition?: unknown;
}

interface Policy {
  version?: number;
  bindings?: Binding[];
  etag?: string;
}

const ATTEMPTS = 12;

/** Applies `modify` to the bindings of the policy at `resource` (e.g. `/v1/projects/p/secrets/s`); returns the new etag. */
export async function modifyPolicy(resource: string, modify: (bindings: Binding[]) => Binding[]): Promise<string> {
  for (let attempt = 1; ; attempt += 1) {
    const current = await cloud().call<Policy>("POST", `${resource}:getIamPolicy`, {});
    const bindings = modify((current.bindings ?? []).map((b) => ({ ...b, members: [...b.members] })));
    try {
      const written = await cloud().call<Policy>("POST", `${resource}:setIamPolicy`, {
        policy: { version: current.version ?? 1, etag: current.etag, bindings },
      });
      return written.etag ?? "";
    } catch (err) {
      if (!(err instanceof LocalCloudApiError && err.status === "ABORTED") || attempt >= ATTEMPTS) throw err;
      await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 40 * attempt));
    }
  }
}

export function addMember(bindings: Binding[], role: string, member: string): Binding[] {
  const binding = bindings.find((b) => b.role === role && b.condition === undefined);
  if (binding) {
    if (!binding.members.includes(member)) binding.members.push(member);
    return bindings;
  }
  return [...bindings, { role, members: [member] }];
}

export function removeMember(bindings: Binding[], role: string, member: string): Binding[] {
  return bindings
    .map((b) => (b.role === role && b.condition === undefined ? { ...b, members: b.members.filter((m) => m !== member) } : b))
    .filter((b) => b.members.length > 0);
}

/** Whether the member holds the role on the resource, and the policy's etag. */
export async function memberOf(resource: string, role: string, member: string): Promise<{ present: boolean; etag: string }> {
  const policy = await cloud().call<Policy>("POST", `${resource}:getIamPolicy`, {});
  const present = (policy.bindings ?? []).some((b) => b.role === role && b.condition === undefined && b.members.includes(member));
  return { present, etag: policy.etag ?? "" };
}
