/**
 * The runbook's one rule, as a stack policy: revoke an old secret version only after the version
 * every reader now pins is live on each of them and has been verified there.
 *
 * What CrossGuard lets a policy know, and when (why this is a STACK policy that reads the graph):
 * - `Analyze` (resource policies) sees one resource's inputs, with no dependencies: it cannot tell
 *   whether a disabled version waits for a verification.
 * - `AnalyzeStack` sees every resource with its dependencies, property dependencies and parent, and
 *   its OUTPUTS as props. It runs at the end of `pulumi preview` and at the end of `pulumi up`. Only
 *   the preview's run can stop a revocation (at the end of an `up` it has happened already), so
 *   everything here is decided from what preview knows: dependency edges, property dependencies
 *   (which version a workload's secret reference is built from, even while its NUMBER is unknown),
 *   `enabled` flags, the verification's `generations` and `revoking`. What preview cannot decide
 *   is reported as a mandatory violation ("cannot be proven safe"), never skipped: a revocation
 *   must not pass unchecked. `pulumi up` runs its preview first; do not skip it (`--skip-preview`).
 *
 * A revocation is found by what it does, never by its name (see rotation.ts): a version with
 * `enabled: false` (or unknown), or a PublishedVersionRevocation. Its "current" version is the one
 * the secret's readers pin; names like `auth-token-g4` only relate versions to the generation
 * numbers a verification vouches for.
 */
