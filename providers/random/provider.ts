/**
 * The local `random` provider: RandomPassword, generated with the platform's CSPRNG the way the real
 * provider does (the minimum of each character class first, the rest from every enabled class,
 * then shuffled). The result is always secret. Every property replaces (a new password).
 */
import { randomInt } from "node:crypto";
import type { CheckFailure, Provider } from "@pulumi/pulumi/provider";
import { TYPES } from "../../localcloud/replacement-rules";
import { ResourceHandler, makeProvider } from "../framework";
import { Plain, UNKNOWN } from "../wire";

export const RANDOM_VERSION = (require("@pulumi/random/package.json") as { version: string }).version;

const LOWER = "abcdefghijklmnopqrstuvwxyz";
const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const NUMERIC = "0123456789";
const SPECIAL = "!@#$%&*()-_=+[]{}<>:?";

export interface PasswordSpec {
  readonly length: number;
  readonly upper: boolean;
  readonly lower: boolean;
  readonly numeric: boolean;
  readonly special: boolean;
  readonly minUpper: number;
  readonly minLower: number;
  readonly minNumeric: number;
  readonly minSpecial: number;
  readonly overrideSpecial?: string;
}

export function generatePassword(spec: PasswordSpec, pick: (max: number) => number = randomInt): string {
  const special = spec.overrideSpecial !== undefined && spec.overrideSpecial !== "" ? spec.overrideSpecial : SPECIAL;
  const classes: { chars: string; enabled: boolean; min: number }[] = [
    { chars: UPPER, enabled: spec.upper, min: spec.minUpper },
    { chars: LOWER, enabled: spec.lower, min: spec.minLower },
    { chars: NUMERIC, enabled: spec.numeric, min: spec.minNumeric },
    { chars: special, enabled: spec.special, min: spec.minSpecial },
  ];
  const all = classes
    .filter((c) => c.enabled)
    .map((c) => c.chars)
    .join("");
  if (all === "") throw new Error("at least one of upper, lower, numeric and special must be true");
  const chars: string[] = [];
  for (const c of classes) for (let i = 0; i < c.min; i += 1) chars.push(c.chars[pick(c.chars.length)]);
  while (chars.length < spec.length) chars.push(all[pick(all.length)]);
  for (let i = chars.length - 1; i > 0; i -= 1) {
    const j = pick(i + 1);
    [chars[i], chars[j]] = [chars[j], chars[i]];
  }
  return chars.join("");
}

function specOf(inputs: Plain): PasswordSpec {
  const n = (key: string): number => {
    const value = inputs[key];
    return typeof value === "number" ? value : 0;
  };
  return {
    length: n("length"),
    upper: inputs.upper !== false,
    lower: inputs.lower !== false,
    numeric: inputs.numeric !== false && inputs.number !== false,
    special: inputs.special !== false,
    minUpper: n("minUpper"),
    minLower: n("minLower"),
    minNumeric: n("minNumeric"),
    minSpecial: n("minSpecial"),
    ...(typeof inputs.overrideSpecial === "string" ? { overrideSpecial: inputs.overrideSpecial } : {}),
  };
}

export const randomPasswordHandler: ResourceHandler = {
  type: TYPES.randomPassword,
  defaults: {
    special: true,
    upper: true,
    lower: true,
    numeric: true,
    number: true,
    minUpper: 0,
    minLower: 0,
    minNumeric: 0,
    minSpecial: 0,
  },
  alwaysSecret: ["result"],
  validate(inputs): CheckFailure[] {
    const length = inputs.length;
    if (length === UNKNOWN) return [];
    if (typeof length !== "number" || !Number.isInteger(length) || length < 1)
      return [{ property: "length", reason: "length must be an integer of at least 1" }];
    const mins = ["minUpper", "minLower", "minNumeric", "minSpecial"].reduce((sum, key) => {
      const value = inputs[key];
      return sum + (typeof value === "number" ? value : 0);
    }, 0);
    return mins > length ? [{ property: "length", reason: `length ${length} must be at least the sum of the minimums (${mins})` }] : [];
  },
  create(inputs) {
    // The real provider's id is the constant "none".
    return Promise.resolve({ id: "none", outs: { ...inputs, result: generatePassword(specOf(inputs)) } });
  },
  read(id, state) {
    return Promise.resolve({ id, outs: state });
  },
  // Every property replaces: an update only carries the result over (the real provider's Update does the same).
  update(_id, olds, news) {
    return Promise.resolve({ ...news, result: olds.result });
  },
  delete() {
    return Promise.resolve();
  },
};

export function randomProvider(): Provider {
  return makeProvider("random", RANDOM_VERSION, [randomPasswordHandler]);
}
