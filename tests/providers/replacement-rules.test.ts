/**
 * The replacement rules: the docs page and the data are the same table; every property is a real
 * input of its type in @pulumi/gcp / @pulumi/random; and every input the program sets is covered
 * (the local providers refuse anything else, so a gap would fail a real `pulumi up`).
 */
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { REPLACEMENT_RULES, TYPES, propertiesOf } from "../../localcloud/replacement-rules";
import { runStack } from "../support/stack";
import { ROOT } from "../support/project";

afterAll(() => pulumi.runtime.disconnect());

const unescape = (cell: string): string => cell.trim().replace(/\\\|/g, "|").replace(/^`|`$/g, "");

test("docs/reference/replacement-rules.md shows exactly the rows of localcloud/replacement-rules.ts", () => {
  const page = readFileSync(path.join(ROOT, "docs", "reference", "replacement-rules.md"), "utf8");
  const rows = page
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .map((line) =>
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map(unescape),
    );
  expect(rows).toEqual(REPLACEMENT_RULES.map((r) => [r.type, r.property, r.effect, r.how, r.source]));
});

/** The input property names of a resource's Args interface in the SDK's type definitions. */
function argsOf(dts: string, argsInterface: string): string[] {
  const body =
    new RegExp(`export interface ${argsInterface} \\{([\\s\\S]*?)\\n\\}`).exec(readFileSync(require.resolve(dts), "utf8"))?.[1] ?? "";
  return [...body.matchAll(/^ {4}([a-zA-Z0-9]+)\??:/gm)].map((m) => m[1]);
}

const ARGS: Readonly<Record<string, [string, string]>> = {
  [TYPES.secret]: ["@pulumi/gcp/secretmanager/secret.d.ts", "SecretArgs"],
  [TYPES.secretVersion]: ["@pulumi/gcp/secretmanager/secretVersion.d.ts", "SecretVersionArgs"],
  [TYPES.secretIamMember]: ["@pulumi/gcp/secretmanager/secretIamMember.d.ts", "SecretIamMemberArgs"],
  [TYPES.serviceAccount]: ["@pulumi/gcp/serviceaccount/account.d.ts", "AccountArgs"],
  [TYPES.cloudRunService]: ["@pulumi/gcp/cloudrunv2/service.d.ts", "ServiceArgs"],
  [TYPES.cloudRunServiceIamMember]: ["@pulumi/gcp/cloudrunv2/serviceIamMember.d.ts", "ServiceIamMemberArgs"],
  [TYPES.randomPassword]: ["@pulumi/random/randomPassword.d.ts", "RandomPasswordArgs"],
};

test.each(Object.entries(ARGS))("every rule of %s names an input of the SDK's Args", (type, [dts, args]) => {
  const inputs = argsOf(dts, args);
  expect(inputs.length).toBeGreaterThan(2);
  for (const property of propertiesOf(type)) expect(inputs).toContain(property);
});

test.each(["staging", "prod"] as const)("every gcp and random input the %s program sets is covered by a rule", async (stack) => {
  const run = await runStack({ stack });
  const managed = run.resources.filter((r) => r.custom && !r.read && (r.type.startsWith("gcp:") || r.type.startsWith("random:")));
  expect(new Set(managed.map((r) => r.type))).toEqual(new Set(Object.values(TYPES)));
  for (const resource of managed) {
    const covered = propertiesOf(resource.type);
    for (const key of Object.keys(resource.inputs))
      expect(`${resource.type}.${key}: ${covered.includes(key) ? "covered" : "missing"}`).toBe(`${resource.type}.${key}: covered`);
  }
});
