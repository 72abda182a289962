import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { PublishedVersionRevocation } from "./published-version-revocation";

/**
 * The bearer token's random source: 48 characters from [A-Za-z0-9] carry 48 * log2(62) ≈ 285 bits,
 * above the runbook's 32 bytes (256 bits). Special characters are left out so the token needs no
 * escaping in an Authorization header.
 */
export const TOKEN_LENGTH = 48;

/** Versions are disabled, never deleted, when dropped from the program (see docs/design/rotation-model.md). */
export const VERSION_DELETION_POLICY = "DISABLE";

/** The secret's annotation listing its compromised generations (`"3,5"`); the policy pack reads it. */
export const COMPROMISED_ANNOTATION = "compromised-generations";

/** `revocationGate` for a gate that does not exist yet: see `RotatingSecret.revokePreviousAfter`. */
export const REVOCATION_GATE_LATER = "later";

/** How a generation's value is produced. */
export type GenerationValues =
  /** A fresh random bearer token per generation (the executor auth token). */
  | { readonly kind: "random-token" }
  /**
   * The Spark key, the mnemonic: per generation, either a value from encrypted stack config, or
   * the number of a version already published in the secret, which the stack only references.
   */
  | {
      readonly kind: "provided";
      readonly values: Readonly<Record<number, pulumi.Input<string>>>;
      readonly published?: Readonly<Record<number, number>>;
    };

export interface RotatingSecretArgs {
  /** Secret Manager secret id, unique in the project, e.g. `wallet-executor-auth-token`. */
  readonly secretId: pulumi.Input<string>;
  /** GCP project holding the secret. */
  readonly project: pulumi.Input<string>;
  /** Region for user-managed replication: the secret lives where the services run. */
  readonly region: pulumi.Input<string>;
  /** Labels on the secret (environment, credential, ...). */
  readonly labels: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * The generation both services use. A plain number, not an Input: it names the version
   * resource (`<name>-g<current>`), and names must be known when the program runs.
   */
  readonly current: number;
  /** The generation being rotated out; its version stays enabled unless `revokePrevious`. */
  readonly previous?: number;
  /** Disable the previous generation's version, after `revocationGate` succeeded. */
  readonly revokePrevious: boolean;
  /**
   * Generations known to be compromised: never current, and disabled whenever this component
   * registers one (a compromised previous generation is revoked as with `revokePrevious`, so a hand
   * `gcloud secrets versions disable` is never undone by the next `up`). Recorded on the secret as
   * the annotation `compromised-generations`, where the policy pack reads them.
   */
  readonly compromised?: readonly number[];
  /**
   * The resource revocation must wait for: the verification of `current`. Required with
   * `revokePrevious`. The gate is usually built from this secret's own outputs: pass
   * `REVOCATION_GATE_LATER`, and once the gate exists, `revokePreviousAfter(gate)` registers the
   * revocation (same name, same parent, so the same URN as if registered here).
   */
  readonly revocationGate?: pulumi.Input<pulumi.Resource> | typeof REVOCATION_GATE_LATER;
  /** Where each generation's value comes from. */
  readonly values: GenerationValues;
  /** How long a destroyed version stays recoverable, in days (Secret Manager's delayed destroy). */
  readonly destroyTtlDays: number;
  /** Protect the secret itself from deletion by the engine (the mnemonic's). */
  readonly protect?: boolean;
  /**
   * The deploying identity's access token: revoking a published (not stack-owned) version calls
   * Secret Manager's API with it. Required only to revoke a published previous generation.
   */
  readonly revocationAccessToken?: pulumi.Input<string>;
  /** Secret Manager's API base for that revocation (default Google's; see secretManagerApiBase). */
  readonly revocationApiBase?: pulumi.Input<string>;
}

