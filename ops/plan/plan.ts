/**
 * The offline plan's logic: from the registered resources, the steps of an `up` in waves (the
 * graph's topological layers), the critical path, and a stable JSON document with every secret
 * redacted. Pure: no Pulumi, no I/O.
 */
import { Phase, SLOW_PHASES, TYPES, phaseOf } from "../../stack/phases";
import { Redactor } from "../../lib/redact";

/** A registered resource, as much of it as the plan needs. */
export interface PlanResourceInput {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  readonly parent?: string;
  readonly dependencies: readonly string[];
  readonly inputs: Readonly<Record<string, unknown>>;
  /** Dotted paths of secret inputs (`secretData`, `payment`, `a.b[0]`). */
  readonly secretPaths: readonly string[];
}

export interface PlanResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly phase: Phase;
  /** Direct dependencies (URNs), sorted. */
  readonly dependsOn: readonly string[];
  /** Inputs with every secret replaced by "[secret]". */
  readonly inputs: Readonly<Record<string, unknown>>;
}

export interface CredentialSummary {
  readonly name: string;
  readonly current: number | null;
  readonly previous: number | null;
  readonly revokePrevious: boolean;
}

export interface PlanViolation {
  readonly policy: string;
  readonly enforcementLevel: string;
  readonly urn: string | null;
  readonly message: string;
}

/** The `--json` document; its shape is documented in docs/reference/cli.md. */
export interface PlanDocument {
  readonly project: string;
  readonly stack: string;
  readonly credentials: readonly CredentialSummary[];
  readonly resources: readonly PlanResource[];
  readonly waves: readonly (readonly string[])[];
  readonly criticalPath: readonly string[];
  readonly violations: readonly PlanViolation[];
  /** Secret config keys the stack needs that are not set yet (`pulumi up` refuses until they are). */
  readonly unsetSecrets: readonly string[];
  /** If this apply rotates the token: which control revision reaches which executor revision, wave by wave. */
  readonly routing: RoutingPrediction | null;
}

/** One control revision's calls at one point of the `up`. */
export interface RoutingLine {
  /** `control@old` (the revision running before the `up`) or `control@new`. */
  readonly control: string;
  /** The token generation it sends. */
  readonly tokenGeneration: number;
  /** The URL it calls: `tag g5` or `main URL`. */
  readonly via: string;
  /** The executor revision that answers (by name when the program names it). */
  readonly executorRevision: string;
  readonly accepted: boolean;
}

export interface RoutingWave {
  /** 1-based, as in `waves`; 0 = before the `up` changes anything. */
  readonly wave: number;
  readonly what: string;
  readonly lines: readonly RoutingLine[];
}

export interface RoutingPrediction {
  readonly strategy: "tagged" | "in-place";
  readonly fromGeneration: number;
  readonly toGeneration: number;
  readonly waves: readonly RoutingWave[];
  /** Predicted failed calls' window: 0, or the control's rollout (in control rollouts). */
  readonly failedCallWindowRollouts: 0 | 1;
  readonly failedCallWindow: string;
}

export const SECRET_MARK = "[secret]";
const PROVIDER_MARK = "[dynamic provider code]";
const UNKNOWN_MARK = "[unknown until apply]";

/** Input keys whose string values are credentials wherever they appear, marked secret or not. */
const CREDENTIAL_INPUT_KEYS: ReadonlySet<string> = new Set([
  "token",
  "previousToken",
  "accessToken",
  "apiKey",
  "password",
  "privateKey",
  "secretData",
  "mnemonic",
  "invoice",
  "credentials",
]);

/** Env var names that hold credentials: a literal `value` under one is hidden (`{name: "X_AUTH_TOKEN", value}`). */
const CREDENTIAL_ENV_NAME = /(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|MNEMONIC|PRIVATE_?KEY|CREDENTIALS?|INVOICE)$/i;

/**
 * Redacts the inputs at the given secret paths, and anything else that must not be shown: values
 * carrying a forbidden string, credential-named inputs, literal values of credential-named env vars.
 */
