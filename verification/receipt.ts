/**
 * Pure math of the wallet executor's payment receipt (contract: "POST /pay-bolt11"). A verifier
 * recomputes the receipt's hash and id from its fields, so it can prove the receipt is well formed
 * without trusting the executor.
 *
 * Problems are described by field name and by values this module derives itself (hashes, amounts):
 * never by echoing receipt strings, so a receipt that wrongly carries the invoice or the preimage
 * cannot leak it through a problem message.
 */
import { createHash } from "node:crypto";

export const RECEIPT_VERSION = "openagents.lightning.wallet_receipt.v1";
export const RECEIPT_RAIL = "lightning";
export const RECEIPT_ASSET_ID = "BTC_LN";
/** Prefix of `receiptId`, followed by the first 24 hex characters of `canonicalJsonSha256`. */
export const RECEIPT_ID_PREFIX = "lwr_";
const RECEIPT_ID_HEX_CHARS = 24;

/** The fields hashed into `canonicalJsonSha256`, in the contract's order (the order is part of the hash). */
export const CANONICAL_RECEIPT_FIELDS = [
  "receiptVersion",
  "requestId",
  "walletId",
  "host",
  "paymentId",
  "invoiceHash",
  "quotedAmountMsats",
  "settledAmountMsats",
  "preimageSha256",
  "paidAtMs",
  "rail",
  "assetId",
] as const;
export type CanonicalReceiptField = (typeof CANONICAL_RECEIPT_FIELDS)[number];

/** A receipt as the executor returns it in `result.receipt`. */
export interface WalletReceipt {
  receiptVersion: string;
  requestId: string;
  walletId: string;
  host: string;
  paymentId: string;
  /** sha256 hex of the invoice text. */
  invoiceHash: string;
  quotedAmountMsats: number;
  settledAmountMsats: number;
  /** sha256 hex of the lowercase preimage hex text. */
  preimageSha256: string;
  paidAtMs: number;
  rail: string;
  assetId: string;
  receiptId: string;
  canonicalJsonSha256: string;
}

/** The twelve hashed fields; extra properties are ignored by the hash. */
export type CanonicalReceipt = Pick<WalletReceipt, CanonicalReceiptField>;

