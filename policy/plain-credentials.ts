/**
 * A credential's value never sits in a workload's plain configuration, whatever the env var is
 * called: anyone who can read a service's configuration or its revisions (roles/run.viewer, the
 * console, `gcloud run services describe`) would read it. Two ways to see it, one for each phase:
 * - in preview, from the graph: a workload's configuration built from a random source's output
 *   (a generated value can only be a credential or a nonce, and neither belongs there);
 * - once values are known: a plain string of its configuration that contains the value of a
 *   secret version or of a random source of this stack. The value is never shown.
 */
import { ReportViolation, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { RANDOM_TYPES, StackGraph, StackNode, VERSION_TYPES, isRecord } from "./graph";
import { workloadsOf } from "./workloads";

/** Shorter values are not taken as credentials (a flag, a port): no credential of this stack is that short. */
const MIN_CREDENTIAL_LENGTH = 8;

/** Outputs of @pulumi/random resources that carry the generated value. */
const RANDOM_VALUE_KEYS: readonly string[] = ["result", "hex", "b64Std", "b64Url", "b64", "base64", "dec", "id"];

/** Every credential value of the stack, with what it is, for matching; never shown. */
function credentialValues(graph: StackGraph): { value: string; of: StackNode }[] {
  const values: { value: string; of: StackNode }[] = [];
  const add = (value: unknown, of: StackNode): void => {
    if (typeof value === "string" && value.length >= MIN_CREDENTIAL_LENGTH) values.push({ value, of });
  };
  for (const version of graph.ofType(...VERSION_TYPES)) add(version.props.secretData, version);
  for (const random of graph.ofType(...RANDOM_TYPES)) for (const key of RANDOM_VALUE_KEYS) add(random.props[key], random);
  return values;
}

/** Every string inside a value, with its path. */
function strings(value: unknown, path: string, out: { path: string; value: string }[]): void {
  if (typeof value === "string") out.push({ path, value });
  else if (Array.isArray(value)) value.forEach((item, i) => strings(item, `${path}[${i}]`, out));
  else if (isRecord(value)) for (const [key, item] of Object.entries(value)) strings(item, `${path}.${key}`, out);
}

export const credentialsNotInPlainConfig: StackValidationPolicy = {
  name: "credentials-not-in-plain-config",
  description:
    "Protects credentials from anyone who can read a workload's configuration: no workload (Cloud Run service, job or worker " +
    "pool, Cloud Function) may carry a credential's value in its plain configuration under any env var name (or in its " +
    "args): not a value built from a @pulumi/random resource (seen in preview through property dependencies), and not " +
    "the value of any secret version or random source of this stack (seen once values are known; never shown). To fix: " +
    "store the value as a secret version and reference it with a secretKeyRef (secretEnvironmentVariables for a Cloud " +
    "Function) pinned to its version number.",
  enforcementLevel: "mandatory",
  validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
    const graph = new StackGraph(args.resources);
    const values = credentialValues(graph);
    for (const { node, workload } of workloadsOf(graph)) {
      const reported = new Set<string>();
      for (const property of workload.configProperties) {
        for (const random of graph.inputsFrom(node, property).filter((dep) => RANDOM_TYPES.includes(dep.type))) {
          reported.add(property);
          reportViolation(
            `${node.name} ${property} is built from ${random.name}'s output: a generated credential in plain configuration, ` +
              `readable by anyone who can read the workload. To fix: store it as a secret version and reference it with a ` +
              `secretKeyRef pinned to its version number.`,
            node.urn,
          );
        }
        if (reported.has(property)) continue;
        const found: { path: string; value: string }[] = [];
        strings(node.props[property], property, found);
        for (const { path, value } of found) {
          const match = values.find((credential) => value.includes(credential.value));
          if (!match) continue;
          reportViolation(
            `${node.name} ${path} holds the value of ${match.of.name} (a credential) in plain configuration, readable by anyone ` +
              `who can read the workload (the value is not shown here). To fix: reference ${match.of.name} with a secretKeyRef ` +
              `pinned to its version number instead of copying its value.`,
            node.urn,
          );
        }
      }
    }
  },
};
