/**
 * One fenced internal: where it lives, who uses it, what is taken from it (checked on load) and
 * what the project relies on it doing (checked by its test in tests/lib/sdk-internals.test.ts).
 */
import { SdkInternalError, loadModule, once } from "./fence";

export interface SdkInternalSpec<T> {
  /** `<module>#<members>`: what an error message names. */
  readonly id: string;
  readonly moduleId: string;
  /** Resolved from the policy pack's directory (its own @pulumi/policy), not the project's. */
  readonly fromPack?: boolean;
  /** The project's files that rely on it (through this fence). */
  readonly usedBy: readonly string[];
  /** Why the public API is not enough. */
  readonly why: string;
  /** Takes what is used out of the module, checking its shape; throws SdkInternalError. */
  readonly extract: (module: Record<string, unknown>) => T;
  /** What the project relies on it doing, in one sentence, and the check of it. */
  readonly behaviour: string;
  readonly behaves: (value: T) => boolean | Promise<boolean>;
}

/** What the list of internals shows of each (no type parameter: the list mixes them). */
export interface SdkInternalEntry {
  readonly id: string;
  readonly moduleId: string;
  readonly fromPack?: boolean;
  readonly usedBy: readonly string[];
  readonly why: string;
  readonly behaviour: string;
  /**
   * Loads (or takes `module`, for the fence's own tests), checks the shape and the behaviour;
   * throws SdkInternalError naming the internal.
   */
  verify(module?: Record<string, unknown>): Promise<void>;
}

export interface SdkInternal<T> extends SdkInternalSpec<T>, SdkInternalEntry {
  /** The checked value (loaded once). */
  readonly get: () => T;
}

export function defineInternal<T>(spec: SdkInternalSpec<T>): SdkInternal<T> {
  const load = (): T => spec.extract(loadModule(spec.id, spec.moduleId, spec.fromPack === true));
  return {
    ...spec,
    get: once(load),
    async verify(module) {
      const value = module === undefined ? load() : spec.extract(module);
      let ok: boolean;
      try {
        ok = await spec.behaves(value);
      } catch (error) {
        if (error instanceof SdkInternalError) throw error;
        throw new SdkInternalError(spec.id, `${spec.behaviour}: the check threw ${(error as Error).message}`);
      }
      if (!ok) throw new SdkInternalError(spec.id, `no longer true: ${spec.behaviour}`);
    },
  };
}
