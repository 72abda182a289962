/**
 * The functions every resource constructor calls to register (looked up on the module object at call
 * time, so wrapping them is seen by every constructor) and the one that resolves `dependsOn` as the
 * SDK does: the evaluation watchdog (harness/evaluation-watchdog.ts) watches registrations through them
 * to name the resources of a program that can never finish.
 */
import type * as pulumi from "@pulumi/pulumi";
import { member } from "./fence";
import { defineInternal } from "./internal";

export type RegisterFn = (...args: unknown[]) => unknown;

const REGISTER_ID = "@pulumi/pulumi/runtime/resource#registerResource,readResource";
export const resourceRegistration = defineInternal({
  id: REGISTER_ID,
  moduleId: "@pulumi/pulumi/runtime/resource",
  usedBy: ["harness/evaluation-watchdog.ts"],
  why: "a stalled program is named by the registrations it started and never finished",
  extract: (module) => {
    member<RegisterFn>(REGISTER_ID, module, "registerResource", "function");
    member<RegisterFn>(REGISTER_ID, module, "readResource", "function");
    return module as unknown as { registerResource: RegisterFn; readResource: RegisterFn };
  },
  behaviour: "registerResource and readResource are functions on the module object (wrapped in place)",
  behaves: (module) => typeof module.registerResource === "function" && typeof module.readResource === "function",
});

const DEPENDS_ON_ID = "@pulumi/pulumi/runtime/dependsOn#gatherExplicitDependencies";
export const dependsOnResolution = defineInternal({
  id: DEPENDS_ON_ID,
  moduleId: "@pulumi/pulumi/runtime/dependsOn",
  usedBy: ["harness/evaluation-watchdog.ts"],
  why: "what a resource waits on through dependsOn, resolved exactly as the SDK resolves it",
  extract: (module) =>
    member<(dependsOn: unknown) => Promise<pulumi.Resource[]>>(DEPENDS_ON_ID, module, "gatherExplicitDependencies", "function"),
  behaviour: "gatherExplicitDependencies(undefined) resolves to an empty list",
  behaves: async (gather) => {
    const found = await gather(undefined);
    return Array.isArray(found) && found.length === 0;
  },
});
