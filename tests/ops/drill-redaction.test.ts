/**
 * The drill's reports and messages against hostile event logs: engine error messages quoting
 * credentials in any shape, a secret the stack stored in plaintext (the prelude shows it) echoed in
 * messages and resource names, control characters. None of it reaches the markdown, the JSON, stdout
 * or stderr; the JSON stays JSON. Also the drill's file arguments: a directory, an empty log, --out a file.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { carriesSecret } from "../../lib/redact";
import { main } from "../../ops/drill/cli";
import { ROOT } from "../support/project";

const FIXTURE = path.join(ROOT, "tests", "fixtures", "events", "failed-verification.jsonl");
const PLAIN_SPARK_KEY = "sk-plain-SPARKVALUE-0123456789abcdef";
const BASIC = "dXNlcjpwYXNzd29yZA==";
const API_KEY = "k-live-99887766";
const ACCESS_TOKEN = "ya29.a0AfH6SMBzzzzzzzz";
const SECRET_DATA = "c2VjcmV0LXZhbHVl";
const BEARER = "Zk9TokenValue77";
const FRAGMENTS = [PLAIN_SPARK_KEY, BASIC, API_KEY, ACCESS_TOKEN, SECRET_DATA, BEARER];

const tempDir = (): string => fs.mkdtempSync(path.join(os.tmpdir(), "drill-redaction-"));

/** The recorded failed rotation, made hostile: plaintext secret in the prelude, credentials in the engine's messages. */
function hostileLog(): string {
  const lines = fs
    .readFileSync(FIXTURE, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as Record<string, Record<string, unknown>>);
  for (const event of lines) {
    const prelude = event.preludeEvent;
    if (prelude) prelude.config = { ...(prelude.config as object), "wallet-executor:sparkApiKeyG3": PLAIN_SPARK_KEY };
    const diagnostic = event.diagnosticEvent;
    if (diagnostic && String(diagnostic.message).includes("verification failed")) {
      diagnostic.message =
        `<{%reset%}>verification failed: Authorization: Basic ${BASIC}\nx-api-key: ${API_KEY} at https://x/cb?access_token=${ACCESS_TOKEN}&a=1 ` +
        `secretData: "${SECRET_DATA}" BEARER ${BEARER} spark=${PLAIN_SPARK_KEY.slice(4, 20)} \u001b[31mred\u001b[0m\u0007<{%reset%}>\n`;
    }
  }
  // A resource whose logical name carries the plaintext key (a hostile program): names reach the report too.
  const urn = `urn:pulumi:staging::wallet-executor::gcp:secretmanager/secret:Secret::leak-${PLAIN_SPARK_KEY}`;
  const last = lines[lines.length - 1];
  const at = (last.sequence as unknown as number) + 1;
  const metadata = { op: "create", urn, type: "gcp:secretmanager/secret:Secret" };
  lines.splice(5, 0, { sequence: -2, timestamp: lines[1].timestamp, resourcePreEvent: { metadata } } as never);
  lines.splice(6, 0, { sequence: -1, timestamp: lines[1].timestamp, resOutputsEvent: { metadata } } as never);
  void at;
  return lines.map((event) => JSON.stringify(event)).join("\n") + "\n";
}

function expectClean(text: string): void {
  expect(FRAGMENTS.filter((fragment) => carriesSecret(text, fragment))).toEqual([]);
  // eslint-disable-next-line no-control-regex
  expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
}

describe("--from-events with a hostile event log", () => {
  test("no credential, no plaintext secret, no control character in any output; the JSON parses", async () => {
    const dir = tempDir();
    const log = path.join(dir, "hostile.events.jsonl");
    fs.writeFileSync(log, hostileLog());
    let stdout = "";
    let stderr = "";
    const code = await main(["--from-events", log, "--out", path.join(dir, "out")], {
      stdout: (t) => void (stdout += t),
      stderr: (t) => void (stderr += t),
      cwd: dir,
    });
    expect(code).toBe(0);
    const files = fs.readdirSync(path.join(dir, "out")).sort();
    expect(files).toEqual(["2026-03-13-staging.json", "2026-03-13-staging.md", "2026-03-13-staging.timeline.svg"]);
    const markdown = fs.readFileSync(path.join(dir, "out", files[1]), "utf8");
    const json = fs.readFileSync(path.join(dir, "out", files[0]), "utf8");
    const svg = fs.readFileSync(path.join(dir, "out", files[2]), "utf8");
    for (const text of [stdout, stderr, json]) expectClean(text);
    // The markdown's and the picture's own line breaks are their layout; nothing else may carry a control character.
    expectClean(markdown.replace(/\n/g, " "));
    expectClean(svg.replace(/\n/g, " "));
    const report = JSON.parse(json) as { verdict: { headline: string }; timeline: { steps: { name: string; error?: string }[] } };
    expect(report.verdict.headline).toContain("Authorization: [redacted]");
    expect(report.verdict.headline).toContain("x-api-key: [redacted]");
    expect(report.timeline.steps.some((s) => s.name === "leak-[redacted]")).toBe(true);
    expect(markdown).toContain("access_token=[redacted]");
  });

  test("as a process too (the entry point the drills use)", () => {
    const dir = tempDir();
    const log = path.join(dir, "hostile.events.jsonl");
    fs.writeFileSync(log, hostileLog());
    const result = spawnSync(
      process.execPath,
      ["--require", path.join(ROOT, "tools/register.js"), path.join(ROOT, "ops/drill/cli.ts"), "--from-events", log, "--out", dir],
      { cwd: ROOT, encoding: "utf8", timeout: 60_000 },
    );
    expect(result.status).toBe(0);
    expectClean(result.stdout + result.stderr);
    for (const file of fs.readdirSync(dir).filter((f) => f.startsWith("2026")))
      expectClean(fs.readFileSync(path.join(dir, file), "utf8").replace(/\n/g, " "));
  });
});

describe("the drill's file arguments", () => {
  const run = async (args: string[]): Promise<{ code: number; stderr: string }> => {
    let stderr = "";
    const code = await main(args, { stdout: () => undefined, stderr: (t) => void (stderr += t), cwd: ROOT });
    return { code, stderr };
  };

  test("a directory given as the event log is a usage error that says so", async () => {
    const dir = tempDir();
    const result = await run(["--from-events", dir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `drill: error: --from-events: ${dir} is a directory; allowed: an event log file (written by pulumi up --event-log <file>)`,
    );
  });

  test("an empty event log says it is empty", async () => {
    const file = path.join(tempDir(), "empty.jsonl");
    fs.writeFileSync(file, "\n\n");
    const result = await run(["--from-events", file]);
    expect(result).toEqual({
      code: 1,
      stderr: `drill: error: ${file}: is empty; allowed: the JSON lines written by pulumi up --event-log <file>\n`,
    });
  });

  test("--out naming a file is a usage error, before anything is written", async () => {
    const file = path.join(tempDir(), "not-a-dir");
    fs.writeFileSync(file, "x");
    const result = await run(["--from-events", FIXTURE, "--out", file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`drill: error: --out: ${file} is a file; allowed: a directory for the reports`);
    expect(fs.readFileSync(file, "utf8")).toBe("x");
  });
});