export function redactInputs(
  inputs: Readonly<Record<string, unknown>>,
  secretPaths: readonly string[],
  forbidden: readonly string[] = [],
): Record<string, unknown> {
  const secret = new Set(secretPaths);
  const walk = (value: unknown, at: string): unknown => {
    if (secret.has(at)) return SECRET_MARK;
    if (typeof value === "symbol") return UNKNOWN_MARK;
    if (typeof value === "string") {
      // Defence in depth: a value that carries a known secret is hidden even if it was not marked.
      return forbidden.some((f) => f !== "" && value.includes(f)) ? SECRET_MARK : value;
    }
    if (Array.isArray(value)) return value.map((item, i) => walk(item, `${at}[${i}]`));
    if (value !== null && typeof value === "object") {
      const record = value as Record<string, unknown>;
      const credentialEnv = typeof record.name === "string" && CREDENTIAL_ENV_NAME.test(record.name);
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(value).sort()) {
        const item = record[key];
        const path = at ? `${at}.${key}` : key;
        const credential = typeof item === "string" && (CREDENTIAL_INPUT_KEYS.has(key) || (credentialEnv && key === "value"));
        out[key] = key === "__provider" && !at ? PROVIDER_MARK : credential ? SECRET_MARK : walk(item, path);
      }
      return out;
    }
    return value;
  };
  return walk(inputs, "") as Record<string, unknown>;
}

/**
 * The dependencies that order steps: direct dependencies, where a dependency on a component
 * stands for all the custom resources below it (as the engine expands `dependsOn: component`).
 */
export function stepDependencies(resources: readonly PlanResourceInput[]): Map<string, string[]> {
  const children = new Map<string, string[]>();
  for (const r of resources) {
    if (r.parent) children.set(r.parent, [...(children.get(r.parent) ?? []), r.urn]);
  }
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const customBelow = (urn: string, seen = new Set<string>()): string[] => {
    if (seen.has(urn)) return [];
    seen.add(urn);
    const r = byUrn.get(urn);
    if (!r) return [];
    if (r.custom) return [urn];
    return (children.get(urn) ?? []).flatMap((child) => customBelow(child, seen));
  };
  const deps = new Map<string, string[]>();
  for (const r of resources) {
    if (!r.custom) continue;
    const expanded = new Set(r.dependencies.flatMap((d) => customBelow(d)));
    expanded.delete(r.urn);
    deps.set(r.urn, [...expanded].sort());
  }
  return deps;
}

/** Topological layers: wave N holds the steps whose dependencies are all in earlier waves. */
export function computeWaves(deps: ReadonlyMap<string, readonly string[]>): string[][] {
  const remaining = new Map([...deps].map(([urn, d]) => [urn, d.filter((x) => deps.has(x))]));
  const placed = new Set<string>();
  const waves: string[][] = [];
  while (remaining.size > 0) {
    const wave = [...remaining]
      .filter(([, d]) => d.every((x) => placed.has(x)))
      .map(([urn]) => urn)
      .sort();
    if (wave.length === 0) {
      throw new Error(`dependency cycle among: ${[...remaining.keys()].sort().join(", ")}`);
    }
    for (const urn of wave) {
      placed.add(urn);
      remaining.delete(urn);
    }
    waves.push(wave);
  }
  return waves;
}

/**
 * The longest chain of dependent steps: what bounds the `up`'s duration. Ties go to the chain
 * with more slow steps (rollouts, verification), then to the lexically first URN, so the answer is
 * stable.
 */
export function criticalPath(deps: ReadonlyMap<string, readonly string[]>, phaseByUrn: ReadonlyMap<string, Phase>): string[] {
  const order = computeWaves(deps).flat();
  const best = new Map<string, { length: number; slow: number; path: string[] }>();
  for (const urn of order) {
    const slow = SLOW_PHASES.has(phaseByUrn.get(urn) ?? "other") ? 1 : 0;
    let chosen: { length: number; slow: number; path: string[] } = { length: 0, slow: 0, path: [] };
    for (const dep of [...(deps.get(urn) ?? [])].sort()) {
      const candidate = best.get(dep);
      if (!candidate) continue;
      if (candidate.length > chosen.length || (candidate.length === chosen.length && candidate.slow > chosen.slow)) chosen = candidate;
    }
    best.set(urn, { length: chosen.length + 1, slow: chosen.slow + slow, path: [...chosen.path, urn] });
  }
  let result: { length: number; slow: number; path: string[] } = { length: 0, slow: 0, path: [] };
  for (const urn of order) {
    const candidate = best.get(urn) as { length: number; slow: number; path: string[] };
    if (candidate.length > result.length || (candidate.length === result.length && candidate.slow > result.slow)) result = candidate;
  }
  return result.path;
}

