/**
 * The executor's bearer token has one source of truth: the control service sends exactly the
 * secret version the executor accepts.
 */
import { ReportViolation, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { PreviewGaps, StackGraph, StackNode, TYPES, isUnknown, isWithin, parseSecretName, showSecret } from "./graph";
import { CONTROL_TOKEN_ENV_NAMES_SCHEMA, CredentialsConfig, controlTokenEnvNames } from "./secret-references";
import { CONTROL_BASE_URL_ENV_NAMES, ENV, EnvVar, Pin, StackWorkload, envNamed, isExecutor, pinsOf, workloadsOf } from "./workloads";

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
