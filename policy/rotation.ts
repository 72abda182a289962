/**
 * The rotation as the stack's graph shows it, whatever its resources are named: which credential
 * a secret holds, which generation a version carries, which workloads read a secret and which
 * version they pin, and which resources revoke a version. Shared by the revocation and
 * verification policies; names (`auth-token-g4`) are only ever a hint on top of the graph.
 */
import {
  SecretName,
  StackGraph,
  StackNode,
  TYPES,
  Unknown,
  VERSION_PATH,
  VERSION_TYPES,
  at,
  camelCase,
  isUnknown,
  isWithin,
  nameGeneration,
  parseSecretName,
  showSecret,
  text,
  versionNumberOf,
} from "./graph";
import {
  CONTROL_BASE_URL_ENV_NAMES,
  DEFAULT_CONTROL_TOKEN_ENV_NAMES,
  ENV,
  Pin,
  StackWorkload,
  envNamed,
  isExecutor,
  pinsOf,
  reads,
  secretRefsOf,
} from "./workloads";

/** A credential, as verifications and messages name it. */
export interface Credential {
  /** The verification's `generations` key (`authToken`); undefined when nothing in the graph says. */
  readonly key?: string;
  /** How messages name it (`auth-token`). */
  readonly label: string;
}

/** The executor env vars (the contract's names) that tell which credential a secret holds. */
const EXECUTOR_CREDENTIAL_ENVS: ReadonlyMap<string, Required<Credential>> = new Map([
  [ENV.token, { key: "authToken", label: "auth-token" }],
  [ENV.sparkApiKey, { key: "sparkApiKey", label: "spark-api-key" }],
  [ENV.mnemonicSecretVersion, { key: "mnemonic", label: "mnemonic" }],
]);

/** A secret as a revocation or a reference knows it: the stack's resource, else only its name. */
export interface SecretIdentity {
  readonly node?: StackNode;
  readonly name?: SecretName;
}

/** Does this reference text name the secret? "unknown" while the reference is. */
function names(graph: StackGraph, reference: string | Unknown | undefined, secret: SecretIdentity): boolean | "unknown" {
  if (isUnknown(reference)) return "unknown";
  const name = typeof reference === "string" ? parseSecretName(reference) : undefined;
  if (!name) return false;
  const own = secret.node ? graph.secretNameOf(secret.node) : secret.name;
  return own !== undefined && graph.sameSecret(name, own);
}

/**
 * Which credential a secret holds: its `credential` label; else the env var under which an
 * executor reads it (its token, its Spark key, its mnemonic's version path); else the
 * `<credential>-g<N>` names of its versions; else only a label (its id) and no key.
 */
export function credentialOf(
  graph: StackGraph,
  workloads: readonly StackWorkload[],
  secret: SecretIdentity,
  versionNames: readonly string[],
): Credential {
  const labelled = secret.node ? text(at(secret.node.props, "labels", "credential")) : undefined;
  if (typeof labelled === "string") return { key: camelCase(labelled), label: labelled };
  for (const executor of workloads.filter((w) => isExecutor(w.node.urn, w.workload))) {
    for (const env of executor.workload.envs) {
      const credential = typeof env.name === "string" ? EXECUTOR_CREDENTIAL_ENVS.get(env.name) : undefined;
      if (!credential) continue;
      const path = env.literal && typeof env.value === "string" ? VERSION_PATH.exec(env.value) : null;
      const reference = env.secretKeyRef ? env.secretKeyRef.secret : path ? `projects/${path[1]}/secrets/${path[2]}` : undefined;
      if (names(graph, reference, secret) === true) return credential;
    }
  }
  const conventional = versionNames.map((name) => /^(.+)-g[0-9]+(?:-revocation)?$/.exec(name)?.[1]).find((label) => label !== undefined);
  if (conventional !== undefined) return { key: camelCase(conventional), label: conventional };
  const id = secret.node ? graph.secretNameOf(secret.node) : secret.name;
  return { label: id ? showSecret(id) : (secret.node?.name ?? "the secret") };
}

/**
 * The generation a version carries: by the naming convention (`-g<N>`), else, for the executor's
 * token, the generation the executor advertises next to it (OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN_VERSION,
 * which `/status` echoes) when it pins exactly this version.
 */
