/**
 * A clock for the verifier's readiness deadline (`VerifyOptions.clock`) that moves only on events:
 * the verifier's own backoff sleeps, and each request the verifier sends that a test selects (as
 * if that attempt had taken `stepMs`). A test that waits a deadline out then counts the attempts and
 * names the last reason exactly, however busy the machine is, and waits for no real deadline; real
 * request timeouts stay as long as the options say.
 */
import { Agent, type Dispatcher } from "undici";
import type { VerifyClock, VerifyOptions } from "../../verification/verify";

/** What a selector sees of a request the verifier sends. */
export interface SentRequest {
  readonly method: string;
  readonly path: string;
  readonly authorization?: string;
}

export class EventClock implements VerifyClock {
  private at = 0;
  /** Every sleep the verifier asked for, in order. */
  readonly sleeps: number[] = [];

  /** `lateWakeMs`: how much later than asked every sleep ends (a busy machine's late timer). */
  constructor(private readonly lateWakeMs = 0) {}

  now(): number {
    return this.at;
  }

  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.at += ms + this.lateWakeMs;
    // Yield to I/O as a real timer does.
    await new Promise((resolve) => setImmediate(resolve));
  }

  advance(ms: number): void {
    this.at += ms;
  }
}

function headerValue(headers: Dispatcher.DispatchOptions["headers"], name: string): string | undefined {
  if (headers === undefined || headers === null) return undefined;
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) if (String(headers[i]).toLowerCase() === name) return String(headers[i + 1]);
    return undefined;
  }
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) if (key.toLowerCase() === name) return String(value);
  return undefined;
}

/** An undici Agent that advances `clock` by `stepMs` as it sends each request `selects` picks. */
class ClockedAgent extends Agent {
  constructor(
    private readonly clock: EventClock,
    private readonly stepMs: number,
    private readonly selects: (request: SentRequest) => boolean,
  ) {
    super();
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const request = { method: options.method, path: options.path, authorization: headerValue(options.headers, "authorization") };
    if (this.selects(request)) this.clock.advance(this.stepMs);
    return super.dispatch(options, handler);
  }
}

export interface ClockedRun {
  readonly clock: EventClock;
  /** `clock` and `dispatcher`, to spread into the verifier's options. */
  readonly options: Pick<VerifyOptions, "clock" | "dispatcher">;
  /** Closes the dispatcher (the verifier leaves a caller's pool open). */
  close(): Promise<void>;
}

/**
 * An event clock and the pool that drives it: every request `selects` picks (default: all) moves
 * the clock by `stepMs` as it is sent.
 */
export function clocked(stepMs: number, selects: (request: SentRequest) => boolean = () => true, lateWakeMs = 0): ClockedRun {
  const clock = new EventClock(lateWakeMs);
  const dispatcher = new ClockedAgent(clock, stepMs, selects);
  return { clock, options: { clock, dispatcher }, close: () => dispatcher.close() };
}

/** Selects the requests that carry `token` as their bearer token. */
export const carrying =
  (token: string) =>
  (request: SentRequest): boolean =>
    request.authorization === `Bearer ${token}`;

/** Math.random pinned (the backoff's jitter) while `body` runs: the sleeps are then exact. */
export async function withRandom<T>(value: number, body: () => Promise<T>): Promise<T> {
  const real = Math.random;
  Math.random = () => value;
  try {
    return await body();
  } finally {
    Math.random = real;
  }
}
