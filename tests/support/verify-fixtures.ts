/**
 * Shared values of the verification tests (tests/verify*.test.ts): distinctive secrets, so that a
 * leak is unmistakable in any output; a contract `/status` object; and the receipt math, written
 * out independently of verification/receipt.ts.
 */
import { createHash } from "node:crypto";

export const TOKEN = "CURRENTTOKEN_" + "c0ffee".repeat(9);
export const PREVIOUS_TOKEN = "PREVIOUSTOKEN_" + "dec0de".repeat(9);
export const SPARK_KEY = "SPARKAPIKEY_" + "5ba4c0".repeat(6);
/** Longer than any quoted value (80 characters): a leak would be cut, not absent. */
export const INVOICE = "lnbcrt10u1INVOICETEXT" + "q".repeat(180);
export const HOST = "sats.example.com";

/** SHA-256 of UTF-8 text, lowercase hex. */
export const sha256 = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex");

/** A receipt per the contract: its fields, their canonical hash (compact JSON, contract order) and the id derived from it. */
export function sealedReceipt<Fields extends object>(fields: Fields): Fields & { receiptId: string; canonicalJsonSha256: string } {
  const canonicalJsonSha256 = sha256(JSON.stringify(fields));
  return { ...fields, receiptId: `lwr_${canonicalJsonSha256.slice(0, 24)}`, canonicalJsonSha256 };
}

/** The identity a healthy executor reports (a compressed-pubkey-looking value). */
export const IDENTITY_PUBKEY = "02" + "ab".repeat(32);

/** A healthy, ready `/status.status` object (token generation 4, mock mode), with fields replaced. */
export function contractStatus(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    walletId: "wallet-1",
    mode: "mock",
    authMode: "bearer_static",
    authEnforced: true,
    authTokenVersion: 4,
    lifecycle: "connected",
    ready: true,
    identityPubkey: IDENTITY_PUBKEY,
    apiKeyConfigured: true,
    ...fields,
  };
}