export function generationOf(graph: StackGraph, workloads: readonly StackWorkload[], version: StackNode): number | undefined {
  const byName = nameGeneration(version.name);
  if (byName !== undefined) return byName;
  const secret = graph.secretOfVersion(version);
  if (!secret) return undefined;
  for (const executor of workloads.filter((w) => isExecutor(w.node.urn, w.workload))) {
    const token = envNamed(executor.workload, ENV.token);
    if (!token?.secretKeyRef) continue;
    const onVersion = pinsOf(graph, executor, secret).some(
      (pin) => pin.where === token.where && pin.kind === "version" && pin.version === version,
    );
    const advertised = advertisedTokenGeneration(executor);
    if (onVersion && typeof advertised === "number") return advertised;
  }
  return undefined;
}

/** The token generation an executor advertises (`/status` echoes it; the contract's default is 1). */
export function advertisedTokenGeneration(executor: StackWorkload): number | Unknown | undefined {
  const env = envNamed(executor.workload, ENV.tokenVersion);
  if (!env) return 1;
  if (!env.literal) return undefined;
  if (isUnknown(env.value)) return env.value;
  return typeof env.value === "string" && /^[0-9]+$/.test(env.value) ? Number(env.value) : undefined;
}

/**
 * Whether version `a` was created after `b`, from what the graph proves: version numbers when both
 * are known (Secret Manager numbers versions in order of creation); a version whose number is
 * unknown is being created now, after any that has one; between two new ones, the one that depends
 * on the other. Undefined when nothing proves it (registration order does not: a program may
 * register its versions in any order).
 */
export function createdAfter(graph: StackGraph, a: StackNode, b: StackNode): boolean | undefined {
  const na = versionNumberOf(a);
  const nb = versionNumberOf(b);
  const known = (n: unknown): n is string => typeof n === "string" && /^[0-9]+$/.test(n);
  if (known(na) && known(nb)) return Number(na) > Number(nb);
  if (known(nb) && isUnknown(na)) return true;
  if (known(na) && isUnknown(nb)) return false;
  if (graph.dependsOn(a, b)) return true;
  if (graph.dependsOn(b, a)) return false;
  return undefined;
}

/** A resource that revokes (disables) a secret version. */
export interface Revocation {
  readonly node: StackNode;
  /** `disabled`: `enabled: false`; `maybe`: `enabled` unknown until apply; `published`: a PublishedVersionRevocation. */
  readonly kind: "disabled" | "maybe" | "published";
  /** The revoked version resource (stack-owned versions only). */
  readonly version?: StackNode;
  readonly secret: SecretIdentity;
  /** The revoked version's number: known, unknown until apply, or not given. */
  readonly number: string | Unknown | undefined;
  /** The revoked version as messages name it (`auth-token-g3`). */
  readonly versionName: string;
  /** What a verification's `revoking` list may name it by. */
  readonly names: readonly string[];
  /** Why the revoked secret cannot be told during preview, if it cannot. */
  readonly unplaced?: string;
}

/** The secret a version belongs to, by dependency or by name (with the name when the stack does not own it). */
function secretOfVersion(graph: StackGraph, version: StackNode): { secret: SecretIdentity; unplaced?: string } {
  const node = graph.secretOfVersion(version);
  if (node) return { secret: { node } };
  const reference = text(version.props.secret);
  if (isUnknown(reference)) return { secret: {}, unplaced: "which secret it belongs to" };
  const name = typeof reference === "string" ? parseSecretName(reference) : undefined;
  if (name && graph.secretsNamed(name).length > 1) {
    return { secret: { name }, unplaced: `which secret it belongs to (several Secrets of this stack are named ${showSecret(name)})` };
  }
  return { secret: { name } };
}

/**
 * Every revocation of the stack, found by what it does, never by its name: a secret version
 * (global or regional) with `enabled: false` (or `enabled` unknown until apply: it may be), and
 * each PublishedVersionRevocation (a version published out of band, disabled through the API).
 */
export function revocationsOf(graph: StackGraph): Revocation[] {
  const found: Revocation[] = [];
  for (const version of graph.ofType(...VERSION_TYPES)) {
    const enabled = version.props.enabled;
    if (enabled !== false && !isUnknown(enabled)) continue;
    const { secret, unplaced } = secretOfVersion(graph, version);
    found.push({
      node: version,
      kind: isUnknown(enabled) ? "maybe" : "disabled",
      version,
      secret,
      number: versionNumberOf(version),
      versionName: version.name,
      names: [version.name],
      unplaced,
    });
  }
  for (const revocation of graph.ofType(TYPES.publishedVersionRevocation)) {
    const path = text(revocation.props.versionName);
    const parsed = typeof path === "string" ? VERSION_PATH.exec(path) : null;
    const name = parsed ? { project: parsed[1], secretId: parsed[2] } : undefined;
    const node =
      graph.inputsFrom(revocation, "versionName").find((dep) => dep.type === TYPES.secret) ?? (name ? graph.secretNamed(name) : undefined);
    const versionName = revocation.name.replace(/-revocation$/, "");
    found.push({
      node: revocation,
      kind: "published",
      secret: node ? { node } : { name },
      number: parsed ? parsed[3] : isUnknown(path) ? path : undefined,
      versionName,
      names: [revocation.name, versionName],
      unplaced: node || name ? undefined : "which version it revokes",
    });
  }
  return found;
}

