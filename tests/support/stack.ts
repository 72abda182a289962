/**
 * Runs the real program (`defineStack`) under the recording monitor, with a shipped stack file's
 * config and optional overrides, and answers questions about the graph it registered.
 *
 * Dynamic resources register with the offline plan's marker in place of their provider's serialized
 * code (lib/sdk-internals/dynamic-provider.ts), for the rest of the test file once it has run a stack:
 * each provider is a module constant, so its code is the same for every evaluation; no test of the
 * graph reads it; and serializing it (an inspector session and a TypeScript parse) is about two
 * seconds of CPU per test file. tests/stack/rotation-controls.test.ts serializes every provider as
 * the engine does.
 */
import { PROJECT } from "../../stack/config";
import { asError } from "../../lib/errors";
import { defineStack } from "../../stack/program";
import { Evaluation, RecordedResource, evaluateProgram, stackMocks, MockOptions } from "../../harness/recording-monitor";
import { skipDynamicProviderCode } from "../../lib/sdk-internals/dynamic-provider";

import { stackConfig } from "./project";

/** Throws what a program threw, as an Error, when it threw anything. */
export function throwIfFailed(run: { error?: unknown }): void {
  if (run.error === undefined) return;
  throw asError(run.error);
}

export interface StackRun extends Evaluation {
  /** The one resource with this logical name; throws if there is none or several. */
  byName(name: string): RecordedResource;
  maybeByName(name: string): RecordedResource | undefined;
  ofType(type: string): RecordedResource[];
  /** True when `from` depends on `to` through any chain of direct dependencies. */
  dependsTransitively(from: RecordedResource, to: RecordedResource): boolean;
}

export interface StackRunOptions {
  readonly stack?: "staging" | "prod";
  /** Values to set (objects are stored as JSON text, as the engine does), keyed `ns:key` or bare project keys. */
  readonly set?: Readonly<Record<string, unknown>>;
  /** Keys to remove. */
  readonly unset?: readonly string[];
  /** Extra keys to treat as secret (values given in `set`). */
  readonly secret?: readonly string[];
  readonly mocks?: MockOptions;
  readonly preview?: boolean;
  /**
   * What the stack last applied (its own outputs, read through a StackReference to itself).
   * Default: what this config exports, i.e. an unchanged stack; `null`: never applied (unknown).
   */
  readonly lastApplied?: Readonly<Record<string, unknown>> | null;
}

const qualify = (key: string): string => (key.includes(":") ? key : `${PROJECT}:${key}`);

export async function runStack(options: StackRunOptions = {}): Promise<StackRun> {
  skipDynamicProviderCode();
  const stack = options.stack ?? "staging";
  const { config, secretKeys } = stackConfig(stack);
  for (const key of options.unset ?? []) delete config[qualify(key)];
  for (const [key, value] of Object.entries(options.set ?? {})) {
    config[qualify(key)] = typeof value === "string" ? value : JSON.stringify(value);
  }
  const secrets = new Set([...secretKeys.filter((key) => key in config), ...(options.secret ?? []).map(qualify)]);
  const evaluation = await evaluateProgram({
    program: defineStack,
    project: PROJECT,
    stack,
    config,
    secretKeys: [...secrets],
    preview: options.preview,
    mocks: stackMocks(options.mocks),
    lastApplied: options.lastApplied,
  });
  const byUrn = new Map(evaluation.resources.map((r) => [r.urn, r]));
  const run: StackRun = {
    ...evaluation,
    maybeByName(name) {
      const found = evaluation.resources.filter((r) => r.name === name);
      if (found.length > 1) throw new Error(`several resources named ${name}`);
      return found[0];
    },
    byName(name) {
      const found = run.maybeByName(name);
      if (!found) throw new Error(`no resource named ${name}; registered: ${evaluation.resources.map((r) => r.name).join(", ")}`);
      return found;
    },
    ofType(type) {
      return evaluation.resources.filter((r) => r.type === type);
    },
    dependsTransitively(from, to) {
      const seen = new Set<string>();
      const stack = [...from.dependencies];
      while (stack.length > 0) {
        const urn = stack.pop() as string;
        if (urn === to.urn) return true;
        if (seen.has(urn)) continue;
        seen.add(urn);
        stack.push(...(byUrn.get(urn)?.dependencies ?? []));
      }
      return false;
    },
  };
  return run;
}
