/**
 * The runtime config's record of which keys were set with `--secret`: the only internal the
 * deployed program itself loads. `pulumi.Config` says whether a value is secret only by wrapping it
 * in an Output, and the program must refuse a secret key stored in plaintext before it registers
 * anything (stack/config.ts `decodeConfigMap`).
 */
import { member } from "./fence";
import { defineInternal } from "./internal";

const CONFIG_SECRET_KEYS_ID = "@pulumi/pulumi/runtime/config#isConfigSecret";
export const configSecretKeys = defineInternal({
  id: CONFIG_SECRET_KEYS_ID,
  moduleId: "@pulumi/pulumi/runtime/config",
  usedBy: ["stack/load.ts"],
  why: "the public Config API tells whether a value is secret only through an Output; config is validated synchronously, before any registration",
  extract: (module) => member<(key: string) => boolean>(CONFIG_SECRET_KEYS_ID, module, "isConfigSecret", "function"),
  behaviour: "a key passed as secret to pulumi.runtime.setAllConfig is reported secret, another key is not",
  behaves: (isConfigSecret) => {
    // Loaded lazily: this module is imported by the program, and the check only runs in tests.
    const runtime = (require("@pulumi/pulumi") as typeof import("@pulumi/pulumi")).runtime;
    const saved = runtime.allConfig();
    const savedSecret = Object.keys(saved).filter((key) => isConfigSecret(key));
    try {
      runtime.setAllConfig({ "fence:plain": "a", "fence:hidden": "b" }, ["fence:hidden"]);
      return isConfigSecret("fence:hidden") && !isConfigSecret("fence:plain");
    } finally {
      runtime.setAllConfig(saved, savedSecret);
    }
  },
});

/** True when the engine passed this config key (`namespace:key`) as a secret. */
export function isConfigSecret(key: string): boolean {
  return configSecretKeys.get()(key);
}
