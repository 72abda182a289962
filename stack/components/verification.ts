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

/** A value, or its parts, as Inputs: what a resource's args accept for a plain shape. */
type DeepInput<T> = T extends readonly (infer Item)[]
  ? pulumi.Input<readonly DeepInput<Item>[]>
  : T extends object
    ? pulumi.Input<{ readonly [K in keyof T]: DeepInput<T[K]> }>
    : pulumi.Input<T>;

/**
 * The verification's args: the gate's inputs (verification/gate.ts `GateInputs`, documented there),
 * each as an Input. One shape from the resource down to the library: the payment probe and the
 * executor mode are verification/verify.ts's `PaymentProbe` and `ExecutorMode`. `token`,
 * `previousToken` and `payment` are kept secret.
 */
export type VerificationArgs = { readonly [K in keyof GateInputs]: DeepInput<GateInputs[K]> };

/** The gate's inputs that hold secrets. */
const SECRET_INPUTS: readonly (keyof GateInputs)[] = ["token", "previousToken", "payment"];

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
      SECRET_INPUTS,
      opts,
    );
  }
}