/** One generation in the secret: the number Cloud Run is pinned to, and where it came from. */
export interface PublishedGeneration {
  readonly generation: number;
  /** The stack-owned version resource; absent for a version published out of band. */
  readonly version?: gcp.secretmanager.SecretVersion;
  /** The Secret Manager version number, e.g. "4": what `secretKeyRef.version` pins. */
  readonly versionNumber: pulumi.Output<string>;
  /** The version's full name, `projects/<p>/secrets/<id>/versions/<number>`. */
  readonly versionName: pulumi.Output<string>;
  /** The generation's value, always a secret Output; absent when the stack never holds it. */
  readonly value?: pulumi.Output<string>;
}

/**
 * One Secret Manager secret holding a credential's generations: each generation is its own
 * `SecretVersion` (never a mutated one), so the previous value stays enabled through the rollout
 * and is disabled only after the gate, by changing that version's `enabled`.
 */
export class RotatingSecret extends pulumi.ComponentResource {
  readonly secret: gcp.secretmanager.Secret;
  /** The secret's resource id, `projects/<p>/secrets/<id>`: what IAM grants and secretKeyRefs name. */
  readonly secretResourceId: pulumi.Output<string>;
  readonly current: PublishedGeneration;
  /** The previous generation; with a gate given later, set by `revokePreviousAfter`. */
  previous?: PublishedGeneration;
  /** The previous generation's value, known from the start (the verification checks it is refused). */
  readonly previousValue?: pulumi.Output<string>;
  /** The revocation waiting for its gate (`REVOCATION_GATE_LATER`), with what registerOutputs needs. */
  private pendingRevocation?: { name: string; args: RotatingSecretArgs; generation: number; value?: pulumi.Output<string> };

  constructor(name: string, args: RotatingSecretArgs, opts?: pulumi.ComponentResourceOptions) {
    super("wallet:rotation:RotatingSecret", name, {}, opts);
    const compromised = [...new Set(args.compromised ?? [])].sort((a, b) => a - b);
    if (compromised.includes(args.current)) {
      throw new Error(`${name}: generation ${args.current} is compromised and cannot be current; rotate to a new generation`);
    }
    // A compromised previous generation is revoked whatever revokePrevious says.
    const revokePrevious = args.revokePrevious || (args.previous !== undefined && compromised.includes(args.previous));
    if (args.revokePrevious && args.previous === undefined) {
      throw new Error(`${name}: revokePrevious needs a previous generation`);
    }
    if (revokePrevious && !args.revocationGate) {
      throw new Error(
        `${name}: ${args.revokePrevious ? "revokePrevious" : `disabling compromised generation ${args.previous}`} needs a revocation gate (the verification of generation ${args.current})`,
      );
    }

    this.secret = new gcp.secretmanager.Secret(
      `${name}-secret`,
      {
        secretId: args.secretId,
        project: args.project,
        labels: args.labels,
        replication: { userManaged: { replicas: [{ location: args.region }] } },
        // A destroy request (by hand or by a later program) only disables the version for this
        // long: a mistaken destroy of a still-needed generation can be undone.
        versionDestroyTtl: `${args.destroyTtlDays * 86_400}s`,
        deletionProtection: true,
        ...(compromised.length > 0 ? { annotations: { [COMPROMISED_ANNOTATION]: compromised.join(",") } } : {}),
      },
      { parent: this, protect: args.protect },
    );
    this.secretResourceId = this.secret.id;

    this.current = this.publish(name, args, args.current, true);
    if (args.previous !== undefined) {
      const gate = revokePrevious ? args.revocationGate : undefined;
      if (gate === REVOCATION_GATE_LATER) {
        // The value now (the verification needs it), the version once the gate exists.
        const value = this.valueOf(name, args, args.previous);
        this.previousValue = value;
        this.pendingRevocation = { name, args, generation: args.previous, value };
        return;
      }
      // Revocation is an update of this version's `enabled`, ordered after the gate.
      this.previous = this.publish(name, args, args.previous, !revokePrevious, gate);
      this.previousValue = this.previous.value;
    }
    this.finish(args, revokePrevious);
  }

  /** True while a revocation given `REVOCATION_GATE_LATER` waits for `revokePreviousAfter`. */
  get revocationPending(): boolean {
    return this.pendingRevocation !== undefined;
  }