/** The workloads that read a secret; with `undecided`, those that may (a reference unknown until apply). */
export function readersOf(
  graph: StackGraph,
  workloads: readonly StackWorkload[],
  secret: SecretIdentity,
): { readers: StackWorkload[]; undecided: StackWorkload[] } {
  const { node } = secret;
  if (node) return { readers: workloads.filter((w) => reads(graph, w, node)), undecided: [] };
  const readers: StackWorkload[] = [];
  const undecided: StackWorkload[] = [];
  for (const workload of workloads) {
    const matches = secretRefsOf(workload.workload).map((ref) => names(graph, ref.secret, secret));
    if (matches.includes(true)) readers.push(workload);
    else if (matches.includes("unknown") || workload.workload.unknownParts.length > 0) undecided.push(workload);
  }
  return { readers, undecided };
}

/**
 * What a workload pins of a secret the stack may not own (known by name only): each reference's
 * version text, compared by number alone.
 */
export function pinsByName(graph: StackGraph, workload: StackWorkload, secret: SecretIdentity): Pin[] {
  if (secret.node) return pinsOf(graph, workload, secret.node);
  const pins: Pin[] = [];
  for (const ref of secretRefsOf(workload.workload)) {
    const match = names(graph, ref.secret, secret);
    if (match === false) continue;
    if (match === "unknown" || isUnknown(ref.version)) pins.push({ kind: "unknown", where: ref.where });
    else
      pins.push({
        kind: "other",
        where: ref.where,
        text: ref.version === undefined || ref.version === "" ? "latest (no version)" : ref.version,
      });
  }
  return pins;
}

/**
 * The executor's token secret: the one its token env var references (by name), else, while that
 * reference is unknown (preview), the secret it reads that holds the auth token (by label or name).
 */
export function tokenSecretOf(graph: StackGraph, workloads: readonly StackWorkload[], executor: StackWorkload): SecretIdentity | undefined {
  const ref = envNamed(executor.workload, ENV.token)?.secretKeyRef;
  if (!ref) return undefined;
  if (typeof ref.secret === "string") {
    const name = parseSecretName(ref.secret);
    if (!name) return undefined;
    const node = graph.secretNamed(name);
    return node ? { node } : { name };
  }
  if (!isUnknown(ref.secret)) return undefined;
  const candidates = graph
    .ofType(TYPES.secret)
    .filter((secret) => reads(graph, executor, secret))
    .filter(
      (secret) =>
        credentialOf(
          graph,
          workloads,
          { node: secret },
          graph.versionsOf(secret).map((v) => v.name),
        ).key === "authToken",
    );
  return candidates.length === 1 ? { node: candidates[0] } : undefined;
}

/**
 * The workloads that call an executor (its "control services"): not executors themselves, and
 * under a ControlService component, or setting a control env var (its URL or token, canonical or
 * legacy name), or reading the executor's token secret under any name.
 */
export function callersOf(
  graph: StackGraph,
  workloads: readonly StackWorkload[],
  executor: StackWorkload,
  tokenNames: readonly string[] = DEFAULT_CONTROL_TOKEN_ENV_NAMES,
): StackWorkload[] {
  const token = tokenSecretOf(graph, workloads, executor);
  return workloads.filter((workload) => {
    if (workload === executor || isExecutor(workload.node.urn, workload.workload)) return false;
    if (isWithin(workload.node.urn, TYPES.controlService)) return true;
    const named = workload.workload.envs.some(
      (env) => typeof env.name === "string" && (tokenNames.includes(env.name) || CONTROL_BASE_URL_ENV_NAMES.includes(env.name)),
    );
    if (named) return true;
    if (!token) return false;
    return token.node ? reads(graph, workload, token.node) : readersOf(graph, [workload], token).readers.length > 0;
  });
}
