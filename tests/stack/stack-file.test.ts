/**
 * Reading a stack file for offline evaluations (stack/stack-file.ts): secure values never decrypted,
 * and the secret values a config needs but the file does not set yet reported, each standing in as
 * a redacted placeholder so the plan runs on a fresh clone.
 */
import * as fs from "fs";
import * as path from "path";
import { PROJECT } from "../../stack/config";
import { readStackFile, redactedPlaceholder, secureValueChanges, unsetSecretKeys, withUnsetSecrets } from "../../stack/stack-file";
import { ROOT } from "../support/project";

const shipped = (stack: string): string => fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8");
const read = (text: string) => readStackFile(text, PROJECT);

describe("secrets not set yet", () => {
  test("staging as shipped: the Spark key's and mnemonic's current values and the smoke invoice", () => {
    expect(unsetSecretKeys(read(shipped("staging")))).toEqual([
      "wallet-executor:sparkApiKeyG2",
      "wallet-executor:mnemonicG1",
      "wallet-executor:smokeInvoice",
    ]);
  });

  test("prod as shipped: no payment probe, so no smoke invoice", () => {
    expect(unsetSecretKeys(read(shipped("prod")))).toEqual(["wallet-executor:sparkApiKeyG2", "wallet-executor:mnemonicG1"]);
  });

  test("each stands in as a placeholder marked secret; the file's own values are untouched", () => {
    const file = read(shipped("staging"));
    const offline = withUnsetSecrets(file);
    expect(offline.unsetSecrets).toEqual(unsetSecretKeys(file));
    for (const key of offline.unsetSecrets) {
      expect(offline.config[key]).toBe(redactedPlaceholder(key));
      expect(offline.secretKeys).toContain(key);
    }
    for (const [key, value] of Object.entries(file.config)) expect(offline.config[key]).toBe(value);
    expect(Object.keys(offline.config).length).toBe(Object.keys(file.config).length + offline.unsetSecrets.length);
  });

  test("a secret set with --secret is not listed, and keeps its own placeholder", () => {
    const text = `${shipped("staging")}  wallet-executor:mnemonicG1:\n    secure: v1:c2FsdA==:Y2lwaGVy\n`;
    const offline = withUnsetSecrets(read(text));
    expect(offline.unsetSecrets).toEqual(["wallet-executor:sparkApiKeyG2", "wallet-executor:smokeInvoice"]);
    expect(offline.config["wallet-executor:mnemonicG1"]).toBe(redactedPlaceholder("wallet-executor:mnemonicG1"));
    expect(offline.secretKeys.filter((key) => key === "wallet-executor:mnemonicG1")).toHaveLength(1);
  });

  test("a value stored in plaintext is not 'unset': the program refuses it as plaintext", () => {
    const text = `${shipped("staging")}  wallet-executor:mnemonicG1: plain words\n`;
    expect(unsetSecretKeys(read(text))).not.toContain("wallet-executor:mnemonicG1");
  });

  test("a generation published out of band needs no value in config", () => {
    const text = shipped("staging").replace(
      "  wallet-executor:sparkApiKey:\n    current: 2\n",
      '  wallet-executor:sparkApiKey:\n    current: 2\n    published:\n      "2": 7\n',
    );
    expect(text).toContain('"2": 7');
    expect(unsetSecretKeys(read(text))).toEqual(["wallet-executor:mnemonicG1", "wallet-executor:smokeInvoice"]);
  });

  test("a previous generation still in use needs its value too", () => {
    const text = shipped("staging").replace(
      "  wallet-executor:sparkApiKey:\n    current: 2\n",
      "  wallet-executor:sparkApiKey:\n    current: 3\n    previous: 2\n",
    );
    expect(unsetSecretKeys(read(text))).toEqual([
      "wallet-executor:sparkApiKeyG3",
      "wallet-executor:sparkApiKeyG2",
      "wallet-executor:mnemonicG1",
      "wallet-executor:smokeInvoice",
    ]);
  });

  test("a config that does not parse needs nothing here: the program reports the config error", () => {
    const broken = read(shipped("staging").replace("wallet-executor:environment: staging", "wallet-executor:environment: qa"));
    expect(unsetSecretKeys(broken)).toEqual([]);
    expect(withUnsetSecrets(broken).config).toEqual(broken.config);
  });
});

describe("secure values set again between two versions of a file (ciphertexts compared, never decrypted)", () => {
  const withSecrets = (values: Record<string, string>, head = ""): string =>
    `${head}${shipped("staging")}${Object.entries(values)
      .map(([key, cipher]) => `  ${key}:\n    secure: ${cipher}\n`)
      .join("")}`;
  const salt = "encryptionsalt: v1:c2FsdA==:AAAA\n";

  test("a key set in both files with another ciphertext is listed, however it is spelled; the same ciphertext is not", () => {
    const base = withSecrets({ "wallet-executor:mnemonicG1": "v1:c2FsdA==:b2xk", sparkApiKeyG2: "v1:c2FsdA==:c2FtZQ==" }, salt);
    const next = withSecrets({ mnemonicG1: "v1:c2FsdA==:bmV3", "wallet-executor:sparkApiKeyG2": "v1:c2FsdA==:c2FtZQ==" }, salt);
    expect(secureValueChanges(base, next, PROJECT)).toEqual({ changed: ["wallet-executor:mnemonicG1"], encryptionChanged: false });
  });

  test("a key added or removed is not a value set again (the plan shows it as config)", () => {
    const base = withSecrets({ mnemonicG1: "v1:c2FsdA==:b2xk" }, salt);
    const next = withSecrets({ sparkApiKeyG2: "v1:c2FsdA==:bmV3" }, salt);
    expect(secureValueChanges(base, next, PROJECT)).toEqual({ changed: [], encryptionChanged: false });
  });

  test("new encryption settings are said: every value was encrypted again", () => {
    const base = withSecrets({ mnemonicG1: "v1:c2FsdA==:b2xk" }, salt);
    const next = withSecrets({ mnemonicG1: "v1:bmV3c2FsdA==:b3Ro" }, "encryptionsalt: v1:bmV3c2FsdA==:BBBB\n");
    expect(secureValueChanges(base, next, PROJECT)).toEqual({ changed: ["wallet-executor:mnemonicG1"], encryptionChanged: true });
    expect(
      secureValueChanges(base, base.replace(salt, "secretsprovider: gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k\n"), PROJECT),
    ).toEqual({
      changed: [],
      encryptionChanged: true,
    });
  });

  test("a file that does not parse changes nothing here; a plain value is not a secure one", () => {
    const base = withSecrets({ mnemonicG1: "v1:c2FsdA==:b2xk" });
    expect(secureValueChanges(base, "config: [", PROJECT)).toEqual({ changed: [], encryptionChanged: false });
    expect(secureValueChanges("config: [", base, PROJECT)).toEqual({ changed: [], encryptionChanged: false });
    expect(secureValueChanges(base, `${shipped("staging")}  wallet-executor:mnemonicG1: plain words\n`, PROJECT).changed).toEqual([]);
  });
});
