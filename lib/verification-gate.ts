/**
 * The verification gate's logic, apart from Pulumi: which inputs make a new verification
 * necessary, how the inputs become verification options, and how a report becomes the gate's
 * outputs or its failure message. The dynamic provider in `components/verification.ts` is a thin
 * shell around these functions and `verifyExecutor`.
 */
import { VerifyOptions, VerifyReport, redact } from "./verify";

/** The credential generations a verification vouches for (read by the policy pack). */
export interface VerifiedGenerations {
  readonly authToken: number;
  readonly sparkApiKey: number;
  readonly mnemonic: number;
}

/** The gate's inputs, as the provider receives them (secrets already unwrapped). */
export interface GateInputs {
  /** The executor's URL. */
  readonly baseUrl: string;
  /** The token generation `/status` must report. */
  readonly expectTokenVersion: number;
  readonly generations: VerifiedGenerations;
  /** Revision names: a new rollout means a new verification. */
  readonly executorRevision: string;
  readonly controlRevision: string;
  /** The versions this verification releases for revocation; adding one re-verifies first. */
  readonly revoking: readonly string[];
  readonly expectMode: "spark" | "mock";
  readonly deadlineMs: number;
  /** Secret: the current token. */
  readonly token: string;
  /** Secret: the previous token, which must now get the deterministic 401. */
  readonly previousToken?: string;
  /** The payment probe; the invoice is secret. Absent when disabled for the environment. */
  readonly payment?: { readonly invoice: string; readonly host: string; readonly maxAmountMsats: number };
  readonly expectIdentity?: string;
  readonly rejectIdentity?: string;
}

/** What the gate stores as outputs: never a secret. */
export interface GateOutputs {
  readonly verifiedAt: string;
  readonly expectTokenVersion: number;
  readonly generations: VerifiedGenerations;
  readonly executorRevision: string;
  readonly controlRevision: string;
  readonly revoking: readonly string[];
  readonly checks: readonly { readonly name: string; readonly ok: boolean; readonly ms: number }[];
  readonly walletId?: string;
  readonly identityPubkey?: string;
  readonly balanceSats?: number;
}

/** The inputs whose change means the deployed state is no longer the verified one. */
const TRIGGERS = [
  "baseUrl",
  "expectTokenVersion",
  "generations",
  "executorRevision",
  "controlRevision",
  "revoking",
  "expectMode",
  "expectIdentity",
  "rejectIdentity",
] as const;

/** The trigger inputs that differ between the recorded and the new inputs. */
export function changedTriggers(olds: Partial<GateInputs>, news: GateInputs): string[] {
  const changed: string[] = TRIGGERS.filter((key) => JSON.stringify(olds[key]) !== JSON.stringify(news[key]));
  // Secrets are compared, never shown: a new token value (same generation) must be verified too.
  if (olds.token !== news.token) changed.push("token");
  if (olds.previousToken !== news.previousToken) changed.push("previousToken");
  if (JSON.stringify(olds.payment) !== JSON.stringify(news.payment)) changed.push("payment");
  return changed;
}

/** The verification module's options for these inputs. */
export function verifyOptionsFor(inputs: GateInputs): VerifyOptions {
  return {
    baseUrl: inputs.baseUrl,
    expectTokenVersion: inputs.expectTokenVersion,
    token: inputs.token,
    previousToken: inputs.previousToken,
    expectMode: inputs.expectMode,
    expectIdentity: inputs.expectIdentity,
    rejectIdentity: inputs.rejectIdentity,
    payment: inputs.payment,
    deadlineMs: inputs.deadlineMs,
  };
}

/** The error an `up` fails with when verification fails: failing checks only, secrets redacted. */
export function failureMessage(inputs: GateInputs, report: VerifyReport): string {
  const failing = report.checks.filter((check) => !check.ok);
  const lines = failing.map((check) => `  - ${check.name}: ${check.detail}`);
  const kept = inputs.revoking.length > 0 ? `; kept enabled: ${inputs.revoking.join(", ")}` : "";
  const text =
    `verification of ${inputs.baseUrl} (token generation ${inputs.expectTokenVersion}) failed ` +
    `${failing.length} of ${report.checks.length} checks${kept}:\n${lines.join("\n")}`;
  return redact(text, [inputs.token, inputs.previousToken, inputs.payment?.invoice]);
}

/** The gate's outputs for a passing report. */
export function gateOutputs(inputs: GateInputs, report: VerifyReport, now: Date): GateOutputs {
  return {
    verifiedAt: now.toISOString(),
    expectTokenVersion: inputs.expectTokenVersion,
    generations: inputs.generations,
    executorRevision: inputs.executorRevision,
    controlRevision: inputs.controlRevision,
    revoking: inputs.revoking,
    checks: report.checks.map(({ name, ok, ms }) => ({ name, ok, ms })),
    walletId: report.status?.walletId,
    identityPubkey: report.status?.identityPubkey,
    balanceSats: report.status?.balanceSats,
  };
}