export interface BuildPlanArgs {
  readonly project: string;
  readonly stack: string;
  readonly resources: readonly PlanResourceInput[];
  readonly credentials: readonly CredentialSummary[];
  readonly violations: readonly PlanViolation[];
  /** Values that must never appear in the document (secret placeholders), whether marked or not. */
  readonly forbidden?: readonly string[];
  readonly unsetSecrets?: readonly string[];
  /** The program's `rotation` output: its strategy and the generations whose revisions carry a tag. */
  readonly rotation?: RotationSummary;
}

export interface RotationSummary {
  readonly strategy: "tagged" | "in-place";
  readonly taggedGenerations: readonly number[];
}

/** Builds the plan document: deterministic for the same input. */
export function buildPlan(args: BuildPlanArgs): PlanDocument {
  const deps = stepDependencies(args.resources);
  const phaseByUrn = new Map(args.resources.map((r) => [r.urn, phaseOf({ urn: r.urn, inputs: r.inputs })]));
  const resources = [...args.resources]
    .sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0))
    .map((r) => ({
      urn: r.urn,
      type: r.type,
      name: r.name,
      phase: phaseByUrn.get(r.urn) as Phase,
      dependsOn: [...new Set(r.dependencies)].sort(),
      inputs: redactInputs(r.inputs, r.secretPaths, args.forbidden),
    }));
  const violations = [...args.violations].sort((a, b) =>
    `${a.policy}\u0000${a.urn ?? ""}\u0000${a.message}` < `${b.policy}\u0000${b.urn ?? ""}\u0000${b.message}` ? -1 : 1,
  );
  const waves = computeWaves(deps);
  // Then every string VALUE of the document (names, messages, inputs) through the one redaction
  // module: credential shapes anywhere, never the serialized document.
  const redactor = new Redactor(args.forbidden);
  return redactor.values({
    project: args.project,
    stack: args.stack,
    credentials: args.credentials,
    resources,
    waves,
    criticalPath: criticalPath(deps, phaseByUrn),
    violations,
    unsetSecrets: [...(args.unsetSecrets ?? [])].sort(),
    routing: predictRouting(args.resources, args.credentials, waves, args.rotation),
  });
}

/**
 * If this apply moves the token from its previous generation to its current one: wave by wave,
 * which control revision reaches which executor revision with which token, and the predicted
 * failed-call window. `tagged`: every control revision calls its own generation's tag (0);
 * `in-place`, or a previous generation with no tag (deployed before `taggedSince`): the old
 * control's calls reach the new executor revision from the executor's rollout until the control's
 * rollout ends (about one control rollout).
 */
