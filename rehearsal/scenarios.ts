/**
 * The rehearsal's scenarios, as the runbooks' pull requests: which config each apply sets, and how
 * the runbook says the scenario ends. Pure: no Pulumi, no processes.
 */
import { CredentialKey } from "../stack/config";

export const SCENARIOS = [
  "rotate",
  "emergency",
  "spark-key",
  "mnemonic",
  "failed-verification",
  "missing-grant",
  "rollback",
  "interrupted",
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/**
 * A fault the rehearsal injects, standing for what goes wrong in the runbook's failure scenarios:
 * - `executor-misreports-generation`: the new generation's executor answers /status with another
 *   token version (a build that ignores its config), so verification fails;
 * - `executor-grant-removed`: the executor's account loses its access to the token's secret out of
 *   band (a console change) before the rotation, so its new revision cannot start.
 */
export type Fault = "executor-misreports-generation" | "executor-grant-removed";

/** One apply: the config a pull request would merge, then a gated preview and an `up`. */
export interface ScenarioApply {
  /** What the pull request says. */
  readonly title: string;
  /** Project config keys to set (objects replaced whole). */
  readonly changes: Readonly<Record<string, unknown>>;
  /** How the runbook says this apply ends. */
  readonly expect: "applied" | "update-failed";
  /** Interrupt the `up` midway (SIGINT, as a cancelled CI job), then run the same apply again. */
  readonly interrupt?: boolean;
}

/** How the scenario must end, per the runbook. */
export interface ScenarioEnd {
  readonly credential: CredentialKey;
  /** The generation the services run at the end (and the last passing verification vouched for). */
  readonly current: number;
  /** Generations whose versions must be disabled at the end. */
  readonly disabled: readonly number[];
  /** Generations whose versions must still be enabled at the end. */
  readonly enabled: readonly number[];
  /** The old token must be refused at every URL of the executor at the end. */
  readonly oldTokenRefused: boolean;
  /** The token generation the executor accepts at the end (the one both services run). */
  readonly serving: number;
  /** The new executor revision must have failed to start, and the control must not have rolled out. */
  readonly executorRevisionFails?: boolean;
}

export interface Scenario {
  readonly name: ScenarioName;
  readonly summary: string;
  /** The runbook this scenario rehearses (a repository path). */
  readonly runbook: string;
  readonly credential: CredentialKey;
  /** Config the stack starts from (the baseline apply): no rotation open. */
  readonly baseline: Readonly<Record<string, unknown>>;
  readonly applies: readonly ScenarioApply[];
  readonly fault?: Fault;
  /** The generation rotated out, and the one rotated in. */
  readonly from: number;
  readonly to: number;
  readonly end: ScenarioEnd;
}

type Raw = Readonly<Record<string, unknown>>;

function currentOf(raw: Raw, key: CredentialKey): number {
  const value = raw[key] as { current?: unknown } | undefined;
  const current = value?.current;
  if (typeof current !== "number" || !Number.isInteger(current) || current < 1) {
    throw new Error(`wallet-executor:${key}.current: is required in the stack file (an integer >= 1)`);
  }
  return current;
}

/** A credential with no rotation open: only its current generation (published versions kept). */
function settled(raw: Raw, key: CredentialKey): Record<string, unknown> {
  const value = (raw[key] ?? {}) as Record<string, unknown>;
  const current = currentOf(raw, key);
  const published = value.published as Record<string, unknown> | undefined;
  const keep =
    published && published[String(current)] !== undefined ? { published: { [String(current)]: published[String(current)] } } : {};
  return { current, ...keep };
}

/** The mnemonic's controls for a rehearsal: an approval whose window is open now, and a sign-off. */
function mnemonicControls(now: Date): { approval: Record<string, string>; reconciliationSignoff: Record<string, string> } {
  const iso = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.000Z$/, "Z");
  return {
    approval: {
      ticket: "REHEARSAL",
      approver: "rehearsal@localhost",
      windowStart: iso(now.getTime() - 3_600_000),
      windowEnd: iso(now.getTime() + 3_600_000),
    },
    reconciliationSignoff: { by: "rehearsal@localhost", at: iso(now.getTime()), reference: "REHEARSAL" },
  };
}

