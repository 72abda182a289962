/**
 * The deploy gate: every path that applies a change previews with the policy pack first and cannot
 * update when that preview failed. The workflows are parsed and held to it (and the checker is shown
 * to catch each way a workflow could break it); the gate itself and `npm run deploy` run over a
 * recording stand-in for the Automation API. One identity per environment: the workflows' service
 * accounts and Pulumi tokens, and the reference document that lists them.
 */
import * as fs from "fs";
import * as path from "path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { parse } from "yaml";
import {
  type GateRequest,
  type GatedStack,
  POLICY_PACK,
  POLICY_PACK_CONFIG,
  type PreviewOutcome,
  type UpOutcome,
  gatedUpdate,
  refusalsIn,
} from "../../ops/deploy/gate";
import { main as deploy, parseDeployArgs } from "../../ops/deploy/cli";
import { ROOT } from "../support/project";

// ------------------------------------------------------------------------------------------------
// Workflows
// ------------------------------------------------------------------------------------------------

interface Step {
  readonly id?: string;
  readonly name?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly if?: string;
  readonly with?: Record<string, unknown>;
  readonly env?: Record<string, unknown>;
  readonly shell?: string;
  readonly "continue-on-error"?: unknown;
}
interface Job {
  readonly name?: string;
  readonly needs?: string | string[];
  readonly if?: string;
  readonly environment?: string | { name: string };
  readonly permissions?: Record<string, string>;
  readonly env?: Record<string, string>;
  readonly steps: Step[];
  readonly "continue-on-error"?: unknown;
}
interface Workflow {
  readonly jobs: Record<string, Job>;
}

const WORKFLOWS = path.join(ROOT, ".github", "workflows");
const readWorkflow = (file: string): Workflow => parse(fs.readFileSync(path.join(WORKFLOWS, file), "utf8")) as Workflow;
const SDK_VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> })
  .dependencies["@pulumi/pulumi"];

