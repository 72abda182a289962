/**
 * The stand-in executor as a program: what the local cloud runs in the executor's revisions by
 * default. It reads the executor contract's environment as the real executor does (its own port
 * and bind variables, the token and its version, the wallet id, caps, hosts), exits at start on a
 * configuration error, and with `OA_LIGHTNING_WALLET_MNEMONIC_PROVIDER=gcp` reads the mnemonic
 * from Secret Manager at run time with its revision's identity (the local cloud's stand-in for
 * the metadata server): the wallet identity it reports is derived from the mnemonic, so a
 * mnemonic rotation changes it, and a mnemonic it cannot read shows as `mnemonic_missing`.
 * On SIGTERM it stops accepting and exits once in-flight requests are answered.
 */
import { createHash } from "node:crypto";
import { request } from "undici";
import { LOCAL_ENV } from "../localcloud/runners";
import { StandInOptions, startStandInExecutor } from "./stand-in-executor";

const env = process.env;

function fail(message: string): never {
  process.stderr.write(`stand-in executor: configuration error: ${message}\n`);
  process.exit(1);
}

function integer(name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^[0-9]+$/.test(raw) || Number(raw) < min || Number(raw) > max) fail(`${name} must be an integer ${min}..${max}`);
  return Number(raw);
}

/** The wallet identity a mnemonic stands for (a stand-in derivation: stable, and different per mnemonic). */
export function identityOf(mnemonic: string): string {
  return `02${createHash("sha256").update(`stand-in wallet identity:${mnemonic}`).digest("hex")}`;
}

async function readMnemonic(): Promise<string | undefined> {
  if ((env.OA_LIGHTNING_WALLET_MNEMONIC_PROVIDER ?? "env") !== "gcp") return env.OA_LIGHTNING_WALLET_MNEMONIC || undefined;
  const version = env.OA_LIGHTNING_WALLET_MNEMONIC_SECRET_VERSION;
  const api = env[LOCAL_ENV.secretManagerApi];
  const token = env[LOCAL_ENV.accessToken];
  if (!version || !api || !token) return undefined;
  try {
    const response = await request(`${api}/${version}:access`, {
      headers: { authorization: `Bearer ${token}` },
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    const body = (await response.body.json()) as { payload?: { data?: string } };
    if (response.statusCode !== 200 || typeof body.payload?.data !== "string") return undefined;
    return Buffer.from(body.payload.data, "base64").toString("utf8");
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const mode = env.OA_LIGHTNING_WALLET_EXECUTOR_MODE === "spark" ? "spark" : "mock";
  const token = env.OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN ?? "";
  if (mode === "spark" && token === "") fail("OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN is required in spark mode");
  const port = integer("OA_LIGHTNING_WALLET_EXECUTOR_PORT", 8788, 1, 65535);
  const tokenVersion = integer("OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN_VERSION", 1, 1, 1_000_000);
  const allowedHosts = (env.OA_LIGHTNING_WALLET_ALLOWED_HOSTS ?? "")
    .split(",")
    .map((h) => h.trim())
    .filter((h) => h !== "");
  if (mode === "spark" && allowedHosts.length === 0) fail("OA_LIGHTNING_WALLET_ALLOWED_HOSTS must be non-empty in spark mode");
  integer("OA_LIGHTNING_WALLET_REQUEST_CAP_MSATS", 200_000, 1, Number.MAX_SAFE_INTEGER);

  const mnemonic = await readMnemonic();
  const options: StandInOptions = {
    token,
    tokenVersion,
    mode,
    walletId: env.OA_LIGHTNING_WALLET_ID || "openagents-ep212",
    apiKeyConfigured: (env.OA_LIGHTNING_SPARK_API_KEY ?? "") !== "",
    ...(allowedHosts.length > 0 ? { allowedHosts } : {}),
    ...(mnemonic !== undefined ? { identityPubkey: identityOf(mnemonic) } : { neverReady: true, errorCode: "mnemonic_missing" }),
    port,
  };
  const executor = await startStandInExecutor(options);
  process.stdout.write(`stand-in executor listening on ${executor.url} (authTokenVersion ${tokenVersion}, ${mode})\n`);
  const stop = (): void => {
    void executor.shutdown().then(() => process.exit(0));
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

if (require.main === module) void main();
