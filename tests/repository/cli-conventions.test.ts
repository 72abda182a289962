/**
 * Every CLI of the project follows one convention (lib/cli.ts, docs/reference/cli.md), held here
 * through the `wallet-executor` bin: `--help` on stdout with exit 0; an unknown flag exits 2 with one
 * line, a hint and the common error prefix; `--flag=value` is parsed like `--flag value`; a stack
 * with no stack file lists the stacks there are; and each `--json` document carries its schema and
 * the shape of the example the reference documents (the plan's is held in tests/ops/plan.test.ts,
 * which runs it anyway; the rehearsal's in tests/e2e/rehearse.test.ts).
 *
 * What only a process shows runs as processes, started together (one round of cold starts): each
 * command's unknown flag (the bin, tools/register.js and the exit code the process ends with, stdout
 * left empty) and the JSON documents (stdout carries exactly the document). The rest runs the bin's
 * own dispatch in this process (ops/commands.ts `runCommand`), with stdout and stderr captured: the
 * same code path, without a cold start per case.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { benchDocument } from "../../ops/bench/report";
import { runCommand } from "../../ops/commands";
import { startStandInExecutor, type StandInExecutor } from "../../harness/stand-in-executor";
import { documentedExamples, documentedShapeMismatches, shapeMismatches } from "../support/json-shape";
import { ROOT } from "../support/project";

const BIN = path.join(ROOT, "tools", "wallet-executor.js");
const TOKEN = "conventions-test-token-0123456789abcdef";

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `wallet-executor ...args`; resolves on exit, or once `until` matches stdout (then it is stopped). */
function bin(args: readonly string[], options: { env?: NodeJS.ProcessEnv; until?: RegExp } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (options.until?.test(stdout)) child.kill("SIGTERM");
    });
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Runs `wallet-executor ...args` in this process, through the bin's dispatch, capturing what it
 * writes on stdout and stderr. One at a time: the capture is the process's.
 */
