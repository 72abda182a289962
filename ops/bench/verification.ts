/**
 * Benchmark of one full verification (status, the three 401 probes, determinism, identity, no echo;
 * no payment) against a healthy local stand-in. The target is a median under 100 ms: the
 * verification gate should cost a rotation nothing next to the rollouts it follows.
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { Agent, request } from "undici";
import { verifyExecutor } from "../../verification/verify";
import { DEFAULT_IDENTITY_PUBKEY, startStandInExecutor } from "../../harness/stand-in-executor";

export interface VerifyBenchResult {
  medianMs: number;
  /** Wall-clock duration of each run, in run order. */
  samples: number[];
  /** The floor, alternating with the runs: one `/status` request with the token, on a pool of its own as the verifier makes. */
  floorSamples: number[];
}

async function oneStatusRequest(url: string, token: string): Promise<void> {
  const agent = new Agent();
  try {
    const response = await request(`${url}/status`, { dispatcher: agent, headers: { authorization: `Bearer ${token}` } });
    await response.body.text();
    if (response.statusCode !== 200) throw new Error(`benchmark floor: /status answered ${response.statusCode}`);
  } finally {
    await agent.destroy();
  }
}

export async function benchVerify(runs: number): Promise<VerifyBenchResult> {
  if (!Number.isSafeInteger(runs) || runs < 1) throw new RangeError("runs must be a positive integer");
  // Random, like a real token: the no-echo check counts any shared run of 12 characters as an echo,
  // and a padded constant shares one with the stand-in's answers.
  const previousToken = randomBytes(32).toString("base64url");
  const executor = await startStandInExecutor({ tokenVersion: 2, identityPubkey: DEFAULT_IDENTITY_PUBKEY });
  const samples: number[] = [];
  const floorSamples: number[] = [];
  try {
    for (let run = 0; run < runs; run++) {
      const floorStarted = performance.now();
      await oneStatusRequest(executor.url, executor.token);
      floorSamples.push(performance.now() - floorStarted);
      const started = performance.now();
      // Each run builds and closes its own pool, as a real verification would.
      const report = await verifyExecutor({
        baseUrl: executor.url,
        expectTokenVersion: 2,
        token: executor.token,
        previousToken,
        expectMode: "mock",
        expectIdentity: DEFAULT_IDENTITY_PUBKEY,
        deadlineMs: 10_000,
      });
      samples.push(performance.now() - started);
      if (!report.ok) {
        const failed = report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
        throw new Error(`benchmark verification failed against a healthy stand-in: ${failed.join("; ")}`);
      }
    }
  } finally {
    await executor.close();
  }
  return { medianMs: median(samples), samples, floorSamples };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

if (require.main === module) {
  benchVerify(15).then(
    ({ medianMs, samples }) => {
      const shown = samples.map((s) => s.toFixed(1)).join(", ");
      process.stdout.write(
        `verify: median ${medianMs.toFixed(1)} ms over ${samples.length} full verifications (target < 100 ms)\nsamples: ${shown}\n`,
      );
    },
    (error: unknown) => {
      process.stderr.write(`bench-verify: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
