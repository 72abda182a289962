/**
 * The repository's root and its shipped stack files' config, with no Pulumi SDK and no program
 * loaded: a test that needs only these does not pay for them (tests/support/stack.ts runs the program).
 */
import * as fs from "fs";
import * as path from "path";
import { PROJECT } from "../../stack/config";
import { readStackFile, withUnsetSecrets } from "../../stack/stack-file";

export const ROOT = path.resolve(__dirname, "../..");

/**
 * The config map of a shipped stack file, as the engine would pass it once the operator has set its
 * secret values (secure values and the secrets not set yet in the file are redacted placeholders).
 */
export function stackConfig(stack: "staging" | "prod"): { config: Record<string, string>; secretKeys: string[] } {
  const file = path.join(ROOT, `Pulumi.${stack}.yaml`);
  const { config, secretKeys } = withUnsetSecrets(readStackFile(fs.readFileSync(file, "utf8"), PROJECT, file));
  return { config, secretKeys };
}
