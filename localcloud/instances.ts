/**
 * One Cloud Run instance: a real child process started by the shell with the revision's env and
 * a free loopback port as PORT, ready once it answers an HTTP request on GET /status (any status:
 * the app is serving), stopped the way Cloud Run stops an instance: no new requests, the in-flight
 * ones finish (bounded by the request timeout), then SIGTERM to its process group and, after the
 * grace period, SIGKILL.
 */
import { ChildProcess, spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import { createWriteStream, mkdirSync, readFileSync, readdirSync, WriteStream } from "node:fs";
import { Agent, request } from "node:http";
import { createServer } from "node:net";
import * as path from "node:path";

export type InstanceState = "starting" | "ready" | "draining" | "stopping" | "stopped" | "failed";

export interface InstanceSpec {
  readonly id: string;
  readonly service: string;
  readonly revision: string;
  /** Run by `/bin/sh -c`, in its own process group. */
  readonly command: string;
  readonly env: Readonly<Record<string, string>>;
  readonly port: number;
  readonly startupTimeoutMs: number;
  readonly shutdownGraceMs: number;
  /** Where the instance's stdout and stderr go; discarded when absent. */
  readonly logFile?: string;
}

export interface StopResult {
  readonly signal: "SIGTERM" | "SIGKILL" | "none";
  readonly inFlightAtSigterm: number;
  readonly exitCode: number | null;
}

/** Finds a free loopback port (closed again: the instance binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

export class Instance extends EventEmitter {
  state: InstanceState = "starting";
  inFlight = 0;
  /** Requests answered (or failed) by this instance. */
  served = 0;
  lastActiveMs = Date.now();
  failure?: string;
  readonly startedAtMs = Date.now();
  readyAtMs?: number;
  /** Keep-alive connections from the router to this instance, destroyed when it stops. */
  readonly agent = new Agent({ keepAlive: true, maxSockets: 256 });
  private child?: ChildProcess;
  private log?: WriteStream;
  private exited?: { code: number | null; signal: NodeJS.Signals | null };
  private stopping?: Promise<StopResult>;

  constructor(readonly spec: InstanceSpec) {
    super();
    this.setMaxListeners(0);
  }

  get port(): number {
    return this.spec.port;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the process and resolves once it is ready; rejects (state "failed") otherwise. */
  async start(): Promise<void> {
    if (this.spec.logFile) {
      mkdirSync(path.dirname(this.spec.logFile), { recursive: true });
      this.log = createWriteStream(this.spec.logFile, { flags: "a" });
    }
    const child = spawn("/bin/sh", ["-c", this.spec.command], {
      env: { ...this.spec.env },
      detached: true,
      stdio: ["ignore", this.log ? "pipe" : "ignore", this.log ? "pipe" : "ignore"],
    });
    this.child = child;
    if (this.log) {
      child.stdout?.pipe(this.log, { end: false });
      child.stderr?.pipe(this.log, { end: false });
    }
    child.on("exit", (code, signal) => {
      this.exited = { code, signal };
      this.agent.destroy();
      this.log?.end();
      if (this.state === "ready" || this.state === "draining") {
        // A crash: the router stops sending it requests; the revision replaces it if it must.
        this.state = "failed";
        this.failure = `the container exited unexpectedly (${describeExit(code, signal)})`;
      }
      this.emit("exit", code, signal);
    });
    try {
      await this.waitReady();
      this.state = "ready";
      this.readyAtMs = Date.now();
      this.lastActiveMs = Date.now();
      this.emit("ready");
    } catch (err) {
      this.state = "failed";
      this.failure = err instanceof Error ? err.message : String(err);
      this.kill("SIGKILL");
      throw err;
    }
  }

  /** Marks one request in flight; `release` when it is answered or abandoned. */
  acquire(): void {
    this.inFlight += 1;
    this.lastActiveMs = Date.now();
  }

  release(): void {
    this.inFlight -= 1;
    this.served += 1;
    this.lastActiveMs = Date.now();
    if (this.inFlight === 0) this.emit("idle");
  }

  /** Whether the router may send it a new request. */
  get accepting(): boolean {
    return this.state === "ready";
  }

  /**
   * Stops the instance: no new requests, in-flight requests finish (at most `drainMs`), then
   * SIGTERM and, after the grace period, SIGKILL. Idempotent.
   */
  stop(drainMs: number): Promise<StopResult> {
    if (!this.stopping) this.stopping = this.doStop(drainMs);
    return this.stopping;
  }

  private async doStop(drainMs: number): Promise<StopResult> {
    if (this.exited && !this.groupAlive()) {
      if (this.state !== "failed") this.state = "stopped";
      return { signal: "none", inFlightAtSigterm: 0, exitCode: this.exitCode() };
    }
    this.state = "draining";
    this.emit("draining");
    if (this.inFlight > 0) await this.waitFor("idle", drainMs);
    const inFlightAtSigterm = this.inFlight;
    this.state = "stopping";
    this.kill("SIGTERM");
    let signal: StopResult["signal"] = "SIGTERM";
    // The shell may exit before the server it started: wait for the whole process group.
    if (!(await this.groupGone(this.spec.shutdownGraceMs))) {
      signal = "SIGKILL";
      this.kill("SIGKILL");
      await this.groupGone(5_000);
    }
    await this.waitFor("exit", 5_000);
    this.state = "stopped";
    this.agent.destroy();
    return { signal, inFlightAtSigterm, exitCode: this.exitCode() };
  }

  /** The exit code once the process has exited (read through a method: it changes asynchronously). */
  exitCode(): number | null {
    return this.exited?.code ?? null;
  }

  /** SIGKILL to the whole group, synchronously (for a host process that is exiting). */
  killNow(): void {
    this.kill("SIGKILL");
  }

  /** Signals the whole process group: `sh -c` may have forked the real server. */
  private kill(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // the group is gone
    }
  }

  /**
   * Whether a process of the group still runs. Once the shell has exited, what it started belongs
   * to init, and a zombie left for init to reap still answers signal 0 (until an init that reaps
   * slowly gets to it, seconds in some containers): a zombie has exited, so it does not count.
   */
  private groupAlive(): boolean {
    const pid = this.child?.pid;
    if (pid === undefined) return false;
    try {
      process.kill(-pid, 0);
    } catch {
      return false;
    }
    return this.exited === undefined || groupHasRunningProcess(pid);
  }

  /** Resolves true once no process of the group is left, false if some still run after `timeoutMs`. */
  private async groupGone(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.groupAlive()) {
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return true;
  }

  /** Resolves true when the event fires, false when the timeout passes first (or the process exits). */
  private waitFor(event: "idle" | "exit", timeoutMs: number): Promise<boolean> {
    if (event === "exit" && this.exited) return Promise.resolve(true);
    if (event === "idle" && this.inFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (value: boolean): void => {
        clearTimeout(timer);
        this.off(event, onEvent);
        if (event !== "exit") this.off("exit", onExit);
        resolve(value);
      };
      const onEvent = (): void => done(true);
      const onExit = (): void => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.on(event, onEvent);
      if (event !== "exit") this.on("exit", onExit);
    });
  }

  /** Probes GET /status until any HTTP answer, the process exits, or the startup timeout passes. */
  private waitReady(): Promise<void> {
    const deadline = Date.now() + this.spec.startupTimeoutMs;
    return new Promise((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (err?: Error): void => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        this.off("exit", onExit);
        if (err) reject(err);
        else resolve();
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void =>
        finish(new Error(`the container exited (${describeExit(code, signal)}) before it answered GET /status on PORT ${this.port}`));
      this.on("exit", onExit);
      const probe = (): void => {
        if (settled) return;
        if (Date.now() > deadline) {
          finish(new Error(`the container did not answer GET /status on PORT ${this.port} within ${this.spec.startupTimeoutMs} ms`));
          return;
        }
        const req = request({ host: "127.0.0.1", port: this.port, path: "/status", method: "GET", timeout: 2_000, agent: false }, (res) => {
          res.resume();
          finish();
        });
        req.on("timeout", () => req.destroy(new Error("probe timeout")));
        req.on("error", () => {
          timer = setTimeout(probe, 50);
        });
        req.end();
      };
      if (this.exited) onExit(this.exited.code, this.exited.signal);
      else probe();
    });
  }
}

/**
 * Whether a process of group `pgid` is running, not a zombie (Linux: /proc/<pid>/stat gives the
 * state and the group). Where /proc cannot be read, every member counts as running.
 */
function groupHasRunningProcess(pgid: number): boolean {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((name) => /^[0-9]+$/.test(name));
  } catch {
    return true;
  }
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue; // gone meanwhile
    }
    // After the command name in parentheses: state, ppid, pgrp, ...
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(pgrp) === pgid && state !== "Z" && state !== "X") return true;
  }
  return false;
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `signal ${signal}` : `exit code ${code}`;
}
