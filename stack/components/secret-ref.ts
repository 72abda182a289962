import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";

/** A secret version a service reads, pinned by NUMBER (never `latest`). */
export interface PinnedSecret {
  /** The secret's resource id, `projects/<p>/secrets/<id>`. */
  readonly secretResourceId: pulumi.Input<string>;
  /** The version number, e.g. "4". */
  readonly versionNumber: pulumi.Input<string>;
}

export const SECRET_ACCESSOR_ROLE = "roles/secretmanager.secretAccessor";

/** A Cloud Run env var read from Secret Manager, pinned to a version number. */
export function secretEnv(name: string, ref: PinnedSecret): gcp.types.input.cloudrunv2.ServiceTemplateContainerEnv {
  return { name, valueSource: { secretKeyRef: { secret: ref.secretResourceId, version: ref.versionNumber } } };
}

/** A plain Cloud Run env var. */
export function plainEnv(name: string, value: pulumi.Input<string>): gcp.types.input.cloudrunv2.ServiceTemplateContainerEnv {
  return { name, value };
}

/**
 * Grants one service account read access to exactly one secret. Returned so the service can
 * depend on it: an instance must never start before it may read its secrets.
 */
export function grantSecretAccess(
  name: string,
  secretResourceId: pulumi.Input<string>,
  serviceAccount: gcp.serviceaccount.Account,
  parent: pulumi.Resource,
): gcp.secretmanager.SecretIamMember {
  return new gcp.secretmanager.SecretIamMember(
    name,
    { secretId: secretResourceId, role: SECRET_ACCESSOR_ROLE, member: pulumi.interpolate`serviceAccount:${serviceAccount.email}` },
    { parent },
  );
}