/** The scenario for a stack's config (the copied stack file's project keys). */
export function scenarioFor(name: ScenarioName, raw: Raw, now: Date = new Date()): Scenario {
  const baseline: Record<string, unknown> = {
    authToken: settled(raw, "authToken"),
    sparkApiKey: settled(raw, "sparkApiKey"),
    mnemonic: settled(raw, "mnemonic"),
  };
  const credential: CredentialKey = name === "spark-key" ? "sparkApiKey" : name === "mnemonic" ? "mnemonic" : "authToken";
  const from = currentOf(raw, credential);
  const to = from + 1;
  const overlap = { current: to, previous: from };
  const revoke = { current: to, previous: from, revokePrevious: true };
  const set = (value: Record<string, unknown>): Record<string, unknown> => ({ [credential]: value });
  const common = { name, credential, baseline, from, to };
  const finished = (runbook: string, summary: string, applies: ScenarioApply[], fault?: Fault): Scenario => ({
    ...common,
    runbook,
    summary,
    applies,
    ...(fault ? { fault } : {}),
    end: {
      credential,
      current: to,
      disabled: [from],
      enabled: [to],
      oldTokenRefused: credential === "authToken",
      // Only the token's rotation changes which token the executor accepts.
      serving: credential === "authToken" ? to : currentOf(raw, "authToken"),
    },
  });
  switch (name) {
    case "rotate":
      return finished("docs/runbooks/rotate-token.md", "rotate the executor's token, then revoke the old one in a second apply", [
        { title: `authToken: current ${to}, previous ${from}`, changes: set(overlap), expect: "applied" },
        { title: `authToken: revokePrevious (generation ${from})`, changes: set(revoke), expect: "applied" },
      ]);
    case "emergency":
      return finished("docs/runbooks/rotate-token.md", "a compromised token: rotate and revoke in one apply", [
        { title: `authToken: current ${to}, previous ${from}, revokePrevious`, changes: set(revoke), expect: "applied" },
      ]);
    case "interrupted":
      return finished(
        "docs/runbooks/rotate-token.md",
        "rotate and revoke in one apply, interrupted midway (a cancelled job), then run again",
        [{ title: `authToken: current ${to}, previous ${from}, revokePrevious`, changes: set(revoke), expect: "applied", interrupt: true }],
      );
    case "spark-key":
      return finished("docs/runbooks/spark-key.md", "rotate the Spark API key, then revoke the old one", [
        { title: `sparkApiKey: current ${to}, previous ${from}`, changes: set(overlap), expect: "applied" },
        { title: `sparkApiKey: revokePrevious (generation ${from})`, changes: set(revoke), expect: "applied" },
      ]);
    case "mnemonic": {
      const controls = mnemonicControls(now);
      return finished(
        "docs/runbooks/mnemonic.md",
        "migrate to a new mnemonic (approval, window), then revoke with the reconciliation sign-off",
        [
          {
            title: `mnemonic: current ${to}, previous ${from}, approval`,
            changes: set({ ...overlap, approval: controls.approval }),
            expect: "applied",
          },
          { title: `mnemonic: revokePrevious (generation ${from}), sign-off`, changes: set({ ...revoke, ...controls }), expect: "applied" },
        ],
      );
    }
    case "failed-verification":
      return {
        ...common,
        runbook: "docs/runbooks/rollback.md",
        summary: "rotate and revoke in one apply; the new executor misreports its generation, verification fails",
        applies: [{ title: `authToken: current ${to}, previous ${from}, revokePrevious`, changes: set(revoke), expect: "update-failed" }],
        fault: "executor-misreports-generation",
        // Both services rolled out with the new token before verification failed.
        end: { credential, current: from, disabled: [], enabled: [from, to], oldTokenRefused: false, serving: to },
      };
    case "missing-grant":
      return {
        ...common,
        runbook: "docs/runbooks/rotate-token.md",
        summary: "rotate after the executor's access to the token's secret was removed out of band: its new revision cannot start",
        applies: [{ title: `authToken: current ${to}, previous ${from}, revokePrevious`, changes: set(revoke), expect: "update-failed" }],
        fault: "executor-grant-removed",
        end: {
          credential,
          current: from,
          disabled: [],
          enabled: [from],
          oldTokenRefused: false,
          serving: from,
          executorRevisionFails: true,
        },
      };
    case "rollback":
      return {
        ...common,
        runbook: "docs/runbooks/rollback.md",
        summary: "rotate, then roll back before revocation: current points at the previous generation again",
        applies: [
          { title: `authToken: current ${to}, previous ${from}`, changes: set(overlap), expect: "applied" },
          { title: `authToken: roll back to current ${from}`, changes: set({ current: from }), expect: "applied" },
        ],
        end: { credential, current: from, disabled: [to], enabled: [from], oldTokenRefused: false, serving: from },
      };
  }
}
