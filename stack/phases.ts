/**
 * The runbook's phases, and how a resource of this stack maps to one. Pure: it reads only a
 * resource's URN (which carries its type and its parents' types) and, for secret versions, its
 * `enabled` input. The offline plan, the drill's timeline and the policy pack all classify with it,
 * so they agree on what "executor rollout" or "revocation" means.
 */

/** Type tokens of this stack's components and of the provider resources they own. */
export const TYPES = {
  rotatingSecret: "wallet:rotation:RotatingSecret",
  executorService: "wallet:service:ExecutorService",
  controlService: "wallet:service:ControlService",
  /** The verification gate: a dynamic resource with its own type token (module "rotation"). */
  verification: "pulumi-nodejs:dynamic/rotation:Verification",
  /** Revocation of a version published out of band (disabled through Secret Manager's API). */
  publishedVersionRevocation: "pulumi-nodejs:dynamic/rotation:PublishedVersionRevocation",
  /** `tagged`: removal of the revoked generation's tag from the executor (Cloud Run Admin API). */
  executorTagRemoval: "pulumi-nodejs:dynamic/rotation:ExecutorTagRemoval",
  /** `tagged`: the check that the revoked token is refused at every URL of the executor. */
  revocationCheck: "pulumi-nodejs:dynamic/rotation:RevocationCheck",
  secret: "gcp:secretmanager/secret:Secret",
  secretVersion: "gcp:secretmanager/secretVersion:SecretVersion",
  secretIamMember: "gcp:secretmanager/secretIamMember:SecretIamMember",
  cloudRunService: "gcp:cloudrunv2/service:Service",
  cloudRunServiceIamMember: "gcp:cloudrunv2/serviceIamMember:ServiceIamMember",
  serviceAccount: "gcp:serviceaccount/account:Account",
  randomPassword: "random:index/randomPassword:RandomPassword",
} as const;

/** The runbook's rotation order, as phases of one `pulumi up`. */
export const PHASES = ["stage-secret", "grant-access", "deploy-executor", "deploy-control", "verify", "revoke", "other"] as const;
export type Phase = (typeof PHASES)[number];

/** Phases whose steps take real time in an `up` (rollouts wait for a ready revision; verification polls). */
export const SLOW_PHASES: ReadonlySet<Phase> = new Set<Phase>(["deploy-executor", "deploy-control", "verify"]);

/** The parts of a URN: `urn:pulumi:<stack>::<project>::<parentType$...$type>::<name>`. */
export interface ParsedUrn {
  stack: string;
  project: string;
  /** The resource's own type token. */
  type: string;
  /** Its ancestors' type tokens, outermost first. */
  parentTypes: string[];
  name: string;
}

/** Splits a Pulumi URN. Throws on anything that is not one, naming the value. */
export function parseUrn(urn: string): ParsedUrn {
  const parts = urn.split("::");
  if (parts.length < 4 || !parts[0].startsWith("urn:pulumi:")) {
    throw new Error(`not a Pulumi URN: ${JSON.stringify(urn)}`);
  }
  const typeChain = parts[2].split("$");
  return {
    stack: parts[0].slice("urn:pulumi:".length),
    project: parts[1],
    type: typeChain[typeChain.length - 1],
    parentTypes: typeChain.slice(0, -1),
    // A name may itself contain "::"; everything after the type chain is the name.
    name: parts.slice(3).join("::"),
  };
}

/** What `phaseOf` needs to know of a resource. */
export interface PhaseSubject {
  urn: string;
  /** The resource's inputs, when known; only `enabled` of a secret version is read. */
  inputs?: Readonly<Record<string, unknown>>;
}

/** The runbook phase a resource belongs to. */
export function phaseOf(subject: PhaseSubject): Phase {
  const { type, parentTypes } = parseUrn(subject.urn);
  const within = (component: string): boolean => parentTypes.includes(component);
  switch (type) {
    case TYPES.secretVersion:
      return subject.inputs?.enabled === false ? "revoke" : "stage-secret";
    case TYPES.secret:
    case TYPES.randomPassword:
      return "stage-secret";
    case TYPES.secretIamMember:
      return "grant-access";
    case TYPES.verification:
      return "verify";
    case TYPES.publishedVersionRevocation:
    case TYPES.executorTagRemoval:
      return "revoke";
    case TYPES.revocationCheck:
      // The proof that the revocation took effect: part of the revocation step, which it follows.
      return "revoke";
    case TYPES.cloudRunService:
    case TYPES.cloudRunServiceIamMember:
    case TYPES.serviceAccount:
      if (within(TYPES.executorService)) return type === TYPES.cloudRunService ? "deploy-executor" : "other";
      if (within(TYPES.controlService)) return type === TYPES.cloudRunService ? "deploy-control" : "other";
      return "other";
    default:
      return "other";
  }
}