export function predictRouting(
  resources: readonly PlanResourceInput[],
  credentials: readonly CredentialSummary[],
  waves: readonly (readonly string[])[],
  rotation: RotationSummary | undefined,
): RoutingPrediction | null {
  const token = credentials.find((c) => c.name === "authToken");
  if (!token || token.current === null || token.previous === null) return null;
  const phase = (r: PlanResourceInput): Phase => phaseOf({ urn: r.urn, inputs: r.inputs });
  const executor = resources.find((r) => r.custom && phase(r) === "deploy-executor");
  const control = resources.find((r) => r.custom && phase(r) === "deploy-control");
  if (!executor || !control) return null;
  const waveOf = (urn: string): number => waves.findIndex((wave) => wave.includes(urn)) + 1;
  const removal = resources.find((r) => r.type === TYPES.executorTagRemoval);
  const from = token.previous;
  const to = token.current;
  const traffics = Array.isArray(executor.inputs.traffics) ? (executor.inputs.traffics as Record<string, unknown>[]) : [];
  const template = (executor.inputs.template ?? {}) as Record<string, unknown>;
  const named = (value: unknown): string => (typeof value === "string" && value !== "" ? value : "(revision named at apply)");
  const tagTarget = (generation: number) => traffics.find((t) => t.tag === `g${generation}`);
  // In a dry run the revision names (a hash of resolved values) are unknown: the program's own
  // `rotation` output says which generations are tagged.
  const tagged = rotation ? rotation.strategy === "tagged" : traffics.some((t) => typeof t.tag === "string" && t.tag !== "");
  const previousTagged = tagged && (rotation ? rotation.taggedGenerations.includes(from) : tagTarget(from) !== undefined);
  const newRevision = tagged ? named(template.revision) : `executor@new (accepts g${to} only)`;
  const oldTarget = previousTagged ? (tagTarget(from) ?? { revision: undefined }) : undefined;
  const oldRevision = oldTarget ? named(oldTarget.revision) : `executor@old (accepts g${from} only)`;
  const executorWave = waveOf(executor.urn);
  const controlWave = waveOf(control.urn);
  const oldControl = (via: string, revision: string, accepted: boolean): RoutingLine => ({
    control: "control@old",
    tokenGeneration: from,
    via,
    executorRevision: revision,
    accepted,
  });
  const newControl: RoutingLine = {
    control: "control@new",
    tokenGeneration: to,
    via: tagged ? `tag g${to}` : "main URL",
    executorRevision: newRevision,
    accepted: true,
  };
  const result: RoutingWave[] = [];
  if (oldTarget) {
    const viaOld = `tag g${from}`;
    result.push({ wave: 0, what: "before the up", lines: [oldControl(viaOld, oldRevision, true)] });
    result.push({
      wave: executorWave,
      what: `executor rollout: the main URL and tag g${to} move to ${newRevision}; tag g${from} stays`,
      lines: [oldControl(viaOld, oldRevision, true)],
    });
    result.push({
      wave: controlWave,
      what: "control rollout: old and new control revisions both serve for a while",
      lines: [oldControl(viaOld, oldRevision, true), newControl],
    });
    result.push(
      removal
        ? {
            wave: waveOf(removal.urn),
            what: `tag g${from} removed after the drain (the control's timeout + shutdown grace): g${from} refused everywhere`,
            lines: [newControl],
          }
        : { wave: controlWave, what: `after the control rollout; tag g${from} stays until revokePrevious`, lines: [newControl] },
    );
    return {
      strategy: "tagged",
      fromGeneration: from,
      toGeneration: to,
      waves: result,
      failedCallWindowRollouts: 0,
      failedCallWindow: "0",
    };
  }
  const via = "main URL";
  result.push({ wave: 0, what: "before the up", lines: [oldControl(via, oldRevision, true)] });
  result.push({
    wave: executorWave,
    what: `executor rollout: the main URL moves to ${newRevision}`,
    lines: [oldControl(via, newRevision, false)],
  });
  result.push({ wave: controlWave, what: "control rollout", lines: [oldControl(via, newRevision, false), newControl] });
  result.push({ wave: controlWave, what: "after the control rollout", lines: [newControl] });
  return {
    strategy: tagged ? "tagged" : "in-place",
    fromGeneration: from,
    toGeneration: to,
    waves: result,
    failedCallWindowRollouts: 1,
    failedCallWindow: tagged
      ? `about one control rollout (generation ${from} has no tag: it was deployed before taggedSince)`
      : "about one control rollout",
  };
}

function renderRouting(routing: RoutingPrediction): string[] {
  const lines = [`Token rotation g${routing.fromGeneration} -> g${routing.toGeneration}, if this apply makes it (${routing.strategy})`];
  for (const wave of routing.waves) {
    lines.push(`  ${wave.wave === 0 ? "before " : `wave ${String(wave.wave).padStart(2)}`}  ${wave.what}`);
    for (const line of wave.lines)
      lines.push(
        `             ${line.control} sends g${line.tokenGeneration} -> ${line.via} -> ${line.executorRevision}: ${line.accepted ? "accepted" : "REFUSED (401)"}`,
      );
  }
  lines.push(`  predicted failed-call window: ${routing.failedCallWindow}`);
  return lines;
}