/** `--flag value` (or `--flag=value`) in a command line, quotes removed. */
function flag(command: string, name: string): string | undefined {
  const match = new RegExp(`(?:^|\\s)--${name}(?:=|\\s+)("[^"]*"|'[^']*'|\\S+)`).exec(command);
  return match?.[1].replace(/^["']|["']$/g, "");
}

const isUpStep = (step: Step): boolean =>
  /\bpulumi\s+up\b/.test(step.run ?? "") || (/^pulumi\/actions@/.test(step.uses ?? "") && step.with?.command === "up");
const isPreviewStep = (step: Step): boolean => /\bpulumi\s+preview\b/.test(step.run ?? "");
const truthy = (value: unknown): boolean => value !== undefined && value !== false && value !== "false";
/** Status functions that let a step run after an earlier step failed. */
const RUNS_AFTER_FAILURE = /\b(always|failure|cancelled)\s*\(\s*\)/;

/**
 * What breaks the gate in a deploy workflow, one line per problem: every update must come after a
 * preview with the pack and config in the same job, apply its saved plan, and be unable to run when
 * that preview failed.
 */
function deployGateProblems(workflow: Workflow): string[] {
  const problems: string[] = [];
  const updatingJobs = Object.entries(workflow.jobs).filter(([, job]) => job.steps.some(isUpStep));
  if (updatingJobs.length === 0) problems.push("no job runs pulumi up");
  for (const [name, job] of updatingJobs) {
    if (truthy(job["continue-on-error"])) problems.push(`${name}: continue-on-error on the job`);
    if (job.if && RUNS_AFTER_FAILURE.test(job.if)) problems.push(`${name}: job runs after a failure (${job.if})`);
    job.steps.forEach((step, index) => {
      if (!isUpStep(step)) return;
      const at = `${name} step ${index + 1} (${step.name ?? step.uses ?? "up"})`;
      if (step.uses) {
        problems.push(`${at}: pulumi/actions' up runs --skip-preview and cannot apply a saved plan`);
        return;
      }
      const up = step.run ?? "";
      if (/--skip-preview\b/.test(up)) problems.push(`${at}: --skip-preview`);
      const previews = job.steps.slice(0, index).filter(isPreviewStep);
      if (previews.length === 0) {
        problems.push(`${at}: no gated preview before it in the job`);
        return;
      }
      const preview = previews[previews.length - 1];
      const command = preview.run ?? "";
      for (const [label, command_] of [
        ["preview", command],
        ["up", up],
      ] as const) {
        if (flag(command_, "policy-pack") !== POLICY_PACK) problems.push(`${at}: the ${label} does not run --policy-pack ${POLICY_PACK}`);
        if (flag(command_, "policy-pack-config") !== POLICY_PACK_CONFIG)
          problems.push(`${at}: the ${label} does not use --policy-pack-config ${POLICY_PACK_CONFIG}`);
      }
      if (flag(command, "stack") === undefined || flag(command, "stack") !== flag(up, "stack"))
        problems.push(`${at}: the preview and the update name different stacks`);
      const saved = flag(command, "save-plan");
      if (saved === undefined) problems.push(`${at}: the preview saves no update plan (--save-plan)`);
      else if (flag(up, "plan") !== saved) problems.push(`${at}: the update does not apply the saved plan (--plan ${saved})`);
      // The preview's failure must fail its step: one command, nothing that swallows its exit code.
      if (/\|\||;|&&|\bset\s+\+e\b|\n\s*\S/.test(command.trim())) problems.push(`${at}: the preview step runs more than the preview`);
      if (truthy(preview["continue-on-error"])) problems.push(`${at}: continue-on-error on the preview`);
      if (truthy(step["continue-on-error"])) problems.push(`${at}: continue-on-error on the update`);
      for (const between of job.steps.slice(job.steps.indexOf(preview), index + 1)) {
        if (between.if && RUNS_AFTER_FAILURE.test(between.if)) problems.push(`${at}: a step runs after a failure (${between.if})`);
      }
      if (!preview.id || !step.if?.includes(`steps.${preview.id}.outcome == 'success'`))
        problems.push(`${at}: the update is not conditioned on the preview's outcome`);
    });
  }
  return problems;
}

describe("the deploy workflow runs the gate before any step that changes a resource", () => {
  const deployWorkflow = readWorkflow("deploy.yml");

  test("both environments update, each after its own gated preview, and the checker finds nothing wrong", () => {
    expect(Object.keys(deployWorkflow.jobs).sort()).toEqual(["prod", "staging"]);
    expect(deployGateProblems(deployWorkflow)).toEqual([]);
    expect(deployWorkflow.jobs.prod.needs).toBe("staging");
  });

  // Each way a change could break the gate, applied to the real workflow: the checker must see it.
  const broken: Array<[string, (w: Workflow) => void, string]> = [
    [
      "the update moved before the preview",
      (w) => {
        const steps = w.jobs.prod.steps;
        const up = steps.findIndex(isUpStep);
        const [step] = steps.splice(up, 1);
        steps.splice(steps.findIndex(isPreviewStep), 0, step);
      },
      "no gated preview before it",
    ],
    [
      "continue-on-error on the preview",
      (w) => Object.assign(w.jobs.staging.steps.find(isPreviewStep) as Step, { "continue-on-error": true }),
      "continue-on-error on the preview",
    ],
    ["the update runs always()", (w) => Object.assign(w.jobs.staging.steps.find(isUpStep) as Step, { if: "always()" }), "not conditioned"],
    [
      "the preview swallows its failure",
      (w) =>
        Object.assign(w.jobs.prod.steps.find(isPreviewStep) as Step, {
          run: `${(w.jobs.prod.steps.find(isPreviewStep) as Step).run} || true`,
        }),
      "runs more than the preview",
    ],
    [
      "the preview without the pack",
      (w) =>
        Object.assign(w.jobs.staging.steps.find(isPreviewStep) as Step, {
          run: (w.jobs.staging.steps.find(isPreviewStep) as Step).run?.replace("--policy-pack policy ", ""),
        }),
      "the preview does not run --policy-pack",
    ],
    [
      "another pack config",
      (w) =>
        Object.assign(w.jobs.prod.steps.find(isUpStep) as Step, {
          run: (w.jobs.prod.steps.find(isUpStep) as Step).run?.replace("policy/policy-config.json", "policy/other.json"),
        }),
      "the up does not use --policy-pack-config",
    ],
    [
      "the update ignores the saved plan",
      (w) =>
        Object.assign(w.jobs.staging.steps.find(isUpStep) as Step, {
          run: (w.jobs.staging.steps.find(isUpStep) as Step).run?.replace(/--plan \S+/, ""),
        }),
      "does not apply the saved plan",
    ],
    [
      "--skip-preview",
      (w) =>
        Object.assign(w.jobs.staging.steps.find(isUpStep) as Step, {
          run: `${(w.jobs.staging.steps.find(isUpStep) as Step).run} --skip-preview`,
        }),
      "--skip-preview",
    ],
    [
      "pulumi/actions up instead of the CLI",
      (w) => w.jobs.prod.steps.splice(w.jobs.prod.steps.findIndex(isUpStep), 1, { uses: "pulumi/actions@v6", with: { command: "up" } }),
      "cannot apply a saved plan",
    ],
    ["continue-on-error on the job", (w) => Object.assign(w.jobs.prod, { "continue-on-error": true }), "continue-on-error on the job"],
  ];
  test.each(broken)("the checker catches: %s", (_what, breakIt, expected) => {
    const copy = parse(fs.readFileSync(path.join(WORKFLOWS, "deploy.yml"), "utf8")) as Workflow;
    breakIt(copy);
    expect(deployGateProblems(copy).join("\n")).toContain(expected);
  });

  test("the PR preview runs the same pack with the same config, and both install the SDK's CLI version", () => {
    const preview = readWorkflow("preview.yml");
    const step = preview.jobs.preview.steps.find((s) => /^pulumi\/actions@/.test(s.uses ?? "") && s.with?.command === "preview") as Step;
    expect(step.with?.policyPacks).toBe(POLICY_PACK);
    expect(step.with?.policyPackConfigs).toBe(POLICY_PACK_CONFIG);
    expect(fs.existsSync(path.join(ROOT, POLICY_PACK_CONFIG))).toBe(true);
    const versions = [...Object.values(deployWorkflow.jobs), preview.jobs.preview]
      .flatMap((job) => job.steps)
      .filter((s) => /^pulumi\/actions@/.test(s.uses ?? ""))
      .map((s) => String(s.with?.["pulumi-version"]));
    // Each deploy job installs the CLI once for its gate (staging also for its real-engine tests), and
    // the PR preview once: every one at the SDK's version.
    expect(versions.length).toBe(4);
    expect(new Set(versions)).toEqual(new Set([SDK_VERSION]));
  });
});

describe("one identity per environment", () => {
  const deployWorkflow = readWorkflow("deploy.yml");
  const preview = readWorkflow("preview.yml");
  const stepUsing = (job: Job, action: RegExp): Step => job.steps.find((s) => action.test(s.uses ?? "")) as Step;

  test.each([
    ["staging", "STAGING"],
    ["prod", "PROD"],
  ])("%s deploys as its own Google service account and its own Pulumi deploy team", (job, env) => {
    const steps = deployWorkflow.jobs[job].steps;
    const google = stepUsing(deployWorkflow.jobs[job], /^google-github-actions\/auth@/);
    expect(google.with).toEqual({
      workload_identity_provider: `\${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER_${env} }}`,
      service_account: `\${{ vars.GCP_DEPLOY_SERVICE_ACCOUNT_${env} }}`,
    });
    const pulumiToken = stepUsing(deployWorkflow.jobs[job], /^pulumi\/auth-actions@/);
    expect(pulumiToken.with).toMatchObject({
      organization: "${{ vars.PULUMI_ORG }}",
      "requested-token-type": "urn:pulumi:token-type:access_token:team",
      scope: `team:\${{ vars.PULUMI_DEPLOY_TEAM_${env} }}`,
    });
    // Both identities exist before the first pulumi command.
    const firstPulumi = steps.findIndex((s) => isPreviewStep(s) || isUpStep(s));
    expect(steps.indexOf(google)).toBeLessThan(firstPulumi);
    expect(steps.indexOf(pulumiToken)).toBeLessThan(firstPulumi);
    expect(deployWorkflow.jobs[job].permissions).toEqual({ contents: "read", "id-token": "write" });
  });

  test("the two deploy jobs share no identity, and no workflow reads a long-lived Pulumi token", () => {
    const identities = (job: Job): string[] => [
      String(stepUsing(job, /^google-github-actions\/auth@/).with?.service_account),
      String(stepUsing(job, /^google-github-actions\/auth@/).with?.workload_identity_provider),
      String(stepUsing(job, /^pulumi\/auth-actions@/).with?.scope),
    ];
    const staging = identities(deployWorkflow.jobs.staging);
    for (const identity of identities(deployWorkflow.jobs.prod)) expect(staging).not.toContain(identity);
    for (const file of fs.readdirSync(WORKFLOWS)) {
      expect(fs.readFileSync(path.join(WORKFLOWS, file), "utf8")).not.toMatch(/secrets\.PULUMI_ACCESS_TOKEN|PULUMI_ACCESS_TOKEN:/);
    }
    // The PR preview runs as the read-only identities, never a deployer.
    const previewText = JSON.stringify(preview.jobs.preview);
    expect(previewText).toContain("GCP_PREVIEW_SERVICE_ACCOUNT_PROD");
    expect(previewText).not.toContain("DEPLOY");
  });

  test("every repository variable the workflows read is documented in docs/reference/deploy-identities.md", () => {
    const doc = fs.readFileSync(path.join(ROOT, "docs", "reference", "deploy-identities.md"), "utf8");
    const used = new Set<string>();
    for (const file of fs.readdirSync(WORKFLOWS)) {
      for (const match of fs.readFileSync(path.join(WORKFLOWS, file), "utf8").matchAll(/\bvars\.([A-Z0-9_]+)/g)) used.add(match[1]);
    }
    expect(used.size).toBeGreaterThanOrEqual(10);
    expect([...used].filter((name) => !doc.includes(`\`${name}\``))).toEqual([]);
  });
});

// ------------------------------------------------------------------------------------------------
// The gate, over a recording stand-in for the Automation API
// ------------------------------------------------------------------------------------------------

class RecordingStack implements GatedStack {
  readonly calls: Array<{ command: "preview" | "up"; request: GateRequest }> = [];
  /** The permission bits of the plan's directory, as the preview found it. */
  planDirMode = 0;
  constructor(
    private readonly previewAnswer: PreviewOutcome | Error = { ok: true, refusals: [] },
    private readonly upAnswer: UpOutcome | Error = { ok: true },
    private readonly events: EngineEvent[] = [],
  ) {}
  preview(request: GateRequest): Promise<PreviewOutcome> {
    this.calls.push({ command: "preview", request });
    // The real preview writes the plan where it is told.
    this.planDirMode = fs.statSync(path.dirname(request.planFile)).mode & 0o777;
    fs.writeFileSync(request.planFile, "{}");
    return this.previewAnswer instanceof Error ? Promise.reject(this.previewAnswer) : Promise.resolve(this.previewAnswer);
  }
  up(request: GateRequest, onEvent: (event: EngineEvent) => void): Promise<UpOutcome> {
    this.calls.push({ command: "up", request });
    expect(fs.existsSync(request.planFile)).toBe(true);
    this.events.forEach(onEvent);
    return this.upAnswer instanceof Error ? Promise.reject(this.upAnswer) : Promise.resolve(this.upAnswer);
  }
}

const refusal: PreviewOutcome = {
  ok: false,
  error: "error: preview failed",
  refusals: [
    { policy: "revocation-requires-verification", resource: "auth-token-g3", message: "Missing edge: auth-token-g3 -> verification" },
  ],
};

describe("gatedUpdate", () => {
  test("previews with the pack and its config, then updates with the plan that preview saved, then removes it", async () => {
    const stack = new RecordingStack();
    const outcome = await gatedUpdate(stack, { projectDir: "/project", onEvent: () => undefined });
    expect(outcome).toEqual({ stage: "applied", ok: true });
    expect(stack.calls.map((c) => c.command)).toEqual(["preview", "up"]);
    const [preview, up] = stack.calls.map((c) => c.request);
    expect(preview).toEqual(up);
    expect(preview.policyPacks).toEqual(["/project/policy"]);
    expect(preview.policyPackConfigs).toEqual(["/project/policy/policy-config.json"]);
    expect(fs.existsSync(path.dirname(preview.planFile))).toBe(false);
    // Private to this user while it exists.
    expect(stack.planDirMode).toBe(0o700);
  });

  test("another config for the same pack (a rehearsal's) is given to both commands; the pack stays the project's", async () => {
    const stack = new RecordingStack();
    await gatedUpdate(stack, {
      projectDir: "/project",
      onEvent: () => undefined,
      policyPackConfig: "/rehearsal/policy-config.rehearsal.json",
    });
    for (const { request } of stack.calls) {
      expect(request.policyPacks).toEqual(["/project/policy"]);
      expect(request.policyPackConfigs).toEqual(["/rehearsal/policy-config.rehearsal.json"]);
    }
    expect(stack.calls.map((c) => c.command)).toEqual(["preview", "up"]);
  });

  test("a refusal at preview means no update, and says which policy refused what", async () => {
    const stack = new RecordingStack(refusal);
    const outcome = await gatedUpdate(stack, { projectDir: "/project", onEvent: () => undefined });
    expect(stack.calls.map((c) => c.command)).toEqual(["preview"]);
    expect(outcome).toEqual({
      stage: "refused",
      ok: false,
      error:
        "the policy pack refused the update at preview: revocation-requires-verification (auth-token-g3): Missing edge: auth-token-g3 -> verification",
      refusals: refusal.refusals,
    });
  });

  test("a preview that fails or crashes for another reason means no update either", async () => {
    for (const answer of [
      { ok: false, error: "error: could not load plugin", refusals: [] },
      new Error("code: 255\n stderr: error: no stack"),
    ]) {
      const stack = new RecordingStack(answer);
      const outcome = await gatedUpdate(stack, { projectDir: "/project", onEvent: () => undefined });
      expect(stack.calls.map((c) => c.command)).toEqual(["preview"]);
      expect(outcome.stage).toBe("refused");
      expect(outcome.ok ? "" : outcome.error).toMatch(/^pulumi preview failed: error: (could not load plugin|no stack)$/);
    }
  });

  test("a preview that passes with a mandatory violation (never expected) still stops", async () => {
    const stack = new RecordingStack({ ok: true, refusals: refusal.refusals });
    expect((await gatedUpdate(stack, { projectDir: "/p", onEvent: () => undefined })).stage).toBe("refused");
    expect(stack.calls.map((c) => c.command)).toEqual(["preview"]);
  });

  test("a failed or crashed update is reported as such, events passed on, and the plan is removed", async () => {
    const event = { sequence: 1, timestamp: 1 } as EngineEvent;
    const seen: EngineEvent[] = [];
    const stack = new RecordingStack(
      undefined,
      new Error("code: 255\n stdout: error: update failed\n stderr: error: resource violates plan"),
      [event],
    );
    const outcome = await gatedUpdate(stack, { projectDir: "/p", onEvent: (e) => seen.push(e) });
    expect(outcome).toEqual({ stage: "update-failed", ok: false, error: "error: resource violates plan" });
    expect(seen).toEqual([event]);
    expect(fs.existsSync(path.dirname(stack.calls[1].request.planFile))).toBe(false);
  });

  test("the preview's mandatory policy events become refusals; advisory ones do not", () => {
    const policyEvent = (level: "mandatory" | "warning", name: string, urn?: string): EngineEvent => ({
      sequence: 0,
      timestamp: 0,
      policyEvent: {
        resourceUrn: urn,
        message: `<{%reset%}>${name} says no: Bearer abc.def<{%reset%}>`,
        color: "raw",
        policyName: name,
        policyPackName: "wallet-executor-policy",
        policyPackVersion: "0.1.0",
        policyPackVersionTag: "0.1.0",
        enforcementLevel: level,
      },
    });
    expect(
      refusalsIn([
        policyEvent(
          "mandatory",
          "revocation-requires-verification",
          "urn:pulumi:s::p::gcp:secretmanager/secretVersion:SecretVersion::auth-token-g3",
        ),
        policyEvent("warning", "executor-exposure"),
        policyEvent("mandatory", "least-privilege-secret-access"),
      ]),
    ).toEqual([
      {
        policy: "revocation-requires-verification",
        resource: "auth-token-g3",
        message: "revocation-requires-verification says no: Bearer [redacted]",
      },
      { policy: "least-privilege-secret-access", message: "least-privilege-secret-access says no: Bearer [redacted]" },
    ]);
  });
});

describe("npm run deploy", () => {
  const run = async (argv: string[], stack: GatedStack | Error) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await deploy(argv, {
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
      // The repository: its stack files are the stacks there are.
      projectDir: path.resolve(__dirname, "../.."),
      openStack: () => (stack instanceof Error ? Promise.reject(stack) : Promise.resolve(stack)),
    });
    return { code, stdout: out.join(""), stderr: err.join("") };
  };

  test("applies after a passing gated preview: exit 0", async () => {
    const stack = new RecordingStack();
    const result = await run(["--stack", "staging"], stack);
    expect(result.code).toBe(0);
    expect(stack.calls.map((c) => c.command)).toEqual(["preview", "up"]);
    expect(result.stdout).toContain("pulumi preview with the policy pack (policy, policy/policy-config.json)");
    expect(result.stdout).toContain("deploy staging: applied the previewed plan");
  });

  test("refused at preview: exit 1, nothing was changed, no update ran", async () => {
    const stack = new RecordingStack(refusal);
    const result = await run(["--stack", "prod"], stack);
    expect(result.code).toBe(1);
    expect(stack.calls.map((c) => c.command)).toEqual(["preview"]);
    expect(result.stderr).toBe(
      "deploy prod: the policy pack refused the update at preview: revocation-requires-verification (auth-token-g3): " +
        "Missing edge: auth-token-g3 -> verification; nothing was changed\n",
    );
  });

  test("a failed update: exit 1, and it says steps before the failure were applied", async () => {
    const result = await run(["--stack", "staging"], new RecordingStack(undefined, { ok: false, error: "update failed" }));
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("deploy staging: the update failed: update failed (steps before the failure were applied)\n");
  });

  test("a stack that cannot be opened: exit 1, nothing changed", async () => {
    const result = await run(["--stack", "staging"], new Error("code: 255\n stderr: error: no Pulumi.yaml project file found"));
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("deploy: error: cannot open stack staging: error: no Pulumi.yaml project file found; nothing was changed\n");
  });

  test("usage errors name the flag: exit 2", async () => {
    expect(() => parseDeployArgs([])).toThrow("--stack is required");
    expect(() => parseDeployArgs(["--stack"])).toThrow("--stack needs a value");
    expect(() => parseDeployArgs(["--stack", "a b"])).toThrow(
      `--stack "a b": the stack name "a b" is not allowed; allowed: 1 to 100 letters, digits, '_', '.' or '-'`,
    );
    expect(() => parseDeployArgs(["--skip-preview"])).toThrow("unknown flag --skip-preview");
    expect(parseDeployArgs(["--stack", "acme/wallet-executor/prod", "--message", "m"])).toEqual({
      stack: "acme/wallet-executor/prod",
      message: "m",
    });
    const result = await run(["--yes"], new RecordingStack());
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("deploy: error: unknown flag --yes (see --help)\n");
    const missing = await run(["--stack", "qa"], new RecordingStack());
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('deploy: error: no stack "qa" here (no Pulumi.qa.yaml); stacks: prod, staging (see --help)\n');
  });
});
