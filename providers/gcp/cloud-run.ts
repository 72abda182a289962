/**
 * Cloud Run v2 services and their IAM members. A service's create and update are long-running
 * operations that end once the new revision is ready and traffic has moved; a revision that never
 * gets ready fails the step with Cloud Run's message, and the service is recorded as created but
 * not initialized, so the next `up` tries it again (as the engine does for the real provider).
 */
import type { OperationJson } from "../../localcloud/client";
import { TYPES } from "../../localcloud/replacement-rules";
import { ResourceHandler, ResourceInitError } from "../framework";
import { Plain } from "../wire";
import { cloud, isNotFound, oneOf, projectOf, required, stringMap, text } from "./common";
import { addMember, memberOf, modifyPolicy, removeMember } from "./iam-policy";

const INGRESS = ["INGRESS_TRAFFIC_ALL", "INGRESS_TRAFFIC_INTERNAL_ONLY", "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"];

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** Pulumi's container shape (`commands`, `envs`, one `ports` object) to the REST one. */
function containerBody(container: Record<string, unknown>): Record<string, unknown> {
  const { commands, envs, ports, dependsOns: _dependsOns, ...rest } = container;
  return {
    ...rest,
    ...(commands !== undefined ? { command: commands } : {}),
    ...(envs !== undefined ? { env: envs } : {}),
    ...(ports !== undefined ? { ports: [ports] } : {}),
  };
}

export function serviceBody(inputs: Plain): Record<string, unknown> {
  const template = record(inputs.template);
  const containers = Array.isArray(template.containers) ? template.containers.map((c) => containerBody(record(c))) : [];
  return {
    ...(inputs.description !== undefined ? { description: inputs.description } : {}),
    labels: stringMap(inputs.labels),
    annotations: stringMap(inputs.annotations),
    ...(inputs.ingress !== undefined ? { ingress: inputs.ingress } : {}),
    ...(inputs.launchStage !== undefined ? { launchStage: inputs.launchStage } : {}),
    ...(inputs.invokerIamDisabled !== undefined ? { invokerIamDisabled: inputs.invokerIamDisabled } : {}),
    template: { ...template, containers },
    ...(Array.isArray(inputs.traffics) ? { traffic: inputs.traffics } : {}),
  };
}

function condition(value: unknown): Record<string, string> {
  const c = record(value);
  const field = (key: string): string => {
    const value = c[key];
    return typeof value === "string" ? value : "";
  };
  return {
    type: field("type"),
    state: field("state"),
    message: field("message"),
    reason: field("reason"),
    lastTransitionTime: field("lastTransitionTime"),
    severity: field("severity"),
    executionReason: field("executionReason"),
    revisionReason: field("revisionReason"),
  };
}

function serviceOutputs(inputs: Plain, project: string, live: Record<string, unknown>): Plain {
  const statuses = Array.isArray(live.trafficStatuses) ? live.trafficStatuses.map(record) : [];
  return {
    ...inputs,
    project,
    uid: live.uid,
    generation: live.generation,
    observedGeneration: live.observedGeneration,
    createTime: live.createTime,
    updateTime: live.updateTime,
    etag: live.etag,
    reconciling: live.reconciling === true,
    uri: live.uri,
    urls: live.urls,
    latestReadyRevision: live.latestReadyRevision ?? "",
    latestCreatedRevision: live.latestCreatedRevision ?? "",
    // The URL of each tag is reported here: read it, never build it.
    trafficStatuses: statuses.map((s) => ({
      type: s.type ?? "",
      revision: s.revision ?? "",
      percent: s.percent ?? 0,
      tag: s.tag ?? "",
      uri: s.uri ?? "",
    })),
    terminalConditions: [condition(live.terminalCondition)],
    conditions: Array.isArray(live.conditions) ? live.conditions.map(condition) : [],
    effectiveLabels: live.labels ?? {},
    pulumiLabels: live.labels ?? {},
    effectiveAnnotations: live.annotations ?? {},
    creator: "",
    lastModifier: "",
    expireTime: "",
    deleteTime: "",
  };
}

