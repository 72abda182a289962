/**
 * The verification gate's logic, apart from Pulumi: which inputs make a new verification
 * necessary, how the inputs become verification options, and how a report becomes the gate's
 * outputs or its failure message. The dynamic provider in `stack/components/verification.ts` is a thin
 * shell around these functions and `verifyExecutor`.
 *
 * A dynamic provider's `diff` and `update` receive the OLD OUTPUTS, not the old inputs: so the
 * outputs carry every input a new verification depends on, and, for the secret inputs, a
 * fingerprint (a truncated SHA-256 of a high-entropy value, which reveals nothing of it) instead
 * of the value.
 */
import { createHash } from "crypto";
import { ExecutorMode, PaymentProbe, VerifyOptions, VerifyReport, redact, verifyExecutor, verifyRefusedEverywhere } from "./verify";

/** The credential generations a verification vouches for (read by the policy pack). */
export interface VerifiedGenerations {
  readonly authToken: number;
  readonly sparkApiKey: number;
  readonly mnemonic: number;
}

/** The gate's inputs, as the provider receives them (secrets already unwrapped). */
/** What a verification is about: shared by its inputs and, as a record of what passed, its outputs. */
export interface VerifiedDeployment {
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
  readonly expectMode: ExecutorMode;
  /**
   * `tagged` rotation: the executor's tag URLs by tag, the current generation's tag, and the
   * previous generation's (which still accepts the previous token by design). Absent: `in-place`.
   */
  readonly tags?: { readonly uris: Readonly<Record<string, string>>; readonly current: string; readonly previous?: string } | null;
}

export interface GateInputs extends VerifiedDeployment {
  readonly deadlineMs: number;
  /** Secret: the current token. */
  readonly token: string;
  /** Secret: the previous token, which must now get the deterministic 401. */
  readonly previousToken?: string;
  /** The payment probe; the invoice is secret. Absent when disabled for the environment. */
  readonly payment?: PaymentProbe;
  /** The identity the executor must show (a mnemonic rotation with a known new identity). */
  readonly expectIdentity?: string;
}

/** What the old wallet showed when the mnemonic changed: the reconciliation hand-off. */
export interface MnemonicCutover {
  readonly fromGeneration: number;
  readonly toGeneration: number;
  /** The previous identity and balance, as last seen by the verification before the cutover. */
  readonly previousIdentityPubkey: string | null;
  readonly previousBalanceSats: number | null;
  readonly previousSeenAt: string | null;
  /** The identity the new mnemonic shows. */
  readonly newIdentityPubkey: string | null;
  readonly cutoverAt: string;
}

/** Fingerprints of the secret inputs, so a changed secret is noticed without storing it. */
export interface SecretFingerprints {
  readonly token: string;
  readonly previousToken: string | null;
  readonly payment: string | null;
}

/** What the gate stores as outputs: never a secret. */
export interface GateOutputs extends VerifiedDeployment {
  readonly verifiedAt: string;
  readonly expectIdentity: string | null;
  readonly fingerprints: SecretFingerprints;
  readonly checks: readonly { readonly name: string; readonly ok: boolean; readonly ms: number }[];
  readonly walletId: string | null;
  readonly identityPubkey: string | null;
  readonly balanceSats: number | null;
  /** The last mnemonic cutover this stack went through, kept until the next one. */
  readonly mnemonicCutover: MnemonicCutover | null;
}

/** A short, irreversible fingerprint of a high-entropy secret. */
export function fingerprint(value: string): string {
  return createHash("sha256").update(value).digest("hex").slice(0, 16);
}

export function fingerprintsOf(inputs: GateInputs): SecretFingerprints {
  return {
    token: fingerprint(inputs.token),
    previousToken: inputs.previousToken === undefined ? null : fingerprint(inputs.previousToken),
    payment: inputs.payment === undefined ? null : fingerprint(JSON.stringify(inputs.payment)),
  };
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
  "tags",
] as const;

/** What differs between the last verification (its outputs) and the new inputs; empty = nothing to verify. */
export function changedTriggers(olds: Partial<GateOutputs>, news: GateInputs): string[] {
  const changed: string[] = TRIGGERS.filter((key) => JSON.stringify(olds[key] ?? null) !== JSON.stringify(news[key] ?? null));
  if ((olds.expectIdentity ?? null) !== (news.expectIdentity ?? null)) changed.push("expectIdentity");
  const before = olds.fingerprints;
  const after = fingerprintsOf(news);
  for (const key of ["token", "previousToken", "payment"] as const) {
    if (before?.[key] !== after[key]) changed.push(key);
  }
  return changed;
}

/**
 * A mnemonic rotation changes the wallet's identity: when the verified mnemonic generation
 * changes, the identity last seen must NOT be seen again (the executor would still run the old
 * wallet), and the old identity and balance become the reconciliation hand-off.
 */
