/**
 * The project under the real Pulumi CLI (built from Go modules by `npm run pulumi:setup`, with the
 * project's own Node.js language host): the project file and both shipped stack files load as they
 * are over a file backend; the engine runs the program through the language host with the stack's
 * config; a secret not set yet stops it with the program's own message; set from stdin, the
 * preview gets as far as the providers, with the policy pack loaded through the language host.
 * (Providers for gcp and random are not installed here, so a preview ends at the first one.)
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { PROJECT } from "../../stack/config";
import { readStackFile } from "../../stack/stack-file";
import { ROOT } from "../support/project";
import { requiredVersion } from "../../pulumi-cli/setup";
import { Sandbox, createSandbox, output, requirePulumiCli } from "../support/pulumi-cli";

const cli = requirePulumiCli();
const describeWithCli = cli === undefined ? describe.skip : describe;

// Each CLI call may take seconds on a busy machine; a preview compiles the program and the pack.
jest.setTimeout(300_000);

const STACKS = ["staging", "prod"] as const;
/** Versions of the release train @pulumi/pulumi is pinned to (3.248.x). */
const sameRelease = new RegExp(`^${requiredVersion().split(".").slice(0, 2).join("\\.")}\\.[0-9]+$`);

describeWithCli("the real Pulumi CLI", () => {
  let sandbox: Sandbox;
  beforeAll(() => {
    sandbox = createSandbox(cli!);
  });
  afterAll(() => sandbox?.remove());

  test("is of the release @pulumi/pulumi is pinned to", () => {
    expect(sandbox.pulumi(["version"]).stdout.trim()).toMatch(new RegExp(`^v${sameRelease.source.slice(1)}`));
  });

  test.each(STACKS)("%s: the stack file loads as shipped, with the config the offline tools read", (stack) => {
    const init = sandbox.pulumi(["stack", "init", stack, "--non-interactive"]);
    expect(output(init)).toContain(`Created stack '${stack}'`);
    expect(init.status).toBe(0);

    const result = sandbox.pulumi(["config", "--stack", stack, "--json"]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const seen = JSON.parse(result.stdout) as Record<string, { value?: string; objectValue?: unknown; secret: boolean }>;
    const shipped = readStackFile(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8"), PROJECT);
    expect(Object.keys(seen).sort()).toEqual(Object.keys(shipped.config).sort());
    for (const [key, value] of Object.entries(shipped.config)) {
      const entry = seen[key];
      expect(entry.secret).toBe(false);
      if (entry.objectValue !== undefined) expect(entry.objectValue).toEqual(JSON.parse(value));
      else expect(entry.value).toBe(value);
    }
  });

  test("the language host answers the engine: plugins from node_modules, the program's dependencies", () => {
    const about = sandbox.pulumi(["about", "--stack", "staging", "--json"]);
    expect(about.status).toBe(0);
    const doc = JSON.parse(about.stdout) as {
      plugins: { kind: string; name: string; version: string }[];
      language: { name: string; metadata?: Record<string, string> };
      dependencies: { name: string; version: string }[];
    };
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    // Exactly the providers the program's packages drive, and the language host itself.
    expect(doc.plugins).toEqual([
      { kind: "resource", name: "gcp", version: pkg.dependencies["@pulumi/gcp"] },
      // The host of the CLI's own release (3.248.x): ours, or the distribution's when a CLI is installed.
      { kind: "language", name: "nodejs", version: expect.stringMatching(sameRelease) as unknown },
      { kind: "resource", name: "random", version: pkg.dependencies["@pulumi/random"] },
    ]);
    // The installed version of each dependency, as its own package.json spells it (@pulumi/policy's has a "v").
    const installed = (name: string): string =>
      (JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
    expect(doc.dependencies).toEqual(
      Object.keys(pkg.dependencies)
        .map((name) => ({ name, version: installed(name) }))
        .sort((a, b) => (a.name < b.name ? -1 : 1)),
    );
    expect(doc.dependencies.map((d) => d.version.replace(/^v/, ""))).toEqual(doc.dependencies.map((d) => pkg.dependencies[d.name]));
  });

  test("a secret value not set yet: the engine runs the program, which names each one and how to set it", () => {
    const result = sandbox.pulumi(["preview", "--stack", "staging", "--non-interactive", "--color", "never"]);
    expect(result.status).not.toBe(0);
    const text = output(result);
    for (const key of ["sparkApiKeyG2", "mnemonicG1", "smokeInvoice"]) {
      expect(text).toContain(
        `wallet-executor:${key}: is required (a secret value); set it with: pulumi config set --secret ${key} < <file holding the value>`,
      );
    }
  });

  const SECRETS: Record<string, string> = {
    sparkApiKeyG2: "spark-key-value-7f3a9c",
    mnemonicG1: "abandon ability able about above absent absorb abstract absurd abuse access accident",
    smokeInvoice: "lnbcrt10n1pjtestinvoicevalue",
  };

  test("secret values set from stdin are stored encrypted, the value never in the file", () => {
    for (const [key, value] of Object.entries(SECRETS)) {
      const set = sandbox.pulumi(["config", "set", "--secret", key, "--stack", "staging"], { input: `${value}\n` });
      expect(set.stderr).toBe("");
      expect(set.status).toBe(0);
    }
    const file = fs.readFileSync(path.join(sandbox.project, "Pulumi.staging.yaml"), "utf8");
    const config = (parse(file) as { config: Record<string, unknown> }).config;
    for (const [key, value] of Object.entries(SECRETS)) {
      expect(config[`wallet-executor:${key}`]).toEqual({ secure: expect.stringMatching(/^v1:/) as unknown });
      expect(file).not.toContain(value);
      // stdin's trailing newline is not part of the value.
      expect(sandbox.pulumi(["config", "get", key, "--stack", "staging"]).stdout).toBe(`${value}\n`);
    }
  });

  test("preview with the policy pack: the pack loads through the language host and the program runs up to the providers", () => {
    const result = sandbox.pulumi(["preview", "--stack", "staging", "--non-interactive", "--color", "never", "--policy-pack", "policy"]);
    const text = output(result);
    expect(text).toContain("Loading policy packs...: done");
    expect(text).toContain("wallet-executor-policy@v0.1.0 (local: policy)");
    // The program passed its config checks and registered its components with the engine, then the
    // engine stopped at the first provider this machine does not have (the first custom resource, in a
    // component, needs gcp or random). Which components the display shows before the stop varies with
    // the machine's load (a busy machine once showed every one but auth-token): at least one of them.
    expect(text).toMatch(/wallet:(rotation:RotatingSecret|service:ExecutorService|service:ControlService) \S+ create/);
    expect(text).toMatch(/no resource plugin 'pulumi-resource-(gcp|random)' found/);
    expect(text).not.toContain("is required (a secret value)");
    for (const value of Object.values(SECRETS)) expect(text).not.toContain(value);
    expect(result.status).not.toBe(0);
  });

  test("the project file as issue 12 found it is refused, with the reason Pulumi gives", () => {
    const dir = path.join(sandbox.dir, "before-issue-12");
    fs.mkdirSync(dir);
    fs.copyFileSync(path.join(ROOT, "tests", "fixtures", "pulumi-files", "Pulumi.issue-12.yaml"), path.join(dir, "Pulumi.yaml"));
    const result = sandbox.pulumi(["stack", "ls"], { cwd: dir });
    expect(result.status).not.toBe(0);
    // Pulumi stops at the first offending key; which one comes first is the order of a Go map.
    expect(result.stderr).toMatch(/Configuration key 'gcp:(project|region)' is not namespaced by the project and should not define a type/);
  });
});
