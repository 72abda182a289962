/**
 * What a change to a stack file does, as a reviewer reads it: the plan of the current program under
 * the base config against its plan under the new config. Generations bumped; steps created,
 * updated, replaced or deleted with the properties that change (update or replace decided by the
 * table the local providers use: localcloud/replacement-rules.ts); violations new in this change.
 * Pure: no Pulumi, no I/O.
 */
import { ruleFor } from "../../localcloud/replacement-rules";
import type { SecureValueChanges } from "../../stack/stack-file";
import { CredentialSummary, PlanDocument, PlanResource, PlanViolation, RoutingPrediction } from "./plan";

export type ChangeAction = "create" | "update" | "replace" | "delete";

/** One property that changes, with what the table says it does. */
export interface PropertyChange {
  /** Top-level input property (Pulumi's name). */
  readonly property: string;
  /** `replace`, `update`, or `unruled` when the table does not cover the type (its provider decides). */
  readonly effect: "replace" | "update" | "unruled";
  /** Dotted paths of the leaves that differ inside it (at most a few; `property` itself for a scalar). */
  readonly paths: readonly string[];
}

export interface ResourceChange {
  readonly action: ChangeAction;
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly phase: string;
  /** Empty for a create or a delete. */
  readonly properties: readonly PropertyChange[];
}

export interface GenerationChange {
  readonly credential: string;
  readonly from: { readonly current: number | null; readonly previous: number | null; readonly revokePrevious: boolean } | null;
  readonly to: { readonly current: number | null; readonly previous: number | null; readonly revokePrevious: boolean } | null;
}

/** The `change` key of the plan document with `--base`. */
export interface PlanChange {
  /** The git ref the plan is compared with, as given. */
  readonly base: string;
  /** Why the base could not be planned (then every step counts as a create), or null. */
  readonly baseError: string | null;
  readonly generations: readonly GenerationChange[];
  readonly resources: readonly ResourceChange[];
  /** Violations of the new plan that the base plan does not have. */
  readonly newViolations: readonly PlanViolation[];
  /** Violations of the base plan that this change resolves. */
  readonly resolvedViolations: readonly PlanViolation[];
  /** The new plan's token routing prediction, when this change rotates the token. */
  readonly routing: RoutingPrediction | null;
  /**
   * Secure values set again under the same key (ciphertexts compared, never decrypted): both plans
   * see redacted placeholders, so only the stack files show it. Null when the base has no file.
   */
  readonly secretValues: SecureValueChanges | null;
}

/** How many differing leaves a property lists before it stops (a reviewer wants where, not everything). */
const MAX_PATHS = 4;

/** The leaves where two JSON values differ, as dotted paths under `at`. */
export function differingPaths(before: unknown, after: unknown, at: string): string[] {
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
  if (Array.isArray(before) && Array.isArray(after)) {
    const out: string[] = [];
    for (let i = 0; i < Math.max(before.length, after.length); i++) out.push(...differingPaths(before[i], after[i], `${at}[${i}]`));
    return out;
  }
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => differingPaths(before[key], after[key], `${at}.${key}`));
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [at];
}

/** The properties that change between two input sets, each with its effect from the replacement table. */
export function propertyChanges(
  type: string,
  before: Readonly<Record<string, unknown>>,
  after: Readonly<Record<string, unknown>>,
): PropertyChange[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => k !== "__provider").sort();
  const out: PropertyChange[] = [];
  for (const property of keys) {
    const paths = differingPaths(before[property], after[property], property);
    if (paths.length === 0) continue;
    const rule = ruleFor(type, property);
    const shown = paths.length > MAX_PATHS ? [...paths.slice(0, MAX_PATHS), `… ${paths.length - MAX_PATHS} more`] : paths;
    out.push({ property, effect: rule ? rule.effect : "unruled", paths: shown });
  }
  return out;
}

/** A replace when any changing property replaces; otherwise an update. */
export function actionOf(properties: readonly PropertyChange[]): "update" | "replace" {
  return properties.some((p) => p.effect === "replace") ? "replace" : "update";
}

