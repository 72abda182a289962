/**
 * The plan as a reviewer reads it (`--base`): the diff of two plans on hand-made documents (the
 * replacement table decides update or replace; values known at apply follow a renewed
 * dependency; new and resolved violations), its markdown, and `--base` as a process against a
 * commit of this repository.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { diffPlans, differingPaths, propertyChanges, renderChangeText } from "../../ops/plan/diff";
import { cell, code, renderPlanMarkdown } from "../../ops/plan/markdown";
import { CredentialSummary, PlanDocument, PlanResource, PlanViolation } from "../../ops/plan/plan";
import { parsePlanArgs } from "../../ops/plan/cli";
import { TYPES } from "../../localcloud/replacement-rules";
import { parse } from "yaml";
import { ROOT } from "../support/project";

const urn = (name: string, type: string): string => `urn:pulumi:staging::wallet-executor::${type}::${name}`;
const UNKNOWN = "[unknown until apply]";

function resource(name: string, type: string, inputs: Record<string, unknown>, dependsOn: string[] = []): PlanResource {
  return { urn: urn(name, type), type, name, phase: "other", dependsOn, inputs };
}

function plan(resources: PlanResource[], extra: Partial<PlanDocument> = {}): PlanDocument {
  return {
    project: "wallet-executor",
    stack: "staging",
    credentials: [],
    resources,
    waves: [resources.map((r) => r.urn)],
    criticalPath: [],
    violations: [],
    unsetSecrets: [],
    routing: null,
    ...extra,
  };
}

const token = (current: number, previous: number | null, revokePrevious = false): CredentialSummary => ({
  name: "authToken",
  current,
  previous,
  revokePrevious,
});

/** A tagged rotation's prediction from generation 4 to 5: no failed call. */
const routing = {
  strategy: "tagged",
  fromGeneration: 4,
  toGeneration: 5,
  waves: [],
  failedCallWindowRollouts: 0,
  failedCallWindow: "0",
} as const;

describe("update or replace: the replacement table decides", () => {
  test("a Cloud Run template change updates; its name replaces; an IAM member's member replaces", () => {
    const service = (name: string, max: number) => ({ name, template: { scaling: { maxInstanceCount: max } } });
    expect(propertyChanges(TYPES.cloudRunService, service("a", 2), service("a", 3))).toEqual([
      { property: "template", effect: "update", paths: ["template.scaling.maxInstanceCount"] },
    ]);
    expect(propertyChanges(TYPES.cloudRunService, service("a", 2), service("b", 2))).toEqual([
      { property: "name", effect: "replace", paths: ["name"] },
    ]);
    expect(
      propertyChanges(TYPES.secretIamMember, { member: "serviceAccount:a", role: "r" }, { member: "serviceAccount:b", role: "r" }),
    ).toEqual([{ property: "member", effect: "replace", paths: ["member"] }]);
  });

  test("a type the table does not cover is left to its provider, never guessed as a replace", () => {
    const before = resource("verification", "pulumi-nodejs:dynamic/rotation:Verification", { expectTokenVersion: 4 });
    const after = resource("verification", "pulumi-nodejs:dynamic/rotation:Verification", { expectTokenVersion: 5 });
    const change = diffPlans("main", plan([before]), plan([after]));
    expect(change.resources).toEqual([
      expect.objectContaining({
        action: "update",
        properties: [{ property: "expectTokenVersion", effect: "unruled", paths: ["expectTokenVersion"] }],
      }),
    ]);
  });

  test("the differing leaves are listed by path, at most four and a count", () => {
    expect(differingPaths({ a: [1, 2], b: { c: "x" } }, { a: [1, 3, 4], b: { c: "x" } }, "p")).toEqual(["p.a[1]", "p.a[2]"]);
    const many = propertyChanges(TYPES.cloudRunService, { template: { e: [1, 2, 3, 4, 5, 6] } }, { template: { e: [0, 0, 0, 0, 0, 0] } });
    expect(many[0].paths).toEqual(["template.e[0]", "template.e[1]", "template.e[2]", "template.e[3]", "… 2 more"]);
  });
});

