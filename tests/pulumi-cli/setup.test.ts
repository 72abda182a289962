/**
 * `npm run pulumi:setup` (pulumi-cli/setup.ts): which CLI it picks, when it rebuilds, and what it
 * prints. The build itself is exercised by CI, which runs setup on a clean clone before the tests.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  BUILD_DIR,
  MODULE_DIR,
  findOnPath,
  findPulumiCli,
  goBuildArgs,
  isCompatible,
  requiredVersion,
  sourceStamp,
} from "../../pulumi-cli/setup";
import { ROOT } from "../support/project";

jest.setTimeout(120_000);

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});
function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-setup-"));
  dirs.push(dir);
  return dir;
}

/** A folder with a fake `pulumi` that reports `version`, and optionally a language host beside it. */
function fakeInstall(version: string, withHost: boolean): string {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, "pulumi"), `#!/bin/sh\n[ "$1" = version ] && echo ${version}\n`, { mode: 0o755 });
  if (withHost) fs.writeFileSync(path.join(dir, "pulumi-language-nodejs"), "#!/bin/sh\n", { mode: 0o755 });
  return dir;
}

test("the required release is the one @pulumi/pulumi is pinned to", () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> };
  expect(requiredVersion()).toBe(pkg.dependencies["@pulumi/pulumi"]);
});

test.each([
  ["v3.248.0", true],
  ["3.248.0", true],
  ["v3.248.12", true],
  ["v3.248.1-alpha.1+dirty", true],
  ["v3.247.0", false],
  ["v3.2480.0", false],
  ["v4.248.0", false],
  ["", false],
])("compatible with 3.248.0: %j -> %s", (version, compatible) => {
  expect(isCompatible(version, "3.248.0")).toBe(compatible);
});

test("the build sets the version the Automation API parses, and builds the CLI and the language host", () => {
  const args = goBuildArgs("3.248.0");
  expect(args).toContain("-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v3.248.0");
  expect(args.slice(-2)).toEqual(["github.com/pulumi/pulumi/pkg/v3/cmd/pulumi", "./cmd/pulumi-language-nodejs"]);
});

test("findOnPath: the first executable file of that name, in PATH order", () => {
  const first = tmpDir();
  const second = fakeInstall("v3.248.0", false);
  fs.writeFileSync(path.join(first, "pulumi"), "not executable", { mode: 0o644 });
  fs.mkdirSync(path.join(first, "pulumi-language-nodejs"));
  expect(findOnPath("pulumi", [first, second].join(path.delimiter))).toBe(path.join(second, "pulumi"));
  expect(findOnPath("pulumi-language-nodejs", first)).toBeUndefined();
  expect(findOnPath("pulumi", undefined)).toBeUndefined();
});

describe("which CLI", () => {
  const built = fs.existsSync(path.join(BUILD_DIR, "pulumi")) ? path.join(BUILD_DIR, "pulumi") : undefined;

  test("a compatible pulumi on PATH with its language host is used as installed", () => {
    const dir = fakeInstall("v3.248.7", true);
    expect(findPulumiCli({ PATH: dir }, "3.248.0")).toEqual({
      pulumi: path.join(dir, "pulumi"),
      binDir: dir,
      version: "v3.248.7",
      source: "path",
    });
  });

  test.each([
    ["another release", fakeInstall("v3.200.0", true)],
    ["no Node.js language host", fakeInstall("v3.248.7", false)],
  ])("a pulumi on PATH with %s is passed over for the one built here", (_label, dir) => {
    const found = findPulumiCli({ PATH: dir }, "3.248.0");
    expect(found?.pulumi).toBe(built);
    if (found !== undefined) expect(found.source).toBe("built");
  });

  test("the built CLI on PATH counts as built (its stamp decides on rebuilds), not as installed", () => {
    if (built === undefined) return expect(findPulumiCli({ PATH: BUILD_DIR }, "3.248.0")).toBeUndefined();
    expect(findPulumiCli({ PATH: BUILD_DIR }, "3.248.0")?.source).toBe("built");
  });
});

test("the source stamp changes with any file of the Go module, and only then", () => {
  const copy = path.join(tmpDir(), "pulumi-cli");
  fs.cpSync(MODULE_DIR, copy, { recursive: true });
  const stamp = sourceStamp("3.248.0", copy);
  expect(sourceStamp("3.248.0", copy)).toBe(stamp);
  expect(sourceStamp("3.248.1", copy)).not.toBe(stamp);
  const main = path.join(copy, "cmd", "pulumi-language-nodejs", "main.go");
  fs.appendFileSync(main, "\n// edited\n");
  expect(sourceStamp("3.248.0", copy)).not.toBe(stamp);
});

test("npm run pulumi:setup prints the CLI and the PATH to use", () => {
  const result = spawnSync(
    process.execPath,
    ["--require", path.join(ROOT, "tools", "register.js"), path.join(ROOT, "pulumi-cli", "setup.ts")],
    {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 1_800_000,
    },
  );
  const cli = findPulumiCli();
  if (cli === undefined) {
    // Only where nothing could be built: the reason is on stderr.
    expect(result.status).not.toBe(0);
    return expect(result.stderr).toMatch(/^error: /);
  }
  expect(result.status).toBe(0);
  expect(result.stdout).toContain(`Pulumi CLI ${cli.version} (`);
  expect(result.stdout).toContain(`  export PATH="${cli.binDir}${path.delimiter}$PATH"\n`);
});
