/**
 * Follows the event log `pulumi preview|up --event-log FILE` writes while it runs, stamping each
 * event with the millisecond it appeared: the engine's own timestamps are whole seconds, too coarse
 * for a rollout that takes half a second. Stamped events keep the engine's shape, with `timestamp`
 * replaced by the observed time in (fractional) seconds, so ops/drill/timeline.ts reads them unchanged.
 */
import * as fs from "node:fs";
import type { EngineEvent } from "@pulumi/pulumi/automation";

export interface FollowedLog {
  /** Stops following, reads what is left, and returns every event in file order. */
  stop(): EngineEvent[];
}

/** `onEvent` sees each event as it is read (e.g. to show the phase in progress). */
export function followEventLog(
  file: string,
  pollMs = 50,
  now: () => number = Date.now,
  onEvent?: (event: EngineEvent) => void,
): FollowedLog {
  const events: EngineEvent[] = [];
  let offset = 0;
  let pending = "";
  const read = (final: boolean): void => {
    let text = "";
    try {
      const fd = fs.openSync(file, "r");
      try {
        const size = fs.fstatSync(fd).size;
        if (size > offset) {
          const buffer = Buffer.alloc(size - offset);
          fs.readSync(fd, buffer, 0, buffer.length, offset);
          offset = size;
          text = buffer.toString("utf8");
        }
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return; // not created yet
    }
    pending += text;
    const lines = pending.split("\n");
    pending = final ? "" : (lines.pop() ?? "");
    const at = now() / 1000;
    for (const line of lines) {
      if (line.trim() === "") continue;
      try {
        const event = { ...(JSON.parse(line) as EngineEvent), timestamp: at };
        events.push(event);
        onEvent?.(event);
      } catch {
        // A line cut off by a killed CLI: the timeline reports the update as incomplete anyway.
      }
    }
  };
  const timer = setInterval(() => read(false), pollMs);
  return {
    stop() {
      clearInterval(timer);
      read(true);
      return events;
    },
  };
}