describe("the change between two plans", () => {
  const secret = resource("auth-token-secret", TYPES.secret, { secretId: "wallet-executor-auth-token" });
  const g4 = resource("auth-token-g4", TYPES.secretVersion, { secret: UNKNOWN, enabled: true }, [secret.urn]);
  const g5 = resource("auth-token-g5", TYPES.secretVersion, { secret: UNKNOWN, enabled: true }, [secret.urn]);
  const access = (dep: PlanResource) =>
    resource("executor-access", TYPES.secretIamMember, { secretId: UNKNOWN, member: "m", role: "r" }, [dep.urn]);
  const executor = (dep: PlanResource, env: string) =>
    resource("executor-service", TYPES.cloudRunService, { name: "wallet-executor", template: { env, version: UNKNOWN } }, [dep.urn]);

  test("creates, deletes and updates, replaces and deletes first; an unchanged step is not listed", () => {
    const change = diffPlans("main", plan([secret, g4, executor(g4, "4")]), plan([secret, g5, executor(g5, "5")]));
    expect(change.resources.map((r) => [r.action, r.name])).toEqual([
      ["delete", "auth-token-g4"],
      ["create", "auth-token-g5"],
      ["update", "executor-service"],
    ]);
  });

  test("a value known only at apply counts as changing when it comes from a step created by this change", () => {
    const change = diffPlans("main", plan([secret, g4, executor(g4, "4")]), plan([secret, g5, executor(g5, "4")]));
    expect(change.resources.find((r) => r.name === "executor-service")?.properties).toEqual([
      { property: "template", effect: "update", paths: ["template.version (known at apply)"] },
    ]);
  });

  test("...with the table's effect: an IAM member whose secret is renewed is replaced; one whose inputs come from unchanged steps is not listed", () => {
    const renamed = resource("auth-token-secret", TYPES.secret, { secretId: "wallet-executor-auth-token-2" });
    const replaced = diffPlans("main", plan([secret, access(secret)]), plan([renamed, access(renamed)]));
    expect(replaced.resources.map((r) => [r.action, r.name])).toEqual([
      ["replace", "auth-token-secret"],
      ["replace", "executor-access"],
    ]);
    expect(diffPlans("main", plan([secret, access(secret)]), plan([secret, access(secret)])).resources).toEqual([]);
  });

  test("components (not steps) are left out", () => {
    const component = resource("auth-token", "wallet:rotation:RotatingSecret", {});
    const change = diffPlans("main", plan([]), { ...plan([secret]), resources: [secret, component] });
    expect(change.resources.map((r) => r.name)).toEqual(["auth-token-secret"]);
  });

  test("violations new in this change and those it resolves; the ones already there are neither", () => {
    const v = (policy: string, enforcementLevel = "mandatory"): PlanViolation => ({
      policy,
      enforcementLevel,
      urn: null,
      message: `${policy} says no`,
    });
    const change = diffPlans("main", plan([], { violations: [v("old"), v("kept")] }), plan([], { violations: [v("kept"), v("new")] }));
    expect(change.newViolations.map((x) => x.policy)).toEqual(["new"]);
    expect(change.resolvedViolations.map((x) => x.policy)).toEqual(["old"]);
  });

  test("generations bumped are listed; the routing prediction is kept only when the token moves", () => {
    const moved = diffPlans("main", plan([], { credentials: [token(4, 3, true)] }), plan([], { credentials: [token(5, 4)], routing }));
    expect(moved.generations).toEqual([
      {
        credential: "authToken",
        from: { current: 4, previous: 3, revokePrevious: true },
        to: { current: 5, previous: 4, revokePrevious: false },
      },
    ]);
    expect(moved.routing).toBe(routing);
    const revokeOnly = diffPlans("main", plan([], { credentials: [token(5, 4)] }), plan([], { credentials: [token(5, 4, true)], routing }));
    expect(revokeOnly.generations).toHaveLength(1);
    expect(revokeOnly.routing).toBeNull();
  });

  test("no base plan: every step is a create, and the reason is kept", () => {
    const change = diffPlans("main", null, plan([secret]), "main has no Pulumi.staging.yaml (a new stack)");
    expect(change.resources.map((r) => r.action)).toEqual(["create"]);
    expect(change.baseError).toContain("a new stack");
  });
});

