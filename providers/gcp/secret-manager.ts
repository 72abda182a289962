/**
 * Secret Manager resources: Secret, SecretVersion, SecretIamMember, with the real provider's
 * defaults, ids and delete behaviour (deletionProtection, a version's deletionPolicy).
 */
import { TYPES } from "../../localcloud/replacement-rules";
import { ResourceHandler } from "../framework";
import { Plain } from "../wire";
import { cloud, isNotFound, oneOf, optionalText, projectOf, required, secretPath, stringMap, text } from "./common";
import { addMember, memberOf, modifyPolicy, removeMember } from "./iam-policy";

interface SecretJson {
  name: string;
  createTime: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  versionAliases?: Record<string, string>;
  versionDestroyTtl?: string;
}

interface VersionJson {
  name: string;
  createTime: string;
  state: "ENABLED" | "DISABLED" | "DESTROYED";
  destroyTime?: string;
}

/** Pulumi's replication shape to the REST one (`auto` is `automatic` in the API). */
function replicationBody(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  const replication = value as Record<string, unknown>;
  if (replication.auto !== undefined) return { automatic: replication.auto ?? {} };
  return replication;
}

function secretOutputs(inputs: Plain, project: string, live: SecretJson): Plain {
  return {
    ...inputs,
    project,
    name: live.name,
    createTime: live.createTime,
    labels: inputs.labels,
    effectiveLabels: live.labels ?? {},
    pulumiLabels: live.labels ?? {},
    effectiveAnnotations: live.annotations ?? {},
    versionDestroyTtl: live.versionDestroyTtl ?? inputs.versionDestroyTtl,
  };
}

