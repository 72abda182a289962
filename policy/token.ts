/**
 * The executor's bearer token: strong enough (its random source), and one source of truth (the
 * control service sends exactly the secret version the executor accepts).
 */
import {
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { PreviewGaps, StackGraph, StackNode, TYPES, isUnknown, isWithin, parseSecretName, plainProps, showSecret } from "./graph";
import { CONTROL_TOKEN_ENV_NAMES_SCHEMA, CredentialsConfig, controlTokenEnvNames } from "./secret-references";
import { CONTROL_BASE_URL_ENV_NAMES, ENV, EnvVar, Pin, StackWorkload, envNamed, isExecutor, pinsOf, workloadsOf } from "./workloads";

/** The runbook: "Generate a new random token (at least 32 bytes entropy)". */
export const MIN_TOKEN_ENTROPY_BITS = 256;

/** @pulumi/random's special characters when `overrideSpecial` is not set. */
const DEFAULT_SPECIAL_CHARACTERS = "!@#$%&*()-_=+[]{}<>:?";

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
    default:
      return undefined;
  }
}

const RANDOM_TYPES: readonly string[] = [
  TYPES.randomPassword,
  TYPES.randomString,
  TYPES.randomBytes,
  TYPES.randomId,
  TYPES.randomUuid,
  TYPES.randomUuid4,
  TYPES.randomUuid7,
];

export const tokenEntropy: ResourceValidationPolicy = {
  name: "token-entropy",
  description:
    "Protects the executor's bearer token from guessing: a random resource that is a token source (a child of a " +
    "RotatingSecret component, or a @pulumi/random resource whose name matches `tokenSourcePattern`, default `token`) must " +
    "yield at least 256 bits (the runbook's 32 bytes) of entropy. RandomPassword/RandomString count length x log2(alphabet), " +
    "RandomBytes/RandomId 8 bits per byte, UUIDs their random bits. To fix: raise `length` (43 or more characters from " +
    "[A-Za-z0-9]) or use 32 random bytes.",
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
  validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
    if (!RANDOM_TYPES.includes(args.type)) return;
    const config = args.getConfig<TokenEntropyConfig>();
    const pattern = new RegExp(typeof config.tokenSourcePattern === "string" ? config.tokenSourcePattern : "token", "i");
    if (!isWithin(args.urn, TYPES.rotatingSecret) && !pattern.test(args.name)) return;
    const minBits =
      typeof config.minEntropyBits === "number" ? Math.max(config.minEntropyBits, MIN_TOKEN_ENTROPY_BITS) : MIN_TOKEN_ENTROPY_BITS;
    const gaps = new PreviewGaps();
    const entropy = entropyOf(args.type, plainProps(args.props));
    if (entropy === "unknown") gaps.skip(`${args.name}: its length or character classes`);
    else if (entropy === undefined)
      reportViolation(`${args.name} has no length: its entropy cannot be established; set length explicitly.`);
    else if (entropy.bits < minBits) {
      const fix =
        entropy.alphabet !== undefined && entropy.alphabet > 1
          ? `set length to at least ${Math.ceil(minBits / Math.log2(entropy.alphabet))} with the same character classes`
          : `use at least ${Math.ceil(minBits / 8)} random bytes`;
      reportViolation(
        `${args.name} yields ${entropy.bits.toFixed(1)} bits of entropy (${entropy.explanation}); a bearer token needs at least ` +
          `${minBits} bits (${minBits / 8} bytes): ${fix}.`,
      );
    }
    gaps.finish();
  },
};

/** A workload's outbound token env var, and why it is the one. */
interface OutboundToken {
  readonly env: EnvVar;
  readonly reason: "secret" | "name";
}

/** Is this (non-executor) workload a control service calling the executor? */
function isControl(workload: StackWorkload, tokenNames: readonly string[], readsExecutorSecret: boolean): boolean {
  if (isWithin(workload.node.urn, TYPES.controlService)) return true;
  if (readsExecutorSecret) return true;
  return workload.workload.envs.some(
    (env) => typeof env.name === "string" && (tokenNames.includes(env.name) || CONTROL_BASE_URL_ENV_NAMES.includes(env.name)),
  );
}

