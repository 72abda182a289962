/**
 * revocation-requires-verification (policy/revocation.ts): a revocation waits for the verification of the generation every reader pins, with exact messages and what preview cannot prove.
 */
import { revocationRequiresVerification } from "../../policy/policies";
import { AnalyzerResourceView, checkStack, resourceView } from "../../harness/policy-harness";
import { UNKNOWN } from "../../harness/recording-monitor";
import {
  T,
  U,
  cloudRun,
  messages,
  plainEnv,
  rotationStack,
  secretEnv,
  secretNode,
  versionNode,
  unprovable,
  replaceResource,
} from "../support/policy-builders";
import * as pulumi from "@pulumi/pulumi";

afterAll(() => pulumi.runtime.disconnect());

describe("revocation-requires-verification, edges", () => {
  const check = (stack: AnalyzerResourceView[]) => checkStack(revocationRequiresVerification, stack);

  test("no verification upstream: the exact message, naming the one verification as the missing gate", async () => {
    const found = await check(rotationStack({ revokedDeps: [] }));
    expect(messages(found)).toEqual([
      "mandatory: auth-token-g3 is disabled (revoked) while auth-token-g4 (generation 4) is current, but it depends on no verification: the old " +
        "auth-token could be revoked before the new generation is verified on the services. Missing edge: auth-token-g3 -> verification " +
        "(dependsOn, e.g. RotatingSecret's revocationGate).",
    ]);
    expect(found[0].urn).toBe(U(T.secretVersion, "auth-token-g3"));
    const second = resourceView({ type: T.verification, name: "other-verification", props: { generations: {} } });
    expect(messages(await check([...rotationStack({ revokedDeps: [] }), second]))[0]).toContain(
      "Missing edge: auth-token-g3 -> the verification (dependsOn",
    );
  });

  test("the gate reached transitively passes; a gate with no generation for the credential, or an unknown one", async () => {
    const stack = rotationStack();
    const hop = resourceView({ type: "test:index:Hop", name: "hop", dependencies: [U(T.verification, "verification")], props: {} });
    const g3 = stack.find((r) => r.name === "auth-token-g3") as AnalyzerResourceView;
    expect(await check([...replaceResource(stack, "auth-token-g3", { ...g3, dependencies: [hop.urn] }), hop])).toEqual([]);
    expect(messages(await check(rotationStack({ generations: { sparkApiKey: 4 } })))).toEqual([
      "mandatory: auth-token-g3 is disabled (revoked) after verification (which verifies no authToken generation), not after a verification of " +
        "auth-token-g4 (generation 4): nothing verifies the current auth-token before the revocation. Missing edge: auth-token-g3 -> a " +
        "verification with generations.authToken = 4.",
    ]);
    // What preview cannot tell about the gate: the revocation cannot be proven safe, and must not pass.
    expect(messages(await check(rotationStack({ generations: { authToken: UNKNOWN } })))).toEqual([
      unprovable("auth-token-g3 is disabled (revoked)", ["verification: the generation of auth-token it verifies"]),
    ]);
    expect(messages(await check(rotationStack({ revoking: UNKNOWN })))).toEqual([
      unprovable("auth-token-g3 is disabled (revoked)", ["verification: its revoking list"]),
    ]);
  });

  test("versions it cannot place or date during preview are revocations all the same; an enabled or foreign version is none", async () => {
    const token = secretNode("tok", "auth-token");
    const foreign = resourceView({
      type: T.secretVersion,
      name: "x-g1",
      props: { secret: "projects/p/secrets/elsewhere", enabled: false },
    });
    const unplaced = resourceView({ type: T.secretVersion, name: "y-g1", props: { secret: UNKNOWN, enabled: false } });
    const undated = versionNode(token, "auth-token-old", { version: UNKNOWN, enabled: false });
    const enabledUnknown = versionNode(token, "auth-token-g9", { version: "19", enabled: UNKNOWN });
    expect(messages(await check([token, foreign, unplaced, undated, enabledUnknown]))).toEqual([
      "mandatory: auth-token-old is disabled (revoked) while auth-token-g9 (generation 9) is current, but it depends on no verification: " +
        "the old auth-token could be revoked before the new generation is verified on the services. Missing edge: auth-token-old -> the " +
        "verification (dependsOn, e.g. RotatingSecret's revocationGate).",
      "mandatory: y-g1 is disabled (revoked) while a newer generation is current, but it depends on no verification: the old y could be " +
        "revoked before the new generation is verified on the services. Missing edge: y-g1 -> the verification (dependsOn, e.g. " +
        "RotatingSecret's revocationGate).",
    ]);
    // Gated, the version whose secret preview cannot tell still cannot be proven safe: any workload may read it.
    const reader = cloudRun("svc", [secretEnv("A", UNKNOWN, UNKNOWN)]);
    const verification = resourceView({
      type: T.verification,
      name: "verification",
      urn: U(T.verification, "verification"),
      props: { generations: { y: 2 }, revoking: ["y-g1"] },
      dependencies: [reader.urn],
    });
    const gated = resourceView({ ...unplaced, dependencies: [verification.urn] });
    expect(messages(await check([reader, verification, gated]))).toEqual([
      unprovable("y-g1 is disabled (revoked)", ["y-g1: which secret it belongs to", "svc: whether it reads y"]),
    ]);
  });

  test("an unknown `enabled` on a newer version nobody pins revokes nothing in use; on the pinned one it must be gated", async () => {
    const stack = rotationStack();
    const g5 = versionNode(stack[0], "auth-token-g5", { version: "15", enabled: UNKNOWN });
    expect(await check([...stack, g5])).toEqual([]);
    const g4 = stack.find((r) => r.name === "auth-token-g4") as AnalyzerResourceView;
    const maybe = replaceResource(stack, "auth-token-g4", resourceView({ ...g4, props: { ...g4.props, enabled: UNKNOWN } }));
    expect(messages(await check(maybe))).toEqual([
      ...["control-service", "executor-service"].map(
        (service) =>
          `mandatory: ${service} container 0 env OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN pins auth-token-g4, the version that may be ` +
          `revoked, and no other version of auth-token is current: revoking auth-token-g4 would cut ${service} off. To fix: stage a ` +
          `new version, roll ${service} to it and verify before revoking.`,
      ),
      "mandatory: auth-token-g4 may be disabled (its `enabled` is unknown until apply) while a newer generation is current, but it " +
        "depends on no verification: the old auth-token could be revoked before the new generation is verified on the services. Missing " +
        "edge: auth-token-g4 -> verification (dependsOn, e.g. RotatingSecret's revocationGate).",
    ]);
  });

  test("a revoking list may name the version resource; a stale pin on an older or unmanaged version is named", async () => {
    expect(await check(rotationStack({ revoking: ["auth-token-g3"] }))).toEqual([]);
    expect(messages(await check(rotationStack({ controlTokenVersion: "13" })))).toEqual([
      "mandatory: control-service container 0 env OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN pins auth-token-g3, the version being revoked, not the current " +
        "auth-token-g4 (generation 4): revoking auth-token-g3 would cut off a service that has not rolled to the new generation. Missing pin: " +
        "control-service -> auth-token-g4.",
    ]);
    const stack = rotationStack({ controlTokenVersion: "12" });
    const g2 = versionNode(stack[0], "auth-token-g2", { version: "12" });
    // The newest version a reader pins is current; a reader on an older one is stale.
    expect(messages(await check([...stack, g2]))).toEqual([
      "mandatory: control-service container 0 env OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN pins auth-token-g2 (generation 2), not the current " +
        "auth-token-g4 (generation 4): revoking auth-token-g3 would cut off a service that has not rolled to the new generation. Missing pin: " +
        "control-service -> auth-token-g4.",
    ]);
    expect(messages(await check(rotationStack({ controlTokenVersion: "99" })))[0]).toContain(
      'env OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN pins "99", not',
    );
  });

  test("a credential without a label is named after its version; a published revocation is one whatever its secret or name", async () => {
    const token = resourceView({ type: T.secret, name: "s", urn: U(T.secret, "s"), props: { secretId: "tok", project: "p" } });
    const g2 = versionNode(token, "api-key-g2", { version: "2" });
    const g1 = versionNode(token, "api-key-g1", { version: "1", enabled: false });
    expect(messages(await check([token, g2, g1]))[0]).toContain(
      "the old api-key could be revoked before the new generation is verified on the services. Missing edge: api-key-g1 -> the verification",
    );
    const published = resourceView({
      type: T.publishedRevocation,
      name: "api-key-g1-revocation",
      props: { versionName: "projects/p/secrets/unknown-secret/versions/1" },
    });
    const undated = resourceView({
      type: T.publishedRevocation,
      name: "api-key-revocation",
      props: { versionName: "projects/p/secrets/tok/versions/1" },
    });
    expect(messages(await check([token, published, undated]))).toEqual([
      "mandatory: api-key-g1-revocation revokes the published api-key-g1 (version 1) while a newer generation is current, but it depends " +
        "on no verification: the old api-key could be revoked before the new generation is verified on the services. Missing edge: " +
        "api-key-g1-revocation -> the verification (dependsOn, e.g. RotatingSecret's revocationGate).",
      "mandatory: api-key-revocation revokes the published api-key (version 1) while a newer generation is current, but it depends on " +
        "no verification: the old projects/p/secrets/tok could be revoked before the new generation is verified on the services. Missing " +
        "edge: api-key-revocation -> the verification (dependsOn, e.g. RotatingSecret's revocationGate).",
    ]);
    // A published revocation whose version preview cannot tell, gated: it cannot be proven safe.
    const verification = resourceView({
      type: T.verification,
      name: "verification",
      urn: U(T.verification, "verification"),
      props: { generations: {}, revoking: ["x"] },
    });
    const unknownVersion = resourceView({
      type: T.publishedRevocation,
      name: "x-revocation",
      props: { versionName: UNKNOWN },
      dependencies: [verification.urn],
    });
    expect(messages(await check([verification, unknownVersion]))).toEqual([
      unprovable("x-revocation revokes the published x", ["x-revocation: which version it revokes"]),
    ]);
  });

  test("a published revocation with nothing verifying the newer generation", async () => {
    const token = resourceView({ type: T.secret, name: "s", urn: U(T.secret, "s"), props: { secretId: "tok", project: "p" } });
    const published = resourceView({
      type: T.publishedRevocation,
      name: "api-key-g1-revocation",
      props: { versionName: "projects/p/secrets/tok/versions/7" },
    });
    expect(messages(await check([token, published]))).toEqual([
      "mandatory: api-key-g1-revocation revokes the published api-key-g1 (version 7) while a newer generation is current, but it depends on no " +
        "verification: the old api-key could be revoked before the new generation is verified on the services. Missing edge: " +
        "api-key-g1-revocation -> the verification (dependsOn, e.g. RotatingSecret's revocationGate).",
    ]);
  });
});

