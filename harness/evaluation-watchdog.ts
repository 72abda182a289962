/**
 * Why an evaluation cannot finish, in seconds instead of a hang: a program whose wiring waits on
 * itself (a service that waits on a version that waits on the service: a dependency cycle) or on
 * a promise nothing resolves never registers some resources. The engine would wait forever (or
 * the Node SDK would exit complaining of "leaked promises"); this watchdog names the resources.
 *
 * How: it records every resource the program constructs (wrapping the SDK's `registerResource`
 * and `readResource`, which each resource's constructor calls), what each one waits on before the
 * SDK can send its registration (its parent, its `dependsOn`, the resources behind its inputs, its
 * provider), and when each registers (its URN resolves). Then:
 * - a cycle among resources not yet registered can never resolve: reported as soon as it is seen;
 * - with nothing left to run (the event loop is empty: Node's `beforeExit`), or no progress at all
 *   for `stallTimeoutMs`, whatever is still waiting is reported with what it waits on.
 */
import * as pulumi from "@pulumi/pulumi";
import { dependsOnResolution, resourceRegistration } from "../lib/sdk-internals/resource-registration";

// SDK internals (fenced in lib/sdk-internals/resource-registration.ts): the functions every resource
// constructor calls, and the one that resolves `dependsOn` the way the SDK does.
const resourceModule = resourceRegistration.get();
const dependsOnModule = { gatherExplicitDependencies: dependsOnResolution.get() };

/** No progress for this long, with the program unfinished: it is stalled. */
export const DEFAULT_STALL_TIMEOUT_MS = 10_000;

/** Thrown (as the evaluation's error) when the program can never finish. */
export class StalledProgramError extends Error {
  /** The logical names of the resources involved (the cycle, or everything still waiting). */
  readonly resources: readonly string[];

  constructor(message: string, resources: readonly string[]) {
    super(message);
    this.name = "StalledProgramError";
    this.resources = resources;
  }
}

/** Something a resource waits on, from one of its inputs, options or its parent. */
interface Wait {
  /** `its parent`, `dependsOn`, `its input template`, ... */
  readonly via: string;
  /** The resources it waits on (empty: a promise with no resource behind it). */
  readonly resources: readonly pulumi.Resource[];
  settled: boolean;
}

interface Construction {
  readonly resource: pulumi.Resource;
  readonly type: string;
  readonly name: string;
  readonly waits: Wait[];
  registered: boolean;
}

interface InternalResource {
  readonly urn: { promise(): Promise<unknown> };
  readonly __childResources?: Set<pulumi.Resource>;
}

interface InternalOutput {
  resources(): Set<pulumi.Resource>;
  promise(withUnknowns?: boolean): Promise<unknown>;
}

let active: ConstructionLog | undefined;
let installed = false;

/** Wraps the SDK's registration entry points once per module registry. */
function install(): void {
  if (installed) return;
  installed = true;
  const register = resourceModule.registerResource;
  resourceModule.registerResource = function (this: unknown, ...args: unknown[]) {
    // (res, parent, type, name, custom, remote, newDependency, props, opts, ...)
    const result = register.apply(this, args);
    active?.constructed(args[0], args[1], args[2], args[3], args[7], args[8]);
    return result;
  };
  const read = resourceModule.readResource;
  resourceModule.readResource = function (this: unknown, ...args: unknown[]) {
    // (res, parent, type, name, props, opts, ...)
    const result = read.apply(this, args);
    active?.constructed(args[0], args[1], args[2], args[3], args[4], args[5]);
    return result;
  };
}

const isPromiseLike = (value: unknown): value is PromiseLike<unknown> =>
  value !== null && (typeof value === "object" || typeof value === "function") && typeof (value as { then?: unknown }).then === "function";

/** What the SDK records from one construction, and what it then waits on. */
class ConstructionLog {
  readonly constructions: Construction[] = [];
  private readonly byResource = new Map<pulumi.Resource, Construction>();
  /** Bumped on every event: a construction, a registration, a settled wait. */
  progress = 0;

