/**
 * What the stack last applied, as much as the gates need: the mnemonic's current generation and
 * where its value came from, and each credential's compromised generations. The program reads it
 * from its own stack's outputs (a StackReference to itself); the offline plan from the stack file at
 * a base git ref. Pure: no Pulumi, no I/O.
 *
 * Why: `mnemonic.current` changing IS a mnemonic rotation (a new wallet), whether or not `previous`
 * is set, so its controls (approval, window, staging first) must not hinge on the operator also
 * remembering `previous`. When what was applied is unknown, it counts as a change.
 */
import {
  CREDENTIALS,
  ConfigError,
  CredentialKey,
  MAX_GENERATION,
  StackConfig,
  mnemonicRotationProblems,
  needsStagingVerification,
  projectKey,
} from "./config";

/** Where a generation's value comes from, as the program exports it (`credentials.<name>.currentSource`). */
export type GenerationSource = "generated" | "config" | "published";

/** One credential as the stack's `credentials` output shows it (the fields the gates read). */
export interface AppliedCredential {
  readonly currentGeneration?: number;
  /** The pinned version number, as a string ("7"). */
  readonly currentVersion?: string;
  readonly currentSource?: GenerationSource;
  readonly compromisedGenerations?: readonly number[];
}

/** The stack's last applied `credentials` output, by credential. */
export type AppliedState = Readonly<Partial<Record<CredentialKey, AppliedCredential>>>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const isGeneration = (value: unknown): value is number =>
  typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= MAX_GENERATION;

/**
 * The state of a stack that has never been applied (no outputs at all): a first deployment creates
 * the wallet, so its mnemonic is not a change from an earlier one. Any other missing or unreadable
 * state stays unknown, and unknown counts as a change.
 */
export const NEVER_APPLIED: AppliedState = Object.freeze({});

/** True when a stack's outputs show it was never applied: neither `environment` nor `credentials`. */
export function neverApplied(environmentOutput: unknown, credentialsOutput: unknown): boolean {
  return environmentOutput === undefined && credentialsOutput === undefined;
}

/**
 * Reads the `credentials` output of the stack's last update (or of a stand-in for it); undefined
 * when there is none, or it is not what this program exports (an unknown state).
 */
export function appliedStateFrom(credentialsOutput: unknown): AppliedState | undefined {
  if (!isRecord(credentialsOutput)) return undefined;
  const state: Partial<Record<CredentialKey, AppliedCredential>> = {};
  for (const credential of CREDENTIALS) {
    const value = credentialsOutput[credential];
    if (!isRecord(value)) continue;
    const source = value.currentSource;
    const compromised = value.compromisedGenerations;
    state[credential] = {
      currentGeneration: isGeneration(value.currentGeneration) ? value.currentGeneration : undefined,
      currentVersion: typeof value.currentVersion === "string" ? value.currentVersion : undefined,
      currentSource: source === "generated" || source === "config" || source === "published" ? source : undefined,
      compromisedGenerations: Array.isArray(compromised) ? compromised.filter(isGeneration) : undefined,
    };
  }
  return state;
}

/**
 * The `credentials` output a stack file's config would produce, for the gates: what the offline
 * plan stands in for "last applied" (the stack file at a base ref). Lenient on purpose: a field it
 * cannot read is left out (unknown), never guessed.
 */
export function appliedOutputsFromConfig(config: Readonly<Record<string, string>>): Record<string, unknown> {
  const credentials: Record<string, Record<string, unknown>> = {};
  for (const credential of CREDENTIALS) {
    let value: unknown;
    try {
      value = JSON.parse(config[projectKey(credential)] ?? "null");
    } catch {
      continue;
    }
    if (!isRecord(value) || !isGeneration(value.current)) continue;
    const published = isRecord(value.published) ? value.published[String(value.current)] : undefined;
    const out: Record<string, unknown> = { currentGeneration: value.current };
    if (credential !== "authToken") {
      out.currentSource = isGeneration(published) ? "published" : "config";
      if (isGeneration(published)) out.currentVersion = String(published);
    }
    if (Array.isArray(value.compromised)) out.compromisedGenerations = value.compromised.filter(isGeneration);
    credentials[credential] = out;
  }
  return { credentials };
}

/**
 * Why this config is a mnemonic rotation compared with what was applied; undefined when it is not.
 * The generation changed, the same generation now reads another value (another published version,
 * or config instead of a published version), or what was applied is unknown.
 */
export function mnemonicRotationReason(config: StackConfig, applied: AppliedState | undefined): string | undefined {
  const current = config.mnemonic.current;
  if (applied === NEVER_APPLIED) return undefined;
  const last = applied?.mnemonic;
  if (last?.currentGeneration === undefined) {
    return `what the stack last applied is unknown, so generation ${current} counts as a change`;
  }
  if (last.currentGeneration !== current) {
    return `current ${current} differs from generation ${last.currentGeneration}, which the stack last applied`;
  }
  const published = config.mnemonic.published[current];
  if (published !== undefined) {
    const sameVersion =
      last.currentSource === "published" && (last.currentVersion === undefined || last.currentVersion === String(published));
    if (!sameVersion) {
      return `generation ${current} now reads published version ${published}, not the ${last.currentSource === "published" ? `version ${last.currentVersion}` : "value"} the stack last applied`;
    }
  } else if (last.currentSource === "published") {
    return `generation ${current} now comes from config, not from published version ${last.currentVersion ?? "?"} the stack last applied`;
  }
  return undefined;
}

/** What the checks against the last applied state decided. */
export interface AppliedCheck {
  /** Why this is a mnemonic rotation; undefined when the mnemonic is unchanged. */
  readonly mnemonicRotation?: string;
  /** True when a prod stack must see staging's verification of its mnemonic generation first. */
  readonly needsStagingVerification: boolean;
}

/**
 * Checks a parsed config against what the stack last applied: a mnemonic rotation needs its
 * approval and window (with or without `previous`), and a generation once applied as compromised
 * stays listed. Throws one ConfigError with every problem.
 */
export function checkAgainstApplied(config: StackConfig, applied: AppliedState | undefined, now: Date): AppliedCheck {
  const problems: string[] = [];
  const mnemonicRotation = mnemonicRotationReason(config, applied);
  if (mnemonicRotation !== undefined)
    problems.push(...mnemonicRotationProblems(config.mnemonic, now, `a mnemonic change: ${mnemonicRotation}`));
  for (const credential of CREDENTIALS) {
    for (const generation of applied?.[credential]?.compromisedGenerations ?? []) {
      if (!config[credential].compromised.includes(generation)) {
        problems.push(
          `${projectKey(credential)}.compromised: generation ${generation} was marked compromised when the stack was last applied; ` +
            `allowed: a list that still includes ${generation} (a compromised generation stays dead)`,
        );
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { mnemonicRotation, needsStagingVerification: needsStagingVerification(config, mnemonicRotation !== undefined) };
}
