/**
 * The `tagged` rotation strategy's promise (docs/design/zero-downtime.md): at every moment of a
 * rotation, every control revision reaches an executor revision that accepts its token. That holds
 * only when each generation's tag routes to that generation's revision, the main URL's traffic is
 * on the current generation's revision, and the control calls the tag URL of the generation whose
 * token it holds. `tagged-routing` refuses wiring where these can disagree; `in-place-rotation-window`
 * warns that an `in-place` stack fails its control's calls for about one control rollout.
 */
import { ReportViolation, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { PreviewGaps, StackGraph, StackNode, at, isRecord, isUnknown, list, text } from "./graph";
import { CONTROL_BASE_URL_ENV_NAMES, ENV, envNamed, isExecutor, workloadsOf } from "./workloads";

/** A tag that names a token generation (`g5`), and the generation. */
function tagGeneration(tag: unknown): number | undefined {
  const match = typeof tag === "string" ? /^g([1-9][0-9]*)$/.exec(tag) : null;
  return match ? Number(match[1]) : undefined;
}

/** The generation a revision name carries (`<service>-g5-<hash>`). */
function revisionGeneration(revision: string): number | undefined {
  const match = /-g([1-9][0-9]*)-[0-9a-f]+$/.exec(revision);
  return match ? Number(match[1]) : undefined;
}

interface Target {
  readonly type: unknown;
  readonly revision: unknown;
  readonly percent: unknown;
  readonly tag: unknown;
}

function targetsOf(node: StackNode): Target[] | "unknown" {
  const traffics = list(at(node.props, "traffics"));
  if (isUnknown(traffics)) return "unknown";
  return traffics.map((t) =>
    isRecord(t)
      ? { type: t.type, revision: t.revision, percent: t.percent, tag: t.tag }
      : { type: t, revision: undefined, percent: undefined, tag: undefined },
  );
}

/** `tagged` when a target carries a tag or the template names its revision. */
function isTagged(node: StackNode, targets: Target[]): boolean {
  const named = text(at(node.props, "template", "revision"));
  return targets.some((t) => typeof t.tag === "string" && t.tag !== "") || (typeof named === "string" && named !== "");
}

export const taggedRouting: StackValidationPolicy = {
  name: "tagged-routing",
  description:
    "With the tagged rotation strategy, a control's token and the executor revision its URL reaches must never disagree: " +
    "each generation's tag (g<N>) routes to that generation's named revision, the main URL's traffic is on the current " +
    "generation's revision, and every control calls the tag URL of the generation whose token it holds (read from the " +
    "executor's trafficStatuses). To fix: let the program wire it (stack/components/executor-service.ts); never hand-edit traffic.",
  enforcementLevel: "mandatory",
  validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
    const graph = new StackGraph(args.resources);
    const gaps = new PreviewGaps();
    const workloads = workloadsOf(graph).filter((w) => w.node.type === "gcp:cloudrunv2/service:Service");
    const executors = workloads.filter((w) => isExecutor(w.node.urn, w.workload));
    const controls = workloads.filter(
      (w) => !isExecutor(w.node.urn, w.workload) && CONTROL_BASE_URL_ENV_NAMES.some((n) => envNamed(w.workload, n)),
    );
    for (const executor of executors) {
      const targets = targetsOf(executor.node);
      if (targets === "unknown") {
        gaps.skip(`${executor.node.name}: its traffics`);
        continue;
      }
      if (!isTagged(executor.node, targets)) continue;
      const name = executor.node.name;
      const versionValue = text(envNamed(executor.workload, ENV.tokenVersion)?.value);
      const generation = typeof versionValue === "string" ? Number(versionValue) : undefined;
      const current = text(at(executor.node.props, "template", "revision"));
      // Each generation's tag routes to a revision of that generation.
      for (const target of targets) {
        const tagged = tagGeneration(target.tag);
        if (target.tag !== undefined && target.tag !== "" && tagged === undefined) {
          reportViolation(
            `${name}: tag ${JSON.stringify(target.tag)} names no token generation (expected g<N>): nothing ties it to a token.`,
            executor.node.urn,
          );
          continue;
        }
        if (tagged === undefined) continue;
        if (target.type !== "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION") {
          reportViolation(
            `${name}: tag g${tagged} follows the latest revision, whatever its token: it must name generation ${tagged}'s revision.`,
            executor.node.urn,
          );
          continue;
        }
        const revision = text(target.revision);
        if (isUnknown(revision)) gaps.skip(`${name}: the revision of tag g${tagged}`);
        else if (revision === undefined || revisionGeneration(revision) !== tagged)
          reportViolation(
            `${name}: tag g${tagged} routes to ${JSON.stringify(revision)}, not a revision of generation ${tagged}: its token and the revision it reaches can disagree.`,
            executor.node.urn,
          );
      }
      // The main URL's traffic is wholly on the current generation's revision.
      if (isUnknown(versionValue) || isUnknown(current)) gaps.skip(`${name}: its current generation and revision`);
      else {
        const main = targets.filter((t) => typeof t.percent === "number" && t.percent > 0);
        if (
          main.length !== 1 ||
          main[0].percent !== 100 ||
          (main[0].type === "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION" && text(main[0].revision) !== current)
        ) {
          reportViolation(
            `${name}: the main URL's traffic must be 100% on the current revision ${JSON.stringify(current)} (generation ${String(generation)}), got ${JSON.stringify(main)}.`,
            executor.node.urn,
          );
        }
        if (!targets.some((t) => tagGeneration(t.tag) === generation && text(t.revision) === current))
          reportViolation(
            `${name}: the current generation ${String(generation)} has no tag g${String(generation)} on its revision ${JSON.stringify(current)}: the control has no URL of its own to call.`,
            executor.node.urn,
          );
      }
      // Every control calls the tag URL of the generation whose token it holds (the current one).
      // An output: absent from a model that has only inputs (a service changing in this update).
      // The check then runs on the apply's model (stack policies see outputs after the update).
      const rawStatuses = at(executor.node.props, "trafficStatuses");
      if (rawStatuses === undefined) continue;
      const statuses = list(rawStatuses);
      for (const control of controls) {
        const envName = CONTROL_BASE_URL_ENV_NAMES.find((n) => envNamed(control.workload, n)) as string;
        const url = text(envNamed(control.workload, envName)?.value);
        if (isUnknown(url) || isUnknown(statuses) || isUnknown(versionValue)) {
          gaps.skip(`${control.node.name}: the executor URL it calls`);
          continue;
        }
        const reached = statuses.find((s) => isRecord(s) && s.uri === url && typeof s.tag === "string" && s.tag !== "");
        const reachedGeneration = isRecord(reached) ? tagGeneration(reached.tag) : undefined;
        if (reachedGeneration === undefined) {
          reportViolation(
            `${control.node.name} calls ${JSON.stringify(url)} (${envName}), which is not a generation's tag URL of ${name}: during a rotation its token and the executor revision it reaches can disagree. It must call tag g${String(generation)}'s URL.`,
            control.node.urn,
          );
        } else if (reachedGeneration !== generation) {
          reportViolation(
            `${control.node.name} calls tag g${reachedGeneration}'s URL but holds generation ${String(generation)}'s token: that revision refuses it.`,
            control.node.urn,
          );
        }
      }
    }
    gaps.finish();
  },
};

