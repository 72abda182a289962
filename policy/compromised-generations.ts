/**
 * A compromised generation stays dead: no version of it may be enabled, and no Cloud Run workload
 * may pin it. Which generations are compromised comes from the graph itself (the secret's
 * `compromised-generations` annotation, which RotatingSecret sets from the credential's
 * `compromised` config) and from the pack's own config (`compromisedGenerations`, by secret id), so an
 * incident responder can fence a generation off even for a program that does not declare it.
 *
 * A stack policy: it needs the secret, its versions and the workloads together. Everything it reads
 * is known during preview (annotations are plain config, version names carry the generation,
 * `enabled` is an input), except a workload's pin of a version created in the same update, which is
 * resolved through the template's dependency on that version, as the revocation policy does.
 */
import { ReportViolation, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { PreviewGaps, StackGraph, StackNode, TYPES, VERSION_NUMBER, at, isRecord, isUnknown, text, versionNumberOf } from "./graph";
import { generationOf } from "./rotation";
import { pinsOf, workloadsOf } from "./workloads";

/** A version number as a generation, for a stack whose generation N is version N. */
function versionNumberGeneration(version: StackNode): number | undefined {
  const number = versionNumberOf(version);
  return typeof number === "string" && VERSION_NUMBER.test(number) ? Number(number) : undefined;
}

/** The annotation on a Secret that lists its compromised generations, comma-separated ("3,5"). */
export const COMPROMISED_ANNOTATION = "compromised-generations";

export interface CompromisedGenerationsConfig {
  /** Compromised generations by secret id (`{"wallet-executor-auth-token": [3]}`), in addition to the annotations. */
  readonly compromisedGenerations?: Readonly<Record<string, readonly number[]>>;
}

/** `"3,5"` -> [3, 5]; undefined when the annotation is not a list of generations. */
export function parseGenerationList(value: string): number[] | undefined {
  if (value.trim() === "") return [];
  const items = value.split(",").map((item) => item.trim());
  if (!items.every((item) => /^[1-9][0-9]*$/.test(item))) return undefined;
  return items.map(Number);
}

/** The secret's compromised generations: its annotation's and the pack config's; undefined while unknown. */
function compromisedOf(secret: StackNode, config: CompromisedGenerationsConfig, gaps: PreviewGaps, report: ReportViolation): Set<number> {
  const found = new Set<number>();
  const secretId = text(secret.props.secretId);
  const configured =
    typeof secretId === "string" && isRecord(config.compromisedGenerations) ? config.compromisedGenerations[secretId] : undefined;
  if (Array.isArray(configured)) {
    for (const generation of configured as unknown[])
      if (typeof generation === "number" && Number.isInteger(generation)) found.add(generation);
  }
  const annotation = text(at(secret.props, "annotations", COMPROMISED_ANNOTATION));
  if (isUnknown(annotation)) gaps.skip(`${secret.name}: its ${COMPROMISED_ANNOTATION} annotation`);
  else if (annotation !== undefined) {
    const listed = parseGenerationList(annotation);
    if (listed === undefined) {
      report(
        `${secret.name} has the annotation ${COMPROMISED_ANNOTATION}=${JSON.stringify(annotation.slice(0, 80))}, which is not a ` +
          `comma-separated list of generations: fix it (e.g. "3,5") so the compromised generations can be enforced.`,
        secret.urn,
      );
    } else for (const generation of listed) found.add(generation);
  }
  return found;
}

export const compromisedGenerations: StackValidationPolicy = {
  name: "compromised-generations",
  description:
    "Keeps a compromised credential generation dead: for every Secret Manager secret, the generations listed in its " +
    "`compromised-generations` annotation (set from the credential's `compromised` config) or in this policy's " +
    "`compromisedGenerations` setting must have no enabled version (a SecretVersion named `<credential>-g<N>` with enabled " +
    "other than false) and no Cloud Run workload may pin one. Without this, the emergency fallback (`gcloud secrets versions " +
    "disable`) is undone by the next `up` of a program that still says enabled: true. To fix: list the generation under " +
    "`compromised` in the stack config (the program then disables it), and move every service to a newer generation.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      compromisedGenerations: {
        type: "object",
        additionalProperties: { type: "array", items: { type: "integer", minimum: 1 } },
        default: {},
        description: 'Compromised generations by secret id, e.g. {"wallet-executor-auth-token": [3]}.',
      },
    },
  },
  validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
    const graph = new StackGraph(args.resources);
    const gaps = new PreviewGaps();
    const config = args.getConfig<CompromisedGenerationsConfig>();
    const workloads = workloadsOf(graph);
    for (const secret of graph.ofType(TYPES.secret)) {
      const compromised = compromisedOf(secret, config, gaps, reportViolation);
      if (compromised.size === 0) continue;
      const dead = (node: StackNode): number | undefined => {
        // The pack's reading of a generation (its name, else what the executor advertises for it), else its number.
        const generation = generationOf(graph, workloads, node) ?? versionNumberGeneration(node);
        return generation !== undefined && compromised.has(generation) ? generation : undefined;
      };
      for (const version of graph.versionsOf(secret)) {
        const generation = dead(version);
        if (generation === undefined) continue;
        const enabled = version.props.enabled;
        if (isUnknown(enabled)) gaps.skip(`${version.name}: whether it is enabled`);
        else if (enabled !== false) {
          reportViolation(
            `${version.name} is generation ${generation} of ${secret.name}, which is compromised, but it is enabled ` +
              `(enabled: ${enabled === undefined ? "unset, i.e. true" : JSON.stringify(enabled)}). Set enabled: false: ` +
              `a compromised generation stays disabled.`,
            version.urn,
          );
        }
      }
      for (const workload of workloads) {
        for (const pin of pinsOf(graph, workload, secret)) {
          if (pin.kind !== "version") continue;
          const generation = dead(pin.version);
          if (generation === undefined) continue;
          reportViolation(
            `${workload.node.name} ${pin.where} pins ${pin.version.name}, generation ${generation} of ${secret.name}, which is ` +
              `compromised. Pin a newer generation.`,
            workload.node.urn,
          );
        }
      }
    }
    gaps.finish();
  },
};