export const secretHandler: ResourceHandler = {
  type: TYPES.secret,
  defaults: { deletionProtection: false },
  validate: (inputs) => required(inputs, "secretId", "replication"),

  async create(inputs) {
    const project = projectOf(inputs);
    const secretId = text(inputs, "secretId");
    const live = await cloud().call<SecretJson>("POST", `/v1/projects/${project}/secrets?secretId=${encodeURIComponent(secretId)}`, {
      replication: replicationBody(inputs.replication),
      labels: stringMap(inputs.labels),
      annotations: stringMap(inputs.annotations),
      versionAliases: stringMap(inputs.versionAliases),
      ...(optionalText(inputs, "versionDestroyTtl") ? { versionDestroyTtl: inputs.versionDestroyTtl } : {}),
    });
    return { id: `projects/${project}/secrets/${secretId}`, outs: secretOutputs(inputs, project, live) };
  },

  async read(id, state) {
    try {
      const live = await cloud().call<SecretJson>("GET", `/v1/${id}`);
      return {
        id,
        outs: { ...secretOutputs(state, projectOf(state), live), labels: live.labels ?? {}, annotations: live.annotations ?? {} },
      };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  },

  async update(id, _olds, news, changed) {
    const fields: Record<string, string> = {
      labels: "labels",
      annotations: "annotations",
      versionAliases: "versionAliases",
      versionDestroyTtl: "versionDestroyTtl",
    };
    const mask = changed.filter((key) => fields[key] !== undefined);
    let live: SecretJson;
    if (mask.length > 0) {
      live = await cloud().call<SecretJson>("PATCH", `/v1/${id}?updateMask=${mask.join(",")}`, {
        labels: stringMap(news.labels),
        annotations: stringMap(news.annotations),
        versionAliases: stringMap(news.versionAliases),
        versionDestroyTtl: news.versionDestroyTtl ?? "",
      });
    } else {
      live = await cloud().call<SecretJson>("GET", `/v1/${id}`);
    }
    return secretOutputs(news, projectOf(news), live);
  },

  async delete(id, state) {
    if (state.deletionProtection === true) {
      throw new Error(`cannot destroy secret ${id} without setting deletionProtection=false and running \`pulumi up\``);
    }
    try {
      await cloud().call("DELETE", `/v1/${id}`);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  },
};

const DELETION_POLICIES = ["DELETE", "DISABLE", "ABANDON", "PREVENT"];

function versionOutputs(inputs: Plain, live: VersionJson): Plain {
  return {
    ...inputs,
    name: live.name,
    version: live.name.split("/").pop(),
    createTime: live.createTime,
    destroyTime: live.destroyTime ?? "",
    enabled: live.state === "ENABLED",
  };
}

export const secretVersionHandler: ResourceHandler = {
  type: TYPES.secretVersion,
  defaults: { enabled: true, deletionPolicy: "DELETE", isSecretDataBase64: false },
  validate: (inputs) => [...required(inputs, "secret", "secretData"), ...oneOf(inputs, "deletionPolicy", DELETION_POLICIES)],

  async create(inputs) {
    const secret = secretPath(text(inputs, "secret"), undefined);
    const data = typeof inputs.secretData === "string" ? inputs.secretData : "";
    const payload = inputs.isSecretDataBase64 === true ? data : Buffer.from(data, "utf8").toString("base64");
    let live = await cloud().call<VersionJson>("POST", `/v1/${secret}:addVersion`, { payload: { data: payload } });
    if (inputs.enabled === false) live = await cloud().call<VersionJson>("POST", `/v1/${live.name}:disable`, {});
    return { id: live.name, outs: versionOutputs(inputs, live) };
  },

  async read(id, state) {
    try {
      const live = await cloud().call<VersionJson>("GET", `/v1/${id}`);
      // A destroyed version is gone, as the real provider reads it.
      if (live.state === "DESTROYED") return undefined;
      return { id, outs: versionOutputs(state, live) };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  },

  async update(id, olds, news) {
    let live = await cloud().call<VersionJson>("GET", `/v1/${id}`);
    const wantEnabled = news.enabled !== false;
    if (wantEnabled !== (live.state === "ENABLED") || wantEnabled !== (olds.enabled !== false)) {
      live = await cloud().call<VersionJson>("POST", `/v1/${id}:${wantEnabled ? "enable" : "disable"}`, {});
    }
    return versionOutputs(news, live);
  },

  async delete(id, state) {
    const policy = typeof state.deletionPolicy === "string" ? state.deletionPolicy : "DELETE";
    if (policy === "ABANDON") return;
    if (policy === "PREVENT") throw new Error(`cannot delete secret version ${id}: its deletionPolicy is PREVENT`);
    try {
      await cloud().call("POST", `/v1/${id}:${policy === "DISABLE" ? "disable" : "destroy"}`, {});
    } catch (err) {
      // Already gone, or already destroyed: nothing left to do.
      if (isNotFound(err) || (err instanceof Error && /DESTROYED state/.test(err.message))) return;
      throw err;
    }
  },
};

function secretIamResource(inputs: Plain): string {
  return `/v1/${secretPath(text(inputs, "secretId"), optionalText(inputs, "project"))}`;
}

export const secretIamMemberHandler: ResourceHandler = {
  type: TYPES.secretIamMember,
  validate: (inputs) => required(inputs, "secretId", "role", "member"),

  async create(inputs) {
    const resource = secretIamResource(inputs);
    const role = text(inputs, "role");
    const member = text(inputs, "member");
    const etag = await modifyPolicy(resource, (bindings) => addMember(bindings, role, member));
    return { id: `${resource.slice("/v1/".length)}/${role}/${member}`, outs: { ...inputs, etag } };
  },

  async read(id, state) {
    try {
      const { present, etag } = await memberOf(secretIamResource(state), text(state, "role"), text(state, "member"));
      return present ? { id, outs: { ...state, etag } } : undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  },

  // Every property replaces (the table), so an update only refreshes the etag.
  async update(_id, _olds, news) {
    const { etag } = await memberOf(secretIamResource(news), text(news, "role"), text(news, "member"));
    return { ...news, etag };
  },

  async delete(_id, state) {
    try {
      await modifyPolicy(secretIamResource(state), (bindings) => removeMember(bindings, text(state, "role"), text(state, "member")));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  },
};
