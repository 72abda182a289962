/** The stand-in programs' own logic: the control's env discovery, the executor's identity. */
import { identityOf } from "../../harness/stand-in-executor-main";
import { controlEnv } from "../../harness/stand-in-control";

describe("the stand-in control's settings", () => {
  test("are found by suffix, under the canonical and the legacy names alike", () => {
    expect(
      controlEnv({
        OA_LIGHTNING_WALLET_EXECUTOR_BASE_URL: "http://127.0.0.1:1/",
        OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN: "t",
        OA_LIGHTNING_WALLET_EXECUTOR_TIMEOUT_MS: "900",
      }),
    ).toEqual({ baseUrl: "http://127.0.0.1:1", token: "t", timeoutMs: 900 });
    expect(
      controlEnv({
        SPARK_EXECUTOR_BASE_URL: "http://x",
        SPARK_EXECUTOR_AUTH_TOKEN: "t",
        SPARK_EXECUTOR_TIMEOUT_MS: "nope",
        LOCALCLOUD_ACCESS_TOKEN: "sa",
      }),
    ).toEqual({
      baseUrl: "http://x",
      token: "t",
      timeoutMs: 12_000,
    });
  });

  test("a missing or ambiguous setting is an error naming the suffix and the candidates", () => {
    expect(() => controlEnv({ SPARK_EXECUTOR_AUTH_TOKEN: "t", SPARK_EXECUTOR_TIMEOUT_MS: "1" })).toThrow(
      "expected exactly one variable ending in _BASE_URL, found none",
    );
    expect(() => controlEnv({ A_BASE_URL: "x", B_BASE_URL: "y", A_AUTH_TOKEN: "t", A_TIMEOUT_MS: "1" })).toThrow(
      "found A_BASE_URL, B_BASE_URL",
    );
  });
});

test("the stand-in executor's identity is a compressed-pubkey-shaped value, stable per mnemonic and different across mnemonics", () => {
  expect(identityOf("one")).toMatch(/^02[0-9a-f]{64}$/);
  expect(identityOf("one")).toBe(identityOf("one"));
  expect(identityOf("one")).not.toBe(identityOf("two"));
});
