/**
 * The runbook's one rule, as a stack policy: revoke an old secret version only after the new
 * generation is live on every service that reads the secret and has been verified there.
 *
 * What CrossGuard lets a policy know, and when (why this is a STACK policy that reads the graph):
 * - `Analyze` (resource policies) sees one resource's inputs, with no dependencies: it cannot tell
 *   whether a disabled version waits for a verification.
 * - `AnalyzeStack` sees every resource with its dependencies, property dependencies and parent, and
 *   its OUTPUTS as props. It runs at the end of `pulumi preview` and at the end of `pulumi up`. Only
 *   the preview's run can stop a revocation (at the end of an `up` it has happened already), so the
 *   checks that matter are the ones decidable in preview: dependency edges, logical names (hence
 *   generations), `enabled` flags and the verification's `generations` (plain config) are all known
 *   then. Version NUMBERS of versions created in the same update are not: a pin on such a version
 *   is confirmed through the template's dependency on that version resource, and otherwise the pin
 *   check is skipped with a note (never reported as a violation). `pulumi up` runs its preview
 *   first; do not skip it (`--skip-preview`) when a revocation is in the change.
 *
 * Two kinds of revocation: a stack-owned SecretVersion set `enabled: false`, and a
 * PublishedVersionRevocation, which disables a version published out of band (named
 * `<credential>-g<N>-revocation`, its `versionName` the version's full name). When the current
 * generation is itself published (no version resource), the policy learns it from the stack's
 * verification and can only check that no service still pins the revoked version.
 */
