import * as pulumi from "@pulumi/pulumi";
import { verifyRefusedEverywhere } from "../../verification/verify";
import { RotationStep, nothingToDelete } from "./rotation-step";

/** The check's inputs, as the provider receives them (the token unwrapped). */
export interface RevocationCheckInputs {
  /** Every URL the service has left (main and tags): each must refuse the revoked token. */
  readonly urls: readonly string[];
  /** The removed tag's URL: it must route nowhere. Empty when the tag was already gone. */
  readonly removedUri: string;
  /** The revoked generation. */
  readonly generation: number;
  readonly deadlineMs: number;
  /** Secret: the revoked token. */
  readonly token: string;
}

async function check(inputs: RevocationCheckInputs): Promise<Record<string, unknown>> {
  const report = await verifyRefusedEverywhere({
    urls: inputs.urls,
    goneUrls: inputs.removedUri === "" ? [] : [inputs.removedUri],
    token: inputs.token,
    deadlineMs: inputs.deadlineMs,
  });
  if (!report.ok) {
    const failing = report.checks.filter((c) => !c.ok).map((c) => `  - ${c.name}: ${c.detail}`);
    throw new Error(`the revoked token of generation ${inputs.generation} is not refused everywhere:\n${failing.join("\n")}`);
  }
  return {
    urls: inputs.urls,
    removedUri: inputs.removedUri,
    generation: inputs.generation,
    deadlineMs: inputs.deadlineMs,
    checkedAt: new Date().toISOString(),
    checks: report.checks.map(({ name, ok, detail, ms }) => ({ name, ok, detail, ms })),
  };
}

/**
 * The check that depends on the revocation: after the revoked generation's tag is removed, its URL
 * routes nowhere and the revoked token gets 401 at every URL the service has left. A failure
 * fails the `up` (the operator sees which URL still accepts it).
 */
export const revocationCheckProvider: pulumi.dynamic.ResourceProvider = {
  diff(_id: string, olds: Record<string, unknown>, news: RevocationCheckInputs): Promise<pulumi.dynamic.DiffResult> {
    const changed =
      JSON.stringify(olds.urls) !== JSON.stringify(news.urls) || olds.removedUri !== news.removedUri || olds.generation !== news.generation;
    return Promise.resolve({ changes: changed, replaces: [], deleteBeforeReplace: false });
  },
  async create(inputs: RevocationCheckInputs): Promise<pulumi.dynamic.CreateResult> {
    return { id: `revoked-g${inputs.generation}-${Date.now()}`, outs: await check(inputs) };
  },
  async update(_id: string, _olds: Record<string, unknown>, news: RevocationCheckInputs): Promise<pulumi.dynamic.UpdateResult> {
    return { outs: await check(news) };
  },
  delete: nothingToDelete,
};

export interface RevocationCheckArgs {
  readonly urls: pulumi.Input<readonly string[]>;
  readonly removedUri: pulumi.Input<string>;
  readonly generation: pulumi.Input<number>;
  readonly deadlineMs: pulumi.Input<number>;
  /** The revoked token (kept secret). */
  readonly token: pulumi.Input<string>;
}

/** Proves the revoked token is refused at every URL of the executor service. */
export class RevocationCheck extends RotationStep {
  declare readonly checkedAt: pulumi.Output<string>;

  constructor(name: string, args: RevocationCheckArgs, opts: pulumi.CustomResourceOptions) {
    super(revocationCheckProvider, "RevocationCheck", name, { ...args, checkedAt: undefined, checks: undefined }, ["token"], opts);
  }
}
