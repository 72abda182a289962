/**
 * The CrossGuard policy pack: `pulumi preview --policy-pack policy` starts this file, which serves
 * the policies over gRPC (it binds 127.0.0.1, prints its port, and never returns). Enforcement
 * levels and policy settings come from `--policy-pack-config <file>` (see policy-config.example.json).
 * Only this module constructs the pack; everything else imports `policies.ts`.
 */
import { PolicyPack } from "@pulumi/policy";
import { ALL_POLICIES, PACK_DESCRIPTION, PACK_ENFORCEMENT_LEVEL, POLICY_PACK_NAME } from "./policies";

new PolicyPack(POLICY_PACK_NAME, {
  policies: [...ALL_POLICIES],
  enforcementLevel: PACK_ENFORCEMENT_LEVEL,
  description: PACK_DESCRIPTION,
});
