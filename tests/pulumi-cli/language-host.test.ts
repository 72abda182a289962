/**
 * The project's Node.js language host (pulumi-cli/cmd/pulumi-language-nodejs), as the engine
 * drives it: a process that prints its port and answers LanguageRuntime over gRPC (the stubs
 * shipped in @pulumi/pulumi). The resource plugins it reports, how it runs a program (flags,
 * config and runtime options in the environment; exit code 32 as "already reported"), its clear
 * errors; and the `pulumi-analyzer-policy` launcher as a process. tests/pulumi-cli/cli.e2e.test.ts drives
 * the host through the real engine.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import { analyzerGrpc, analyzerPb } from "../../lib/sdk-internals/analyzer-proto";
import { languageGrpc, languagePb, pluginPb } from "../../lib/sdk-internals/plugin-proto";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { BUILD_DIR, MODULE_DIR, findPulumiCli, requiredVersion } from "../../pulumi-cli/setup";
import { ROOT } from "../support/project";

/**
 * The project's own host, as `npm run pulumi:setup` builds it. Tested whenever it is the one in use:
 * a CLI installed on PATH brings its own host instead (then these tests skip, saying so).
 */
const HOST = path.join(BUILD_DIR, "pulumi-language-nodejs");
const installedCli = findPulumiCli()?.source === "path";
if (!installedCli && !fs.existsSync(HOST) && process.env.CI === "true") {
  throw new Error(`CI=true but ${HOST} is not built: .ci/run must run \`npm run pulumi:setup\` before the tests`);
}
const testHost = !installedCli && fs.existsSync(HOST);
if (!testHost) console.warn(`the project's language host is not in use or not built (npm run pulumi:setup builds it): its tests skip`);
const describeWithHost = testHost ? describe : describe.skip;
const LAUNCHER = path.join(MODULE_DIR, "launchers", "pulumi-analyzer-policy");
jest.setTimeout(120_000);

const children: ChildProcess[] = [];
const tmpDirs: string[] = [];
afterAll(async () => {
  for (const child of children) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill();
    await exited;
  }
  for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "language-host-"));
  tmpDirs.push(dir);
  return dir;
}

/** Starts a plugin process and resolves with the port it prints first on stdout. */
function startPlugin(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    children.push(child);
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = /^([0-9]+)\r?\n/.exec(stdout);
      if (line) resolve(Number(line[1]));
    });
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("exit", (code) => reject(new Error(`${command} exited (${code}) before printing its port: ${stderr}`)));
    child.once("error", reject);
  });
}

function unary<Res>(invoke: (callback: (error: grpc.ServiceError | null, response: Res) => void) => unknown): Promise<Res> {
  return new Promise((resolve, reject) => {
    invoke((error, response) => (error ? reject(error) : resolve(response)));
  });
}

function programInfo(dir: string, options: Record<string, unknown> = {}, entryPoint = "."): languagePb.ProgramInfo {
  const info = new languagePb.ProgramInfo();
  info.setRootDirectory(dir);
  info.setProgramDirectory(dir);
  info.setEntryPoint(entryPoint);
  info.setOptions(Struct.fromJavaScript(options as Record<string, never>));
  return info;
}

/**
 * A program folder whose node process records how it was started and exits at once with the code
 * given as the program's first argument: the recorder is preloaded through the `nodeargs` runtime
 * option, before @pulumi/pulumi's cmd/run (which would connect to the engine) runs.
 */
function fixtureProgram(withSdk = true): { dir: string; nodeargs: string } {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "fixture", version: "0.0.0", main: "index.js" }));
  fs.writeFileSync(path.join(dir, "index.js"), "");
  const recorder = path.join(dir, "record.js");
  fs.writeFileSync(
    recorder,
    [
      'const fs = require("fs");',
      "fs.writeFileSync(process.env.FIXTURE_OUT, JSON.stringify({",
      "  argv: process.argv.slice(1),",
      "  cwd: process.cwd(),",
      '  env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("PULUMI_"))),',
      "}));",
      "process.exit(Number(process.argv[process.argv.length - 2]));",
      "",
    ].join("\n"),
  );
  if (withSdk) fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
  return { dir, nodeargs: `--require ${recorder}` };
}