describe("the markdown for a pull request", () => {
  test("summary line first, then generations, the changes table, new violations, the window, the result", () => {
    const next = plan([resource("auth-token-g5", TYPES.secretVersion, {})], { credentials: [token(5, 4)], routing });
    const md = renderPlanMarkdown(next, diffPlans("origin/main", plan([], { credentials: [token(4, 3, true)] }), next));
    const lines = md.split("\n");
    expect(lines[0]).toBe("### ✅ `staging`: 1 create · no new violation · predicted failed-call window: 0");
    expect(md).toContain("Against `origin/main`");
    expect(md).toContain("| `authToken` | g4 (previous g3, revoked after verification) | g5 (previous g4, kept) |");
    expect(md).toContain("| create | `auth-token-g5`<br>gcp:secretmanager/secretVersion:SecretVersion | other |  |");
    expect(md).toContain("**New violations**: none.");
    expect(md).toContain("predicted failed-call window **0**");
    expect(lines.filter((l) => l !== "").pop()).toBe("**Result: OK**.");
  });

  test("a new mandatory violation shows in the headline, its message in a block a backtick fence cannot close", () => {
    const violation: PlanViolation = {
      policy: "revocation-order",
      enforcementLevel: "mandatory",
      urn: null,
      message: "bad ```\n| not a row",
    };
    const next = plan([], { violations: [violation] });
    const md = renderPlanMarkdown(next, diffPlans("main", plan([]), next));
    expect(md.split("\n")[0]).toBe("### ⛔ `staging`: no change to any resource · 1 new violation(s), 1 mandatory");
    expect(md).toContain("  ````text\n  bad ```\n  | not a row\n  ````");
    expect(md).toContain("**Result: BLOCKED** by a mandatory policy.");
  });

  test("cells and code spans cannot break the table or render HTML", () => {
    expect(cell("a|b\n<img>")).toBe("a\\|b &lt;img&gt;");
    expect(code("a`b")).toBe("``a`b``");
    expect(code("`x")).toBe("`` `x ``");
  });
});

describe("secure values set again under the same key (the stack files' ciphertexts; both plans see placeholders)", () => {
  const next = plan([]);
  const changed = (encryptionChanged: boolean) =>
    diffPlans("origin/main", plan([]), next, null, { changed: ["wallet-executor:sparkApiKeyG2"], encryptionChanged });

  test("the text names each key and says to rotate to a new generation instead; nothing when none changed", () => {
    const text = renderChangeText(changed(false)).join("\n");
    expect(text).toContain("  SECRET VALUE  wallet-executor:sparkApiKeyG2: its encrypted value differs from origin/main");
    expect(text).toContain("a credential generation's value must not change: rotate to a new generation instead");
    expect(text).toContain("or the same value encrypted again");
    expect(renderChangeText(changed(true)).join("\n")).toContain("the file's encryption settings changed too");
    for (const none of [null, { changed: [], encryptionChanged: true }]) {
      expect(renderChangeText(diffPlans("origin/main", plan([]), next, null, none)).join("\n")).not.toContain("SECRET VALUE");
    }
  });

  test("the markdown says it in the headline and in a warning before the result", () => {
    const md = renderPlanMarkdown(next, changed(false));
    expect(md.split("\n")[0]).toBe("### ✅ `staging`: no change to any resource · no new violation · ⚠️ 1 secret value(s) set again");
    expect(md).toContain(
      "> ⚠️ **Secret values set again**: `wallet-executor:sparkApiKeyG2`: the encrypted value differs from `origin/main`.",
    );
    expect(md).toContain("rotate to a new generation instead.");
    expect(renderPlanMarkdown(next, diffPlans("origin/main", plan([]), next))).not.toContain("set again");
  });
});