/** What the verifier asked for, to compare the receipt against. */
export interface ReceiptExpectation {
  /** The invoice that was paid (its text is never put in a problem). */
  invoice: string;
  /** The cap sent with the payment: neither the quote nor the settlement may exceed it. */
  maxAmountMsats: number;
  host?: string;
  /** The `requestId` sent with the payment. */
  requestId?: string;
  /** The wallet id reported by `/status`. */
  walletId?: string;
  /** `result.payment.preimageHex`, when available: it must hash to `receipt.preimageSha256`. */
  preimageHex?: unknown;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** sha256 hex of compact JSON of exactly the twelve canonical fields, in contract order. */
export function canonicalReceiptSha256(receipt: CanonicalReceipt): string {
  const canonical: Record<string, unknown> = {};
  for (const field of CANONICAL_RECEIPT_FIELDS) canonical[field] = receipt[field];
  return sha256Hex(JSON.stringify(canonical));
}

/** `"lwr_"` + the first 24 hex characters of the canonical hash. */
export function receiptIdFor(canonicalSha256: string): string {
  return RECEIPT_ID_PREFIX + canonicalSha256.slice(0, RECEIPT_ID_HEX_CHARS);
}

/** sha256 hex of the lowercase preimage hex text (the contract hashes the text, not the bytes). */
export function preimageSha256(preimageHex: string): string {
  return sha256Hex(preimageHex.toLowerCase());
}

/** sha256 hex of the invoice text, as in `receipt.invoiceHash`. */
export function invoiceHashFor(invoice: string): string {
  return sha256Hex(invoice);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const STRING_FIELDS = [
  "receiptVersion",
  "requestId",
  "walletId",
  "host",
  "paymentId",
  "invoiceHash",
  "preimageSha256",
  "rail",
  "assetId",
  "receiptId",
  "canonicalJsonSha256",
] as const;
const AMOUNT_FIELDS = ["quotedAmountMsats", "settledAmountMsats"] as const;

/**
 * Everything wrong with `receipt` as an answer to the payment described by `expect`, as
 * human-readable sentences; an empty array means the receipt is well formed.
 */
export function receiptProblems(receipt: unknown, expect: ReceiptExpectation): string[] {
  if (!isRecord(receipt)) return ["receipt is missing or not an object"];
  const problems: string[] = [];

  for (const field of STRING_FIELDS) {
    if (typeof receipt[field] !== "string" || receipt[field] === "") problems.push(`receipt.${field} is missing or not a non-empty string`);
  }
  for (const field of AMOUNT_FIELDS) {
    const value = receipt[field];
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
      problems.push(`receipt.${field} is missing or not a non-negative integer`);
    } else if (value > expect.maxAmountMsats) {
      problems.push(`receipt.${field} ${value} exceeds maxAmountMsats ${expect.maxAmountMsats}`);
    }
  }
  if (typeof receipt.paidAtMs !== "number" || !Number.isSafeInteger(receipt.paidAtMs) || receipt.paidAtMs <= 0) {
    problems.push("receipt.paidAtMs is missing or not a positive integer");
  }
  // Malformed fields make every derived comparison below meaningless: report the shape first.
  if (problems.length > 0) return problems;
  const typed = receipt as unknown as WalletReceipt;

  if (typed.receiptVersion !== RECEIPT_VERSION) problems.push(`receipt.receiptVersion is not ${RECEIPT_VERSION}`);
  if (typed.rail !== RECEIPT_RAIL) problems.push(`receipt.rail is not ${RECEIPT_RAIL}`);
  if (typed.assetId !== RECEIPT_ASSET_ID) problems.push(`receipt.assetId is not ${RECEIPT_ASSET_ID}`);
  if (expect.requestId !== undefined && typed.requestId !== expect.requestId) {
    problems.push("receipt.requestId does not match the payment's requestId");
  }
  if (expect.walletId !== undefined && typed.walletId !== expect.walletId) {
    problems.push("receipt.walletId does not match /status walletId");
  }
  if (expect.host !== undefined && typed.host !== expect.host) problems.push("receipt.host does not match the paid host");
  if (typed.invoiceHash !== invoiceHashFor(expect.invoice)) problems.push("receipt.invoiceHash is not sha256 of the invoice");
  if (!SHA256_HEX.test(typed.preimageSha256)) problems.push("receipt.preimageSha256 is not 64 lowercase hex characters");

  const recomputed = canonicalReceiptSha256(typed);
  if (typed.canonicalJsonSha256 !== recomputed) {
    problems.push(`receipt.canonicalJsonSha256 does not match the recomputed ${recomputed}`);
  }
  // Compare the id with the one derived from OUR hash: the receipt's own hash field is not trusted.
  const expectedId = receiptIdFor(recomputed);
  if (typed.receiptId !== expectedId) problems.push(`receipt.receiptId is not ${expectedId}`);

  if (expect.preimageHex !== undefined) problems.push(...preimageProblems(typed, expect.preimageHex));

  // Runbook item 4: no secret material in receipt payloads.
  const serialized = JSON.stringify(receipt);
  // (A too-short "invoice" would match by accident; real BOLT11 invoices are hundreds of characters.)
  if (expect.invoice.length >= 8 && serialized.includes(expect.invoice)) problems.push("receipt contains the invoice text");
  if (
    typeof expect.preimageHex === "string" &&
    expect.preimageHex !== "" &&
    serialized.toLowerCase().includes(expect.preimageHex.toLowerCase())
  ) {
    problems.push("receipt contains the preimage");
  }
  return problems;
}

/** Problems of `result.payment.preimageHex` against `receipt.preimageSha256`; never echoes the preimage. */
export function preimageProblems(receipt: unknown, preimageHex: unknown): string[] {
  if (typeof preimageHex !== "string" || !/^[0-9a-fA-F]{64}$/.test(preimageHex)) {
    return ["result.payment.preimageHex is missing or not 64 hex characters"];
  }
  if (!isRecord(receipt) || typeof receipt.preimageSha256 !== "string") return ["receipt.preimageSha256 is missing"];
  return receipt.preimageSha256 === preimageSha256(preimageHex)
    ? []
    : ["receipt.preimageSha256 is not sha256 of result.payment.preimageHex"];
}
