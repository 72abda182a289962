/**
 * Every policy of the pack, in one list: `index.ts` serves them as a CrossGuard pack, and the
 * offline harness (`harness/policy-harness.ts`) and the tests run them without a server.
 */
import { EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { leastPrivilegeSecretAccess } from "./access";
import { compromisedGenerations } from "./compromised-generations";
import { secretAccessBeforeRollout } from "./access-order";
import { tokenEntropy } from "./entropy";
import { executorExposure } from "./exposure";
import { credentialsNotInPlainConfig } from "./plain-credentials";
import { secretVersionsRecoverable } from "./recoverability";
import { revocationRequiresVerification } from "./revocation";
import { revocationEndpoint } from "./revocation-endpoint";
import { executorBeforeControl } from "./rollout-order";
import { credentialsFromSecretManager, secretReferencesPinned } from "./secret-references";
import { servicesShareTokenVersion } from "./token";
import { verificationAfterRollouts, verificationExpectsPinnedGeneration } from "./verification";
import { inPlaceRotationWindow, taggedRouting } from "./tagged-routing";

export { leastPrivilegeSecretAccess } from "./access";
export { secretAccessBeforeRollout } from "./access-order";
export { tokenEntropy } from "./entropy";
export { executorExposure } from "./exposure";
export { credentialsNotInPlainConfig } from "./plain-credentials";
export { secretVersionsRecoverable } from "./recoverability";
export { revocationRequiresVerification } from "./revocation";
export { revocationEndpoint } from "./revocation-endpoint";
export { executorBeforeControl } from "./rollout-order";
export { credentialsFromSecretManager, secretReferencesPinned } from "./secret-references";
export { servicesShareTokenVersion } from "./token";
export { verificationAfterRollouts, verificationExpectsPinnedGeneration } from "./verification";
export { inPlaceRotationWindow, taggedRouting } from "./tagged-routing";

/** The pack's name, as `pulumi preview --policy-pack` reports it (also policy/package.json's name). */
export const POLICY_PACK_NAME = "wallet-executor-policy";

/** For a policy that sets none; every policy here sets its own (all mandatory but executor-exposure). */
export const PACK_ENFORCEMENT_LEVEL: EnforcementLevel = "mandatory";

export const PACK_DESCRIPTION =
  "Guards the wallet executor stack's credential rotation: revocation only after verification (found from the graph, " +
  "whatever things are named), the runbook's order as edges (grant -> workload, executor -> control -> verification -> " +
  "revocation), a verification of the pinned generation, pinned secret references, credentials only from Secret Manager " +
  "and never in plain configuration, one token version for both services, strong generated credentials, recoverable " +
  "versions, per-secret least-privilege access, and no unauthenticated public executor.";

export type WalletPolicy = ResourceValidationPolicy | StackValidationPolicy;

export const ALL_POLICIES: readonly WalletPolicy[] = [
  revocationRequiresVerification,
  secretAccessBeforeRollout,
  executorBeforeControl,
  verificationAfterRollouts,
  verificationExpectsPinnedGeneration,
  secretReferencesPinned,
  credentialsFromSecretManager,
  credentialsNotInPlainConfig,
  servicesShareTokenVersion,
  tokenEntropy,
  secretVersionsRecoverable,
  leastPrivilegeSecretAccess,
  executorExposure,
  revocationEndpoint,
  compromisedGenerations,
  taggedRouting,
  inPlaceRotationWindow,
];