  constructed(res: unknown, parent: unknown, type: unknown, name: unknown, props: unknown, opts: unknown): void {
    if (!pulumi.Resource.isInstance(res)) return;
    const waits: Wait[] = [];
    const entry: Construction = { resource: res, type: String(type), name: String(name), waits, registered: false };
    this.constructions.push(entry);
    this.byResource.set(res, entry);
    this.progress++;
    const settle = (wait: Wait): void => {
      wait.settled = true;
      this.progress++;
    };
    (res as unknown as InternalResource).urn.promise().then(
      () => {
        entry.registered = true;
        this.progress++;
      },
      () => {
        entry.registered = true;
        this.progress++;
      },
    );
    if (pulumi.Resource.isInstance(parent)) waits.push({ via: "its parent", resources: [parent], settled: false });
    const options = (opts ?? {}) as { dependsOn?: unknown; provider?: unknown; deletedWith?: unknown };
    if (options.dependsOn !== undefined) {
      const wait: Wait = { via: "dependsOn", resources: [], settled: false };
      waits.push(wait);
      dependsOnModule.gatherExplicitDependencies(options.dependsOn).then(
        (resources) => {
          (wait as { resources: readonly pulumi.Resource[] }).resources = resources;
          // Resolved: from now on it waits on those resources (the wait itself is settled).
          settle(wait);
        },
        () => settle(wait),
      );
    }
    for (const key of ["provider", "deletedWith"] as const) {
      const value = options[key];
      if (pulumi.Resource.isInstance(value)) waits.push({ via: key, resources: [value], settled: false });
    }
    if (props !== null && typeof props === "object") {
      for (const [key, value] of Object.entries(props as Record<string, unknown>))
        this.inputWaits(`its input ${key}`, value, waits, settle);
    }
  }

  /** Every Output, promise and resource reference inside one input. */
  private inputWaits(via: string, value: unknown, waits: Wait[], settle: (wait: Wait) => void, seen = new Set<unknown>()): void {
    if (value === null || typeof value !== "object" || seen.has(value)) {
      if (!isPromiseLike(value)) return;
    }
    seen.add(value);
    if (pulumi.Output.isInstance(value)) {
      const output = value as unknown as InternalOutput;
      const wait: Wait = { via, resources: [...output.resources()], settled: false };
      waits.push(wait);
      output.promise(true).then(
        () => settle(wait),
        () => settle(wait),
      );
      return;
    }
    if (pulumi.Resource.isInstance(value)) {
      waits.push({ via, resources: [value], settled: false });
      return;
    }
    if (isPromiseLike(value)) {
      const wait: Wait = { via, resources: [], settled: false };
      waits.push(wait);
      Promise.resolve(value).then(
        () => settle(wait),
        () => settle(wait),
      );
      return;
    }
    const items = Array.isArray(value) ? value : Object.values(value as Record<string, unknown>);
    for (const item of items) this.inputWaits(via, item, waits, settle, seen);
  }

  /** The constructions not registered yet. */
  pending(): Construction[] {
    return this.constructions.filter((entry) => !entry.registered);
  }

  /**
   * The pending constructions one waits on, as the SDK waits: a parent by its own URN; a
   * component named in `dependsOn` or behind an input by the custom resources below it.
   */
  private blockers(entry: Construction): { via: string; on: Construction }[] {
    const found: { via: string; on: Construction }[] = [];
    const add = (via: string, resource: pulumi.Resource, expand: boolean): void => {
      if (resource === entry.resource) return;
      const target = this.byResource.get(resource);
      if (!expand || !pulumi.ComponentResource.isInstance(resource)) {
        if (target && !target.registered) found.push({ via, on: target });
        return;
      }
      for (const child of (resource as unknown as InternalResource).__childResources ?? []) add(via, child, true);
    };
    for (const wait of entry.waits) {
      const resolvedDependsOn = wait.via === "dependsOn";
      // An input that has settled waits on nothing any more; a resolved dependsOn waits on its resources.
      if (!resolvedDependsOn && wait.settled) continue;
      for (const resource of wait.resources) add(wait.via, resource, wait.via !== "its parent");
    }
    return found;
  }

  /** A cycle among pending constructions (each waits on the next, the last on the first), if any. */
  cycle(): { entry: Construction; via: string }[] | undefined {
    const pending = this.pending();
    const state = new Map<Construction, "visiting" | "done">();
    const path: { entry: Construction; via: string }[] = [];
    const visit = (entry: Construction, via: string): { entry: Construction; via: string }[] | undefined => {
      state.set(entry, "visiting");
      path.push({ entry, via });
      for (const blocker of this.blockers(entry)) {
        const seen = state.get(blocker.on);
        if (seen === "visiting") {
          const start = path.findIndex((step) => step.entry === blocker.on);
          const cycle = path.slice(start);
          // Each step says what it waits on the next through; the last waits on the first.
          return cycle.map((step, i) => ({ entry: step.entry, via: i + 1 < cycle.length ? cycle[i + 1].via : blocker.via }));
        }
        if (seen === undefined) {
          const found = visit(blocker.on, blocker.via);
          if (found) return found;
        }
      }
      path.pop();
      state.set(entry, "done");
      return undefined;
    };
    for (const entry of pending) {
      if (state.has(entry)) continue;
      const found = visit(entry, "");
      if (found) return found;
    }
    return undefined;
  }

