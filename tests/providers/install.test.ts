/** Installing the local provider plugins into a Pulumi home of their own. */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { installPlugins } from "../../providers/install";

const versionOf = (pkg: string): string => (require(`${pkg}/package.json`) as { version: string }).version;

test("writes pulumi-resource-gcp and pulumi-resource-random under plugins/resource-<name>-v<the SDK's version>, executable", () => {
  const home = mkdtempSync(path.join(tmpdir(), "plugins-home-"));
  mkdirSync(path.join(home, "plugins"));
  writeFileSync(path.join(home, "plugins", `resource-gcp-v${versionOf("@pulumi/gcp")}.partial`), "");
  const installed = installPlugins(home);
  expect(installed.map((p) => path.relative(home, p.executable))).toEqual([
    path.join("plugins", `resource-gcp-v${versionOf("@pulumi/gcp")}`, "pulumi-resource-gcp"),
    path.join("plugins", `resource-random-v${versionOf("@pulumi/random")}`, "pulumi-resource-random"),
  ]);
  for (const plugin of installed) {
    expect(statSync(plugin.executable).mode & 0o111).toBe(0o111);
    expect(readFileSync(plugin.executable, "utf8")).toMatch(/^#!\/bin\/sh\n# local-cloud provider plugin/);
  }
  // A leftover `.partial` would make Pulumi ignore the plugin.
  expect(existsSync(path.join(home, "plugins", `resource-gcp-v${versionOf("@pulumi/gcp")}.partial`))).toBe(false);
  // Installing again replaces its own plugins.
  expect(installPlugins(home)).toHaveLength(2);
});

test("refuses the default Pulumi home and a real provider already installed", () => {
  const userHome = mkdtempSync(path.join(tmpdir(), "user-home-"));
  expect(() => installPlugins(path.join(userHome, ".pulumi"), userHome)).toThrow(/is the default Pulumi home/);
  expect(existsSync(path.join(userHome, ".pulumi"))).toBe(false);
  const home = mkdtempSync(path.join(tmpdir(), "plugins-home-"));
  const dir = path.join(home, "plugins", `resource-gcp-v${versionOf("@pulumi/gcp")}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "pulumi-resource-gcp"), "\x7fELF the real provider");
  expect(() => installPlugins(home)).toThrow(/is not a local-cloud plugin: refusing to replace a real provider/);
});
