/** The local `random` provider plugin over gRPC, and its password generation. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { TYPES } from "../../localcloud/replacement-rules";
import { installPlugins } from "../../providers/install";
import { generatePassword } from "../../providers/random/provider";
import { ProviderProcess, UNKNOWN, isSecret, urn } from "../support/provider-process";

jest.setTimeout(60_000);

let random: ProviderProcess;
const URN = urn(TYPES.randomPassword, "auth-token-g4-value");

beforeAll(async () => {
  const plugin = installPlugins(mkdtempSync(path.join(tmpdir(), "random-provider-home-"))).find((p) => p.name === "random");
  random = await ProviderProcess.start(String(plugin?.executable), { PATH: process.env.PATH, HOME: process.env.HOME });
});
afterAll(() => random.stop());

test("reports @pulumi/random's version", async () => {
  expect(await random.pluginVersion()).toBe((require("@pulumi/random/package.json") as { version: string }).version);
});

test("creates a password of the asked length and classes, always secret in state, with the real provider's id", async () => {
  const checked = await random.check(URN, {}, { length: 64, special: false, upper: true, lower: true, numeric: true });
  expect(checked.failures).toEqual([]);
  expect(checked.inputs).toMatchObject({ minUpper: 0, minLower: 0, minNumeric: 0, minSpecial: 0, number: true });
  const created = await random.create(URN, checked.inputs);
  expect(created.id).toBe("none");
  expect(isSecret(created.properties.result)).toBe(true);
  const result = (created.properties.result as { value: string }).value;
  expect(result).toMatch(/^[A-Za-z0-9]{64}$/);
  const again = await random.create(URN, checked.inputs);
  expect((again.properties.result as { value: string }).value).not.toBe(result);
});

test("every change replaces (a new password); an unchanged one is no change", async () => {
  const { inputs } = await random.check(URN, {}, { length: 32, special: false });
  const { properties } = await random.create(URN, inputs);
  expect(await random.diff(URN, "none", properties, inputs)).toMatchObject({ changes: "none", replaces: [] });
  expect(await random.diff(URN, "none", properties, { ...inputs, length: 48 })).toMatchObject({ changes: "some", replaces: ["length"] });
  expect(await random.diff(URN, "none", properties, { ...inputs, keepers: { generation: "5" } })).toMatchObject({ replaces: ["keepers"] });
  expect(await random.diff(URN, "none", properties, { ...inputs, special: UNKNOWN })).toMatchObject({ replaces: ["special"] });
});

test("check refuses a length below the sum of the minimums", async () => {
  const { failures } = await random.check(URN, {}, { length: 4, minUpper: 3, minNumeric: 3 });
  expect(failures).toEqual([{ property: "length", reason: "length 4 must be at least the sum of the minimums (6)" }]);
});

test("generatePassword honours each class's minimum and the special characters override", () => {
  const password = generatePassword({
    length: 12,
    upper: true,
    lower: true,
    numeric: true,
    special: true,
    minUpper: 3,
    minLower: 0,
    minNumeric: 4,
    minSpecial: 5,
    overrideSpecial: "#",
  });
  expect(password).toHaveLength(12);
  expect(password.replace(/[^A-Z]/g, "").length).toBeGreaterThanOrEqual(3);
  expect(password.replace(/[^0-9]/g, "").length).toBeGreaterThanOrEqual(4);
  expect(password.replace(/[^#]/g, "").length).toBeGreaterThanOrEqual(5);
  expect(password).toMatch(/^[A-Za-z0-9#]+$/);
  expect(() =>
    generatePassword({
      length: 3,
      upper: false,
      lower: false,
      numeric: false,
      special: false,
      minUpper: 0,
      minLower: 0,
      minNumeric: 0,
      minSpecial: 0,
    }),
  ).toThrow(/at least one of upper, lower, numeric and special/);
});
