/**
 * Which input changes update a resource in place and which replace it, for exactly the resource
 * types the program uses, as the real providers decide (their schemas: a Terraform `ForceNew` or
 * `RequiresReplace` is a replacement in Pulumi's bridged providers). The local providers' diff
 * uses this table, and docs/reference/replacement-rules.md shows the same rows (a test keeps the
 * two equal). Pure data: no imports, so the offline plan can use it too. The providers accept
 * exactly the properties listed for a type and refuse any other, so a property the local cloud
 * does not model fails loudly in `check` instead of being silently ignored.
 */

export type ReplacementEffect = "replace" | "update";

export interface ReplacementRule {
  /** Pulumi type token. */
  readonly type: string;
  /** Input property (Pulumi's name). */
  readonly property: string;
  readonly effect: ReplacementEffect;
  /** What an update does, or why it replaces. */
  readonly how: string;
  /** Where the rule comes from (provider schema file and field, or the SDK's doc comment). */
  readonly source: string;
}

export const TYPES = {
  secret: "gcp:secretmanager/secret:Secret",
  secretVersion: "gcp:secretmanager/secretVersion:SecretVersion",
  secretIamMember: "gcp:secretmanager/secretIamMember:SecretIamMember",
  serviceAccount: "gcp:serviceaccount/account:Account",
  cloudRunService: "gcp:cloudrunv2/service:Service",
  cloudRunServiceIamMember: "gcp:cloudrunv2/serviceIamMember:ServiceIamMember",
  randomPassword: "random:index/randomPassword:RandomPassword",
} as const;

const TF_SECRET = "terraform-provider-google google/services/secretmanager/resource_secret_manager_secret.go";
const TF_VERSION = "terraform-provider-google google/services/secretmanager/resource_secret_manager_secret_version.go";
const TF_IAM_MEMBER = "terraform-provider-google google/tpgiamresource/resource_iam_member.go";
const TF_ACCOUNT = "terraform-provider-google google/services/resourcemanager/resource_google_service_account.go";
const TF_RUN = "terraform-provider-google google/services/cloudrunv2/resource_cloud_run_v2_service.go";
const TF_RANDOM = "terraform-provider-random internal/provider/resource_password.go";
const DTS_SECRET = "@pulumi/gcp secretmanager/secret.d.ts";
const DTS_ACCOUNT = "@pulumi/gcp serviceaccount/account.d.ts";
const DTS_RUN = "@pulumi/gcp cloudrunv2/service.d.ts";

const rule = (type: string, property: string, effect: ReplacementEffect, how: string, source: string): ReplacementRule => ({
  type,
  property,
  effect,
  how,
  source,
});