async function inProcess(args: readonly string[]): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const capture = (append: (text: string) => void) =>
    ((chunk: string | Uint8Array): boolean => {
      append(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString());
      return true;
    }) as typeof process.stdout.write;
  const out = jest.spyOn(process.stdout, "write").mockImplementation(capture((text) => (stdout += text)));
  const err = jest.spyOn(process.stderr, "write").mockImplementation(capture((text) => (stderr += text)));
  try {
    const code = await runCommand(args);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/** The commands, with a flag that shows `=` is parsed (a stack for those that take one). */
const COMMANDS: Readonly<Record<string, { equals: string[]; equalsError: string | RegExp }>> = {
  plan: { equals: ["--stack=qa"], equalsError: 'no stack "qa" here (no Pulumi.qa.yaml); stacks: prod, staging' },
  verify: { equals: ["--stack=qa"], equalsError: 'no stack "qa" here (no Pulumi.qa.yaml); stacks: prod, staging' },
  drill: { equals: ["--stack=qa"], equalsError: 'no stack "qa" here (no Pulumi.qa.yaml); stacks: prod, staging' },
  deploy: { equals: ["--stack=qa"], equalsError: 'no stack "qa" here (no Pulumi.qa.yaml); stacks: prod, staging' },
  rehearse: { equals: ["--stack=qa"], equalsError: 'no stack "qa" here (no Pulumi.qa.yaml); stacks: prod, staging' },
  doctor: { equals: ["--stack=qa"], equalsError: 'no stack "qa" here (no Pulumi.qa.yaml); stacks: prod, staging' },
  bench: { equals: ["--runs=0"], equalsError: "--runs takes a positive integer" },
  localcloud: { equals: ["--port=x"], equalsError: '--port: "x" is not allowed; allowed: a non-negative integer' },
};

const runs = new Map<string, Run>();
let executor: StandInExecutor;
const out = fs.mkdtempSync(path.join(os.tmpdir(), "cli-conventions-"));

beforeAll(async () => {
  executor = await startStandInExecutor({ token: TOKEN, tokenVersion: 4 });
  const started: [string, Promise<Run>][] = [];
  for (const name of Object.keys(COMMANDS)) started.push([`${name} bad flag`, bin([name, "--bogus-flag"])]);
  started.push([
    "verify json",
    bin(["verify", `--base-url=${executor.url}`, "--expect-token-version=4", "--json"], {
      env: { OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN: TOKEN },
    }),
  ]);
  started.push(["drill json", bin(["drill", "--from-events", "drills/examples/staging-rotation.events.jsonl", "--out", out, "--json"])]);
  started.push(["doctor json", bin(["doctor", "--json"], { env: { PATH: "", HOME: out, PULUMI_HOME: out } })]);
  started.push(["localcloud json", bin(["localcloud", "--shutdown-grace-ms", "0"], { until: /\n/ })]);
  // While the processes start: the in-process cases, one after another.
  for (const [name, c] of Object.entries(COMMANDS)) {
    runs.set(`${name} help`, await inProcess([name, "-h"]));
    runs.set(`${name} equals`, await inProcess([name, ...c.equals]));
  }
  runs.set("no command", await inProcess([]));
  runs.set("near command", await inProcess(["verfy"]));
  const done = await Promise.all(started.map(async ([key, run]) => [key, await run] as const));
  for (const [key, run] of done) runs.set(key, run);
}, 120_000); // a round of cold processes on a busy machine; the deadline only stops a hang

afterAll(async () => {
  await executor?.close();
  fs.rmSync(out, { recursive: true, force: true });
});

const get = (key: string): Run => {
  const run = runs.get(key);
  if (run === undefined) throw new Error(`no run ${key}`);
  return run;
};

describe.each(Object.keys(COMMANDS))("wallet-executor %s", (name) => {
  test("--help/-h: the usage on stdout, exit 0", () => {
    const run = get(`${name} help`);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^usage: wallet-executor ${name}\\b`));
    expect(run.stdout).toContain(`   or: npm run ${name} --`);
    expect(run.stdout).toContain("-h, --help");
  });

  test("an unknown flag: exit 2, one line with the common prefix and the hint", () => {
    const run = get(`${name} bad flag`);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe(`${name}: error: unknown flag --bogus-flag (see --help)\n`);
  });

  test("--flag=value is parsed like --flag value (a stack with no stack file lists the stacks)", () => {
    const run = get(`${name} equals`);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe(`${name}: error: ${String(COMMANDS[name].equalsError)} (see --help)\n`);
  });
});

describe("wallet-executor itself", () => {
  test("no command, or a near miss: exit 2 with the hint", () => {
    expect(get("no command")).toEqual({ code: 2, stdout: "", stderr: "wallet-executor: error: a command is required (see --help)\n" });
    expect(get("near command")).toEqual({
      code: 2,
      stdout: "",
      stderr: "wallet-executor: error: unknown command verfy: did you mean verify? (see --help)\n",
    });
  });

  test("package.json's bin is this command, and every npm script of a command runs the module the bin runs", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
      bin: Record<string, string>;
      scripts: Record<string, string>;
    };
    expect(pkg.bin).toEqual({ "wallet-executor": "tools/wallet-executor.js" });
    const modules: Record<string, string> = {
      plan: "ops/plan/cli.ts",
      verify: "verification/cli.ts",
      drill: "ops/drill/cli.ts",
      deploy: "ops/deploy/cli.ts",
      rehearse: "rehearsal/cli.ts",
      bench: "ops/bench/cli.ts",
      localcloud: "localcloud/cli.ts",
    };
    for (const [name, file] of Object.entries(modules)) expect(pkg.scripts[name]).toBe(`node --require ./tools/register.js ${file}`);
  });
});

describe("JSON documents: the schema, and the shape docs/reference/cli.md documents", () => {
  const examples = documentedExamples(ROOT);
  const parsed = (key: string, code: number): Record<string, unknown> => {
    const run = get(key);
    expect({ key, code: run.code }).toEqual({ key, code });
    return JSON.parse(run.stdout) as Record<string, unknown>;
  };

  test.each([
    ["verify json", 0, "wallet-executor/verify/v1"],
    ["drill json", 0, "wallet-executor/drill-report/v1"],
    ["doctor json", 1, "wallet-executor/doctor/v1"],
  ])("%s: stdout is exactly one document (exit %s), %s, with the documented shape", (key, code, schema) => {
    const doc = parsed(key, code);
    expect(Object.keys(doc)[0]).toBe("schema");
    expect(doc.schema).toBe(schema);
    expect(documentedShapeMismatches(ROOT, doc)).toEqual([]);
  });

  test("localcloud's line carries its schema and the documented shape", () => {
    const run = get("localcloud json");
    const doc = JSON.parse(run.stdout.split("\n")[0]) as Record<string, unknown>;
    expect(doc.schema).toBe("wallet-executor/localcloud/v1");
    expect(documentedShapeMismatches(ROOT, doc)).toEqual([]);
  });

  test("bench's document (the function --json prints) has the documented shape", () => {
    const doc = benchDocument(
      [
        { name: "a", samples: [3, 1, 2], floor: { what: "f", samples: [1] }, target: { kind: "ratio", maxRatio: 3 } },
        { name: "b", samples: [5], target: { kind: "ms", maxMs: 1 }, note: "n" },
      ],
      { date: "2026-12-01", node: "v20.20.2", cpus: 2, cpu: "cpu", load: [0.5, 0.4, 0.3] },
    );
    expect(doc.ok).toBe(false);
    expect(doc.figures.map((f) => [f.medianMs, f.ratioToFloor, f.ok])).toEqual([
      [2, 2, true],
      [5, null, false],
    ]);
    // `target` is one of two documented forms ({kind, maxMs} or {kind, maxRatio}).
    expect(documentedShapeMismatches(ROOT, JSON.parse(JSON.stringify(doc)))).toEqual([]);
  });

  test("every documented schema is one a command prints", () => {
    expect([...examples.keys()].sort()).toEqual([
      "wallet-executor/bench/v1",
      "wallet-executor/doctor/v1",
      "wallet-executor/drill-report/v1",
      "wallet-executor/localcloud/v1",
      "wallet-executor/plan/v1",
      "wallet-executor/rehearsal-report/v1",
      "wallet-executor/verify/v1",
    ]);
  });

  test("the shape check catches a missing, an extra and a retyped field", () => {
    const example = { schema: "s", ok: true, checks: [{ name: "n", ms: 1 }] };
    expect(shapeMismatches(example, { schema: "s", ok: true, checks: [{ name: "n", ms: 1 }] })).toEqual([]);
    expect(shapeMismatches(example, { schema: "s", ok: "yes", checks: [{ name: "n" }, { name: "m", ms: 2, extra: 1 }] })).toEqual([
      "$.ok: documented boolean, got string",
      "$.checks[0].ms: documented, not in the output",
      "$.checks[1].extra: in the output, not in the documented example",
    ]);
  });
});
