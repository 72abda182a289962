/**
 * The wallet executor stack, as a function: `loadStack` (the engine's config, validated, and the
 * secret inputs; nothing registered that could act) then `wireStack` (the runbook's five steps as
 * one dependency graph). `index.ts` calls `defineStack()` once; the plan, tests and the rehearsal
 * call it again under their own monitor, tests' fixtures with one seam turned.
 */
import { loadStack } from "./load";
import { StackOutputs, WiringSeams, wireStack } from "./wire";

export type { StackOutputs, WiringSeams } from "./wire";

/** Loads and checks the config, then registers the whole stack and returns its outputs. */
export async function defineStack(seams: WiringSeams = {}): Promise<StackOutputs> {
  return wireStack(await loadStack(), seams);
}
