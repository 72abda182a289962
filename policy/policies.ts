/**
 * Every policy of the pack, in one list: `index.ts` serves them as a CrossGuard pack, and the
 * offline harness (`tools/policy-harness.ts`) and the tests run them without a server.
 */
import { EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { leastPrivilegeSecretAccess } from "./access";
import { executorExposure } from "./exposure";
import { secretVersionsRecoverable } from "./recoverability";
import { revocationRequiresVerification } from "./revocation";
import { revocationEndpoint } from "./revocation-endpoint";
import { credentialsFromSecretManager, secretReferencesPinned } from "./secret-references";
import { inPlaceRotationWindow, taggedRouting } from "./tagged-routing";
import { servicesShareTokenVersion, tokenEntropy } from "./token";

export { leastPrivilegeSecretAccess } from "./access";
export { executorExposure } from "./exposure";
export { secretVersionsRecoverable } from "./recoverability";
export { revocationRequiresVerification } from "./revocation";
export { revocationEndpoint } from "./revocation-endpoint";
export { credentialsFromSecretManager, secretReferencesPinned } from "./secret-references";
export { inPlaceRotationWindow, taggedRouting } from "./tagged-routing";
export { servicesShareTokenVersion, tokenEntropy } from "./token";

/** The pack's name, as `pulumi preview --policy-pack` reports it (also policy/package.json's name). */
export const POLICY_PACK_NAME = "wallet-executor-policy";

/** For a policy that sets none; every policy here sets its own (all mandatory but executor-exposure). */
export const PACK_ENFORCEMENT_LEVEL: EnforcementLevel = "mandatory";

export const PACK_DESCRIPTION =
  "Guards the wallet executor stack's credential rotation: revocation only after verification, pinned secret " +
  "references, credentials only from Secret Manager, one token version for both services, strong tokens, recoverable " +
  "versions, per-secret least-privilege access, and no unauthenticated public executor.";

export type WalletPolicy = ResourceValidationPolicy | StackValidationPolicy;

export const ALL_POLICIES: readonly WalletPolicy[] = [
  revocationRequiresVerification,
  secretReferencesPinned,
  credentialsFromSecretManager,
  servicesShareTokenVersion,
  tokenEntropy,
  secretVersionsRecoverable,
  leastPrivilegeSecretAccess,
  executorExposure,
  revocationEndpoint,
  taggedRouting,
  inPlaceRotationWindow,
];