/** True when a mandatory violation blocks the update. */
export function hasMandatoryViolation(plan: PlanDocument): boolean {
  return plan.violations.some((v) => v.enforcementLevel === "mandatory");
}

const shortName = (urn: string): string => urn.split("::").slice(3).join("::");

/** The human-readable plan; `notes` are printed under the credentials (e.g. what the stack last applied). */
export function renderPlan(plan: PlanDocument, notes: readonly string[] = []): string {
  const lines: string[] = [];
  const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
  lines.push(`Plan for ${plan.project}/${plan.stack} (offline: evaluated under mocks, no cloud calls, secrets redacted)`);
  lines.push("");
  lines.push("Credentials");
  if (plan.credentials.length === 0) lines.push("  (none reported by the program)");
  for (const c of plan.credentials) {
    const previous =
      c.previous === null
        ? "no previous generation"
        : c.revokePrevious
          ? `previous g${c.previous}: REVOKED after verification`
          : `previous g${c.previous}: stays enabled`;
    lines.push(`  ${c.name.padEnd(12)} current g${c.current ?? "?"}   ${previous}`);
  }
  for (const note of notes) lines.push(`  ${note}`);
  lines.push("");
  lines.push("Steps, in waves (a wave starts when every earlier wave is done)");
  const phaseWidth = Math.max(...plan.resources.map((r) => r.phase.length), 5);
  plan.waves.forEach((wave, i) => {
    wave.forEach((urn, j) => {
      const r = byUrn.get(urn);
      const label = j === 0 ? `  wave ${String(i + 1).padStart(2)}` : " ".repeat(10);
      lines.push(`${label}  ${(r?.phase ?? "other").padEnd(phaseWidth)}  ${shortName(urn)}  (${r?.type ?? "?"})`);
    });
  });
  if (plan.routing) {
    lines.push("");
    lines.push(...renderRouting(plan.routing));
  }
  lines.push("");
  const slow = plan.criticalPath.filter((urn) => SLOW_PHASES.has(byUrn.get(urn)?.phase ?? "other"));
  lines.push(`Critical path (${plan.criticalPath.length} steps, ${slow.length} slow)`);
  for (const urn of plan.criticalPath) {
    const r = byUrn.get(urn);
    const isSlow = SLOW_PHASES.has(r?.phase ?? "other");
    lines.push(`  ${isSlow ? "SLOW" : "    "}  ${(r?.phase ?? "other").padEnd(phaseWidth)}  ${shortName(urn)}`);
  }
  lines.push("");
  lines.push("Policy verdicts");
  if (plan.violations.length === 0) lines.push("  PASS  no violations");
  for (const v of plan.violations) {
    lines.push(
      `  ${v.enforcementLevel === "mandatory" ? "FAIL" : "WARN"}  [${v.enforcementLevel}] ${v.policy}${v.urn ? ` (${shortName(v.urn)})` : ""}`,
    );
    for (const line of v.message.split("\n")) lines.push(`        ${line}`);
  }
  if (plan.unsetSecrets.length > 0) {
    lines.push("");
    lines.push("Secrets not set yet (pulumi up stops until each is set: docs/runbooks/secrets-provider.md)");
    for (const key of plan.unsetSecrets) {
      const name = key.slice(key.indexOf(":") + 1);
      lines.push(`  NOT SET  ${key}: pulumi config set --secret ${name} --stack ${plan.stack} < <file holding the value>`);
    }
  }
  lines.push("");
  lines.push(
    hasMandatoryViolation(plan)
      ? "Result: BLOCKED by a mandatory policy"
      : plan.unsetSecrets.length > 0
        ? `Result: OK, once ${plan.unsetSecrets.length} secret value(s) are set`
        : "Result: OK",
  );
  return lines.join("\n");
}
