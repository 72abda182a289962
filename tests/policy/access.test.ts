/**
 * least-privilege-secret-access (policy/access.ts): who may read which secret, by grant, binding or policy, with exact messages and preview skips.
 */
import { sameSecret } from "../../policy/graph";
import { leastPrivilegeSecretAccess } from "../../policy/policies";
import { AnalyzerResourceView, checkStack, resourceView } from "../../harness/policy-harness";
import { UNKNOWN } from "../../harness/recording-monitor";
import { T, U, accountNode, cloudRun, messages, plainEnv, secretEnv, secretNode, skipNote } from "../support/policy-builders";
import * as pulumi from "@pulumi/pulumi";

afterAll(() => pulumi.runtime.disconnect());

/** The advisory note the pack adds when a check met a value unknown during preview. */
const advisorySkip = (policy: string, checks: string[]): string => `advisory: ${skipNote(policy, checks)}`;

/** Two services reading the token secret, with their accounts; the executor also reads the Spark key. */
function accessStack(): AnalyzerResourceView[] {
  const token = secretNode("tok", "auth-token");
  const spark = secretNode("spark", "spark-api-key");
  const executor = cloudRun(
    "executor-service",
    [
      plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_MODE", "spark"),
      secretEnv("OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN", "projects/p/secrets/tok", "1"),
    ],
    { serviceAccount: "exec@p.iam.gserviceaccount.com" },
  );
  const control = cloudRun("control-service", [secretEnv("OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN", "tok", "1")], {
    serviceAccount: "ctl@p.iam.gserviceaccount.com",
  });
  return [token, spark, executor, control, accountNode("executor-sa", "exec"), accountNode("control-sa", "ctl", { email: undefined })];
}

