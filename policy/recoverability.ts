/**
 * Secret versions stay recoverable: a version dropped from the program is disabled, never
 * destroyed, and the mnemonic's destroyed versions stay restorable for a while. A resource policy:
 * everything it needs is in one resource's inputs and options.
 */
import { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { PreviewGaps, TYPES, at, isUnknown, plainProps, text } from "./graph";

/** The runbook keeps the old mnemonic "disabled but recoverable until reconciliation signoff". */
export const DEFAULT_MNEMONIC_MIN_DESTROY_TTL_DAYS = 30;

/** deletionPolicy values that do not destroy the version when it leaves the program. */
const KEEPING_DELETION_POLICIES: readonly string[] = ["DISABLE", "ABANDON", "PREVENT"];

export interface RecoverabilityConfig {
  readonly mnemonicMinDestroyTtlDays?: number;
}

/** The mnemonic's secret: labelled `credential: mnemonic` (as RotatingSecret labels it) or so named. */
function isMnemonicSecret(props: Readonly<Record<string, unknown>>): boolean | "unknown" {
  const label = text(at(props, "labels", "credential"));
  const secretId = text(props.secretId);
  if (label === "mnemonic" || (typeof secretId === "string" && /mnemonic/i.test(secretId))) return true;
  return isUnknown(label) || isUnknown(secretId) ? "unknown" : false;
}

/** `"2592000s"` -> seconds; undefined for anything that is not a Secret Manager duration. */
function durationSeconds(duration: string): number | undefined {
  const match = /^([0-9]+(?:\.[0-9]{1,9})?)s$/.exec(duration);
  return match ? Number(match[1]) : undefined;
}

export const secretVersionsRecoverable: ResourceValidationPolicy = {
  name: "secret-versions-recoverable",
  description:
    "Protects old credential generations from being destroyed by a program change: no secret may expire (`ttl` or " +
    "`expireTime`: its expiry deletes every version); every secret version must set " +
    "`deletionPolicy` to DISABLE (or ABANDON/PREVENT); unset means DELETE in the provider, so dropping a generation from the " +
    "program would destroy it in the same `up`, before verification. The mnemonic's secret (labelled credential: mnemonic, or " +
    "so named) must also keep destroyed versions restorable for at least `mnemonicMinDestroyTtlDays` days (versionDestroyTtl) " +
    'and be protected (`protect: true`). To fix: set deletionPolicy: "DISABLE" on the version; on the mnemonic\'s secret set ' +
    'versionDestroyTtl (e.g. "2592000s" for 30 days) and the protect resource option; remove any ttl or expireTime.',
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      mnemonicMinDestroyTtlDays: {
        type: "integer",
        minimum: 1,
        default: DEFAULT_MNEMONIC_MIN_DESTROY_TTL_DAYS,
        description: "Minimum versionDestroyTtl of the mnemonic's secret, in days.",
      },
    },
  },
  validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
    const gaps = new PreviewGaps();
    const props = plainProps(args.props);
    if (args.type === TYPES.secretVersion || args.type === TYPES.regionalSecretVersion) {
      const policy = text(props.deletionPolicy);
      if (isUnknown(policy)) gaps.skip(`${args.name}: its deletionPolicy`);
      else if (policy === undefined || !KEEPING_DELETION_POLICIES.includes(policy.toUpperCase())) {
        reportViolation(
          `${args.name} has deletionPolicy ${policy === undefined ? "unset (the provider's default is DELETE)" : JSON.stringify(policy)}: ` +
            `removing this generation from the program would destroy it. Set deletionPolicy: "DISABLE".`,
        );
      }
    }
    if (args.type === TYPES.secret || args.type === TYPES.regionalSecret) {
      for (const key of ["ttl", "expireTime"]) {
        const expiry = text(props[key]);
        if (isUnknown(expiry)) gaps.skip(`${args.name}: its ${key}`);
        else if (typeof expiry === "string" && expiry !== "") {
          reportViolation(
            `${args.name} sets ${key} ${JSON.stringify(expiry)}: when it expires, Secret Manager deletes the secret and every ` +
              `version in it, the current generation included, with no verification and no way back. To fix: remove ${key}; ` +
              `retire a generation by disabling its version after verification.`,
          );
        }
      }
    }
    if (args.type === TYPES.secret) {
      const mnemonic = isMnemonicSecret(props);
      if (mnemonic === "unknown") gaps.skip(`${args.name}: whether it holds the mnemonic`);
      if (mnemonic === true) {
        const config = args.getConfig<RecoverabilityConfig>();
        const minDays =
          typeof config.mnemonicMinDestroyTtlDays === "number" && config.mnemonicMinDestroyTtlDays > 0
            ? config.mnemonicMinDestroyTtlDays
            : DEFAULT_MNEMONIC_MIN_DESTROY_TTL_DAYS;
        const ttl = text(props.versionDestroyTtl);
        const seconds = typeof ttl === "string" ? durationSeconds(ttl) : undefined;
        if (isUnknown(ttl)) gaps.skip(`${args.name}: its versionDestroyTtl`);
        else if (ttl === undefined || seconds === undefined) {
          reportViolation(
            `${args.name} holds the wallet mnemonic but ${ttl === undefined ? "has no versionDestroyTtl: a destroyed version is gone at once" : `its versionDestroyTtl ${JSON.stringify(ttl)} is not a duration in seconds`}. ` +
              `Set versionDestroyTtl to at least ${minDays * 86_400}s (${minDays} days).`,
          );
        } else if (seconds < minDays * 86_400) {
          reportViolation(
            `${args.name} holds the wallet mnemonic but keeps destroyed versions restorable for ${+(seconds / 86_400).toFixed(2)} days ` +
              `(versionDestroyTtl ${ttl}), less than ${minDays}: set versionDestroyTtl to at least ${minDays * 86_400}s.`,
          );
        }
        if (!args.opts.protect) {
          reportViolation(
            `${args.name} holds the wallet mnemonic but is not protected: set the resource option protect: true, so no update or destroy can delete it.`,
          );
        }
      }
    }
    gaps.finish();
  },
};