export const REPLACEMENT_RULES: readonly ReplacementRule[] = [
  // Secret Manager secret
  rule(TYPES.secret, "secretId", "replace", "the secret's id is its name", `${TF_SECRET}: secret_id ForceNew`),
  rule(TYPES.secret, "project", "replace", "a secret cannot move between projects", `${TF_SECRET}: project ForceNew`),
  rule(
    TYPES.secret,
    "replication",
    "replace",
    "cannot be changed after creation",
    `${TF_SECRET}: replication ForceNew; ${DTS_SECRET}: "It cannot be changed after the Secret has been created"`,
  ),
  rule(TYPES.secret, "labels", "update", "PATCH updateMask=labels", `${TF_SECRET}: labels (no ForceNew)`),
  rule(TYPES.secret, "annotations", "update", "PATCH updateMask=annotations", `${TF_SECRET}: annotations (no ForceNew)`),
  rule(TYPES.secret, "versionAliases", "update", "PATCH updateMask=versionAliases", `${TF_SECRET}: version_aliases (no ForceNew)`),
  rule(
    TYPES.secret,
    "versionDestroyTtl",
    "update",
    "PATCH updateMask=versionDestroyTtl",
    `${DTS_SECRET}: versionDestroyTtl (no "forces" note; an updatable field of the Secret API)`,
  ),
  rule(
    TYPES.secret,
    "deletionProtection",
    "update",
    "provider-side only: checked on delete, no API call",
    `${DTS_SECRET}: "Whether Terraform will be prevented from destroying the secret"`,
  ),
  // Secret Manager version
  rule(TYPES.secretVersion, "secret", "replace", "a version belongs to one secret", `${TF_VERSION}: secret ForceNew`),
  rule(
    TYPES.secretVersion,
    "secretData",
    "replace",
    "versions are immutable: new data is a new version",
    `${TF_VERSION}: secret_data ForceNew`,
  ),
  rule(
    TYPES.secretVersion,
    "isSecretDataBase64",
    "replace",
    "changes how the data is sent",
    `${TF_VERSION}: is_secret_data_base64 ForceNew`,
  ),
  rule(
    TYPES.secretVersion,
    "enabled",
    "update",
    "calls :enable or :disable on the version",
    `${TF_VERSION}: enabled (no ForceNew; update calls :enable/:disable)`,
  ),
  rule(
    TYPES.secretVersion,
    "deletionPolicy",
    "update",
    "provider-side only: read on delete",
    `${TF_VERSION}: deletion_policy (virtual field, no ForceNew)`,
  ),
  // Secret IAM member
  rule(
    TYPES.secretIamMember,
    "secretId",
    "replace",
    "the binding's parent",
    `${TF_IAM_MEMBER} with iam_secret_manager_secret.go: secret_id ForceNew`,
  ),
  rule(TYPES.secretIamMember, "role", "replace", "IAM members have no update", `${TF_IAM_MEMBER}: role ForceNew`),
  rule(TYPES.secretIamMember, "member", "replace", "IAM members have no update", `${TF_IAM_MEMBER}: member ForceNew`),
  rule(
    TYPES.secretIamMember,
    "project",
    "replace",
    "the binding's parent",
    `${TF_IAM_MEMBER} with iam_secret_manager_secret.go: project ForceNew`,
  ),
  // Service account
  rule(
    TYPES.serviceAccount,
    "accountId",
    "replace",
    "the account's email derives from it",
    `${DTS_ACCOUNT}: "Changing this forces a new service account to be created"`,
  ),
  rule(TYPES.serviceAccount, "project", "replace", "an account cannot move between projects", `${TF_ACCOUNT}: project ForceNew`),
  rule(
    TYPES.serviceAccount,
    "displayName",
    "update",
    "PATCH updateMask=displayName",
    `${DTS_ACCOUNT}: "Can be updated without creating a new resource"`,
  ),
  rule(TYPES.serviceAccount, "description", "update", "PATCH updateMask=description", `${TF_ACCOUNT}: description (no ForceNew)`),
  rule(
    TYPES.serviceAccount,
    "disabled",
    "update",
    "calls :disable or :enable",
    `${DTS_ACCOUNT}: "Must be set after creation to disable a service account"`,
  ),
  rule(
    TYPES.serviceAccount,
    "createIgnoreAlreadyExists",
    "update",
    "provider-side only: read on create",
    `${TF_ACCOUNT}: create_ignore_already_exists (no ForceNew)`,
  ),
  // Cloud Run v2 service
  rule(TYPES.cloudRunService, "name", "replace", "the service's name is its identity (and its URL)", `${TF_RUN}: name ForceNew`),
  rule(TYPES.cloudRunService, "location", "replace", "a service cannot move between regions", `${TF_RUN}: location ForceNew`),
  rule(TYPES.cloudRunService, "project", "replace", "a service cannot move between projects", `${TF_RUN}: project ForceNew`),
  rule(
    TYPES.cloudRunService,
    "template",
    "update",
    "PATCH: a new immutable revision, then the traffic moves",
    `${TF_RUN}: template (no ForceNew); every template change creates a revision`,
  ),
  rule(TYPES.cloudRunService, "traffics", "update", "PATCH: the traffic moves, no new revision", `${TF_RUN}: traffic (no ForceNew)`),
  rule(TYPES.cloudRunService, "ingress", "update", "PATCH", `${TF_RUN}: ingress (no ForceNew)`),
  rule(TYPES.cloudRunService, "labels", "update", "PATCH", `${TF_RUN}: labels (no ForceNew)`),
  rule(TYPES.cloudRunService, "annotations", "update", "PATCH", `${TF_RUN}: annotations (no ForceNew)`),
  rule(TYPES.cloudRunService, "description", "update", "PATCH", `${TF_RUN}: description (no ForceNew)`),
  rule(TYPES.cloudRunService, "invokerIamDisabled", "update", "PATCH", `${TF_RUN}: invoker_iam_disabled (no ForceNew)`),
  rule(TYPES.cloudRunService, "launchStage", "update", "PATCH", `${TF_RUN}: launch_stage (no ForceNew)`),
  rule(
    TYPES.cloudRunService,
    "deletionProtection",
    "update",
    "provider-side only: checked on delete, no API call",
    `${DTS_RUN}: deletionProtection ("Whether Terraform will be prevented from destroying the service")`,
  ),
  // Cloud Run v2 service IAM member
  rule(
    TYPES.cloudRunServiceIamMember,
    "name",
    "replace",
    "the binding's parent",
    `${TF_IAM_MEMBER} with iam_cloud_run_v2_service.go: name ForceNew`,
  ),
  rule(
    TYPES.cloudRunServiceIamMember,
    "location",
    "replace",
    "the binding's parent",
    `${TF_IAM_MEMBER} with iam_cloud_run_v2_service.go: location ForceNew`,
  ),
  rule(
    TYPES.cloudRunServiceIamMember,
    "project",
    "replace",
    "the binding's parent",
    `${TF_IAM_MEMBER} with iam_cloud_run_v2_service.go: project ForceNew`,
  ),
  rule(TYPES.cloudRunServiceIamMember, "role", "replace", "IAM members have no update", `${TF_IAM_MEMBER}: role ForceNew`),
  rule(TYPES.cloudRunServiceIamMember, "member", "replace", "IAM members have no update", `${TF_IAM_MEMBER}: member ForceNew`),
  // random password: every argument replaces (a new password)
  ...["length", "special", "upper", "lower", "numeric", "number", "minLower", "minUpper", "minNumeric", "minSpecial"].map((property) =>
    rule(TYPES.randomPassword, property, "replace", "a new password", `${TF_RANDOM}: RequiresReplace`),
  ),
  rule(
    TYPES.randomPassword,
    "overrideSpecial",
    "replace",
    'a new password (not from "" to unset)',
    `${TF_RANDOM}: RequiresReplaceIf (unless "" to null)`,
  ),
  rule(TYPES.randomPassword, "keepers", "replace", "a new password when a keeper changes", `${TF_RANDOM}: RequiresReplaceIfValuesNotNull`),
];

/** The rule for a property of a type, or undefined when the table does not cover it. */
export function ruleFor(type: string, property: string): ReplacementRule | undefined {
  return REPLACEMENT_RULES.find((r) => r.type === type && r.property === property);
}

/** The input properties the table covers for a type (what the local providers accept). */
export function propertiesOf(type: string): string[] {
  return REPLACEMENT_RULES.filter((r) => r.type === type).map((r) => r.property);
}