describe("revocation-requires-verification, exact messages and preview", () => {
  const check = (stack: AnalyzerResourceView[]) => checkStack(revocationRequiresVerification, stack);
  const ENV = "OA_LIGHTNING_WALLET_EXECUTOR_AUTH_TOKEN";
  const verificationNode = (name: string, generations: Record<string, unknown>, dependencies: string[]): AnalyzerResourceView =>
    resourceView({
      type: T.verification,
      name,
      urn: U(T.verification, name),
      props: { generations, revoking: ["auth-token-g3"] },
      dependencies,
    });

  interface PublishedOptions {
    readonly generations?: Record<string, unknown>;
    readonly pin?: unknown;
    readonly name?: string;
    readonly versionName?: unknown;
    readonly versionNameFrom?: (stack: { token: string; verification: string; svc: string }) => string[];
    readonly gated?: boolean;
    readonly verificationDeps?: boolean;
  }

  /** Token generation 4 published out of band (no version resource of the stack); published g3 (version 13) revoked. */
  function publishedStack(options: PublishedOptions = {}): AnalyzerResourceView[] {
    const token = secretNode("tok", "auth-token");
    const svc = cloudRun("svc", [secretEnv(ENV, "projects/p/secrets/tok", options.pin ?? "14")], {
      propertyDependencies: { template: [token.urn] },
    });
    const verification = verificationNode(
      "verification",
      options.generations ?? { authToken: 4 },
      options.verificationDeps === false ? [] : [svc.urn],
    );
    const name = options.name ?? "auth-token-g3-revocation";
    const revocation = resourceView({
      type: T.publishedRevocation,
      name,
      urn: U(T.publishedRevocation, name),
      props: { versionName: options.versionName ?? "projects/p/secrets/tok/versions/13" },
      dependencies: options.gated === false ? [] : [verification.urn],
      propertyDependencies: options.versionNameFrom
        ? { versionName: options.versionNameFrom({ token: token.urn, verification: verification.urn, svc: svc.urn }) }
        : {},
    });
    return [token, svc, verification, revocation];
  }

  test("published current generation: a pin on another number passes, a pin on the revoked number is named exactly", async () => {
    expect(await check(publishedStack())).toEqual([]);
    const found = await check(publishedStack({ pin: "13" }));
    expect(messages(found)).toEqual([
      `mandatory: svc container 0 env ${ENV} pins auth-token-g3 (version 13), the version being revoked, not the current generation 4: ` +
        "revoking auth-token-g3 would cut off a service that has not rolled to the new generation. Missing pin: svc -> generation 4.",
    ]);
    expect(found[0].urn).toBe(U(T.cloudRunService, "svc"));
  });

  test("published current generation: a pin unknown in preview cannot be proven safe", async () => {
    expect(messages(await check(publishedStack({ pin: UNKNOWN })))).toEqual([
      unprovable("auth-token-g3-revocation revokes the published auth-token-g3 (version 13)", [
        `svc container 0 env ${ENV}: which version of auth-token it pins`,
      ]),
    ]);
  });

  test("no verification names a generation above the revoked one: the upstream verification's generation is reported", async () => {
    const expected = (verifies: string): string[] => [
      `mandatory: auth-token-g3-revocation revokes the published auth-token-g3 (version 13) after verification (which verifies ${verifies}), ` +
        "not after a verification of a newer generation: nothing verifies the current auth-token before the revocation. Missing edge: " +
        "auth-token-g3-revocation -> a verification with generations.authToken = a generation above 3.",
    ];
    // Equal to the revoked generation, below it, a numeric string, and none at all: none of them is newer.
    expect(messages(await check(publishedStack({ generations: { authToken: 3 } })))).toEqual(expected("generation 3"));
    expect(messages(await check(publishedStack({ generations: { authToken: 2 } })))).toEqual(expected("generation 2"));
    expect(messages(await check(publishedStack({ generations: { authToken: "5" } })))).toEqual(expected('generation "5"'));
    expect(messages(await check(publishedStack({ generations: {} })))).toEqual(expected("no authToken generation"));
  });

  test("several upstream verifications of other generations are all listed, comma-separated", async () => {
    const stack = publishedStack({ generations: { authToken: 2 } });
    const second = verificationNode("second-verification", { authToken: 3 }, [U(T.cloudRunService, "svc")]);
    const revocation = stack[3];
    const gated = resourceView({ ...revocation, dependencies: [U(T.verification, "verification"), second.urn] });
    expect(messages(await check([...replaceResource(stack, revocation.name, gated), second]))).toEqual([
      "mandatory: auth-token-g3-revocation revokes the published auth-token-g3 (version 13) after verification (which verifies generation 2), " +
        "second-verification (which verifies generation 3), not after a verification of a newer generation: nothing verifies the current " +
        "auth-token before the revocation. Missing edge: auth-token-g3-revocation -> a verification with generations.authToken = a generation above 3.",
    ]);
  });

  test("the published current generation is the highest any verification names, whatever their order", async () => {
    const stack = publishedStack();
    const newer = verificationNode("newer-verification", { authToken: 5 }, []);
    expect(messages(await check([newer, ...stack]))).toEqual([
      "mandatory: auth-token-g3-revocation revokes the published auth-token-g3 (version 13) after verification (which verifies generation 4), " +
        "not after a verification of generation 5: nothing verifies the current auth-token before the revocation. Missing edge: " +
        "auth-token-g3-revocation -> a verification with generations.authToken = 5.",
    ]);
  });

  test("a version resource of a newer generation is current even when a verification names a higher one", async () => {
    expect(messages(await check(rotationStack({ generations: { authToken: 5 } })))).toEqual([
      "mandatory: auth-token-g3 is disabled (revoked) after verification (which verifies generation 5), not after a verification of " +
        "auth-token-g4 (generation 4): nothing verifies the current auth-token before the revocation. Missing edge: auth-token-g3 -> a " +
        "verification with generations.authToken = 4.",
    ]);
  });

  test("the current version is the newest one a reader pins; with no reader, the newest enabled one", async () => {
    const stack = rotationStack();
    const token = stack[0];
    // Disabled and never live, older, older by number, or newer but pinned by no reader: none replaces auth-token-g4.
    expect(await check([...stack, versionNode(token, "auth-token-g5", { version: "15", enabled: false })])).toEqual([]);
    expect(await check([...stack, versionNode(token, "auth-token-g2", { version: "12" })])).toEqual([]);
    expect(await check([...stack, versionNode(token, "auth-token-alt", { version: "4" })])).toEqual([]);
    expect(await check([...stack, versionNode(token, "auth-token-g5", { version: "15" })])).toEqual([]);
    // With no reader at all, the newest enabled version is current, and the verification must be of it.
    const unread = stack.filter((r) => r.type !== T.cloudRunService);
    const found = await check([...unread, versionNode(token, "auth-token-g5", { version: "15" })]);
    expect(messages(found)).toEqual([
      "mandatory: auth-token-g3 is disabled (revoked) after verification (which verifies generation 4), not after a verification of " +
        "auth-token-g5 (generation 5): nothing verifies the current auth-token before the revocation. Missing edge: auth-token-g3 -> a " +
        "verification with generations.authToken = 5.",
    ]);
    expect(found[0].urn).toBe(U(T.secretVersion, "auth-token-g3"));
  });

  test("a disabled version resource whose newer generation is published: a pin built from it or naming its number is stale", async () => {
    const build = (pin: unknown): AnalyzerResourceView[] => {
      const token = secretNode("tok", "auth-token");
      const g3Urn = U(T.secretVersion, "auth-token-g3");
      const svc = cloudRun("svc", [secretEnv(ENV, "projects/p/secrets/tok", pin)], {
        propertyDependencies: { template: [token.urn, g3Urn] },
      });
      const verification = verificationNode("verification", { authToken: 4 }, [svc.urn]);
      const g3 = versionNode(token, "auth-token-g3", { version: "13", enabled: false }, [verification.urn]);
      return [token, g3, svc, verification];
    };
    expect(messages(await check(build(UNKNOWN)))).toEqual([
      `mandatory: svc container 0 env ${ENV} pins auth-token-g3, the version being revoked (its reference is built from that version's ` +
        "outputs), not the current generation 4: revoking auth-token-g3 would cut off a service that has not rolled to the new generation. " +
        "Missing pin: svc -> generation 4.",
    ]);
    expect(messages(await check(build("13")))).toEqual([
      `mandatory: svc container 0 env ${ENV} pins auth-token-g3, the version being revoked, not the current generation 4: ` +
        "revoking auth-token-g3 would cut off a service that has not rolled to the new generation. Missing pin: svc -> generation 4.",
    ]);
    expect(await check(build("14"))).toEqual([]);
  });

  test("a pin known only by the template's dependency on the revoked version is a stale pin", async () => {
    const stack = rotationStack({ controlTokenVersion: UNKNOWN });
    const control = stack.find((r) => r.name === "control-service") as AnalyzerResourceView;
    const onG3 = resourceView({
      ...control,
      propertyDependencies: {
        template: [U(T.secret, "auth-token-secret"), U(T.secretVersion, "auth-token-g3"), U(T.account, "control-sa")],
      },
    });
    expect(messages(await check(replaceResource(stack, "control-service", onG3)))).toEqual([
      `mandatory: control-service container 0 env ${ENV} pins auth-token-g3, the version being revoked (its reference is built from that ` +
        "version's outputs), not the current auth-token-g4 (generation 4): revoking auth-token-g3 would cut off a service that has not " +
        "rolled to the new generation. Missing pin: control-service -> auth-token-g4.",
    ]);
  });

  test("readers on two versions that nothing orders: the rotation has not finished", async () => {
    const stack = rotationStack({ controlTokenVersion: "abc" });
    const odd = versionNode(stack[0], "auth-token-odd", { version: "abc" });
    expect(messages(await check([...stack, odd]))).toEqual([
      "mandatory: auth-token-g3 is disabled (revoked) while the workloads that read auth-token pin different versions (auth-token-g4 by " +
        "executor-service; auth-token-odd by control-service) and nothing shows which of them is current. To fix: roll every reader to the " +
        "same version (from that version resource's output) before revoking auth-token-g3.",
    ]);
    // Ordered by number, the older one is a stale pin, named with its generation when its name has one.
    const older = rotationStack({ controlTokenVersion: "2" });
    const g2 = versionNode(older[0], "auth-token-old", { version: "2" });
    expect(messages(await check([...older, g2]))[0]).toContain(
      `control-service container 0 env ${ENV} pins auth-token-old, not the current`,
    );
  });

  test("a service that does not read the secret is not a rollout the verification must wait for", async () => {
    expect(await check([...rotationStack(), cloudRun("unrelated", [plainEnv("MODE", "x")])])).toEqual([]);
  });

  test("the credential is the secret's label, else the version name without its last -g<N>", async () => {
    const labelled = secretNode("tok", "auth-token");
    expect(
      messages(
        await check([
          labelled,
          versionNode(labelled, "token-g4", { version: "14" }),
          versionNode(labelled, "token-g3", { version: "13", enabled: false }),
        ]),
      ),
    ).toEqual([
      "mandatory: token-g3 is disabled (revoked) while token-g4 (generation 4) is current, but it depends on no verification: the old " +
        "auth-token could be revoked before the new generation is verified on the services. Missing edge: token-g3 -> the verification " +
        "(dependsOn, e.g. RotatingSecret's revocationGate).",
    ]);
    const bare = resourceView({ type: T.secret, name: "s", urn: U(T.secret, "s"), props: { secretId: "tok", project: "p" } });
    expect(
      messages(
        await check([
          bare,
          versionNode(bare, "svc-g2-key-g11", { version: "11" }),
          versionNode(bare, "svc-g2-key-g10", { version: "10", enabled: false }),
        ]),
      ),
    ).toEqual([
      "mandatory: svc-g2-key-g10 is disabled (revoked) while svc-g2-key-g11 (generation 11) is current, but it depends on no verification: " +
        "the old svc-g2-key could be revoked before the new generation is verified on the services. Missing edge: svc-g2-key-g10 -> the " +
        "verification (dependsOn, e.g. RotatingSecret's revocationGate).",
    ]);
  });

  test("a published revocation placed by its versionName's dependency on the Secret (no number), and named up to -revocation", async () => {
    const fromSecret = { versionName: UNKNOWN, versionNameFrom: (s: { token: string; verification: string }) => [s.verification, s.token] };
    expect(messages(await check(publishedStack({ ...fromSecret, gated: false })))).toEqual([
      "mandatory: auth-token-g3-revocation revokes the published auth-token-g3 while generation 4 is current, but it depends on no " +
        "verification: the old auth-token could be revoked before the new generation is verified on the services. Missing edge: " +
        "auth-token-g3-revocation -> verification (dependsOn, e.g. RotatingSecret's revocationGate).",
    ]);
    expect(messages(await check(publishedStack({ ...fromSecret, verificationDeps: false })))).toEqual([
      "mandatory: verification verifies auth-token generation 4 but does not depend on svc, which reads that secret: it could pass before " +
        "that rollout finished, and auth-token-g3 would be revoked under it. Missing edge: verification -> svc.",
    ]);
    expect(messages(await check(publishedStack({ name: "old-revocation-auth-token-g3-revocation", gated: false })))[0]).toBe(
      "mandatory: old-revocation-auth-token-g3-revocation revokes the published old-revocation-auth-token-g3 (version 13) while generation 4 " +
        "is current, but it depends on no verification: the old auth-token could be revoked before the new generation is verified on the " +
        "services. Missing edge: old-revocation-auth-token-g3-revocation -> verification (dependsOn, e.g. RotatingSecret's revocationGate).",
    );
  });
});
