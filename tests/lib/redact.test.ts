/**
 * The one redaction module (lib/redact.ts): configured secrets and every part of one of echo length,
 * credential shapes in any spelling, values (never documents), and text made one printable line.
 */
import * as fc from "fast-check";
import {
  CLIP_MARK,
  REDACTED,
  Redactor,
  carriesSecret,
  clip,
  echoFragmentLength,
  printable,
  redactCredentials,
  redactSecrets,
  redactText,
  redactValues,
  secretList,
} from "../../lib/redact";

const TOKEN = "Zq7RkW2mXv9LpT4nBc8HdY1sJf6GaU3e";

describe("configured secrets", () => {
  test("the whole secret, and any part of it of min(12, length) characters, is an echo", () => {
    expect(echoFragmentLength(TOKEN)).toBe(12);
    expect(echoFragmentLength("abc")).toBe(3);
    expect(carriesSecret(`x ${TOKEN.slice(7, 19)} y`, TOKEN)).toBe(true);
    expect(carriesSecret(`x ${TOKEN.slice(7, 18)} y`, TOKEN)).toBe(false);
    expect(carriesSecret("zzabczz", "abc")).toBe(true);
    expect(carriesSecret("zzabzz", "abc")).toBe(false);
    expect(carriesSecret("anything", "")).toBe(false);
  });

  test("every echoed part is replaced, adjacent and overlapping parts as one", () => {
    expect(redactSecrets(`a ${TOKEN} b`, [TOKEN])).toBe(`a ${REDACTED} b`);
    expect(redactSecrets(`a ${TOKEN.slice(3, 20)} b ${TOKEN.slice(20)}`, [TOKEN])).toBe(`a ${REDACTED} b ${REDACTED}`);
    expect(redactSecrets(`${TOKEN}${TOKEN}`, [TOKEN])).toBe(REDACTED);
    // Short parts stay: "at least 12 characters" is what makes a part an echo.
    expect(redactSecrets(`a ${TOKEN.slice(0, 11)} b`, [TOKEN])).toBe(`a ${TOKEN.slice(0, 11)} b`);
    expect(redactSecrets("nothing", [undefined, null, ""])).toBe("nothing");
  });

  test("a secret's start cut off by a bounded quote is redacted from its sixth character on", () => {
    const invoice = "lnbcrt10u1pjexampleinvoicedata0123456789abcdefghijklmnopqrstuvwxyz";
    expect(redactSecrets(`is "${invoice.slice(0, 8)}${CLIP_MARK}`, [invoice])).toBe(`is "${REDACTED}${CLIP_MARK}`);
    expect(redactSecrets(`is "${invoice.slice(0, 5)}${CLIP_MARK}`, [invoice])).toBe(`is "${invoice.slice(0, 5)}${CLIP_MARK}`);
  });

  test("with a limit, only that prefix is returned, redacted as part of the whole text", () => {
    // 11 characters of the token fall before the limit, the rest after it: still an echo.
    const text = `${"x".repeat(9)}${TOKEN}`;
    expect(redactSecrets(text, [TOKEN], 20)).toBe(`${"x".repeat(9)}${REDACTED}`);
    expect(redactSecrets("abcdef", [], 3)).toBe("abc");
  });

  test("redacting twice changes nothing, even when the secret is part of the marker", () => {
    const once = redactSecrets("a e b", ["e"]);
    expect(once).toBe(`a ${REDACTED} b`);
    expect(redactSecrets(once, ["e"])).toBe(once);
    // A secret running through a marker takes the marker with it.
    expect(redactSecrets(`${REDACTED}zz`, ["d]zz"])).toBe(`[redacte${REDACTED}`);
  });

  test("secrets are listed longest first, once each", () => {
    expect(secretList(["ab", undefined, "abcd", "ab", "", null])).toEqual(["abcd", "ab"]);
  });

  test("property: no part of echo length of a secret survives, whatever surrounds it", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), fc.string(), fc.string(), fc.nat(), (secret, before, after, cut) => {
        // A secret that is itself part of the marker cannot be told apart from it.
        fc.pre(!carriesSecret(REDACTED, secret) && !secret.includes("\u0000"));
        const fragment = secret.slice(cut % secret.length);
        const text = `${before}${secret}${after}${fragment}`;
        // Outside the markers (a marker's brackets next to a neighbour may spell a one-character-long secret's part).
        const out = redactSecrets(text, [secret]).split(REDACTED).join("\u0000");
        expect(carriesSecret(out, secret)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});

describe("credential shapes", () => {
  test.each([
    ["Authorization: Basic dXNlcjpwYXNzd29yZA==", "Authorization: [redacted]"],
    ["authorization: sometoken-value, next", "authorization: [redacted], next"],
    ['{"Authorization":"Bearer abc123","x":1}', '{"Authorization":"[redacted]","x":1}'],
    ["proxy-authorization=Digest abc", "proxy-authorization=[redacted]"],
    ["sent Bearer abcDEF123 on", "sent Bearer [redacted] on"],
    ["BEARER XYZ789", "BEARER [redacted]"],
    ["bEaReR tok.en-1", "bEaReR [redacted]"],
    ["bearer%20abc123def", "bearer%20[redacted]"],
    ['bearer: "k9k9k9"', 'bearer: "[redacted]"'],
    ["x-api-key: k-123456", "x-api-key: [redacted]"],
    ["X-Goog-Api-Key=AIzaSomething", "X-Goog-Api-Key=[redacted]"],
    ["GET /cb?access_token=ya29.a0AfH6SMBxyz&state=1", "GET /cb?access_token=[redacted]&state=1"],
    ["refresh_token: 1//0gabc", "refresh_token: [redacted]"],
    ["client_secret=shh", "client_secret=[redacted]"],
    ['secretData: "c2VjcmV0"', 'secretData: "[redacted]"'],
    ["secretData=c2VjcmV0", "secretData=[redacted]"],
    ['"secretData":"c2VjcmV0"', '"secretData":"[redacted]"'],
    ["secret_data: abcd", "secret_data: [redacted]"],
    ["invalid secretData: abcdefgh", "invalid secretData: [redacted]"],
    ["privateKey=MIIEabc", "privateKey=[redacted]"],
    ["Bearer abcdef", "Bearer [redacted]"],
    ["bearer hunter", "bearer [redacted]"],
    ["GET /x?a=1&token=tok-123&b=2", "GET /x?a=1&token=[redacted]&b=2"],
    ["password: hunter2", "password: [redacted]"],
    ['{"token":"abc","ok":true}', '{"token":"[redacted]","ok":true}'],
    ['{"mnemonic": "abandon ability able"}', '{"mnemonic":"[redacted]"}'],
    ["https://user:pa55@host.example/x", "https://[redacted]@host.example/x"],
    ["key ya29.a0AfH6SMBabcdefgh", "key [redacted]"],
    ["jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig_nature", "jwt [redacted]"],
    ["gh ghp_abcdefghijklmnopqrstuvwxyz0123456789", "gh [redacted]"],
    ["stripe sk_live_abcdefgh12345678", "stripe [redacted]"],
    [`pay lnbcrt10u1pj${"q".repeat(48)}xyz`, "pay [redacted]"],
    ["-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY----- after", "[redacted] after"],
  ])("%j", (input, expected) => {
    expect(redactCredentials(input)).toBe(expected);
  });

  test.each([
    // A challenge's parameters, English words after "bearer", and this project's own messages stay.
    'www-authenticate Bearer realm="wallet-executor"',
    'www-authenticate is "Bearer realm=\\"wallet-executor\\""',
    "the bearer token is the gate.",
    'error.message is "missing or invalid bearer token"',
    "wallet-executor:authToken: is required; allowed: an object",
    "gcp:accessToken: is stored in plaintext",
    "wallet-executor:sparkApiKey.current: 0 is not allowed",
    "random:index/randomPassword:RandomPassword and gcp:secretmanager/secret:Secret",
    "apiKeyConfigured is false in spark mode",
    "Authorization: [redacted]",
  ])("left alone: %j", (input) => {
    expect(redactCredentials(input)).toBe(input);
  });

  test("redactText removes configured secrets first, then shapes", () => {
    expect(redactText(`Bearer ${TOKEN} and ${TOKEN.slice(2, 16)}`, [TOKEN])).toBe(`Bearer ${REDACTED} and ${REDACTED}`);
  });
});

describe("values, never documents", () => {
  test("every string value is redacted, keys and skipped fields stay", () => {
    const doc = { name: "status", detail: `saw ${TOKEN}`, nested: [{ text: `x-api-key: ${TOKEN}` }], n: 1, ok: true, none: null };
    expect(redactValues(doc, (t) => redactText(t, [TOKEN]), new Set(["name"]))).toEqual({
      name: "status",
      detail: `saw ${REDACTED}`,
      nested: [{ text: `x-api-key: ${REDACTED}` }],
      n: 1,
      ok: true,
      none: null,
    });
  });

  test("property: redacted values serialize to valid JSON whatever the secret is, even one character", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 3 }), fc.array(fc.string(), { maxLength: 5 }), (secret, texts) => {
        const redactor = new Redactor([secret]);
        const doc = { ok: false, checks: texts.map((t, i) => ({ name: `c${i}`, detail: `${t}${secret}${t}` })) };
        const parsed = JSON.parse(JSON.stringify(redactor.values(doc))) as typeof doc;
        expect(parsed.checks.length).toBe(texts.length);
        for (const check of parsed.checks) expect(typeof check.detail).toBe("string");
      }),
      { numRuns: 200 },
    );
  });

  test("a redactor learns secrets later (a preimage received mid-run)", () => {
    const redactor = new Redactor(["first-secret-value"]);
    redactor.add("second-secret-value", undefined);
    expect(redactor.text("first-secret-value second-secret-value")).toBe(`${REDACTED} ${REDACTED}`);
  });
});

describe("one printable line", () => {
  test("line breaks, ANSI, C1 controls and bidi overrides are escaped, nothing else changes", () => {
    expect(printable("a\nb\r\tc\u001b[31mred\u0000\u007f\u0085\u202e\u2028é😀")).toBe(
      "a\\nb\\r\\tc\\u001b[31mred\\u0000\\u007f\\u0085\\u202e\\u2028é😀",
    );
  });

  test("clip bounds text and marks the cut", () => {
    expect(clip("abcdef", 6)).toBe("abcdef");
    expect(clip("abcdefg", 6)).toBe(`abcde${CLIP_MARK}`);
  });
});

describe("credential shapes inside one engine message", () => {
  test("each credential is redacted on its own; the text between them stays", () => {
    expect(
      redactCredentials(
        'failed: Authorization: Basic dXNlcjpw x-api-key: k-1 at https://x/cb?access_token=t1&a=1 secretData: "c2Vj" cookie: a=b; c=d',
      ),
    ).toBe(
      'failed: Authorization: [redacted] x-api-key: [redacted] at https://x/cb?access_token=[redacted]&a=1 secretData: "[redacted]" cookie: [redacted]',
    );
  });
});
