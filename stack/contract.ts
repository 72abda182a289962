/**
 * The executor's environment, by its HTTP contract's names (docs/reference/executor-contract.md):
 * what the executor service sets, in one place. The policy pack ships alone and keeps its own copy
 * of the names it reads (policy/workloads.ts `ENV`); tests/policy/workloads.test.ts pins the two equal.
 */
export const EXECUTOR_ENV = {
  mode: "OA_LIGHTNING_WALLET_EXECUTOR_MODE",
  host: "OA_LIGHTNING_WALLET_EXECUTOR_HOST",
  port: "OA_LIGHTNING_WALLET_EXECUTOR_PORT",
  walletId: "OA_LIGHTNING_WALLET_ID",
  token: "OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN",
  tokenVersion: "OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN_VERSION",
  sparkApiKey: "OA_LIGHTNING_SPARK_API_KEY",
  sparkNetwork: "OA_LIGHTNING_SPARK_NETWORK",
  mnemonicProvider: "OA_LIGHTNING_WALLET_MNEMONIC_PROVIDER",
  mnemonicSecretVersion: "OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION",
  allowedHosts: "OA_LIGHTNING_WALLET_ALLOWED_HOSTS",
  requestCapMsats: "OA_LIGHTNING_WALLET_REQUEST_CAP_MSATS",
  windowCapMsats: "OA_LIGHTNING_WALLET_WINDOW_CAP_MSATS",
  windowMs: "OA_LIGHTNING_WALLET_WINDOW_MS",
  paymentTimeoutSecs: "OA_LIGHTNING_SPARK_PAYMENT_TIMEOUT_SECS",
} as const;