import { ReportViolation, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { PreviewGaps, StackGraph, StackNode, TYPES, VERSION_PATH, at, camelCase, generationOf, isUnknown, list, text } from "./graph";
import { Pin, pinsOf, reads, workloadsOf } from "./workloads";

/** How the verification names a credential: `generations.<key>` (e.g. `authToken`). */
interface Credential {
  readonly key: string;
  readonly label: string;
}

/** A revocation found in the stack. */
interface Revocation {
  readonly node: StackNode;
  /** The revoked version's logical name (`auth-token-g3`): what a verification's `revoking` lists. */
  readonly versionName: string;
  readonly secret: StackNode;
  readonly generation: number;
  /** The revoked version's number when known (a published version names it in `versionName`). */
  readonly number?: string;
}

/** The secret's `credential` label (`auth-token`), else the version's name without its `-g<N>`. */
function credentialOf(secret: StackNode, versionName: string): Credential {
  const labelled = text(at(secret.props, "labels", "credential"));
  const label = typeof labelled === "string" ? labelled : versionName.replace(/-g[0-9]+$/, "");
  return { key: camelCase(label), label };
}

/** Every revocation of the stack; what cannot be placed during preview is noted in `gaps`. */
function revocationsOf(graph: StackGraph, gaps: PreviewGaps): Revocation[] {
  const found: Revocation[] = [];
  for (const version of graph.ofType(TYPES.secretVersion)) {
    const enabled = version.props.enabled;
    if (isUnknown(enabled)) {
      gaps.skip(`${version.name}: whether it is enabled`);
      continue;
    }
    if (enabled !== false) continue;
    const secret = graph.secretOfVersion(version);
    const generation = generationOf(version);
    if (!secret) {
      // A version of a secret this stack does not manage: there is no newer generation to compare with.
      if (isUnknown(version.props.secret)) gaps.skip(`${version.name}: which secret it belongs to`);
      continue;
    }
    if (generation === undefined) {
      gaps.skip(`${version.name}: its generation (no -g<N> name suffix, version number unknown)`);
      continue;
    }
    found.push({ node: version, versionName: version.name, secret, generation });
  }
  for (const revocation of graph.ofType(TYPES.publishedVersionRevocation)) {
    const path = text(revocation.props.versionName);
    const parsed = typeof path === "string" ? VERSION_PATH.exec(path) : null;
    const byName = parsed ? graph.secretNamed({ project: parsed[1], secretId: parsed[2] }) : undefined;
    const secret = graph.inputsFrom(revocation, "versionName").find((node) => node.type === TYPES.secret) ?? byName;
    const generation = generationOf(revocation);
    if (!secret || generation === undefined) {
      gaps.skip(`${revocation.name}: which secret and generation it revokes`);
      continue;
    }
    found.push({
      node: revocation,
      versionName: revocation.name.replace(/-revocation$/, ""),
      secret,
      generation,
      number: parsed ? parsed[3] : undefined,
    });
  }
  return found;
}

/** Does this pin point at the revoked version? "unknown" when it cannot be told yet. */
function pinsRevoked(pin: Pin, revocation: Revocation): boolean | "unknown" {
  if (pin.kind === "unknown") return "unknown";
  if (pin.kind === "version") return pin.version === revocation.node ? (pin.byDependency ? "unknown" : true) : false;
  return revocation.number !== undefined && pin.text === revocation.number;
}

export const revocationRequiresVerification: StackValidationPolicy = {
  name: "revocation-requires-verification",
  description:
    "Protects the rotation order (new version -> executor -> control -> verification -> revoke): a revoked secret version " +
    "(a SecretVersion with enabled: false, or a PublishedVersionRevocation) whose secret has a newer current generation must " +
    "depend, transitively, on a verification resource (pulumi-nodejs:dynamic/rotation:Verification) whose `generations` name " +
    "that generation and whose `revoking` lists the revoked version; that verification must depend on every Cloud Run " +
    "service that reads the secret; and each of those services must pin the current generation. To fix: gate the " +
    "revocation on the verification (RotatingSecret's `revocationGate`, i.e. `dependsOn: [verification]`), make the " +
    "verification depend on the control rollout, and roll both services to the current version before setting `revokePrevious`.",
  enforcementLevel: "mandatory",
  validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
    const graph = new StackGraph(args.resources);
    const gaps = new PreviewGaps();
    const workloads = workloadsOf(graph);
    const verifications = graph.ofType(TYPES.verification);
    const gateName = verifications.length === 1 ? verifications[0].name : "the verification";

    for (const revocation of revocationsOf(graph, gaps)) {
      const { node: revoked, secret } = revocation;
      const credential = credentialOf(secret, revocation.versionName);

      // The current generation: the newest enabled version resource of the secret, else (a
      // generation published out of band) what the stack's verification vouches for.
      let current: StackNode | undefined;
      let currentGeneration: number | undefined;
      for (const version of graph.versionsOf(secret)) {
        if (version === revoked) continue;
        const enabled = version.props.enabled;
        if (isUnknown(enabled)) {
          gaps.skip(`${version.name}: whether it is enabled`);
          continue;
        }
        const generation = generationOf(version);
        if (enabled !== false && generation !== undefined && generation > (currentGeneration ?? revocation.generation)) {
          current = version;
          currentGeneration = generation;
        }
      }
      if (currentGeneration === undefined) {
        for (const verification of verifications) {
          const verified = at(verification.props, "generations", credential.key);
          if (typeof verified === "number" && verified > (currentGeneration ?? revocation.generation)) currentGeneration = verified;
        }
      }
      // A disabled version with nothing newer is not the end of a rotation (e.g. a secret being retired).
      if (currentGeneration === undefined && revoked.type === TYPES.secretVersion) continue;
      const subject =
        revoked.type === TYPES.secretVersion
          ? `${revoked.name} is disabled (revoked)`
          : `${revoked.name} revokes the published ${revocation.versionName}${revocation.number ? ` (version ${revocation.number})` : ""}`;
      const currentText =
        currentGeneration === undefined
          ? "a newer generation"
          : current
            ? `${current.name} (generation ${currentGeneration})`
            : `generation ${currentGeneration}`;

      // 1. The edge: revocation -> a verification of the current generation.
      const upstream = verifications.filter((verification) => graph.dependsOn(revoked, verification));
      const verifying: StackNode[] = [];
      if (upstream.length === 0) {
        reportViolation(
          `${subject} while ${currentText} is current, but it depends on no verification: ` +
            `the old ${credential.label} could be revoked before the new generation is verified on the services. ` +
            `Missing edge: ${revoked.name} -> ${gateName} (dependsOn, e.g. RotatingSecret's revocationGate).`,
          revoked.urn,
        );
      } else {
        const otherGenerations: string[] = [];
        let undecided = false;
        for (const verification of upstream) {
          const verified = at(verification.props, "generations", credential.key);
          if (isUnknown(verified)) {
            gaps.skip(`${verification.name}: the generation of ${credential.label} it verifies`);
            undecided = true;
          } else if (currentGeneration !== undefined && verified === currentGeneration) {
            // Only the current generation counts; with none known, no verification names one above the
            // revoked generation (the search for the current one above would have found it).
            verifying.push(verification);
          } else {
            otherGenerations.push(
              `${verification.name} (which verifies ${verified === undefined ? `no ${credential.key} generation` : `generation ${JSON.stringify(verified)}`})`,
            );
          }
        }
        if (verifying.length === 0 && !undecided) {
          reportViolation(
            `${subject} after ${otherGenerations.join(", ")}, not after a verification of ` +
              `${currentText}: nothing verifies the current ${credential.label} before the revocation. Missing edge: ${revoked.name} -> ` +
              `a verification with generations.${credential.key} = ${currentGeneration ?? `a generation above ${revocation.generation}`}.`,
            revoked.urn,
          );
        }
      }

      // 2. The verification comes after every rollout of the secret, and knows what it releases.
      const readers = workloads.filter((workload) => reads(graph, workload, secret));
      for (const verification of verifying) {
        for (const reader of readers) {
          if (!graph.dependsOn(verification, reader.node)) {
            reportViolation(
              `${verification.name} verifies ${credential.label} generation ${currentGeneration ?? "?"} but does not depend on ` +
                `${reader.node.name}, which reads that secret: it could pass before that rollout finished, and ` +
                `${revocation.versionName} would be revoked under it. Missing edge: ${verification.name} -> ${reader.node.name}.`,
              verification.urn,
            );
          }
        }
        const revoking = list(verification.props.revoking);
        if (isUnknown(revoking)) {
          gaps.skip(`${verification.name}: its revoking list`);
        } else if (!revoking.includes(revocation.versionName) && !revoking.includes(revoked.name)) {
          reportViolation(
            `${verification.name} does not list ${revocation.versionName} in \`revoking\`: turning the revocation on would not ` +
              `re-run the verification, so ${revocation.versionName} would be revoked on an earlier one. Add it to the revoking list.`,
            verification.urn,
          );
        }
      }

      // 3. Every service that reads the secret pins the current generation (never the revoked one).
      for (const reader of readers) {
        for (const pin of pinsOf(graph, reader, secret)) {
          if (current) {
            if (pin.kind === "version" && pin.version === current) continue;
            if (pin.kind === "unknown" || (pin.kind === "version" && pin.byDependency)) {
              gaps.skip(`${reader.node.name} ${pin.where}: which version of ${credential.label} it pins`);
              continue;
            }
          } else {
            // The current generation is published out of band: only a pin on the revoked version can be told apart.
            const onRevoked = pinsRevoked(pin, revocation);
            if (onRevoked === "unknown") gaps.skip(`${reader.node.name} ${pin.where}: which version of ${credential.label} it pins`);
            if (onRevoked !== true) continue;
          }
          const pinned =
            pinsRevoked(pin, revocation) === true
              ? `${revocation.versionName}${revocation.number ? ` (version ${revocation.number})` : ""}, the version being revoked`
              : pin.kind === "version"
                ? `${pin.version.name} (generation ${generationOf(pin.version) ?? "?"})`
                : pin.kind === "other"
                  ? JSON.stringify(pin.text)
                  : "an unknown version";
          reportViolation(
            `${reader.node.name} ${pin.where} pins ${pinned}, not the current ${currentText}: revoking ${revocation.versionName} ` +
              `would cut off a service that has not rolled to the new generation. Missing pin: ${reader.node.name} -> ` +
              `${current ? current.name : currentText}.`,
            reader.node.urn,
          );
        }
      }
    }
    gaps.finish();
  },
};
