/**
 * The verification's option shapes that the stack shares, declared once and without dependencies
 * (stack/config.ts loads this, and the plan's cold start must not load an HTTP client for it).
 */

/** What the executor runs as: the real wallet, or the mock (the contract's `mode`). */
export const EXECUTOR_MODES = ["spark", "mock"] as const;
export type ExecutorMode = (typeof EXECUTOR_MODES)[number];

/** The payment smoke check's options: the stack's resource, the gate and verifyExecutor take this shape. */
export interface PaymentProbe {
  /** BOLT11 invoice to pay (never logged). */
  readonly invoice: string;
  /** The payee's host, as the executor's allow-list names it. */
  readonly host: string;
  /** The most the payment may cost, in millisatoshis. */
  readonly maxAmountMsats: number;
}