import { ReportViolation, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { StackGraph, StackNode, TYPES, VERSION_NUMBER, at, isUnknown, list, nameGeneration } from "./graph";
import { Credential, Revocation, createdAfter, credentialOf, generationOf, pinsByName, readersOf, revocationsOf } from "./rotation";
import { Pin, StackWorkload, workloadsOf } from "./workloads";

const TO_FIX =
  "To fix: gate the revocation on the verification (RotatingSecret's revocationGate, i.e. dependsOn: [verification]), make the " +
  "verification depend on every rollout that reads the secret, and pin every reader to the new version (from the SecretVersion's output).";

interface Finding {
  readonly message: string;
  readonly urn: string;
}

/** How messages introduce a revocation. */
function subjectOf(revocation: Revocation): string {
  const { node, kind, number } = revocation;
  if (kind === "disabled") return `${node.name} is disabled (revoked)`;
  if (kind === "maybe") return `${node.name} may be disabled (its \`enabled\` is unknown until apply)`;
  return `${node.name} revokes the published ${revocation.versionName}${typeof number === "string" ? ` (version ${number})` : ""}`;
}

const generationText = (generation: number | undefined): string => (generation === undefined ? "" : ` (generation ${generation})`);

/** One revocation under check: what the steps below read, and what they find. */
interface RevocationCheck {
  readonly graph: StackGraph;
  readonly workloads: readonly StackWorkload[];
  readonly verifications: readonly StackNode[];
  readonly revocation: Revocation;
  /** The secret's other versions still enabled: where the current one is. */
  readonly candidates: readonly StackNode[];
  readonly credential: Credential;
  /** The workloads that read the secret. */
  readonly readers: readonly StackWorkload[];
  readonly subject: string;
  readonly findings: Finding[];
  /** What preview cannot decide (reported once, only when nothing else is). */
  readonly undecided: string[];
}

/** A reader's pin on the version being revoked (`revokedPin`), or on an older or unrelated one. */
interface StalePin {
  readonly reader: StackWorkload;
  readonly pin: Exclude<Pin, { kind: "unknown" }>;
  readonly revokedPin: boolean;
}

type VersionPin = { readonly reader: StackWorkload; readonly pin: Pin & { kind: "version" } };

/** The checks of one revocation: its findings, and what preview cannot decide. */
function checkRevocation(
  graph: StackGraph,
  workloads: readonly StackWorkload[],
  verifications: readonly StackNode[],
  revocation: Revocation,
): { findings: Finding[]; undecided: string[] } {
  const check = readRevocation(graph, workloads, verifications, revocation);
  const { findings, undecided } = check;
  if (isRetirement(check)) return { findings, undecided };
  // 1. What each reader pins: never the revoked version.
  const { pinned, stalePins } = readPins(check);
  // 2. The current version: the newest one a reader pins (else the newest remaining one); readers on an older one are stale.
  const current = currentVersion(check, pinned);
  for (const entry of pinned) {
    if (current && entry.pin.version !== current && createdAfter(graph, current, entry.pin.version) === true) {
      stalePins.push({ ...entry, revokedPin: false });
    }
  }
  if (revokesUnusedNewer(check, current, pinned, stalePins)) return { findings, undecided };
  const { revokedGeneration, currentGeneration } = generationsOf(check, current);
  const currentText = current
    ? `${current.name}${generationText(currentGeneration)}`
    : currentGeneration === undefined
      ? "a newer generation"
      : `generation ${currentGeneration}`;
  reportStalePins(check, stalePins, current, currentGeneration, currentText);
  // 3. The edge: revocation -> a verification of the current generation, after every reader, that knows what it releases.
  checkVerificationGate(check, currentGeneration, revokedGeneration, currentText);
  return { findings, undecided };
}

/** The revocation's secret, its other versions, its readers and its credential. */
function readRevocation(
  graph: StackGraph,
  workloads: readonly StackWorkload[],
  verifications: readonly StackNode[],
  revocation: Revocation,
): RevocationCheck {
  const undecided: string[] = [];
  const { node: revoked, secret } = revocation;
  if (revocation.unplaced) undecided.push(`${revoked.name}: ${revocation.unplaced}`);
  const siblings = secret.node ? graph.versionsOf(secret.node).filter((version) => version !== revocation.version) : [];
  const candidates = siblings.filter((version) => version.props.enabled !== false);
  const found = revocation.unplaced && !secret.name ? { readers: [], undecided: [...workloads] } : readersOf(graph, workloads, secret);
  const credential: Credential = credentialOf(graph, workloads, secret, [revocation.versionName, ...siblings.map((v) => v.name)]);
  for (const maybe of found.undecided) undecided.push(`${maybe.node.name}: whether it reads ${credential.label}`);
  return {
    graph,
    workloads,
    verifications,
    revocation,
    candidates,
    credential,
    readers: found.readers,
    subject: subjectOf(revocation),
    findings: [],
    undecided,
  };
}

/** Nothing reads the secret and no other version remains: a secret being retired, not a rotation. */
function isRetirement({ revocation, readers, candidates, undecided }: RevocationCheck): boolean {
  return revocation.kind !== "published" && readers.length === 0 && candidates.length === 0 && undecided.length === 0;
}

/** Each reader's pins, sorted: on another version (a candidate for current), or stale. */
function readPins(check: RevocationCheck): { pinned: VersionPin[]; stalePins: StalePin[] } {
  const { graph, revocation, candidates, credential, undecided } = check;
  const pinned: VersionPin[] = [];
  const stalePins: StalePin[] = [];
  for (const reader of check.readers) {
    for (const pin of pinsByName(graph, reader, revocation.secret)) {
      if (pin.kind === "unknown") {
        undecided.push(`${reader.node.name} ${pin.where}: which version of ${credential.label} it pins`);
      } else if (pin.kind === "version") {
        if (pin.version === revocation.version) stalePins.push({ reader, pin, revokedPin: true });
        else pinned.push({ reader, pin });
      } else if (typeof revocation.number === "string" && pin.text === revocation.number) {
        stalePins.push({ reader, pin, revokedPin: true });
      } else if (VERSION_NUMBER.test(pin.text) && candidates.length === 0) {
        // The current generation is published out of band: any other number is it.
        if (isUnknown(revocation.number)) undecided.push(`${revocation.node.name}: which version it revokes`);
      } else {
        stalePins.push({ reader, pin, revokedPin: false });
      }
    }
  }
  return { pinned, stalePins };
}

/** The newest version a reader pins (else the newest remaining one); readers pinning versions that nothing orders is a finding. */
function currentVersion(check: RevocationCheck, pinned: readonly VersionPin[]): StackNode | undefined {
  const { graph, revocation, credential } = check;
  const pinnedVersions = [...new Set(pinned.map((p) => p.pin.version))];
  const pool = pinnedVersions.length > 0 ? pinnedVersions : check.candidates;
  let current: StackNode | undefined = pool[0];
  let unordered = false;
  for (const version of pool.slice(1)) {
    const newer = createdAfter(graph, version, current);
    if (newer === true) current = version;
    else if (newer === undefined) unordered = true;
  }
  if (unordered && pinnedVersions.length > 1) {
    const by = (version: StackNode): string =>
      `${version.name} by ${pinned
        .filter((p) => p.pin.version === version)
        .map((p) => p.reader.node.name)
        .join(", ")}`;
    check.findings.push({
      message:
        `${check.subject} while the workloads that read ${credential.label} pin different versions (${pinnedVersions.map(by).join("; ")}) ` +
        `and nothing shows which of them is current. To fix: roll every reader to the same version (from that version ` +
        `resource's output) before revoking ${revocation.versionName}.`,
      urn: revocation.node.urn,
    });
  }
  return current;
}

/** A newer version that never went live (every reader pins an older one) revokes nothing in use. */
function revokesUnusedNewer(
  check: RevocationCheck,
  current: StackNode | undefined,
  pinned: readonly VersionPin[],
  stalePins: readonly StalePin[],
): boolean {
  const { revocation } = check;
  if (!revocation.version || !current || pinned.length === 0) return false;
  if (check.undecided.length + stalePins.length + check.findings.length !== 0) return false;
  return createdAfter(check.graph, revocation.version, current) === true;
}

/** The revoked and the current generation; published out of band, the current is what the verification vouches for. */
function generationsOf(
  check: RevocationCheck,
  current: StackNode | undefined,
): { revokedGeneration: number | undefined; currentGeneration: number | undefined } {
  const { graph, workloads, revocation, credential } = check;
  const revokedGeneration = revocation.version ? generationOf(graph, workloads, revocation.version) : nameGeneration(revocation.node.name);
  let currentGeneration = current ? generationOf(graph, workloads, current) : undefined;
  if (!current && credential.key !== undefined) {
    for (const verification of check.verifications) {
      const verified = at(verification.props, "generations", credential.key);
      if (typeof verified === "number" && verified > (currentGeneration ?? revokedGeneration ?? -Infinity)) currentGeneration = verified;
    }
  }
  return { revokedGeneration, currentGeneration };
}

/** One finding per reader still pinning the revoked (or an older) version. */
function reportStalePins(
  check: RevocationCheck,
  stalePins: readonly StalePin[],
  current: StackNode | undefined,
  currentGeneration: number | undefined,
  currentText: string,
): void {
  const { graph, workloads, revocation, credential } = check;
  for (const { reader, pin, revokedPin } of stalePins) {
    const pinnedText = revokedPin
      ? `${revocation.versionName}${typeof revocation.number === "string" && pin.kind !== "version" ? ` (version ${revocation.number})` : ""}, ` +
        `${revocation.kind === "maybe" ? "the version that may be revoked" : "the version being revoked"}` +
        `${pin.kind === "version" && pin.byDependency ? " (its reference is built from that version's outputs)" : ""}`
      : pin.kind === "version"
        ? `${pin.version.name}${generationText(generationOf(graph, workloads, pin.version))}`
        : JSON.stringify(pin.text);
    check.findings.push({
      message:
        current || currentGeneration !== undefined
          ? `${reader.node.name} ${pin.where} pins ${pinnedText}, not the current ${currentText}: revoking ${revocation.versionName} ` +
            `would cut off a service that has not rolled to the new generation. Missing pin: ${reader.node.name} -> ` +
            `${current ? current.name : currentText}.`
          : `${reader.node.name} ${pin.where} pins ${pinnedText}, and no other version of ${credential.label} is current: revoking ` +
            `${revocation.versionName} would cut ${reader.node.name} off. To fix: stage a new version, roll ${reader.node.name} to ` +
            `it and verify before revoking.`,
      urn: reader.node.urn,
    });
  }
}

/** The revocation waits for a verification of the current generation, which waits for every reader and lists what it releases. */
function checkVerificationGate(
  check: RevocationCheck,
  currentGeneration: number | undefined,
  revokedGeneration: number | undefined,
  currentText: string,
): void {
  const { graph, verifications, revocation, credential } = check;
  const revoked = revocation.node;
  const upstream = verifications.filter((verification) => graph.dependsOn(revoked, verification));
  if (upstream.length === 0) {
    const gateName = verifications.length === 1 ? verifications[0].name : "the verification";
    check.findings.push({
      message:
        `${check.subject} while ${currentText} is current, but it depends on no verification: the old ${credential.label} could be ` +
        `revoked before the new generation is verified on the services. Missing edge: ${revoked.name} -> ${gateName} ` +
        `(dependsOn, e.g. RotatingSecret's revocationGate).`,
      urn: revoked.urn,
    });
    return;
  }
  const verifying = verificationsOfCurrent(check, upstream, currentGeneration, revokedGeneration, currentText);
  for (const verification of verifying) checkVerification(check, verification, currentGeneration);
}

/** The upstream verifications that vouch for the current generation; a finding when none does (and preview knows). */
function verificationsOfCurrent(
  check: RevocationCheck,
  upstream: readonly StackNode[],
  currentGeneration: number | undefined,
  revokedGeneration: number | undefined,
  currentText: string,
): StackNode[] {
  const { revocation, credential } = check;
  const verifying: StackNode[] = [];
  const otherGenerations: string[] = [];
  let generationUndecided = false;
  for (const verification of upstream) {
    if (credential.key === undefined) {
      // Nothing in the graph relates this secret to a `generations` key: the edges below must hold.
      verifying.push(verification);
      continue;
    }
    const verified = at(verification.props, "generations", credential.key);
    if (isUnknown(verified)) {
      check.undecided.push(`${verification.name}: the generation of ${credential.label} it verifies`);
      generationUndecided = true;
    } else if (
      currentGeneration !== undefined
        ? verified === currentGeneration
        : typeof verified === "number" && (revokedGeneration === undefined || verified > revokedGeneration)
    ) {
      verifying.push(verification);
    } else {
      otherGenerations.push(
        `${verification.name} (which verifies ${verified === undefined ? `no ${credential.key} generation` : `generation ${JSON.stringify(verified)}`})`,
      );
    }
  }
  if (verifying.length === 0 && !generationUndecided) {
    check.findings.push({
      message:
        `${check.subject} after ${otherGenerations.join(", ")}, not after a verification of ${currentText}: nothing verifies the current ` +
        `${credential.label} before the revocation. Missing edge: ${revocation.node.name} -> a verification with generations.${credential.key} = ` +
        `${currentGeneration ?? (revokedGeneration === undefined ? "the current generation" : `a generation above ${revokedGeneration}`)}.`,
      urn: revocation.node.urn,
    });
  }
  return verifying;
}

/** A verification of the current generation: after every reader, and listing the revoked version in `revoking`. */
function checkVerification(check: RevocationCheck, verification: StackNode, currentGeneration: number | undefined): void {
  const { graph, revocation, credential } = check;
  for (const reader of check.readers) {
    if (!graph.dependsOn(verification, reader.node)) {
      check.findings.push({
        message:
          `${verification.name} verifies ${credential.label} ${currentGeneration === undefined ? "" : `generation ${currentGeneration} `}but does not depend on ` +
          `${reader.node.name}, which reads that secret: it could pass before that rollout finished, and ` +
          `${revocation.versionName} would be revoked under it. Missing edge: ${verification.name} -> ${reader.node.name}.`,
        urn: verification.urn,
      });
    }
  }
  const revoking = list(verification.props.revoking);
  if (isUnknown(revoking)) {
    check.undecided.push(`${verification.name}: its revoking list`);
  } else if (!revocation.names.some((name) => revoking.includes(name))) {
    check.findings.push({
      message:
        `${verification.name} does not list ${revocation.versionName} in \`revoking\`: turning the revocation on would not ` +
        `re-run the verification, so ${revocation.versionName} would be revoked on an earlier one. Add it to the revoking list.`,
      urn: verification.urn,
    });
  }
}

export const revocationRequiresVerification: StackValidationPolicy = {
  name: "revocation-requires-verification",
  description:
    "Protects the rotation order (new version -> executor -> control -> verification -> revoke): a revocation (a secret version " +
    "with enabled: false or unknown until apply, or a PublishedVersionRevocation), found from the graph whatever it is named, " +
    "must depend, transitively, on a verification resource (pulumi-nodejs:dynamic/rotation:Verification) whose `generations` " +
    "name the current generation and whose `revoking` lists the revoked version; that verification must depend on every " +
    "workload (Cloud Run service, job or worker pool, Cloud Function) that reads the secret; and none of those may still pin " +
    "the revoked version. The current version is the one the readers pin (known in preview through their property " +
    "dependencies). What preview cannot decide is reported as not provably safe, never skipped. " +
    TO_FIX,
  enforcementLevel: "mandatory",
  validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
    const graph = new StackGraph(args.resources);
    const workloads = workloadsOf(graph);
    const verifications = graph.ofType(TYPES.verification);
    for (const revocation of revocationsOf(graph)) {
      const { findings, undecided } = checkRevocation(graph, workloads, verifications, revocation);
      for (const finding of findings) reportViolation(finding.message, finding.urn);
      if (findings.length === 0 && undecided.length > 0) reportViolation(unprovable(revocation, undecided), revocation.node.urn);
    }
  },
};

/** What preview cannot decide about a revocation with no other finding: refused, never skipped. */
function unprovable(revocation: Revocation, undecided: readonly string[]): string {
  return (
    `${subjectOf(revocation)}, and it cannot be proven safe during preview: ${[...new Set(undecided)].join("; ")}. A ` +
    `revocation that preview cannot check must not pass. To fix: build every reader's secret reference from the version ` +
    `resource's own output (secretKeyRef.version: version.version), and the verification's generations and revoking ` +
    `list from plain config, so that the graph shows what each reader pins and what is verified before the revocation.`
  );
}
