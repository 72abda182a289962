import * as pulumi from "@pulumi/pulumi";
import {
  GateInputs,
  GateOutputs,
  MnemonicCutover,
  VerifiedGenerations,
  changedTriggers,
  failureMessage,
  gateOutputs,
  runGate,
} from "../../verification/gate";
import { RotationStep, nothingToDelete } from "./rotation-step";

/**
 * Runs the runbook's checklist against the deployed executor, on create and on every update that
 * changes what is deployed (generation, URL, revision, the versions about to be revoked). A failed
 * check throws, which fails the `up` before anything that depends on this resource (revocation).
 *
 * Why a dynamic resource: the check must be a node in the same graph as the rollouts and the
 * revocation, so the engine orders it (control -> verification -> revocation) and stops the update
 * on failure; and it needs the token values, which a dynamic provider receives as secrets without
 * ever putting them in argv, logs or plain state.
 */
export const verificationProvider: pulumi.dynamic.ResourceProvider = {
  // `olds` are the previous OUTPUTS (how dynamic providers work): they carry what was verified.
  diff(_id: string, olds: GateOutputs, news: GateInputs): Promise<pulumi.dynamic.DiffResult> {
    const changed = changedTriggers(olds, news);
    // An update, never a replacement: revocation depends on this resource and must not be replaced with it.
    return Promise.resolve({ changes: changed.length > 0, replaces: [], deleteBeforeReplace: false });
  },
  async create(inputs: GateInputs): Promise<pulumi.dynamic.CreateResult> {
    const report = await runGate(inputs);
    if (!report.ok) throw new Error(failureMessage(inputs, report));
    return { id: `verification-g${inputs.expectTokenVersion}-${Date.now()}`, outs: gateOutputs(inputs, report, new Date()) };
  },
  async update(_id: string, olds: GateOutputs, news: GateInputs): Promise<pulumi.dynamic.UpdateResult> {
    // With the old outputs, a mnemonic rotation also checks that the old identity is gone.
    const report = await runGate(news, olds);
    if (!report.ok) throw new Error(failureMessage(news, report));
    return { outs: gateOutputs(news, report, new Date(), olds) };
  },
  // Nothing to undo: a verification leaves nothing behind in the cloud.
  delete: nothingToDelete,
};

export interface VerificationArgs {
  /** The executor's URL. */
  readonly baseUrl: pulumi.Input<string>;
  /** The token generation `/status` must report. */
  readonly expectTokenVersion: pulumi.Input<number>;
  /** The current generation of each credential this verification vouches for. */
  readonly generations: pulumi.Input<VerifiedGenerations>;
  /** The executor's ready revision (a new rollout re-verifies). */
  readonly executorRevision: pulumi.Input<string>;
  /** The control service's ready revision. */
  readonly controlRevision: pulumi.Input<string>;
  /** Names of the versions waiting for this gate to be revoked. */
  readonly revoking: pulumi.Input<readonly string[]>;
  readonly expectMode: pulumi.Input<"spark" | "mock">;
  readonly deadlineMs: pulumi.Input<number>;
  /** The current token (kept secret). */
  readonly token: pulumi.Input<string>;
  /** The previous token, when one is being rotated out (kept secret). */
  readonly previousToken?: pulumi.Input<string>;
  /** The payment probe (invoice kept secret); absent when disabled. */
  readonly payment?: pulumi.Input<{ invoice: pulumi.Input<string>; host: pulumi.Input<string>; maxAmountMsats: pulumi.Input<number> }>;
  /** The identity the executor must show, when a mnemonic rotation's new identity is known. */
  readonly expectIdentity?: pulumi.Input<string>;
  /** `tagged`: the executor's tag URLs, the current generation's tag and the previous one's. */
  readonly tags?: pulumi.Input<{ uris: pulumi.Input<Record<string, string>>; current: string; previous?: string }>;
}

/** The verification gate between the control rollout and revocation. */
export class Verification extends RotationStep {
  declare readonly verifiedAt: pulumi.Output<string>;
  declare readonly expectTokenVersion: pulumi.Output<number>;
  declare readonly generations: pulumi.Output<VerifiedGenerations>;
  declare readonly walletId: pulumi.Output<string | undefined>;
  declare readonly identityPubkey: pulumi.Output<string | undefined>;
  declare readonly balanceSats: pulumi.Output<number | undefined>;
  /** The last mnemonic cutover: the old identity and balance, for reconciliation. */
  declare readonly mnemonicCutover: pulumi.Output<MnemonicCutover | null>;

  /** `dependsOn` must include the control service: verification checks the finished rollout. */
  constructor(name: string, args: VerificationArgs, opts: pulumi.CustomResourceOptions) {
    super(
      verificationProvider,
      "Verification",
      name,
      {
        ...args,
        verifiedAt: undefined,
        walletId: undefined,
        identityPubkey: undefined,
        balanceSats: undefined,
        checks: undefined,
        mnemonicCutover: undefined,
        fingerprints: undefined,
      },
      // Secrets must stay out of outputs even if a future provider version echoes an input.
      ["token", "previousToken", "payment"],
      opts,
    );
  }
}