  /** How each pending construction is stuck, for the message. */
  describePending(): string[] {
    return this.pending().map((entry) => {
      const waiting = entry.waits
        .filter((wait) => !wait.settled || wait.via === "dependsOn")
        .map((wait) => {
          const blockers = this.blockers({ ...entry, waits: [wait] }).map((b) => show(b.on));
          if (blockers.length > 0) return `on ${[...new Set(blockers)].join(", ")} through ${wait.via}`;
          return wait.settled ? undefined : `through ${wait.via}, on a promise that never resolved`;
        })
        .filter((text): text is string => text !== undefined);
      return `${show(entry)} waits ${waiting.length > 0 ? waiting.join("; ") : "on nothing left to run"}`;
    });
  }
}

function show(entry: Construction): string {
  return `${entry.name} (${entry.type})`;
}

export interface WatchdogOptions {
  /** No progress for this long, with the program unfinished: stalled. */
  readonly stallTimeoutMs?: number;
  /** How often to look for a cycle and for progress. */
  readonly pollMs?: number;
}

/**
 * Watches one evaluation. `stalled` rejects with a StalledProgramError once the program can never
 * finish; race the evaluation's awaits against it, and `stop()` when done.
 */
export class EvaluationWatchdog {
  readonly stalled: Promise<never>;
  private readonly log = new ConstructionLog();
  private readonly stallTimeoutMs: number;
  private readonly pollMs: number;
  private fail: (err: StalledProgramError) => void = () => undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastProgress = -1;
  private idleSince = Date.now();
  private readonly onBeforeExit = (): void => this.report("nothing is left to run");

  constructor(options: WatchdogOptions = {}) {
    this.stallTimeoutMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
    this.pollMs = options.pollMs ?? Math.max(10, Math.min(250, Math.floor(this.stallTimeoutMs / 4)));
    this.stalled = new Promise<never>((_resolve, reject) => {
      this.fail = reject;
    });
    // Nobody may be racing it (the program finished first): an unhandled rejection would crash the process.
    this.stalled.catch(() => undefined);
  }

  start(): void {
    install();
    active = this.log;
    // Unreferenced: the watchdog alone never keeps the process alive, so `beforeExit` can fire.
    this.timer = setInterval(() => this.poll(), this.pollMs);
    this.timer.unref();
    process.on("beforeExit", this.onBeforeExit);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    process.off("beforeExit", this.onBeforeExit);
    if (active === this.log) active = undefined;
  }

  /** Resolves as `work` does, or rejects once the program is found stalled. */
  race<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.stalled]);
  }

  private poll(): void {
    if (this.reportCycle()) return;
    const now = Date.now();
    if (this.log.progress !== this.lastProgress) {
      this.lastProgress = this.log.progress;
      this.idleSince = now;
      return;
    }
    if (now - this.idleSince >= this.stallTimeoutMs) this.report(`nothing happened for ${this.stallTimeoutMs} ms`);
  }

  /** Fails the evaluation when pending resources wait on each other; true if they do. */
  private reportCycle(): boolean {
    const cycle = this.log.cycle();
    if (!cycle) return false;
    const steps = cycle.map((step, i) => `${show(step.entry)} waits on ${show(cycle[(i + 1) % cycle.length].entry)} through ${step.via}`);
    this.stop();
    this.fail(
      new StalledProgramError(
        `the program can never finish: dependency cycle: ${steps.join("; ")}. None of them can be registered before the ` +
          `others: break the cycle (a resource cannot wait on a resource that waits on it).`,
        cycle.map((step) => step.entry.name),
      ),
    );
    return true;
  }

  private report(why: string): void {
    if (this.reportCycle()) return;
    const pending = this.log.pending();
    const described = this.log.describePending();
    this.stop();
    this.fail(
      new StalledProgramError(
        pending.length === 0
          ? `the program never finished (${why}): it waits on a promise that nothing resolves; no resource is left waiting.`
          : `the program never finished (${why}): ${pending.length === 1 ? "1 resource was" : `${pending.length} resources were`} never ` +
              `registered: ${described.join("; ")}. A promise that is never resolved (a gate never released) or a resource that ` +
              `waits on its own dependents keeps them waiting forever.`,
        pending.map((entry) => entry.name),
      ),
    );
  }
}