describe("--base and --format, as arguments", () => {
  test("--format markdown needs --base; an unknown format names the allowed ones; --json and --format disagree", () => {
    expect(() => parsePlanArgs(["--stack", "staging", "--format", "markdown"], ROOT)).toThrow("--format markdown needs --base <git ref>");
    expect(() => parsePlanArgs(["--stack", "staging", "--format", "html"], ROOT)).toThrow("allowed: text, json, markdown");
    expect(() => parsePlanArgs(["--stack", "staging", "--json", "--format", "markdown", "--base", "HEAD"], ROOT)).toThrow(
      "conflicts with --json",
    );
    expect(parsePlanArgs(["--stack", "staging", "--format", "markdown", "--base", "HEAD"], ROOT)).toMatchObject({
      format: "markdown",
      json: false,
      base: "HEAD",
    });
  });
});

describe("npm run plan --base, as a process", () => {
  jest.setTimeout(180_000);
  const register = path.join(ROOT, "tools", "register.js");
  const noNetwork = path.join(ROOT, "tests", "support", "no-network.js");
  const plan = (args: string[]) =>
    spawnSync(process.execPath, ["--require", noNetwork, "--require", register, path.join(ROOT, "ops", "plan", "cli.ts"), ...args], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 120_000,
    });

  test("a token rotation against this repository's HEAD: the generations, the steps by action, the window; exit 0", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-base-test-"));
    const file = path.join(dir, "Pulumi.staging.yaml");
    // HEAD's staging file, whatever it holds, is the base: the change is one generation on from it.
    const staging = spawnSync("git", ["show", "HEAD:./Pulumi.staging.yaml"], { cwd: ROOT, encoding: "utf8" }).stdout;
    const current = Number(/authToken:\n\s+current: (\d+)/.exec(staging)?.[1]);
    fs.writeFileSync(
      file,
      staging.replace(
        /(authToken:\n\s+current: )\d+\n(\s+previous: )\d+\n(\s+revokePrevious: )true/,
        `$1${current + 1}\n$2${current}\n$3false`,
      ),
    );
    const result = plan(["--stack", "staging", "--config-file", file, "--base", "HEAD", "--format", "markdown"]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const md = result.stdout;
    expect(md.split("\n")[0]).toMatch(
      /^### ✅ `staging`: 2 delete · 2 create · \d+ update · no new violation · predicted failed-call window: 0$/,
    );
    expect(md).toContain(
      `| \`authToken\` | g${current} (previous g${current - 1}, revoked after verification) | g${current + 1} (previous g${current}, kept) |`,
    );
    expect(md).toContain(`| create | \`auth-token-g${current + 1}\`<br>gcp:secretmanager/secretVersion:SecretVersion | stage-secret |  |`);
    expect(md).toMatch(/\| update \| `executor-service`<br>gcp:cloudrunv2\/service:Service \| deploy-executor \| `template` \(update\)/);
    expect(md).toContain(`**Token rotation g${current} → g${current + 1}** (tagged)`);
    expect(md).not.toContain("could not be planned");
  });
});

describe("the preview workflow posts the markdown plan as one PR comment", () => {
  type Step = { name?: string; uses?: string; run?: string; if?: string; with?: Record<string, string> };
  const workflow = parse(fs.readFileSync(path.join(ROOT, ".github", "workflows", "preview.yml"), "utf8")) as {
    jobs: Record<string, { permissions?: Record<string, string>; steps: Step[] }>;
  };
  const job = workflow.jobs["plan-comment"];

  test("each stack planned against the base branch as markdown, every stack in one file", () => {
    const plan = job.steps.find((s) => s.run?.includes("npm run --silent plan")) as Step;
    expect(plan.run).toContain('--base "origin/${BASE_REF}" --format markdown >> plan-comment.md');
    expect(plan.run).toContain("for stack in staging prod");
  });

  test("the comment is found again by the marker the plan step writes first, and edited rather than added", () => {
    const plan = job.steps.find((s) => s.run?.includes("npm run --silent plan")) as Step;
    const marker = /echo '(<!-- [^']+ -->)'/.exec(plan.run ?? "")?.[1];
    expect(marker).toBeDefined();
    const post = job.steps.find((s) => /^actions\/github-script@/.test(s.uses ?? "")) as Step;
    expect(post.with?.script).toContain(`const marker = '${marker}';`);
    expect(post.with?.script).toContain("updateComment");
    expect(post.if).toBe("github.event.pull_request.head.repo.full_name == github.repository");
    expect(job.permissions).toEqual({ contents: "read", "pull-requests": "write" });
  });
});
