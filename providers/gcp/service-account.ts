/** IAM service accounts (`gcp.serviceaccount.Account`). */
import { LocalCloudApiError } from "../../localcloud/client";
import { TYPES } from "../../localcloud/replacement-rules";
import { ResourceHandler } from "../framework";
import { Plain } from "../wire";
import { cloud, isNotFound, projectOf, required, text } from "./common";

interface AccountJson {
  name: string;
  email: string;
  uniqueId: string;
  displayName: string;
  description: string;
  disabled: boolean;
}

function accountOutputs(inputs: Plain, project: string, live: AccountJson): Plain {
  return {
    ...inputs,
    project,
    email: live.email,
    name: live.name,
    uniqueId: live.uniqueId,
    member: `serviceAccount:${live.email}`,
    disabled: live.disabled,
  };
}

export const serviceAccountHandler: ResourceHandler = {
  type: TYPES.serviceAccount,
  defaults: { disabled: false, createIgnoreAlreadyExists: false },
  validate: (inputs) => required(inputs, "accountId"),

  async create(inputs) {
    const project = projectOf(inputs);
    const accountId = text(inputs, "accountId");
    let live: AccountJson;
    try {
      live = await cloud().call<AccountJson>("POST", `/v1/projects/${project}/serviceAccounts`, {
        accountId,
        serviceAccount: { displayName: inputs.displayName ?? "", description: inputs.description ?? "" },
      });
    } catch (err) {
      if (!(inputs.createIgnoreAlreadyExists === true && err instanceof LocalCloudApiError && err.status === "ALREADY_EXISTS")) throw err;
      live = await cloud().call<AccountJson>(
        "GET",
        `/v1/projects/${project}/serviceAccounts/${accountId}@${project}.iam.gserviceaccount.com`,
      );
    }
    if (inputs.disabled === true) await cloud().call("POST", `/v1/${live.name}:disable`, {});
    return { id: live.name, outs: accountOutputs(inputs, project, { ...live, disabled: inputs.disabled === true }) };
  },

  async read(id, state) {
    try {
      const live = await cloud().call<AccountJson>("GET", `/v1/${id}`);
      return {
        id,
        outs: { ...accountOutputs(state, projectOf(state), live), displayName: live.displayName, description: live.description },
      };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  },

  async update(id, _olds, news, changed) {
    const mask = changed.filter((key) => key === "displayName" || key === "description");
    if (mask.length > 0) {
      await cloud().call("PATCH", `/v1/${id}`, {
        serviceAccount: { displayName: news.displayName ?? "", description: news.description ?? "" },
        updateMask: mask.join(","),
      });
    }
    if (changed.includes("disabled")) await cloud().call("POST", `/v1/${id}:${news.disabled === true ? "disable" : "enable"}`, {});
    const live = await cloud().call<AccountJson>("GET", `/v1/${id}`);
    return accountOutputs(news, projectOf(news), live);
  },

  async delete(id) {
    try {
      await cloud().call("DELETE", `/v1/${id}`);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  },
};