  /**
   * Registers the previous generation's revocation (its version disabled, or a published version's
   * revocation call) after `gate`: the verification of the current generation. Does nothing when
   * no revocation is pending.
   */
  revokePreviousAfter(gate: pulumi.Resource): void {
    const pending = this.pendingRevocation;
    if (pending === undefined) return;
    this.pendingRevocation = undefined;
    this.previous = this.publish(pending.name, pending.args, pending.generation, false, gate, pending.value);
    this.finish(pending.args, true);
  }

  private finish(args: RotatingSecretArgs, revokePrevious: boolean): void {
    const compromised = [...new Set(args.compromised ?? [])].sort((a, b) => a - b);
    this.registerOutputs({
      secretResourceId: this.secretResourceId,
      currentGeneration: args.current,
      currentVersion: this.current.versionNumber,
      previousGeneration: args.previous,
      previousVersion: this.previous?.versionNumber,
      previousEnabled: args.previous === undefined ? undefined : !revokePrevious,
      compromisedGenerations: compromised,
    });
  }

  /** A published generation's number, when the stack only references it. */
  private static publishedNumber(args: RotatingSecretArgs, generation: number): number | undefined {
    return args.values.kind === "provided" ? args.values.published?.[generation] : undefined;
  }

  /** A generation's value (a fresh random token, or the provided one); none for a published generation. */
  private valueOf(name: string, args: RotatingSecretArgs, generation: number): pulumi.Output<string> | undefined {
    if (RotatingSecret.publishedNumber(args, generation) !== undefined) return undefined;
    if (args.values.kind === "random-token") {
      const token = new random.RandomPassword(
        `${name}-g${generation}-value`,
        { length: TOKEN_LENGTH, special: false, upper: true, lower: true, numeric: true },
        { parent: this },
      );
      // The engine marks `result` secret; mocks and some code paths do not, so mark it here.
      return pulumi.secret(token.result);
    }
    const provided = args.values.values[generation];
    if (provided === undefined) throw new Error(`${name}: no value for generation ${generation}`);
    return pulumi.secret(provided);
  }

  private publish(
    name: string,
    args: RotatingSecretArgs,
    generation: number,
    enabled: boolean,
    gate?: pulumi.Input<pulumi.Resource>,
    knownValue?: pulumi.Output<string>,
  ): PublishedGeneration {
    const versionName = `${name}-g${generation}`;
    const publishedNumber = RotatingSecret.publishedNumber(args, generation);
    if (publishedNumber !== undefined) return this.reference(versionName, args, generation, publishedNumber, enabled, gate);
    const value = knownValue ?? this.valueOf(name, args, generation);
    const version = new gcp.secretmanager.SecretVersion(
      versionName,
      {
        secret: this.secret.id,
        secretData: value,
        enabled,
        deletionPolicy: VERSION_DELETION_POLICY,
      },
      { parent: this, dependsOn: gate ? [gate] : undefined },
    );
    return { generation, version, versionNumber: version.version, versionName: version.name, value };
  }

  /** A generation published out of band: referenced by number; revoked through the API. */
  private reference(
    versionName: string,
    args: RotatingSecretArgs,
    generation: number,
    versionNumber: number,
    enabled: boolean,
    gate?: pulumi.Input<pulumi.Resource>,
  ): PublishedGeneration {
    const fullName = pulumi.interpolate`${this.secret.id}/versions/${versionNumber}`;
    if (!enabled) {
      if (args.revocationAccessToken === undefined) {
        throw new Error(`${versionName}: revoking a published version needs revocationAccessToken`);
      }
      new PublishedVersionRevocation(
        `${versionName}-revocation`,
        { versionName: fullName, accessToken: args.revocationAccessToken, apiBase: args.revocationApiBase },
        { parent: this, dependsOn: gate ? [gate] : undefined },
      );
    }
    return { generation, versionNumber: pulumi.output(String(versionNumber)), versionName: fullName };
  }
}