describe("least-privilege-secret-access, edges", () => {
  const base = accessStack();
  const run = (...extra: AnalyzerResourceView[]) => checkStack(leastPrivilegeSecretAccess, [...base, ...extra]);
  const secretGrant = (type: string, name: string, props: Record<string, unknown>, propertyDependencies?: Record<string, string[]>) =>
    resourceView({ type, name, props: { secretId: "projects/p/secrets/tok", ...props }, propertyDependencies });
  const ACCESSOR = "roles/secretmanager.secretAccessor";

  test("bindings and policies on one secret: admin counts as reading; other roles are ignored", async () => {
    const binding = secretGrant(T.secretIamBinding, "binding", {
      role: "roles/secretmanager.admin",
      members: ["serviceAccount:exec@p.iam.gserviceaccount.com", "group:ops@example.com"],
    });
    const policy = secretGrant(T.secretIamPolicy, "policy", {
      secretId: "projects/p/secrets/spark",
      policyData: JSON.stringify({
        bindings: [
          { role: ACCESSOR, members: ["serviceAccount:ctl@p.iam.gserviceaccount.com"] },
          { role: "roles/secretmanager.viewer", members: ["user:v@example.com"] },
          "not a binding",
        ],
      }),
    });
    const viewer = secretGrant(T.secretIamMember, "viewer", { role: "roles/secretmanager.viewer", member: "user:v@example.com" });
    const noRole = secretGrant(T.secretIamMember, "no-role", { member: "user:v@example.com" });
    const badJson = secretGrant(T.secretIamPolicy, "bad-json", { policyData: "{" });
    expect(messages(await run(binding, policy, viewer, noRole, badJson))).toEqual([
      "mandatory: binding grants roles/secretmanager.admin on projects/p/secrets/tok to group:ops@example.com, which is not the service account " +
        "of a service that reads it: grant secret access only to the reading service's own account.",
      // The control's account is found by accountId@project when the account's email output is not set.
      `mandatory: policy grants ${ACCESSOR} on projects/p/secrets/spark to serviceAccount:ctl@p.iam.gserviceaccount.com, the account of ` +
        "control-service, which does not read that secret: remove the grant.",
    ]);
  });

  test("after an apply: a version name with the project NUMBER is the same secret as a grant naming the project id", async () => {
    // Secret Manager answers with projects/<number>/...; the program's inputs say projects/<id>/...
    const mnemonic = secretNode("mnem", "mnemonic", { name: "projects/123456789012/secrets/mnem" });
    const other = secretNode("other", "spark-api-key", { project: "q", name: "projects/999/secrets/other" });
    const reader = cloudRun(
      "executor-service",
      [
        plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_MODE", "spark"),
        plainEnv("OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION", "projects/123456789012/secrets/mnem/versions/1"),
      ],
      { serviceAccount: "exec@p.iam.gserviceaccount.com" },
    );
    const grant = (name: string, secretId: string, deps?: Record<string, string[]>) =>
      resourceView({
        type: T.secretIamMember,
        name,
        props: { secretId, role: ACCESSOR, member: "serviceAccount:exec@p.iam.gserviceaccount.com" },
        propertyDependencies: deps,
      });
    const stack = [mnemonic, other, reader, accountNode("executor-sa", "exec")];
    // By dependency on the secret resource, and by name alone: both are the secret the executor reads.
    expect(
      await checkStack(leastPrivilegeSecretAccess, [...stack, grant("by-dep", "projects/p/secrets/mnem", { secretId: [mnemonic.urn] })]),
    ).toEqual([]);
    expect(await checkStack(leastPrivilegeSecretAccess, [...stack, grant("by-name", "projects/p/secrets/mnem")])).toEqual([]);
    // Another project's number is another project: still refused.
    const elsewhere = cloudRun(
      "executor-service",
      [
        plainEnv("OA_LIGHTNING_WALLET_EXECUTOR_MODE", "spark"),
        plainEnv("OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION", "projects/999/secrets/mnem/versions/1"),
      ],
      { serviceAccount: "exec@p.iam.gserviceaccount.com" },
    );
    expect(
      messages(
        await checkStack(leastPrivilegeSecretAccess, [
          mnemonic,
          other,
          elsewhere,
          accountNode("executor-sa", "exec"),
          grant("g", "projects/p/secrets/mnem"),
        ]),
      ),
    ).toHaveLength(1);
  });

  test("sameSecret with project aliases: an id and its number are one project, another number is not", () => {
    const aliases = (project: string): string[] => (project === "p" ? ["123"] : project === "123" ? ["p"] : []);
    expect(sameSecret({ secretId: "a", project: "123" }, { secretId: "a", project: "p" }, aliases)).toBe(true);
    expect(sameSecret({ secretId: "a", project: "p" }, { secretId: "a", project: "123" }, aliases)).toBe(true);
    expect(sameSecret({ secretId: "a", project: "456" }, { secretId: "a", project: "p" }, aliases)).toBe(false);
    expect(sameSecret({ secretId: "b", project: "123" }, { secretId: "a", project: "p" }, aliases)).toBe(false);
    expect(sameSecret({ secretId: "a", project: "123" }, { secretId: "a", project: "p" })).toBe(false);
  });

  test("the secret named by a bare id, or by dependency on the secret resource; a secret id that names nothing", async () => {
    const bare = secretGrant(T.secretIamMember, "bare", {
      secretId: "spark",
      role: ACCESSOR,
      member: "serviceAccount:ctl@p.iam.gserviceaccount.com",
    });
    const byDependency = secretGrant(
      T.secretIamMember,
      "by-dependency",
      { secretId: UNKNOWN, role: ACCESSOR, member: "serviceAccount:exec@p.iam.gserviceaccount.com" },
      { secretId: [U(T.secret, "spark-api-key-secret")] },
    );
    const unnamed = secretGrant(T.secretIamMember, "unnamed", {
      secretId: "projects/p/secrets/a/b",
      role: ACCESSOR,
      member: "serviceAccount:exec@p.iam.gserviceaccount.com",
    });
    expect(messages(await run(bare, byDependency, unnamed))).toEqual([
      `mandatory: bare grants ${ACCESSOR} on spark to serviceAccount:ctl@p.iam.gserviceaccount.com, the account of control-service, which does ` +
        "not read that secret: remove the grant.",
      `mandatory: by-dependency grants ${ACCESSOR} on projects/p/secrets/spark to serviceAccount:exec@p.iam.gserviceaccount.com, the account ` +
        "of executor-service, which does not read that secret: remove the grant.",
      `mandatory: unnamed grants ${ACCESSOR} on its secret to serviceAccount:exec@p.iam.gserviceaccount.com, the account of executor-service, ` +
        "which does not read that secret: remove the grant.",
    ]);
    const ok = secretGrant(T.secretIamMember, "ok", {
      secretId: "tok",
      role: ACCESSOR,
      member: "serviceAccount:ctl@p.iam.gserviceaccount.com",
    });
    expect(await run(ok)).toEqual([]);
  });

  test("preview: unknown policy data, role, members or member are notes; so is an account some service may run as", async () => {
    const found = await run(
      secretGrant(T.secretIamPolicy, "g1", { policyData: UNKNOWN }),
      secretGrant(T.secretIamMember, "g2", { role: UNKNOWN, member: "user:x@example.com" }),
      secretGrant(T.secretIamBinding, "g3", { role: ACCESSOR, members: UNKNOWN }),
      secretGrant(T.secretIamMember, "g4", { role: ACCESSOR, member: UNKNOWN }),
    );
    expect(messages(found)).toEqual([
      advisorySkip("least-privilege-secret-access", [
        "g1: its policy data",
        "g2: its role",
        "g3: its members",
        `g4: who it grants ${ACCESSOR} to`,
      ]),
    ]);
    const unknownAccount = cloudRun("worker", [], { serviceAccount: UNKNOWN });
    const stranger = secretGrant(T.secretIamMember, "stranger", { role: ACCESSOR, member: "serviceAccount:ci@p.iam.gserviceaccount.com" });
    expect(messages(await checkStack(leastPrivilegeSecretAccess, [...base, unknownAccount, stranger]))).toEqual([
      advisorySkip("least-privilege-secret-access", ["stranger: which service runs as serviceAccount:ci@p.iam.gserviceaccount.com"]),
    ]);
    // A service on Cloud Run's default account runs as no account of ours.
    const defaultAccount = cloudRun("worker", []);
    expect(messages(await checkStack(leastPrivilegeSecretAccess, [...base, defaultAccount, stranger]))).toHaveLength(1);
  });

  test("folder and organization grants; secret access on a scope whatever the member; unknown scope and members", async () => {
    const folder = resourceView({
      type: T.folderIamMember,
      name: "folder-owner",
      props: { folder: "folders/1", role: "roles/owner", member: "serviceAccount:exec@p.iam.gserviceaccount.com" },
    });
    const org = resourceView({
      type: T.organizationIamMember,
      name: "org-access",
      props: { orgId: "42", role: "roles/secretmanager.admin", member: UNKNOWN },
    });
    const unknownScope = resourceView({
      type: T.projectIamBinding,
      name: "project-access",
      props: { project: UNKNOWN, role: ACCESSOR, members: UNKNOWN },
    });
    const personEditor = resourceView({
      type: T.projectIamMember,
      name: "person-editor",
      props: { project: "p", role: "roles/editor", member: "user:x@example.com" },
    });
    const otherRole = resourceView({
      type: T.projectIamMember,
      name: "viewer",
      props: { project: "p", role: "roles/viewer", member: "serviceAccount:exec@p.iam.gserviceaccount.com" },
    });
    expect(messages(await run(folder, org, unknownScope, personEditor, otherRole))).toEqual([
      "mandatory: folder-owner grants roles/owner on the whole folder folders/1 to serviceAccount:exec@p.iam.gserviceaccount.com (the account " +
        "of executor-service): a compromised service could read and change everything. Remove it; grant only per-secret access.",
      "mandatory: org-access grants roles/secretmanager.admin on the whole organization 42 to an account unknown until apply: every secret of " +
        "the organization becomes readable. Grant roles/secretmanager.secretAccessor per secret (SecretIamMember) instead.",
      `mandatory: project-access grants ${ACCESSOR} on the whole project (from the provider): grant secret access per secret instead.`,
    ]);
  });

  test("preview on a scope: unknown role, members of a basic role, and an unknown member of a basic role are notes", async () => {
    const found = await run(
      resourceView({ type: T.projectIamMember, name: "s1", props: { project: "p", role: UNKNOWN, member: "user:x@example.com" } }),
      resourceView({ type: T.projectIamBinding, name: "s2", props: { project: "p", role: "roles/owner", members: UNKNOWN } }),
      resourceView({ type: T.projectIamMember, name: "s3", props: { project: "p", role: "roles/editor", member: UNKNOWN } }),
      resourceView({ type: "gcp:projects/iAMPolicy:IAMPolicy", name: "s4", props: { project: "p", policyData: UNKNOWN } }),
    );
    expect(messages(found)).toEqual([
      advisorySkip("least-privilege-secret-access", [
        "s1: its role",
        "s2: its members",
        "s3: who it grants roles/editor to",
        "s4: its policy data",
      ]),
    ]);
  });
});