function serviceId(inputs: Plain): { project: string; location: string; name: string; id: string } {
  const project = projectOf(inputs);
  const location = text(inputs, "location");
  const name = text(inputs, "name");
  return { project, location, name, id: `projects/${project}/locations/${location}/services/${name}` };
}

/** Waits for the operation; on failure the service exists (a failed revision): report it as not initialized. */
async function settle(id: string, inputs: Plain, project: string, op: OperationJson): Promise<Plain> {
  try {
    await cloud().waitOperation(op);
  } catch (err) {
    const live = await cloud().call("GET", `/v2/${id}`);
    throw new ResourceInitError(id, serviceOutputs(inputs, project, live), err instanceof Error ? err.message : String(err));
  }
  return serviceOutputs(inputs, project, await cloud().call("GET", `/v2/${id}`));
}

export const cloudRunServiceHandler: ResourceHandler = {
  type: TYPES.cloudRunService,
  // Cloud Run v2 services are protected unless the program says otherwise (the provider's default).
  defaults: { deletionProtection: true, ingress: "INGRESS_TRAFFIC_ALL" },
  validate: (inputs) => [...required(inputs, "name", "location", "template"), ...oneOf(inputs, "ingress", INGRESS)],

  async create(inputs) {
    const { project, location, name, id } = serviceId(inputs);
    const op = await cloud().call<OperationJson>(
      "POST",
      `/v2/projects/${project}/locations/${location}/services?serviceId=${encodeURIComponent(name)}`,
      serviceBody(inputs),
    );
    return { id, outs: await settle(id, inputs, project, op) };
  },

  async read(id, state) {
    try {
      return { id, outs: serviceOutputs(state, projectOf(state), await cloud().call("GET", `/v2/${id}`)) };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  },

  async update(id, _olds, news) {
    const op = await cloud().call<OperationJson>("PATCH", `/v2/${id}`, serviceBody(news));
    return settle(id, news, projectOf(news), op);
  },

  async delete(id, state) {
    if (state.deletionProtection !== false) {
      throw new Error(`cannot destroy service ${id} without setting deletionProtection=false and running \`pulumi up\``);
    }
    try {
      const op = await cloud().call<OperationJson>("DELETE", `/v2/${id}`);
      await cloud().waitOperation(op);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  },
};

function serviceIamResource(inputs: Plain): string {
  const name = text(inputs, "name");
  if (/^projects\/[^/]+\/locations\/[^/]+\/services\/[^/]+$/.test(name)) return `/v2/${name}`;
  return `/v2/projects/${projectOf(inputs)}/locations/${text(inputs, "location")}/services/${name}`;
}

export const cloudRunServiceIamMemberHandler: ResourceHandler = {
  type: TYPES.cloudRunServiceIamMember,
  validate: (inputs) => required(inputs, "name", "role", "member"),

  async create(inputs) {
    const resource = serviceIamResource(inputs);
    const role = text(inputs, "role");
    const member = text(inputs, "member");
    const etag = await modifyPolicy(resource, (bindings) => addMember(bindings, role, member));
    return { id: `${resource.slice("/v2/".length)}/${role}/${member}`, outs: { ...inputs, etag } };
  },

  async read(id, state) {
    try {
      const { present, etag } = await memberOf(serviceIamResource(state), text(state, "role"), text(state, "member"));
      return present ? { id, outs: { ...state, etag } } : undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  },

  async update(_id, _olds, news) {
    const { etag } = await memberOf(serviceIamResource(news), text(news, "role"), text(news, "member"));
    return { ...news, etag };
  },

  async delete(_id, state) {
    try {
      await modifyPolicy(serviceIamResource(state), (bindings) => removeMember(bindings, text(state, "role"), text(state, "member")));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  },
};