export const servicesShareTokenVersion: StackValidationPolicy = {
  name: "services-share-token-version",
  description:
    "Protects control -> executor calls from 401s and drift: the control service's outbound token must be a secretKeyRef " +
    "to the executor's own token secret at the same version the executor accepts (one source of truth, no mirror secret). " +
    "The control service is a Cloud Run workload under a ControlService component, or one that reads the executor's token " +
    "secret or sets a control env name; its token env var is the one that references the executor's token secret, else one " +
    "named in `controlTokenEnvNames`. To fix: point the control's token env var at the executor's secret and the version " +
    "the executor pins (both from the same SecretVersion output).",
  enforcementLevel: "mandatory",
  configSchema: { properties: { controlTokenEnvNames: CONTROL_TOKEN_ENV_NAMES_SCHEMA } },
  validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
    const graph = new StackGraph(args.resources);
    const gaps = new PreviewGaps();
    const tokenNames = controlTokenEnvNames(args.getConfig<CredentialsConfig>());
    const workloads = workloadsOf(graph);
    for (const executor of workloads.filter((w) => isExecutor(w.node.urn, w.workload))) {
      const accepted = envNamed(executor.workload, ENV.token)?.secretKeyRef;
      // A literal or missing token is credentials-from-secret-manager's (or the config's) finding.
      if (!accepted) continue;
      if (isUnknown(accepted.secret)) {
        gaps.skip(`${executor.node.name}: which secret its token is`);
        continue;
      }
      const tokenSecretName = accepted.secret === undefined ? undefined : parseSecretName(accepted.secret);
      if (!tokenSecretName) continue;
      const tokenSecret: StackNode | undefined = graph.secretNamed(tokenSecretName);
      const namesTokenSecret = (env: EnvVar): boolean | "unknown" => {
        const secret = env.secretKeyRef?.secret;
        if (isUnknown(secret)) return "unknown";
        const name = typeof secret === "string" ? parseSecretName(secret) : undefined;
        return name !== undefined && graph.sameSecret(name, tokenSecretName);
      };
      for (const control of workloads.filter((w) => w !== executor && !isExecutor(w.node.urn, w.workload))) {
        const bySecret = control.workload.envs.filter((env) => namesTokenSecret(env) === true);
        if (!isControl(control, tokenNames, bySecret.length > 0)) continue;
        const who = control.node.name;
        const tokens: OutboundToken[] =
          bySecret.length > 0
            ? bySecret.map((env) => ({ env, reason: "secret" }))
            : control.workload.envs
                .filter((env) => typeof env.name === "string" && tokenNames.includes(env.name))
                .map((env) => ({ env, reason: "name" }));
        if (tokens.length === 0) {
          if (control.workload.unknownParts.length > 0 || control.workload.envs.some((env) => namesTokenSecret(env) === "unknown")) {
            gaps.skip(`${who}: which env var carries its outbound token`);
          } else {
            reportViolation(
              `${who} has no outbound token: no env var references the executor's token secret ${showSecret(tokenSecretName)}, and none is ` +
                `named ${tokenNames.join(" or ")}. Add one with secretKeyRef { secret: ${showSecret(tokenSecretName)}, version: <the executor's version> }.`,
              control.node.urn,
            );
          }
          continue;
        }
        for (const { env, reason } of tokens) {
          if (reason === "name") {
            const ref = env.secretKeyRef;
            if (!ref || env.literal) continue; // a literal token: credentials-from-secret-manager reports it
            if (namesTokenSecret(env) === "unknown") {
              gaps.skip(`${who} ${env.where}: which secret it reads`);
              continue;
            }
            reportViolation(
              `${who} ${env.where} reads its outbound token from ${typeof ref.secret === "string" ? ref.secret : "no secret"}, not from the ` +
                `executor's token secret ${showSecret(tokenSecretName)}: a mirror secret drifts from the executor's. Point it at ` +
                `${showSecret(tokenSecretName)} at the version ${executor.node.name} pins.`,
              control.node.urn,
            );
            continue;
          }
          const sent = env.secretKeyRef?.version;
          if (typeof sent === "string" && typeof accepted.version === "string") {
            if (sent !== accepted.version) {
              reportViolation(
                `${who} ${env.where} sends the token at version ${sent} of ${showSecret(tokenSecretName)}, but ${executor.node.name} accepts ` +
                  `version ${accepted.version}: every call from ${who} would get 401. Pin both to the same version.`,
                control.node.urn,
              );
            }
            continue;
          }
          if (sent === undefined || accepted.version === undefined) continue; // unpinned: secret-references-pinned reports it
          // During preview a new version's number is unknown: compare which version resource each is built from.
          const sentPins = tokenSecret ? pinsOf(graph, control, tokenSecret) : [];
          const acceptedPins = tokenSecret ? pinsOf(graph, executor, tokenSecret) : [];
          const single = (pins: Pin[]): StackNode | undefined => {
            const versions = [...new Set(pins.map((pin) => (pin.kind === "version" ? pin.version : undefined)))];
            return pins.length > 0 && versions.length === 1 ? versions[0] : undefined;
          };
          const sentVersion = single(sentPins);
          const acceptedVersion = single(acceptedPins);
          // Versions matched by dependency only confirm a match: a difference is reported once the numbers are known.
          if (!sentVersion || sentVersion !== acceptedVersion) {
            gaps.skip(`${who} ${env.where}: which token version it sends, compared with ${executor.node.name}'s`);
          }
        }
      }
    }
    gaps.finish();
  },
};
