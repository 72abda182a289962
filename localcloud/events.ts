/**
 * The local cloud's own timeline: every revision, instance, traffic and secret-state change, with
 * millisecond times. Tests wait on it (`waitFor`) instead of sleeping; a rehearsal reads it over
 * HTTP (`GET /localcloud/v1/events?after=N`) to line the cloud's changes up with the engine's.
 * Never a secret value: events carry names, numbers and states.
 */
import { EventEmitter } from "node:events";

export type EventDetail = string | number | boolean | null | undefined | readonly string[];

export interface LocalCloudEvent {
  readonly seq: number;
  readonly atMs: number;
  readonly type: string;
  readonly [detail: string]: EventDetail;
}

const KEEP = 20_000;

export class EventLog {
  private readonly events: LocalCloudEvent[] = [];
  private readonly emitter = new EventEmitter();
  private seq = 0;

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  record(type: string, details: Readonly<Record<string, EventDetail>> = {}): LocalCloudEvent {
    this.seq += 1;
    const event: LocalCloudEvent = { ...details, seq: this.seq, atMs: Date.now(), type };
    this.events.push(event);
    if (this.events.length > KEEP) this.events.splice(0, this.events.length - KEEP);
    this.emitter.emit("event", event);
    return event;
  }

  /** Events after sequence number `after` (0: all kept). */
  since(after = 0): LocalCloudEvent[] {
    return this.events.filter((e) => e.seq > after);
  }

  on(listener: (event: LocalCloudEvent) => void): () => void {
    this.emitter.on("event", listener);
    return () => this.emitter.off("event", listener);
  }

  /**
   * Resolves with the first event (already recorded after `after`, or still to come) that matches;
   * rejects after `timeoutMs` naming what it waited for.
   */
  waitFor(
    predicate: (event: LocalCloudEvent) => boolean,
    options: { what: string; timeoutMs?: number; after?: number },
  ): Promise<LocalCloudEvent> {
    const past = this.since(options.after ?? 0).find(predicate);
    if (past) return Promise.resolve(past);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`timed out after ${options.timeoutMs ?? 60_000} ms waiting for ${options.what}`));
      }, options.timeoutMs ?? 60_000);
      const off = this.on((event) => {
        if (!predicate(event)) return;
        clearTimeout(timer);
        off();
        resolve(event);
      });
    });
  }

  get lastSeq(): number {
    return this.seq;
  }
}