const ACTION_ORDER: Readonly<Record<ChangeAction, number>> = { replace: 0, delete: 1, create: 2, update: 3 };

/** The steps (custom resources: the ones in waves) of a plan, by URN. */
function stepsOf(plan: PlanDocument): Map<string, PlanResource> {
  const steps = new Set(plan.waves.flat());
  return new Map(plan.resources.filter((r) => steps.has(r.urn)).map((r) => [r.urn, r]));
}

/** The marker the plan shows for a value only the cloud knows at apply time. */
const UNKNOWN = "[unknown until apply]";

/** The top-level properties holding a value known only at apply time, with the paths of those values. */
export function unknownPaths(inputs: Readonly<Record<string, unknown>>): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const walk = (value: unknown, at: string, property: string): void => {
    if (value === UNKNOWN) found.set(property, [...(found.get(property) ?? []), at]);
    else if (Array.isArray(value)) value.forEach((item, i) => walk(item, `${at}[${i}]`, property));
    else if (value !== null && typeof value === "object") for (const [k, v] of Object.entries(value)) walk(v, `${at}.${k}`, property);
  };
  for (const [property, value] of Object.entries(inputs)) if (property !== "__provider") walk(value, property, property);
  return found;
}

/**
 * Steps created, updated, replaced, deleted: replaces and deletes first (what a reviewer must see).
 * Both plans are dry runs, so a value only the cloud knows (a new version's name) is the same
 * marker on both sides; as in `pulumi preview`, a step that reads such a value from a step created
 * or replaced by this change counts it as changing ("known at apply"), with the table's effect.
 */
