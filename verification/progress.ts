/**
 * What the verifier is waiting on, shown while it waits, on stderr: one line that updates in place
 * on a terminal (`\r`, redrawn every second so the time left counts down), one line per change
 * otherwise (a CI log, a file). Nothing here writes to stdout, so `--json` stays a document.
 */
import type { CheckProgress } from "./verify";

export interface ProgressSink {
  write(text: string): unknown;
}

/** `125000` -> `2m 05s`; under a minute `8.2 s`. */
export function formatLeft(ms: number): string {
  const clamped = Math.max(0, ms);
  if (clamped < 60_000) return `${(clamped / 1000).toFixed(1)} s`;
  const seconds = Math.round(clamped / 1000);
  return `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, "0")}s`;
}

const deadline = (remainingMs: number, deadlineMs: number): string => `${formatLeft(remainingMs)} left of ${formatLeft(deadlineMs)}`;

/** One change, as its own line (not a terminal). */
export function changeLine(event: CheckProgress): string {
  const what =
    event.state === "waiting" ? `waiting, attempt ${event.attempt ?? "?"} was not an answer: ${event.reason ?? "no reason"}` : event.state;
  return `verify: ${event.check}: ${what} (${deadline(event.remainingMs, event.deadlineMs)})`;
}

/** The one updating line (a terminal): the checks still open, the one waited on first, and the time left. */
export function statusLine(open: readonly CheckProgress[], remainingMs: number, deadlineMs: number): string {
  const waiting = open.filter((e) => e.state === "waiting");
  const running = open.filter((e) => e.state === "running");
  const parts = [
    ...waiting.map((e) => `waiting on ${e.check} (attempt ${e.attempt ?? "?"}: ${e.reason ?? "no reason"})`),
    ...(running.length > 0 ? [`running ${running.map((e) => e.check).join(", ")}`] : []),
  ];
  return `verify: ${parts.length > 0 ? parts.join("; ") : "finishing"}; ${deadline(remainingMs, deadlineMs)}`;
}

export interface ProgressDisplayOptions {
  /** A terminal: one line, redrawn. */
  readonly tty: boolean;
  /** Terminal width: the line is cut to it so `\r` redraws it whole. */
  readonly columns?: number;
  /** Milliseconds, for the countdown between events (tests inject theirs). */
  readonly now?: () => number;
  /** Makes a line safe to print (the CLI's redaction and printable()). */
  readonly clean?: (text: string) => string;
}

/** Receives `onCheck` events and shows them. `stop()` clears the terminal line and the timer. */
export class ProgressDisplay {
  private readonly open = new Map<string, CheckProgress>();
  private last: { event: CheckProgress; at: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private drawn = false;
  private readonly now: () => number;
  private readonly clean: (text: string) => string;

  constructor(
    private readonly sink: ProgressSink,
    private readonly options: ProgressDisplayOptions,
  ) {
    this.now = options.now ?? (() => performance.now());
    this.clean = options.clean ?? ((text) => text);
  }

  readonly update = (event: CheckProgress): void => {
    if (event.state === "passed" || event.state === "failed") this.open.delete(event.check);
    else this.open.set(event.check, event);
    this.last = { event, at: this.now() };
    if (!this.options.tty) {
      this.sink.write(`${this.clean(changeLine(event))}\n`);
      return;
    }
    this.draw();
    if (this.timer === undefined) {
      // The countdown moves between events; the timer never keeps the process alive.
      this.timer = setInterval(() => this.draw(), 1000);
      this.timer.unref();
    }
  };

  /** The current line (a terminal's), with the time left as of now. */
  line(): string {
    if (!this.last) return "";
    const remaining = this.last.event.remainingMs - (this.now() - this.last.at);
    return this.clean(statusLine([...this.open.values()], remaining, this.last.event.deadlineMs));
  }

  private draw(): void {
    const width = Math.max(20, (this.options.columns ?? 100) - 1);
    const text = this.line();
    this.sink.write(`\r\u001b[K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
    this.drawn = true;
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    if (this.options.tty && this.drawn) this.sink.write("\r\u001b[K");
    this.drawn = false;
  }
}
