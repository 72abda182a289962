import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  checkGoogleCredentials,
  checkLogin,
  checkNode,
  checkPolicyPack,
  checkPulumiCli,
  checkSecretsProvider,
  checkSecretsSet,
} from "../../ops/doctor/checks";
import { main } from "../../ops/doctor/cli";
import { ROOT } from "../support/project";

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), "doctor-"));
const STAGING = fs.readFileSync(path.join(ROOT, "Pulumi.staging.yaml"), "utf8");

describe("doctor's checks", () => {
  test("Node below the engines range is missing, with the fix", () => {
    expect(checkNode("v20.20.2", ROOT)).toMatchObject({ ok: true, fix: null });
    expect(checkNode("v18.19.0", ROOT)).toMatchObject({ ok: false, fix: "install Node 20 or later" });
  });

  test("no Pulumi CLI, or one built here but not on PATH: missing, with the fix", () => {
    expect(checkPulumiCli({ PATH: "" }, () => undefined)).toMatchObject({ ok: false, detail: "no Pulumi CLI found" });
    expect(checkPulumiCli({ PATH: "" }, () => undefined).fix).toMatch(/^npm run pulumi:setup/);
    const dir = tmp();
    const cli = { pulumi: path.join(dir, "pulumi"), binDir: dir, version: "v3.248.0", source: "built" as const };
    expect(checkPulumiCli({ PATH: "" }, () => cli)).toMatchObject({ ok: false, fix: `export PATH="${dir}:$PATH"` });
    fs.writeFileSync(cli.pulumi, "#!/bin/sh\n", { mode: 0o755 });
    expect(checkPulumiCli({ PATH: dir }, () => cli)).toMatchObject({ ok: true, detail: `Pulumi v3.248.0 (${cli.pulumi})` });
  });

  test("login: the credentials file pulumi login writes, PULUMI_BACKEND_URL, or missing", () => {
    const home = tmp();
    expect(checkLogin({ PULUMI_HOME: home }, home)).toMatchObject({ ok: false, detail: "not logged in to a Pulumi backend" });
    expect(checkLogin({ PULUMI_HOME: home, PULUMI_BACKEND_URL: "gs://b" }, home)).toMatchObject({ ok: true });
    fs.writeFileSync(
      path.join(home, "credentials.json"),
      JSON.stringify({ current: "https://api.pulumi.com", accessTokens: { x: "pul-SECRET" } }),
    );
    const logged = checkLogin({ PULUMI_HOME: home }, home);
    expect(logged.ok).toBe(true);
    expect(logged.detail).toContain("https://api.pulumi.com");
    expect(logged.detail).not.toContain("pul-SECRET");
  });

  test("the policy pack's packages", () => {
    expect(checkPolicyPack(ROOT).ok).toBe(true);
    expect(checkPolicyPack(tmp())).toMatchObject({ ok: false, fix: "npm ci --prefix policy" });
  });

  test("Google credentials: a named file must exist; none at all is missing", () => {
    const home = tmp();
    expect(checkGoogleCredentials({ HOME: home })).toMatchObject({ ok: false });
    expect(checkGoogleCredentials({ HOME: home, GOOGLE_APPLICATION_CREDENTIALS: path.join(home, "nope.json") })).toMatchObject({
      ok: false,
    });
    fs.writeFileSync(path.join(home, "key.json"), "{}");
    expect(checkGoogleCredentials({ HOME: home, GOOGLE_APPLICATION_CREDENTIALS: path.join(home, "key.json") })).toMatchObject({ ok: true });
  });

  test("the secrets provider the stack file records", () => {
    expect(checkSecretsProvider("staging", STAGING, {})).toMatchObject({ ok: false });
    expect(checkSecretsProvider("staging", STAGING, {}).fix).toContain("--secrets-provider");
    const kms = `secretsprovider: gcpkms://projects/p/locations/global/keyRings/pulumi/cryptoKeys/stack-secrets\nencryptedkey: abc\n${STAGING}`;
    expect(checkSecretsProvider("staging", kms, {})).toMatchObject({ ok: true });
    const passphrase = `encryptionsalt: v1:abc\n${STAGING}`;
    expect(checkSecretsProvider("staging", passphrase, {}).ok).toBe(false);
    expect(checkSecretsProvider("staging", passphrase, { PULUMI_CONFIG_PASSPHRASE_FILE: "/f" }).ok).toBe(true);
  });

  test("secret values not set yet, each with its command", () => {
    const result = checkSecretsSet("staging", STAGING, "wallet-executor");
    expect(result.ok).toBe(false);
    expect(result.detail).toMatch(/^not set: .*wallet-executor:mnemonicG1/);
    expect(result.fix).toContain("pulumi config set --secret mnemonicG1 --stack staging < <file holding the value>");
  });
});

test("doctor --json offline: exit 1, every missing check with its fix", async () => {
  let stdout = "";
  const home = tmp();
  const code = await main(["--json", "--stack=staging"], {
    stdout: (t) => (stdout += t),
    stderr: () => undefined,
    env: { PATH: "", HOME: home, PULUMI_HOME: home },
  });
  expect(code).toBe(1);
  const doc = JSON.parse(stdout) as {
    schema: string;
    ok: boolean;
    checks: { name: string; stack: string | null; ok: boolean; fix: string | null }[];
  };
  expect(doc.schema).toBe("wallet-executor/doctor/v1");
  expect(doc.ok).toBe(false);
  expect(doc.checks.map((c) => `${c.name}${c.stack ? ` ${c.stack}` : ""}`)).toEqual([
    "node",
    "pulumi-cli",
    "pulumi-login",
    "policy-pack",
    "google-credentials",
    "secrets-provider staging",
    "secrets-set staging",
  ]);
  for (const c of doc.checks) expect(c.fix === null).toBe(c.ok);
  expect(doc.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual([
    "pulumi-cli",
    "pulumi-login",
    "google-credentials",
    "secrets-provider",
    "secrets-set",
  ]);
});