describeWithHost("the Node.js language host", () => {
  let client: languageGrpc.LanguageRuntimeClient;
  const out = path.join(os.tmpdir(), `language-host-run-${process.pid}.json`);
  afterAll(() => {
    client?.close();
    fs.rmSync(out, { force: true });
  });

  beforeAll(async () => {
    const port = await startPlugin(HOST, ["127.0.0.1:7"], { cwd: ROOT, env: { ...process.env, FIXTURE_OUT: out } });
    client = new languageGrpc.LanguageRuntimeClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });

  test("reports the release it was built for", async () => {
    const info = await unary<pluginPb.PluginInfo>((callback) => client.getPluginInfo(new Empty(), callback));
    expect(info.getVersion()).toMatch(new RegExp(`^${requiredVersion().split(".").slice(0, 2).join("\\.")}\\.`));
  });

  test("required packages: each package in node_modules that drives a provider, at its version", async () => {
    const request = new languagePb.GetRequiredPackagesRequest();
    request.setInfo(programInfo(ROOT, {}, "index.ts"));
    const response = await unary<languagePb.GetRequiredPackagesResponse>((callback) => client.getRequiredPackages(request, callback));
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    expect(response.getPackagesList().map((p: pluginPb.PackageDependency) => [p.getKind(), p.getName(), p.getVersion()])).toEqual([
      ["resource", "gcp", pkg.dependencies["@pulumi/gcp"]],
      ["resource", "random", pkg.dependencies["@pulumi/random"]],
    ]);
  });

  test("required packages of a program whose dependencies are not installed: an error naming them", async () => {
    const dir = tmpDir();
    fs.writeFileSync(
      path.join(dir, "package.json"),
      JSON.stringify({ name: "x", dependencies: { "@pulumi/absent": "1.0.0" }, devDependencies: { "jest-absent": "1.0.0" } }),
    );
    const request = new languagePb.GetRequiredPackagesRequest();
    request.setInfo(programInfo(dir));
    await expect(
      unary<languagePb.GetRequiredPackagesResponse>((callback) => client.getRequiredPackages(request, callback)),
    ).rejects.toThrow(`dependencies of ${dir} are not installed (@pulumi/absent); run \`npm ci\` there`);
  });

  test("devDependencies may be absent (npm ci --omit=dev installs what runs)", async () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "x", devDependencies: { "jest-absent": "1.0.0" } }));
    const request = new languagePb.GetRequiredPackagesRequest();
    request.setInfo(programInfo(dir));
    const response = await unary<languagePb.GetRequiredPackagesResponse>((callback) => client.getRequiredPackages(request, callback));
    expect(response.getPackagesList()).toEqual([]);
  });

  function runRequest({ dir, nodeargs }: { dir: string; nodeargs: string }, exitCode: number): languagePb.RunRequest {
    const request = new languagePb.RunRequest();
    request.setInfo(programInfo(dir, { typescript: false, tsconfig: "tsconfig.engine.json", nodeargs }));
    request.setPwd(dir);
    request.setProgram(".");
    request.setProject("fixture");
    request.setStack("dev");
    request.setOrganization("org");
    request.setMonitorAddress("127.0.0.1:9");
    request.setDryrun(true);
    request.setParallel(4);
    request.setArgsList([String(exitCode), "extra"]);
    request.getConfigMap().set("fixture:plain", "1").set("fixture:token", "s3cr3t");
    request.setConfigsecretkeysList(["fixture:token"]);
    return request;
  }

  test("run: node runs @pulumi/pulumi's cmd/run with the engine's flags; config and runtime options in the environment", async () => {
    const program = fixtureProgram();
    const response = await unary<languagePb.RunResponse>((callback) => client.run(runRequest(program, 0), callback));
    expect([response.getBail(), response.getError()]).toEqual([false, ""]);
    const seen = JSON.parse(fs.readFileSync(out, "utf8")) as { argv: string[]; cwd: string; env: Record<string, string> };
    expect(seen.argv).toEqual([
      // The program's own @pulumi/pulumi, found as Node finds it (here a link to the repository's node_modules).
      path.join(program.dir, "node_modules", "@pulumi", "pulumi", "cmd", "run"),
      "--monitor",
      "127.0.0.1:9",
      "--engine",
      "127.0.0.1:7",
      "--project",
      "fixture",
      "--stack",
      "dev",
      "--organization",
      "org",
      "--pwd",
      program.dir,
      "--parallel",
      "4",
      "--root-directory",
      program.dir,
      "--dry-run",
      ".",
      "0",
      "extra",
    ]);
    expect(fs.realpathSync(seen.cwd)).toBe(fs.realpathSync(program.dir));
    expect(JSON.parse(seen.env.PULUMI_CONFIG)).toEqual({ "fixture:plain": "1", "fixture:token": "s3cr3t" });
    expect(JSON.parse(seen.env.PULUMI_CONFIG_SECRET_KEYS)).toEqual(["fixture:token"]);
    expect(seen.env.PULUMI_NODEJS_TYPESCRIPT).toBe("false");
    expect(seen.env.PULUMI_NODEJS_TSCONFIG_PATH).toBe("tsconfig.engine.json");
  });

  test("run: exit code 32 means the program already reported its error (bail), any other is an error", async () => {
    const program = fixtureProgram();
    const bailed = await unary<languagePb.RunResponse>((callback) => client.run(runRequest(program, 32), callback));
    expect([bailed.getBail(), bailed.getError()]).toEqual([true, ""]);
    const failed = await unary<languagePb.RunResponse>((callback) => client.run(runRequest(program, 3), callback));
    expect([failed.getBail(), failed.getError()]).toEqual([false, "the Node.js program exited with code 3"]);
  });

  test("run: without @pulumi/pulumi installed, an error saying what to run", async () => {
    const program = fixtureProgram(false);
    const response = await unary<languagePb.RunResponse>((callback) => client.run(runRequest(program, 0), callback));
    expect(response.getError()).toBe(`@pulumi/pulumi/cmd/run is not installed in or above ${program.dir}; run \`npm ci\` there`);
  });
});

describe("the pulumi-analyzer-policy launcher", () => {
  test("serves the policy pack from the pack's own node_modules, printing its port", async () => {
    // ts-node type-checks the pack first: this takes seconds.
    const port = await startPlugin(LAUNCHER, ["127.0.0.1:7", "."], { cwd: path.join(ROOT, "policy") });
    const analyzer = new analyzerGrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const info = await unary<analyzerPb.AnalyzerInfo>((callback) => analyzer.getAnalyzerInfo(new Empty(), callback));
      expect(info.getName()).toBe("wallet-executor-policy");
    } finally {
      analyzer.close();
    }
  });

  test("without the pack's dependencies: node's 'Cannot find module' reaches the engine, and it exits non-zero", () => {
    const result = spawnSync(LAUNCHER, ["127.0.0.1:7", "."], { cwd: tmpDir(), encoding: "utf8", timeout: 60_000 });
    expect(result.stderr).toContain("Cannot find module '@pulumi/pulumi/cmd/run-policy-pack'");
    expect(result.stdout).toBe("");
    expect(result.status).toBe(1);
  });
});
