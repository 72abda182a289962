/**
 * The resource providers on the SDK's provider interface (`@pulumi/pulumi/provider`): one handler
 * per resource type, and this adapter that does what every type shares: find the handler from the
 * URN, refuse properties the local cloud does not model, apply defaults in `check`, diff by the
 * replacement rules, reveal secrets on the way in and wrap them again on the way out.
 */
import type {
  CheckFailure,
  CheckResult,
  CreateResult,
  DiffResult,
  InvokeResult,
  Provider,
  ReadResult,
  UpdateResult,
} from "@pulumi/pulumi/provider";
import { propertiesOf, ruleFor } from "../localcloud/replacement-rules";
import { Plain, UNKNOWN, containsUnknown, protect, reveal, revealAll, sameValue } from "./wire";

export interface ResourceHandler {
  readonly type: string;
  /** Values for inputs the program leaves out (the real provider's schema defaults). */
  readonly defaults?: Readonly<Plain>;
  /** Outputs that are secret whatever the inputs (a generated password). */
  readonly alwaysSecret?: readonly string[];
  /** Problems with the inputs (revealed; a value unknown in preview is the UNKNOWN sentinel). */
  validate?(inputs: Plain): CheckFailure[];
  create(inputs: Plain): Promise<{ id: string; outs: Plain }>;
  /** The live resource, or undefined when it no longer exists. */
  read(id: string, state: Plain): Promise<{ id: string; outs: Plain } | undefined>;
  update(id: string, olds: Plain, news: Plain, changed: readonly string[]): Promise<Plain>;
  delete(id: string, state: Plain): Promise<void>;
}

export type InvokeHandler = (args: Plain) => Promise<Plain>;

/**
 * The resource exists but did not become what was asked (a Cloud Run revision that never got
 * ready): the engine records it with its current state and retries it on the next update.
 */
export class ResourceInitError extends Error {
  constructor(
    readonly id: string,
    readonly outs: Plain,
    reason: string,
  ) {
    super(reason);
    this.name = "ResourceInitError";
  }
}

/** The type token in a URN: `urn:pulumi:stack::project::parent$type::name` -> `type`. */
export function typeOfUrn(urn: string): string {
  const parts = urn.split("::");
  const qualified = parts[2] ?? "";
  return qualified.split("$").pop() ?? "";
}

export function makeProvider(
  name: string,
  version: string,
  handlers: readonly ResourceHandler[],
  invokes: Readonly<Record<string, InvokeHandler>> = {},
): Provider {
  const byType = new Map(handlers.map((h) => [h.type, h]));
  const handlerOf = (urn: string): ResourceHandler => {
    const type = typeOfUrn(urn);
    const handler = byType.get(type);
    if (!handler) throw new Error(`the local ${name} provider does not implement ${type}; it implements ${[...byType.keys()].join(", ")}`);
    return handler;
  };

  return {
    version,

    check(urn: string, _olds: Plain, news: Plain): Promise<CheckResult> {
      const handler = handlerOf(urn);
      const supported = propertiesOf(handler.type);
      const failures: CheckFailure[] = [];
      for (const key of Object.keys(news)) {
        if (!supported.includes(key) && !key.startsWith("__")) {
          failures.push({
            property: key,
            reason: `the local ${name} provider does not model ${key} on ${handler.type}; supported: ${supported.join(", ")}`,
          });
        }
      }
      const inputs: Plain = { ...news };
      for (const [key, value] of Object.entries(handler.defaults ?? {}))
        if (inputs[key] === undefined || inputs[key] === null) inputs[key] = value;
      failures.push(...(handler.validate?.(revealAll(inputs)) ?? []));
      return Promise.resolve({ inputs, failures });
    },

    diff(_id: string, urn: string, olds: Plain, news: Plain): Promise<DiffResult> {
      const handler = handlerOf(urn);
      const changed = changedProperties(handler.type, olds, news);
      const replaces = changed.filter((key) => ruleFor(handler.type, key)?.effect === "replace");
      return Promise.resolve({ changes: changed.length > 0, replaces, deleteBeforeReplace: false });
    },

    async create(urn: string, inputs: Plain): Promise<CreateResult> {
      const handler = handlerOf(urn);
      try {
        const { id, outs } = await handler.create(revealAll(inputs));
        return { id, outs: protect(outs, [inputs], handler.alwaysSecret) };
      } catch (err) {
        throw initFailure(err, [inputs], handler);
      }
    },

    async read(id: string, urn: string, props: Plain = {}): Promise<ReadResult> {
      const handler = handlerOf(urn);
      const live = await handler.read(id, revealAll(props));
      if (!live) return { id: "", props: {} };
      return { id: live.id, props: protect(live.outs, [props], handler.alwaysSecret) };
    },

    async update(id: string, urn: string, olds: Plain, news: Plain): Promise<UpdateResult> {
      const handler = handlerOf(urn);
      try {
        const outs = await handler.update(id, revealAll(olds), revealAll(news), changedProperties(handler.type, olds, news));
        return { outs: protect(outs, [news, olds], handler.alwaysSecret) };
      } catch (err) {
        throw initFailure(err, [news, olds], handler);
      }
    },

    async delete(id: string, urn: string, props: Plain): Promise<void> {
      await handlerOf(urn).delete(id, revealAll(props));
    },

    async invoke(token: string, inputs: Plain): Promise<InvokeResult> {
      const handler = invokes[token];
      if (!handler) throw new Error(`the local ${name} provider does not implement the function ${token}`);
      return { outputs: await handler(revealAll(inputs)) };
    },
  };
}

/** Input properties whose value differs (a value unknown in preview counts as a change). */
export function changedProperties(type: string, olds: Plain, news: Plain): string[] {
  return propertiesOf(type).filter((key) => {
    const next = reveal(news[key]);
    if (next === UNKNOWN || containsUnknown(next)) return true;
    return !sameValue(reveal(olds[key]), next);
  });
}

/** The SDK's server turns an error with `id` and `properties` into the engine's "created, but failed to initialize". */
function initFailure(err: unknown, secretSources: readonly Plain[], handler: ResourceHandler): Error {
  if (!(err instanceof ResourceInitError)) return err instanceof Error ? err : new Error(String(err));
  return Object.assign(new Error(err.message), {
    id: err.id,
    properties: protect(err.outs, secretSources, handler.alwaysSecret),
    reasons: [err.message],
  });
}