export function identityToReject(olds: Partial<GateOutputs> | undefined, news: GateInputs): string | undefined {
  if (!olds?.generations || olds.generations.mnemonic === news.generations.mnemonic) return undefined;
  return olds.identityPubkey ?? undefined;
}

/** The verification module's options for these inputs. */
export function verifyOptionsFor(inputs: GateInputs, olds?: Partial<GateOutputs>): VerifyOptions {
  return {
    baseUrl: inputs.baseUrl,
    expectTokenVersion: inputs.expectTokenVersion,
    token: inputs.token,
    previousToken: inputs.previousToken,
    expectMode: inputs.expectMode,
    expectIdentity: inputs.expectIdentity,
    rejectIdentity: identityToReject(olds, inputs),
    payment: inputs.payment,
    deadlineMs: inputs.deadlineMs,
  };
}

/** The error an `up` fails with when verification fails: failing checks only, secrets redacted. */
export function failureMessage(inputs: GateInputs, report: VerifyReport): string {
  const failing = report.checks.filter((check) => !check.ok);
  const lines = failing.map((check) => `  - ${check.name}: ${check.detail}`);
  const kept = inputs.revoking.length > 0 ? `; NOT revoked, still enabled: ${inputs.revoking.join(", ")}` : "";
  const text =
    `verification of ${inputs.baseUrl} (token generation ${inputs.expectTokenVersion}) failed ` +
    `${failing.length} of ${report.checks.length} checks${kept}:\n${lines.join("\n")}`;
  return redact(text, [inputs.token, inputs.previousToken, inputs.payment?.invoice]);
}

/** The gate's outputs for a passing report. `olds` are the previous outputs, on update. */
export function gateOutputs(inputs: GateInputs, report: VerifyReport, now: Date, olds?: Partial<GateOutputs>): GateOutputs {
  const status = report.status;
  const before = olds?.generations;
  const mnemonicCutover: MnemonicCutover | null =
    before !== undefined && before.mnemonic !== inputs.generations.mnemonic
      ? {
          fromGeneration: before.mnemonic,
          toGeneration: inputs.generations.mnemonic,
          previousIdentityPubkey: olds?.identityPubkey ?? null,
          previousBalanceSats: olds?.balanceSats ?? null,
          previousSeenAt: olds?.verifiedAt ?? null,
          newIdentityPubkey: status?.identityPubkey ?? null,
          cutoverAt: now.toISOString(),
        }
      : (olds?.mnemonicCutover ?? null);
  return {
    verifiedAt: now.toISOString(),
    baseUrl: inputs.baseUrl,
    expectTokenVersion: inputs.expectTokenVersion,
    generations: inputs.generations,
    executorRevision: inputs.executorRevision,
    controlRevision: inputs.controlRevision,
    revoking: inputs.revoking,
    expectMode: inputs.expectMode,
    tags: inputs.tags ?? null,
    expectIdentity: inputs.expectIdentity ?? null,
    fingerprints: fingerprintsOf(inputs),
    checks: report.checks.map(({ name, ok, ms }) => ({ name, ok, ms })),
    walletId: status?.walletId ?? null,
    identityPubkey: status?.identityPubkey ?? null,
    balanceSats: status?.balanceSats ?? null,
    mnemonicCutover,
  };
}

/**
 * The whole gate: the checklist at the main URL and, for `tagged`, again at the current
 * generation's tag URL (the URL the control calls), and the previous token refused at every other
 * tag but the previous generation's (which accepts it until its revocation, by design).
 */
export async function runGate(inputs: GateInputs, olds?: Partial<GateOutputs>): Promise<VerifyReport> {
  const main = await verifyExecutor(verifyOptionsFor(inputs, olds));
  const tags = inputs.tags;
  if (!tags) return main;
  const checks = [...main.checks];
  const currentUri = tags.uris[tags.current];
  if (currentUri === undefined) {
    checks.push({ name: "status", ok: false, detail: `at tag ${tags.current}: the executor reports no URL for this tag`, ms: 0 });
  } else {
    const atTag = await verifyExecutor({ ...verifyOptionsFor(inputs, olds), baseUrl: currentUri, payment: undefined });
    checks.push(...atTag.checks.map((check) => ({ ...check, detail: `at tag ${tags.current}: ${check.detail}` })));
  }
  const others = Object.entries(tags.uris)
    .filter(([tag]) => tag !== tags.current && tag !== tags.previous)
    .map(([, uri]) => uri);
  if (inputs.previousToken !== undefined && others.length > 0) {
    const refused = await verifyRefusedEverywhere({
      urls: others,
      token: inputs.previousToken,
      deadlineMs: Math.min(inputs.deadlineMs, 30_000),
    });
    checks.push(...refused.checks.map((check) => ({ ...check, detail: `at the other tags: ${check.detail}` })));
  }
  const totalMs = main.totalMs;
  return { ok: checks.every((check) => check.ok), checks, status: main.status, totalMs };
}