export const inPlaceRotationWindow: StackValidationPolicy = {
  name: "in-place-rotation-window",
  description:
    "With the in-place rotation strategy, a token rotation replaces the one executor revision behind the main URL before the " +
    "control service has the new token: the control's calls fail with 401 for about one control rollout. To fix: " +
    "wallet-executor:rotation: tagged (docs/design/zero-downtime.md).",
  enforcementLevel: "advisory",
  validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
    const graph = new StackGraph(args.resources);
    const workloads = workloadsOf(graph);
    // A rotation's window matters where a control calls the executor with the token.
    const hasControl = workloads.some(
      (w) => !isExecutor(w.node.urn, w.workload) && CONTROL_BASE_URL_ENV_NAMES.some((n) => envNamed(w.workload, n)),
    );
    if (!hasControl) return;
    for (const executor of workloads.filter(
      (w) => w.node.type === "gcp:cloudrunv2/service:Service" && isExecutor(w.node.urn, w.workload),
    )) {
      const targets = targetsOf(executor.node);
      if (targets === "unknown" || isTagged(executor.node, targets)) continue;
      reportViolation(
        `${executor.node.name} rotates in place: predicted failed-call window of a token rotation = about one control rollout ` +
          `(from the executor's traffic move to the end of the control's rollout, every control call gets 401). ` +
          `Set wallet-executor:rotation: tagged for a window of 0.`,
        executor.node.urn,
      );
    }
  },
};
