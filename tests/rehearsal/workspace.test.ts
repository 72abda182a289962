/** Editing a stack file the way a pull request would: only the keys given, everything else kept. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { readProjectConfig, throwawayValue, writeConfig } from "../../rehearsal/workspace";

test("writeConfig sets and removes keys, keeps comments, the salt and secure values, and quotes strings Pulumi would retype", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "workspace-"));
  const file = path.join(dir, "Pulumi.staging.yaml");
  fs.writeFileSync(
    file,
    "# kept\nencryptionsalt: v1:abc\nconfig:\n  wallet-executor:smokeInvoice:\n    secure: v1:xyz\n  wallet-executor:authToken:\n    current: 4\n  wallet-executor:old: 1\n",
  );
  try {
    writeConfig(file, {
      "wallet-executor:authToken": { current: 5, previous: 4 },
      "wallet-executor:mnemonic": { current: 2, approval: { windowStart: "2026-12-01T02:00:00Z" } },
      "wallet-executor:old": undefined,
    });
    const text = fs.readFileSync(file, "utf8");
    expect(text).toContain("# kept");
    expect(text).toContain('windowStart: "2026-12-01T02:00:00Z"');
    const doc = parse(text) as { encryptionsalt: string; config: Record<string, unknown> };
    expect(doc.encryptionsalt).toBe("v1:abc");
    expect(doc.config).toEqual({
      "wallet-executor:smokeInvoice": { secure: "v1:xyz" },
      "wallet-executor:authToken": { current: 5, previous: 4 },
      "wallet-executor:mnemonic": { current: 2, approval: { windowStart: "2026-12-01T02:00:00Z" } },
    });
    expect(readProjectConfig(file).authToken).toEqual({ current: 5, previous: 4 });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("throwaway values: random each time, shaped like what they stand for", () => {
  expect(throwawayValue("sparkApiKeyG3")).not.toBe(throwawayValue("sparkApiKeyG3"));
  expect(throwawayValue("mnemonicG2").split(" ")).toHaveLength(12);
  expect(throwawayValue("smokeInvoice")).toMatch(/^lnbcrt/);
});
