/**
 * Progress while the verifier waits, as the CLI shows it (one updating line on a terminal, one line
 * per change otherwise, never on stdout), and Ctrl-C: a real process sent SIGINT stops and prints a
 * partial report. The events themselves and the abort signal, in process: verify-events.test.ts.
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import type { CheckProgress } from "../../verification/verify";
import { ProgressDisplay, changeLine, formatLeft, statusLine } from "../../verification/progress";
import { startStandInExecutor, type StandInExecutor, type StandInOptions } from "../../harness/stand-in-executor";
import { TOKEN } from "../support/verify-fixtures";

const running: StandInExecutor[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((executor) => executor.close()));
});

async function standIn(options: StandInOptions = {}): Promise<StandInExecutor> {
  const executor = await startStandInExecutor({ token: TOKEN, tokenVersion: 4, ...options });
  running.push(executor);
  return executor;
}

const event = (check: string, state: CheckProgress["state"], more: Partial<CheckProgress> = {}): CheckProgress => ({
  check,
  state,
  remainingMs: 112_000,
  deadlineMs: 120_000,
  ...more,
});

describe("the lines", () => {
  test("time left: seconds with a decimal under a minute, minutes and seconds above", () => {
    expect([0, 8_249, 59_949, 60_000, 125_000, -5].map(formatLeft)).toEqual(["0.0 s", "8.2 s", "59.9 s", "1m 00s", "2m 05s", "0.0 s"]);
  });

  test("one line per change names the check, what it does and the time left against the deadline", () => {
    expect(changeLine(event("status", "running"))).toBe("verify: status: running (1m 52s left of 2m 00s)");
    expect(changeLine(event("status", "waiting", { attempt: 3, reason: "ready:false (lifecycle connecting)" }))).toBe(
      "verify: status: waiting, attempt 3 was not an answer: ready:false (lifecycle connecting) (1m 52s left of 2m 00s)",
    );
    expect(changeLine(event("auth-wrong-token", "passed", { remainingMs: 9_000 }))).toBe(
      "verify: auth-wrong-token: passed (9.0 s left of 2m 00s)",
    );
  });

  test("the updating line puts the check waited on first, then the ones still running", () => {
    const open = [event("auth-missing-token", "running"), event("status", "waiting", { attempt: 2, reason: "HTTP 503" })];
    expect(statusLine(open, 100_000, 120_000)).toBe(
      "verify: waiting on status (attempt 2: HTTP 503); running auth-missing-token; 1m 40s left of 2m 00s",
    );
    expect(statusLine([], 1_000, 120_000)).toBe("verify: finishing; 1.0 s left of 2m 00s");
  });
});

describe("the display", () => {
  test("not a terminal: one line per change, nothing else", () => {
    let written = "";
    const display = new ProgressDisplay({ write: (t: string) => (written += t) }, { tty: false });
    display.update(event("status", "running"));
    display.update(event("status", "passed"));
    display.stop();
    expect(written).toBe("verify: status: running (1m 52s left of 2m 00s)\nverify: status: passed (1m 52s left of 2m 00s)\n");
  });

  test("a terminal: one line redrawn in place, counting down between events, cleared at the end", () => {
    const writes: string[] = [];
    let now = 1_000;
    const display = new ProgressDisplay({ write: (t: string) => writes.push(t) }, { tty: true, now: () => now });
    display.update(event("status", "waiting", { attempt: 1, reason: "HTTP 503" }));
    now += 2_000;
    expect(display.line()).toBe("verify: waiting on status (attempt 1: HTTP 503); 1m 50s left of 2m 00s");
    display.update(event("status", "passed", { remainingMs: 109_000 }));
    display.stop();
    expect(writes).toEqual([
      "\r\u001b[Kverify: waiting on status (attempt 1: HTTP 503); 1m 52s left of 2m 00s",
      "\r\u001b[Kverify: finishing; 1m 49s left of 2m 00s",
      "\r\u001b[K",
    ]);
    expect(writes.join("")).not.toContain("\n");
  });

  test("a line longer than the terminal is cut, so the redraw covers it whole", () => {
    const writes: string[] = [];
    const display = new ProgressDisplay({ write: (t: string) => writes.push(t) }, { tty: true, columns: 40, now: () => 0 });
    display.update(event("status", "waiting", { attempt: 1, reason: "x".repeat(200) }));
    display.stop();
    expect(writes[0].length).toBe("\r\u001b[K".length + 39);
    expect(writes[0].endsWith("…")).toBe(true);
  });
});

describe("npm run verify, sent SIGINT while it waits", () => {
  jest.setTimeout(120_000);
  const root = path.resolve(__dirname, "../..");

  /** Starts the CLI; sends SIGINT once stderr shows it waiting on status; resolves with what it printed. */
  function interruptWhileWaiting(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ["--require", path.join(root, "tools/register.js"), "verification/cli.ts", ...args], {
        cwd: root,
        env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN: TOKEN },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      let sent = false;
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        if (!sent && stderr.includes("verify: status: waiting")) {
          sent = true;
          child.kill("SIGINT");
        }
      });
      child.on("error", reject);
      child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
  }

  test("the table: exit 130, the partial report on stdout says so and fails the waiting check as interrupted", async () => {
    const executor = await standIn({ neverReady: true });
    const run = await interruptWhileWaiting(["--base-url", executor.url, "--expect-token-version", "4", "--deadline-ms", "600000"]);
    expect(run.code).toBe(130);
    expect(run.stdout.split("\n")[0]).toBe("PARTIAL REPORT: interrupted (Ctrl-C) before every check had an answer");
    expect(run.stdout).toMatch(/\nstatus +FAIL +\d+ +interrupted \(Ctrl-C\) before an answer, after \d+ attempts?\n/);
    expect(run.stdout).toMatch(/\nverification INTERRUPTED \(Ctrl-C\): partial report, \d+ of \d+ checks without a pass/);
    // Progress on stderr, one line per change (not a terminal), with the time left against the deadline.
    expect(run.stderr).toMatch(/^verify: status: running \(\d+m \d\ds left of 10m 00s\)$/m);
    expect(run.stdout).not.toContain(TOKEN);
    expect(run.stderr).not.toContain(TOKEN);
  });

  test("--json: exit 130, stdout is one document marked partial; progress only on stderr", async () => {
    const executor = await standIn({ neverReady: true });
    const run = await interruptWhileWaiting([
      "--base-url",
      executor.url,
      "--expect-token-version",
      "4",
      "--deadline-ms",
      "600000",
      "--json",
    ]);
    expect(run.code).toBe(130);
    const doc = JSON.parse(run.stdout) as { ok: boolean; partial?: boolean; checks: { name: string; detail: string }[] };
    expect(doc).toMatchObject({ ok: false, partial: true });
    expect(doc.checks.find((c) => c.name === "status")?.detail).toMatch(/^interrupted \(Ctrl-C\)/);
    expect(run.stderr.split("\n").filter((l) => l !== "" && !l.startsWith("verify: "))).toEqual([]);
  });
});
