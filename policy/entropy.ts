/**
 * Every generated credential is strong enough to withstand guessing: a random source that feeds a
 * credential (a secret version's value, a workload's configuration, the verification's token) is
 * held to the runbook's 32 bytes, whatever its type (RandomPassword, RandomString, RandomId,
 * RandomBytes, UUIDs, RandomInteger, RandomPet) and whatever it is named. A stack policy: what a
 * random value feeds is in the graph (property dependencies), not in the random resource itself.
 */
import { ReportViolation, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { PreviewGaps, RANDOM_TYPES, StackGraph, StackNode, TYPES, VERSION_TYPES, isUnknown, isWithin } from "./graph";
import { WORKLOAD_TYPES } from "./workloads";

/** The runbook: "Generate a new random token (at least 32 bytes entropy)". */
export const MIN_TOKEN_ENTROPY_BITS = 256;

/** @pulumi/random's special characters when `overrideSpecial` is not set. */
const DEFAULT_SPECIAL_CHARACTERS = "!@#$%&*()-_=+[]{}<>:?";

/** A generous bound on one word of a RandomPet (its word lists hold a few hundred to a thousand words). */
const PET_WORD_BITS = 11;

export interface TokenEntropyConfig {
  /** At least 256 (the runbook's 32 bytes); may only be raised. */
  readonly minEntropyBits?: number;
  /** A random resource whose logical name matches this (case-insensitive) is a token source. */
  readonly tokenSourcePattern?: string;
}

/** What a random resource yields, in bits, and how that was computed (for the message). */
export interface Entropy {
  readonly bits: number;
  readonly explanation: string;
  /** For character-based sources: the length that would reach `minBits` with the same alphabet. */
  readonly alphabet?: number;
}

/** Entropy of a @pulumi/random resource from its inputs; "unknown" when a needed input is. */
export function entropyOf(type: string, props: Readonly<Record<string, unknown>>): Entropy | "unknown" | undefined {
  const number = (key: string): number | "unknown" | undefined => {
    const value = props[key];
    if (isUnknown(value)) return "unknown";
    return typeof value === "number" ? value : undefined;
  };
  const flag = (key: string): boolean | "unknown" => {
    const value = props[key];
    if (isUnknown(value)) return "unknown";
    return value !== false; // every character class defaults to true
  };
  switch (type) {
    case TYPES.randomPassword:
    case TYPES.randomString: {
      const length = number("length");
      const flags = [flag("upper"), flag("lower"), flag("numeric"), flag("number"), flag("special")];
      const override = props.overrideSpecial;
      if (length === "unknown" || flags.includes("unknown") || isUnknown(override)) return "unknown";
      if (length === undefined) return undefined;
      const [upper, lower, numeric, numberAlias, special] = flags;
      // min* constraints only force some characters from a class; they are ignored (a slight overestimate).
      const specials = typeof override === "string" ? new Set(override).size : DEFAULT_SPECIAL_CHARACTERS.length;
      const alphabet = (upper ? 26 : 0) + (lower ? 26 : 0) + (numeric && numberAlias ? 10 : 0) + (special ? specials : 0);
      const bits = alphabet > 1 ? length * Math.log2(alphabet) : 0;
      return { bits, alphabet, explanation: `${length} characters from a ${alphabet}-character alphabet` };
    }
    case TYPES.randomBytes: {
      const length = number("length");
      if (length === "unknown") return "unknown";
      return length === undefined ? undefined : { bits: length * 8, explanation: `${length} random bytes` };
    }
    case TYPES.randomId: {
      const length = number("byteLength");
      if (length === "unknown") return "unknown";
      return length === undefined ? undefined : { bits: length * 8, explanation: `${length} random bytes` };
    }
    case TYPES.randomUuid:
    case TYPES.randomUuid4:
      return { bits: 122, explanation: "a version 4 UUID (122 random bits)" };
    case TYPES.randomUuid7:
      return { bits: 74, explanation: "a version 7 UUID (74 random bits)" };
    case TYPES.randomInteger: {
      const min = number("min");
      const max = number("max");
      if (min === "unknown" || max === "unknown") return "unknown";
      if (min === undefined || max === undefined) return undefined;
      const bits = max > min ? Math.log2(max - min + 1) : 0;
      return { bits, explanation: `an integer from ${min} to ${max}` };
    }
    case TYPES.randomPet: {
      const length = number("length");
      if (length === "unknown") return "unknown";
      const words = length ?? 2;
      return { bits: words * PET_WORD_BITS, explanation: `${words} words from pet-name word lists (at most ~${PET_WORD_BITS} bits each)` };
    }
    default:
      return undefined;
  }
}

/** Where a random value ends up as a credential. */
interface Fed {
  readonly what: string;
  /** The credential's value when it is a secret version's known secretData (to catch a truncated random value). */
  readonly value?: string;
}

/** Where a random value ends up as a credential, through any chain of property dependencies; undefined if nowhere. */
function credentialFed(graph: StackGraph, random: StackNode): Fed | undefined {
  const seen = new Set<StackNode>([random]);
  const pending: StackNode[] = [random];
  while (pending.length > 0) {
    const source = pending.shift() as StackNode;
    for (const consumer of graph.consumersOf(source)) {
      if (seen.has(consumer)) continue;
      seen.add(consumer);
      const uses = (key: string): boolean => graph.inputsFrom(consumer, key).includes(source);
      if (VERSION_TYPES.includes(consumer.type) && uses("secretData")) {
        const value = consumer.props.secretData;
        return { what: `the value of ${consumer.name}`, value: typeof value === "string" ? value : undefined };
      }
      if (WORKLOAD_TYPES.includes(consumer.type)) return { what: `the configuration of ${consumer.name}` };
      if (consumer.type === TYPES.verification && (uses("token") || uses("previousToken"))) {
        return { what: `the token ${consumer.name} presents` };
      }
      pending.push(consumer);
    }
  }
  return undefined;
}

/**
 * A character-based random value cut shorter on its way into the credential keeps only the
 * entropy of what is left: the credential's length (when known) times log2(alphabet).
 */
export function keptEntropy(
  entropy: Entropy | "unknown" | undefined,
  length: unknown,
  value: string | undefined,
): Entropy | "unknown" | undefined {
  if (entropy === "unknown" || entropy === undefined || entropy.alphabet === undefined || value === undefined) return entropy;
  if (typeof length !== "number" || value.length >= length) return entropy;
  return {
    bits: entropy.alphabet > 1 ? value.length * Math.log2(entropy.alphabet) : 0,
    alphabet: entropy.alphabet,
    explanation: `${value.length} of its ${length} characters from a ${entropy.alphabet}-character alphabet reach the credential`,
  };
}

export const tokenEntropy: StackValidationPolicy = {
  name: "token-entropy",
  description:
    "Protects generated credentials from guessing: a @pulumi/random resource (RandomPassword, RandomString, RandomBytes, " +
    "RandomId, RandomUuid*, RandomInteger, RandomPet) that feeds a credential (a secret version's secretData, a workload's " +
    "configuration, the verification's token, through any chain of property dependencies), that is a child of a " +
    "RotatingSecret component, or whose name matches `tokenSourcePattern` (default `token`) must yield at least 256 bits " +
    "(the runbook's 32 bytes) of entropy, whatever its type or name. RandomPassword/RandomString count length x " +
    "log2(alphabet), RandomBytes/RandomId 8 bits per byte, UUIDs their random bits. To fix: use 43 or more characters from " +
    "[A-Za-z0-9] (RandomPassword length 48, special: false), or 32 random bytes.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      minEntropyBits: {
        type: "integer",
        minimum: MIN_TOKEN_ENTROPY_BITS,
        default: MIN_TOKEN_ENTROPY_BITS,
        description: "Minimum entropy of a token source, in bits.",
      },
      tokenSourcePattern: {
        type: "string",
        minLength: 1,
        default: "token",
        description: "Regular expression (case-insensitive) on logical names that marks a random resource as a token source.",
      },
    },
  },
  validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
    const graph = new StackGraph(args.resources);
    const config = args.getConfig<TokenEntropyConfig>();
    const pattern = new RegExp(typeof config.tokenSourcePattern === "string" ? config.tokenSourcePattern : "token", "i");
    const minBits =
      typeof config.minEntropyBits === "number" ? Math.max(config.minEntropyBits, MIN_TOKEN_ENTROPY_BITS) : MIN_TOKEN_ENTROPY_BITS;
    const gaps = new PreviewGaps();
    for (const random of graph.ofType(...RANDOM_TYPES)) {
      const fed = credentialFed(graph, random);
      if (fed === undefined && !isWithin(random.urn, TYPES.rotatingSecret) && !pattern.test(random.name)) continue;
      const why = fed === undefined ? "" : ` (it becomes ${fed.what})`;
      const entropy = keptEntropy(entropyOf(random.type, random.props), random.props.length, fed?.value);
      if (entropy === "unknown") gaps.skip(`${random.name}: its length or character classes`);
      else if (entropy === undefined) {
        reportViolation(`${random.name}${why} has no length: its entropy cannot be established; set length explicitly.`, random.urn);
      } else if (entropy.bits < minBits) {
        const fix =
          entropy.alphabet !== undefined && entropy.alphabet > 1
            ? `set length to at least ${Math.ceil(minBits / Math.log2(entropy.alphabet))} with the same character classes`
            : `use at least ${Math.ceil(minBits / 8)} random bytes`;
        reportViolation(
          `${random.name}${why} yields ${entropy.bits.toFixed(1)} bits of entropy (${entropy.explanation}); a credential needs at ` +
            `least ${minBits} bits (${minBits / 8} bytes): ${fix}.`,
          random.urn,
        );
      }
    }
    gaps.finish();
  },
};
