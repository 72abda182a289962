/**
 * Ctrl-C in `npm run rehearse`, as a process sent SIGINT while an update runs: it cancels the
 * update, stops the local cloud and writes the partial report, which says it is partial, with its
 * picture (timeline.svg: every phase the report recorded). Exit 130.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { RehearsalReport } from "../../rehearsal/report";
import { requirePulumiCli } from "../support/pulumi-cli";
import { ROOT } from "../support/project";
import { allElements, parseXml } from "../support/xml";

const cli = requirePulumiCli();
const describeWithCli = cli === undefined ? describe.skip : describe;
jest.setTimeout(600_000);

describeWithCli("npm run rehearse, sent SIGINT during the rotation's update", () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "rehearse-sigint-"));
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

  test("exit 130; report.md says partial and links timeline.svg, which shows every phase the report recorded", async () => {
    const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        ["--require", path.join(ROOT, "tools", "register.js"), path.join(ROOT, "rehearsal", "cli.ts"), "--out", out, "--load", "5"],
        {
          cwd: ROOT,
          env: { ...process.env, PATH: cli ? `${cli.binDir}${path.delimiter}${process.env.PATH ?? ""}` : process.env.PATH },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let stdout = "";
      let stderr = "";
      let sent = false;
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
        // The scenario's first apply, once its executor rollout is under way.
        const scenario = stdout.slice(stdout.indexOf("apply 1:"));
        if (!sent && stdout.includes("apply 1:") && scenario.includes("phase in progress: Executor rollout")) {
          sent = true;
          child.kill("SIGINT");
        }
      });
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      child.once("error", reject);
      child.once("close", (code) => resolve({ code, stdout, stderr }));
    });
    expect(run.stdout).toContain("phase in progress: Secret publish");
    expect(run.code).toBe(130);
    expect(run.stderr).toContain("rehearse: interrupted (Ctrl-C)");
    const markdown = fs.readFileSync(path.join(out, "report.md"), "utf8");
    expect(markdown).toContain("Stopped: interrupted (Ctrl-C): the rehearsal stopped early and this report is partial");
    expect(markdown).toContain("](timeline.svg)");
    const report = JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8")) as RehearsalReport;
    expect(report.ok).toBe(false);
    // The rotation's update was cancelled: it is not "applied".
    expect(report.applies[1].outcome).not.toBe("applied");
    const svg = parseXml(fs.readFileSync(path.join(out, "timeline.svg"), "utf8"));
    const shown = allElements(svg)
      .filter((e) => e.name === "g" && e.attributes.class === "phase")
      .map((g) => g.children.find((c) => c.name === "text")?.text);
    const recorded = report.applies
      .filter((a) => !a.baseline)
      .flatMap((a) => a.attempts.flatMap((t) => t.phases.map((p) => `${a.index} ${p.label}`)));
    expect(recorded.length).toBeGreaterThan(0);
    expect(shown).toEqual(recorded);
    expect(allElements(svg).filter((e) => e.attributes.class === "calls").length).toBeGreaterThan(0);
  });
});