describe("least-privilege-secret-access, exact messages and preview", () => {
  const ACCESSOR = "roles/secretmanager.secretAccessor";
  const base = accessStack();
  const run = (...extra: AnalyzerResourceView[]) => checkStack(leastPrivilegeSecretAccess, [...base, ...extra]);
  const secretGrant = (type: string, name: string, props: Record<string, unknown>, propertyDependencies?: Record<string, string[]>) =>
    resourceView({ type, name, props: { secretId: "projects/p/secrets/tok", ...props }, propertyDependencies });
  const noService = (grant: string, secret: string, member: string): string =>
    `mandatory: ${grant} grants ${ACCESSOR} on ${secret} to ${member}, which runs no Cloud Run service of this stack: remove the grant, ` +
    "or grant it to the account of the service that reads the secret.";
  const notRead = (grant: string, secret: string, member: string, readers: string): string =>
    `mandatory: ${grant} grants ${ACCESSOR} on ${secret} to ${member}, the account of ${readers}, which does not read that secret: ` +
    "remove the grant.";

  test("an account's email: its email output first, else accountId@project, else the resource's name", async () => {
    const both = accountNode("both-sa", "both", { email: undefined });
    const noProject = accountNode("no-project-sa", "np", { email: undefined, project: undefined });
    const noId = accountNode("no-id-sa", "ignored", { email: undefined, accountId: undefined });
    const custom = accountNode("custom-sa", "cid", { email: "custom@q.iam.gserviceaccount.com" });
    const grants = [both, noProject, noId, custom].map((account) =>
      secretGrant(T.secretIamMember, `${account.name}-grant`, { role: ACCESSOR, member: UNKNOWN }, { member: [account.urn] }),
    );
    expect(messages(await run(both, noProject, noId, custom, ...grants))).toEqual([
      noService("both-sa-grant", "projects/p/secrets/tok", "serviceAccount:both@p.iam.gserviceaccount.com"),
      noService("custom-sa-grant", "projects/p/secrets/tok", "serviceAccount:custom@q.iam.gserviceaccount.com"),
      noService("no-id-sa-grant", "projects/p/secrets/tok", "serviceAccount:no-id-sa"),
      noService("no-project-sa-grant", "projects/p/secrets/tok", "serviceAccount:no-project-sa"),
    ]);
  });

  test("the same account resource matches whatever its email; an account found by its email output, not accountId@project", async () => {
    // The account has no email at all: the worker (through its template) and the grant (through its member) share the resource.
    const nameless = accountNode("nameless-sa", "nl", { email: undefined, project: undefined });
    const worker = cloudRun("worker", [], { serviceAccount: UNKNOWN, propertyDependencies: { template: [nameless.urn] } });
    const byNode = secretGrant(T.secretIamMember, "by-node", { role: ACCESSOR, member: UNKNOWN }, { member: [nameless.urn] });
    // The account's email output differs from accountId@project: a member naming that email is the account.
    const custom = accountNode("custom-sa", "cid", { email: "custom@q.iam.gserviceaccount.com" });
    const runner = cloudRun("runner", [], { serviceAccount: UNKNOWN, propertyDependencies: { template: [custom.urn] } });
    const byEmail = secretGrant(T.secretIamMember, "by-email", {
      role: ACCESSOR,
      member: "serviceAccount:custom@q.iam.gserviceaccount.com",
    });
    // The control's account (no email output) is found by accountId@project: the worker built from it runs as ctl.
    const ctlWorker = cloudRun("ctl-worker", [], {
      serviceAccount: UNKNOWN,
      propertyDependencies: { template: [U(T.account, "control-sa")] },
    });
    const ctl = secretGrant(T.secretIamMember, "ctl", {
      secretId: "projects/p/secrets/spark",
      role: ACCESSOR,
      member: "serviceAccount:ctl@p.iam.gserviceaccount.com",
    });
    expect(messages(await run(nameless, worker, byNode, custom, runner, byEmail, ctlWorker, ctl))).toEqual([
      notRead("by-email", "projects/p/secrets/tok", "serviceAccount:custom@q.iam.gserviceaccount.com", "runner"),
      notRead("by-node", "projects/p/secrets/tok", "serviceAccount:nameless-sa", "worker"),
      notRead("ctl", "projects/p/secrets/spark", "serviceAccount:ctl@p.iam.gserviceaccount.com", "control-service, ctl-worker"),
    ]);
  });

  test("accounts with no resource match by equal email only; a service on the default account runs as none", async () => {
    const ghost = cloudRun("ghost-service", [], { serviceAccount: "ghost@p.iam.gserviceaccount.com" });
    // Built from the executor's account, but with no serviceAccount set: Cloud Run's default account, not exec.
    const defaulted = cloudRun("default-service", [], { propertyDependencies: { template: [U(T.account, "executor-sa")] } });
    const toGhost = secretGrant(T.secretIamMember, "to-ghost", {
      role: ACCESSOR,
      member: "serviceAccount:ghost@p.iam.gserviceaccount.com",
    });
    const toCi = secretGrant(T.secretIamMember, "to-ci", { role: ACCESSOR, member: "serviceAccount:ci@p.iam.gserviceaccount.com" });
    const toExec = secretGrant(T.secretIamMember, "to-exec", {
      secretId: "projects/p/secrets/spark",
      role: ACCESSOR,
      member: "serviceAccount:exec@p.iam.gserviceaccount.com",
    });
    expect(messages(await run(ghost, defaulted, toGhost, toCi, toExec))).toEqual([
      noService("to-ci", "projects/p/secrets/tok", "serviceAccount:ci@p.iam.gserviceaccount.com"),
      notRead("to-exec", "projects/p/secrets/spark", "serviceAccount:exec@p.iam.gserviceaccount.com", "executor-service"),
      notRead("to-ghost", "projects/p/secrets/tok", "serviceAccount:ghost@p.iam.gserviceaccount.com", "ghost-service"),
    ]);
  });

  test("a member is a service account only when the whole member is serviceAccount:EMAIL", async () => {
    const deleted = secretGrant(T.secretIamMember, "deleted", {
      role: ACCESSOR,
      member: "deleted:serviceAccount:ctl@p.iam.gserviceaccount.com",
    });
    const trailing = secretGrant(T.secretIamMember, "trailing", {
      role: ACCESSOR,
      member: "serviceAccount:ctl@p.iam.gserviceaccount.com\nx",
    });
    const other = (grant: string, member: string): string =>
      `mandatory: ${grant} grants ${ACCESSOR} on projects/p/secrets/tok to ${member}, which is not the service account of a service that ` +
      "reads it: grant secret access only to the reading service's own account.";
    expect(messages(await run(deleted, trailing))).toEqual([
      other("deleted", "deleted:serviceAccount:ctl@p.iam.gserviceaccount.com"),
      other("trailing", "serviceAccount:ctl@p.iam.gserviceaccount.com\nx"),
    ]);
  });

  test("a member known only through a dependency: on a binding's members, and on a policy's policy data", async () => {
    const loose = accountNode("loose-sa", "loose");
    const binding = secretGrant(T.secretIamBinding, "binding", { role: ACCESSOR, members: [UNKNOWN] }, { members: [loose.urn] });
    const policy = secretGrant(
      T.secretIamPolicy,
      "policy",
      { policyData: JSON.stringify({ bindings: [{ role: ACCESSOR, members: [null] }] }) },
      { policyData: [loose.urn] },
    );
    expect(messages(await run(loose, binding, policy))).toEqual([
      noService("binding", "projects/p/secrets/tok", "serviceAccount:loose@p.iam.gserviceaccount.com"),
      noService("policy", "projects/p/secrets/tok", "serviceAccount:loose@p.iam.gserviceaccount.com"),
    ]);
  });

  test("policy data that is not an object with a list of bindings, or lists non-objects, grants nothing", async () => {
    const grants = ["null", '"text"', JSON.stringify({ bindings: {} }), JSON.stringify({ bindings: [null, 7] })].map((policyData, i) =>
      secretGrant(T.secretIamPolicy, `p${i}`, { policyData }),
    );
    const scope = resourceView({ type: T.projectIamPolicy, name: "scope", props: { project: "p", policyData: "null" } });
    expect(await run(...grants, scope)).toEqual([]);
  });

  test("the secret: only a Secret among the secretId's dependencies; an unknown id names no secret", async () => {
    const other = resourceView({ type: T.randomString, name: "suffix", props: { result: "x" } });
    const ok = secretGrant(
      T.secretIamMember,
      "ok",
      { secretId: "tok", role: ACCESSOR, member: "serviceAccount:ctl@p.iam.gserviceaccount.com" },
      { secretId: [other.urn] },
    );
    const unknownId = secretGrant(T.secretIamMember, "unknown-id", {
      secretId: UNKNOWN,
      role: ACCESSOR,
      member: "serviceAccount:ci@p.iam.gserviceaccount.com",
    });
    expect(messages(await run(other, ok, unknownId))).toEqual([
      noService("unknown-id", "its secret", "serviceAccount:ci@p.iam.gserviceaccount.com"),
    ]);
  });

  test("by name, references that name no secret (unknown, or not a secret name) do not read it", async () => {
    const odd = cloudRun("odd-service", [secretEnv("A", UNKNOWN), secretEnv("B", "tok!")], {
      serviceAccount: "odd@p.iam.gserviceaccount.com",
    });
    const grant = secretGrant(T.secretIamMember, "odd-grant", {
      secretId: "spark",
      role: ACCESSOR,
      member: "serviceAccount:odd@p.iam.gserviceaccount.com",
    });
    expect(messages(await run(odd, grant))).toEqual([
      notRead("odd-grant", "spark", "serviceAccount:odd@p.iam.gserviceaccount.com", "odd-service"),
    ]);
  });

  test("a reading role on a scope to an account no service runs as names no account of a service", async () => {
    const scope = resourceView({
      type: T.projectIamMember,
      name: "ci-access",
      props: { project: "p", role: ACCESSOR, member: "serviceAccount:ci@p.iam.gserviceaccount.com" },
    });
    expect(messages(await run(scope))).toEqual([
      `mandatory: ci-access grants ${ACCESSOR} on the whole project p to serviceAccount:ci@p.iam.gserviceaccount.com: every secret of ` +
        "the project becomes readable. Grant roles/secretmanager.secretAccessor per secret (SecretIamMember) instead.",
    ]);
  });
});