export function resourceChanges(base: PlanDocument | null, next: PlanDocument): ResourceChange[] {
  const before = base ? stepsOf(base) : new Map<string, PlanResource>();
  const after = stepsOf(next);
  const changed = new Map<string, PropertyChange[]>();
  for (const [urn, r] of after) {
    const old = before.get(urn);
    if (old) changed.set(urn, propertyChanges(r.type, old.inputs, r.inputs));
  }
  const renewed = (urn: string): boolean => !before.has(urn) || actionOf(changed.get(urn) ?? []) === "replace";
  // To a fixed point: a replacement made so can renew what depends on it in turn.
  for (let again = true; again;) {
    again = false;
    for (const [urn, r] of after) {
      const properties = changed.get(urn);
      if (!properties || !r.dependsOn.some((dep) => after.has(dep) && renewed(dep))) continue;
      for (const [property, paths] of unknownPaths(r.inputs)) {
        if (properties.some((p) => p.property === property)) continue;
        const rule = ruleFor(r.type, property);
        properties.push({
          property,
          effect: rule ? rule.effect : "unruled",
          paths: paths.slice(0, MAX_PATHS).map((p) => `${p} (known at apply)`),
        });
        again = true;
      }
      properties.sort((a, b) => (a.property < b.property ? -1 : 1));
    }
  }
  const entry = (action: ChangeAction, r: PlanResource, properties: PropertyChange[] = []): ResourceChange => ({
    action,
    urn: r.urn,
    type: r.type,
    name: r.name,
    phase: r.phase,
    properties,
  });
  const changes: ResourceChange[] = [];
  for (const [urn, r] of after) {
    const properties = changed.get(urn);
    if (properties === undefined) changes.push(entry("create", r));
    else if (properties.length > 0) changes.push(entry(actionOf(properties), r, properties));
  }
  for (const [urn, r] of before) if (!after.has(urn)) changes.push(entry("delete", r));
  return changes.sort((a, b) => ACTION_ORDER[a.action] - ACTION_ORDER[b.action] || (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
}

/** The credentials whose generations or revocation change. */
export function generationChanges(base: readonly CredentialSummary[], next: readonly CredentialSummary[]): GenerationChange[] {
  const state = (c: CredentialSummary | undefined) =>
    c ? { current: c.current, previous: c.previous, revokePrevious: c.revokePrevious } : null;
  const names = [...new Set([...next.map((c) => c.name), ...base.map((c) => c.name)])];
  return names
    .map((credential) => ({
      credential,
      from: state(base.find((c) => c.name === credential)),
      to: state(next.find((c) => c.name === credential)),
    }))
    .filter((g) => JSON.stringify(g.from) !== JSON.stringify(g.to));
}

/** True when the token's current generation differs between the two plans. */
function tokenMoves(base: readonly CredentialSummary[], next: readonly CredentialSummary[]): boolean {
  const current = (list: readonly CredentialSummary[]) => list.find((c) => c.name === "authToken")?.current ?? null;
  return current(base) !== current(next);
}

const violationKey = (v: PlanViolation): string => `${v.policy}\u0000${v.urn ?? ""}\u0000${v.message}`;

/** What the new plan changes against the base plan (`base` null: it could not be planned, see `baseError`). */
export function diffPlans(
  baseRef: string,
  base: PlanDocument | null,
  next: PlanDocument,
  baseError: string | null = null,
  secretValues: SecureValueChanges | null = null,
): PlanChange {
  const baseViolations = new Set((base?.violations ?? []).map(violationKey));
  const nextViolations = new Set(next.violations.map(violationKey));
  return {
    base: baseRef,
    baseError,
    generations: generationChanges(base?.credentials ?? [], next.credentials),
    resources: resourceChanges(base, next),
    newViolations: next.violations.filter((v) => !baseViolations.has(violationKey(v))),
    resolvedViolations: (base?.violations ?? []).filter((v) => !nextViolations.has(violationKey(v))),
    // The window matters to a reviewer only when this change moves the token to another generation.
    routing: tokenMoves(base?.credentials ?? [], next.credentials) ? next.routing : null,
    secretValues,
  };
}

/** The secure values set again, as a reviewer reads them: their keys, and what it means. */
export function secretValueNotice(change: PlanChange): { readonly keys: readonly string[]; readonly why: string } | null {
  const values = change.secretValues;
  if (values === null || values.changed.length === 0) return null;
  const cause = values.encryptionChanged
    ? "the file's encryption settings changed too, so every secret was encrypted again: a changed ciphertext need not be a changed value"
    : "the value was set again, or the same value encrypted again (the file alone cannot tell)";
  return {
    keys: values.changed,
    why: `${cause}; the engine applies a new value in place, and a credential generation's value must not change: rotate to a new generation instead`,
  };
}

function generationText(state: GenerationChange["from"]): string {
  if (state === null) return "(none)";
  return `g${state.current ?? "?"}${state.previous === null ? "" : ` (previous g${state.previous}${state.revokePrevious ? ", revoked" : ""})`}`;
}

/** The change as text, for the terminal: what a reviewer checks first. */
export function renderChangeText(change: PlanChange): string[] {
  const lines = [`Changes against ${change.base} (the current program under both stack files)`];
  if (change.baseError !== null) lines.push(`  the base could not be planned: ${change.baseError}; every step counts as created`);
  for (const g of change.generations) lines.push(`  generation  ${g.credential}: ${generationText(g.from)} -> ${generationText(g.to)}`);
  if (change.resources.length === 0) lines.push("  no change to any resource");
  for (const r of change.resources) {
    const properties = r.properties.map((p) => `${p.property} (${p.effect === "unruled" ? "its provider decides" : p.effect})`).join(", ");
    lines.push(`  ${r.action.padEnd(8)}  ${r.name}  (${r.type})${properties ? `: ${properties}` : ""}`);
  }
  for (const v of change.newViolations) lines.push(`  NEW ${v.enforcementLevel === "mandatory" ? "FAIL" : "WARN"}  ${v.policy}`);
  for (const v of change.resolvedViolations) lines.push(`  RESOLVED  ${v.policy}`);
  const secrets = secretValueNotice(change);
  if (secrets) {
    lines.push(
      ...secrets.keys.map((key) => `  SECRET VALUE  ${key}: its encrypted value differs from ${change.base}`),
      `    (${secrets.why})`,
    );
  }
  if (change.routing) lines.push(`  predicted failed-call window: ${change.routing.failedCallWindow}`);
  return lines;
}
