import * as pulumi from "@pulumi/pulumi";

/**
 * What the stack's dynamic steps (the verification, a published version's revocation, the tag
 * removal, the revocation check) share: a type token `pulumi-nodejs:dynamic/rotation:<type>`, and
 * secret inputs kept secret in and out: wrapped as secrets going in, and listed as additional
 * secret outputs, so that a provider version that echoes an input cannot put it in plain state.
 */
export abstract class RotationStep extends pulumi.dynamic.Resource {
  protected constructor(
    provider: pulumi.dynamic.ResourceProvider,
    type: string,
    name: string,
    inputs: Record<string, unknown>,
    secretInputs: readonly string[],
    opts: pulumi.CustomResourceOptions,
  ) {
    const props: Record<string, unknown> = { ...inputs };
    for (const key of secretInputs) {
      const value = props[key];
      if (value !== undefined) props[key] = pulumi.secret(value);
    }
    super(provider, name, props, { ...opts, additionalSecretOutputs: [...secretInputs] }, "rotation", type);
  }
}

/** `delete` of a step that leaves nothing in the cloud to undo, or must not undo it as a side effect of a config edit. */
export function nothingToDelete(): Promise<void> {
  return Promise.resolve();
}
