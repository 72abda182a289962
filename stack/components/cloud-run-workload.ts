import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { CLOUD_RUN_INGRESS, Ingress } from "../config";
import { IN_PLACE_TRAFFIC, TaggedGenerations, revisionName, taggedTraffic, templateHash } from "../tagged-routing";
import { grantSecretAccess } from "./secret-ref";

/** The deployment settings both services take from config. */
export interface CloudRunServiceArgs {
  /** GCP project of the service. */
  readonly project: pulumi.Input<string>;
  /** Cloud Run region. */
  readonly location: pulumi.Input<string>;
  /** Cloud Run service name. */
  readonly serviceName: pulumi.Input<string>;
  /** Id of the service's own runtime service account. */
  readonly serviceAccountId: pulumi.Input<string>;
  /** Container image, pinned by digest or tag. */
  readonly image: pulumi.Input<string>;
  readonly minInstances: pulumi.Input<number>;
  readonly maxInstances: pulumi.Input<number>;
  readonly ingress: Ingress;
  /** Let anyone invoke the service at the Cloud Run layer (the executor's bearer token is then its gate). */
  readonly publicInvoker: boolean;
}

/** What both services have in common: an account of their own, the secrets it reads, a service. */
export interface CloudRunWorkloadArgs extends CloudRunServiceArgs {
  /** Human name of the account, e.g. "Wallet executor". */
  readonly displayName: string;
  readonly port: pulumi.Input<number>;
  readonly envs: pulumi.Input<gcp.types.input.cloudrunv2.ServiceTemplateContainerEnv>[];
  /** The secrets the account may read, by the label that names each grant (`auth-token`, ...). */
  readonly readsSecrets: Readonly<Record<string, pulumi.Input<string>>>;
  /** Resources the rollout must wait for besides the grants (the executor, for the control service). */
  readonly after?: pulumi.Resource[];
  /**
   * The `tagged` rotation strategy (docs/design/zero-downtime.md): the revision of the current
   * token generation is named `<service>-g<generation>-<template hash>` and tagged `g<generation>`;
   * the previous generation's revision (same template hash) keeps its tag at 0%. Absent: one
   * unnamed revision at a time, all traffic on the latest (`in-place`). `rolledBackFrom`: a
   * rollback's generation rolled back from, whose revision keeps its tag at 0% too.
   */
  readonly tagged?: { readonly currentGeneration: number; readonly previousGeneration?: number; readonly rolledBackFrom?: number };
}

export interface CloudRunWorkload {
  readonly serviceAccount: gcp.serviceaccount.Account;
  readonly grants: gcp.secretmanager.SecretIamMember[];
  readonly service: gcp.cloudrunv2.Service;
  /** The revision names the service routes to by generation (tagged only). */
  readonly revisionNames?: pulumi.Output<TaggedGenerations>;
}

/**
 * Registers a service's account, its per-secret accessor grants, the Cloud Run v2 service (which
 * waits for the grants: an instance must never start before it may read its secrets), and, when
 * asked, public invocation. Children are named `<name>-sa`, `<name>-<label>-access`,
 * `<name>-service`, `<name>-public-invoker`, and parented to `parent`.
 */
export function cloudRunWorkload(parent: pulumi.ComponentResource, name: string, args: CloudRunWorkloadArgs): CloudRunWorkload {
  const serviceAccount = new gcp.serviceaccount.Account(
    `${name}-sa`,
    { accountId: args.serviceAccountId, project: args.project, displayName: pulumi.interpolate`${args.displayName} (${args.serviceName})` },
    { parent },
  );
  const grants = Object.entries(args.readsSecrets).map(([label, secretResourceId]) =>
    grantSecretAccess(`${name}-${label}-access`, secretResourceId, serviceAccount, parent),
  );
  const template = {
    serviceAccount: serviceAccount.email,
    scaling: { minInstanceCount: args.minInstances, maxInstanceCount: args.maxInstances },
    containers: [{ image: args.image, ports: { containerPort: args.port }, envs: args.envs }],
  };
  const tagged = args.tagged;
  // The hash reveals nothing of a secret (no value is in the template, only version references).
  const revisionNames =
    tagged === undefined
      ? undefined
      : pulumi.unsecret(
          pulumi.all([pulumi.output(args.serviceName), pulumi.output(template)]).apply(([serviceName, resolved]) => {
            const hash = templateHash(resolved);
            const names: TaggedGenerations = {
              current: { generation: tagged.currentGeneration, revision: revisionName(serviceName, tagged.currentGeneration, hash) },
              ...(tagged.previousGeneration === undefined
                ? {}
                : {
                    previous: {
                      generation: tagged.previousGeneration,
                      revision: revisionName(serviceName, tagged.previousGeneration, hash),
                    },
                  }),
              ...(tagged.rolledBackFrom === undefined
                ? {}
                : {
                    rolledBackFrom: {
                      generation: tagged.rolledBackFrom,
                      revision: revisionName(serviceName, tagged.rolledBackFrom, hash),
                    },
                  }),
            };
            return names;
          }),
        );
  const service = new gcp.cloudrunv2.Service(
    `${name}-service`,
    {
      name: args.serviceName,
      project: args.project,
      location: args.location,
      ingress: CLOUD_RUN_INGRESS[args.ingress],
      deletionProtection: true,
      template: revisionNames === undefined ? template : { ...template, revision: revisionNames.current.revision },
      traffics: revisionNames === undefined ? [...IN_PLACE_TRAFFIC] : revisionNames.apply(taggedTraffic),
    },
    { parent, dependsOn: [...grants, ...(args.after ?? [])] },
  );
  if (args.publicInvoker) {
    new gcp.cloudrunv2.ServiceIamMember(
      `${name}-public-invoker`,
      { project: args.project, location: args.location, name: service.name, role: "roles/run.invoker", member: "allUsers" },
      { parent },
    );
  }
  return { serviceAccount, grants, service, revisionNames };
}
