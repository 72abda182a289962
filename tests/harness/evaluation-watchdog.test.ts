/**
 * The evaluation watchdog (harness/evaluation-watchdog.ts): a program that can never finish fails
 * the evaluation with a StalledProgramError naming the resources involved (a dependency cycle as
 * soon as it is seen; a promise nothing resolves once nothing happens), and a program that makes
 * progress, however slowly, is left alone. In-process, through `evaluateProgram`.
 */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { StalledProgramError } from "../../harness/evaluation-watchdog";
import { Evaluation, evaluateProgram } from "../../harness/recording-monitor";

afterAll(() => pulumi.runtime.disconnect());

const evaluate = (program: () => unknown, stallTimeoutMs?: number): Promise<Evaluation> =>
  evaluateProgram({ program, project: "p", stack: "s", config: { "gcp:project": "p" }, stallTimeoutMs });

/** The stall the evaluation failed with. */
function stall(evaluation: Evaluation): StalledProgramError {
  expect(evaluation.error).toBeInstanceOf(StalledProgramError);
  return evaluation.error as StalledProgramError;
}

class Box extends pulumi.ComponentResource {
  readonly secret: gcp.secretmanager.Secret;
  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super("test:index:Box", name, {}, opts);
    this.secret = new gcp.secretmanager.Secret(`${name}-secret`, { secretId: name, replication: { auto: {} } }, { parent: this });
    this.registerOutputs({});
  }
}

describe("a program that can never finish", () => {
  test("a service that waits on a version that waits on it: the cycle, each step with what it waits through", async () => {
    const evaluation = await evaluate(() => {
      let release: (r: pulumi.Resource) => void = () => undefined;
      const gate = new Promise<pulumi.Resource>((resolve) => (release = resolve));
      const secret = new gcp.secretmanager.Secret("tok", { secretId: "tok", replication: { auto: {} } });
      const version = new gcp.secretmanager.SecretVersion("tok-v", { secret: secret.id, secretData: "x" }, { dependsOn: gate });
      const svc = new gcp.cloudrunv2.Service("svc", {
        location: "l",
        template: {
          containers: [
            { image: "i", envs: [{ name: "T", valueSource: { secretKeyRef: { secret: secret.id, version: version.version } } }] },
          ],
        },
      });
      release(svc);
      return { uri: svc.uri };
    });
    const error = stall(evaluation);
    expect(error.message).toBe(
      "the program can never finish: dependency cycle: tok-v (gcp:secretmanager/secretVersion:SecretVersion) waits on svc " +
        "(gcp:cloudrunv2/service:Service) through dependsOn; svc (gcp:cloudrunv2/service:Service) waits on tok-v " +
        "(gcp:secretmanager/secretVersion:SecretVersion) through its input template. None of them can be registered before the others: " +
        "break the cycle (a resource cannot wait on a resource that waits on it).",
    );
    expect([...error.resources].sort()).toEqual(["svc", "tok-v"]);
    // What was registered before is still reported, and the evaluation has no outputs.
    expect(evaluation.resources.map((r) => r.name)).toEqual(["tok"]);
    expect(evaluation.outputs).toEqual({});
  });

  test("a cycle through a component: waiting on a component is waiting on the resources below it", async () => {
    const evaluation = await evaluate(() => {
      let release: (r: pulumi.Resource) => void = () => undefined;
      const gate = new Promise<pulumi.Resource>((resolve) => (release = resolve));
      const box = new Box("box");
      const reader = new gcp.secretmanager.SecretVersion("reader", { secret: box.secret.id, secretData: "x" }, { dependsOn: gate });
      new gcp.secretmanager.SecretVersion("other", { secret: box.secret.id, secretData: reader.version });
      release(box);
      // The component's own secret waits on nothing: only a child that waits on the reader closes the cycle.
      new gcp.secretmanager.Secret("box-late", { secretId: reader.version, replication: { auto: {} } }, { parent: box });
      return {};
    });
    const error = stall(evaluation);
    expect(error.message).toContain("dependency cycle: reader (gcp:secretmanager/secretVersion:SecretVersion) waits on box-late");
    expect(error.message).toContain("box-late (gcp:secretmanager/secret:Secret) waits on reader");
    expect([...error.resources].sort()).toEqual(["box-late", "reader"]);
  });

  test("a gate never released: after no progress for the stall timeout, each waiting resource and what it waits on", async () => {
    const evaluation = await evaluate(() => {
      const secret = new gcp.secretmanager.Secret("tok", { secretId: "tok", replication: { auto: {} } });
      const old = new gcp.secretmanager.SecretVersion(
        "tok-old",
        { secret: secret.id, secretData: "x", enabled: false },
        { dependsOn: new Promise<pulumi.Resource>(() => undefined) },
      );
      new gcp.secretmanager.SecretVersion("tok-after", { secret: secret.id, secretData: old.version });
      return {};
    }, 300);
    const error = stall(evaluation);
    expect(error.message).toBe(
      "the program never finished (nothing happened for 300 ms): 2 resources were never registered: tok-old " +
        "(gcp:secretmanager/secretVersion:SecretVersion) waits through dependsOn, on a promise that never resolved; tok-after " +
        "(gcp:secretmanager/secretVersion:SecretVersion) waits on tok-old (gcp:secretmanager/secretVersion:SecretVersion) through its " +
        "input secretData. A promise that is never resolved (a gate never released) or a resource that waits on its own dependents " +
        "keeps them waiting forever.",
    );
    expect(error.resources).toEqual(["tok-old", "tok-after"]);
  });

  test("an input promise never resolved, and a program whose own promise never resolves with nothing left waiting", async () => {
    const onInput = stall(
      await evaluate(() => {
        new gcp.secretmanager.Secret("tok", { secretId: new Promise<string>(() => undefined), replication: { auto: {} } });
        return {};
      }, 300),
    );
    expect(onInput.message).toContain(
      "1 resource was never registered: tok (gcp:secretmanager/secret:Secret) waits through its input secretId, on a promise that never resolved.",
    );
    const own = stall(await evaluate(() => new Promise(() => undefined), 300));
    expect(own.message).toBe(
      "the program never finished (nothing happened for 300 ms): it waits on a promise that nothing resolves; no resource is left waiting.",
    );
    expect(own.resources).toEqual([]);
  });
});

describe("a program that finishes", () => {
  test("slow but progressing: never reported; the watchdog leaves no listener behind", async () => {
    const listeners = process.listenerCount("beforeExit");
    const evaluation = await evaluate(async () => {
      for (let i = 0; i < 5; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        new gcp.secretmanager.Secret(`s${i}`, { secretId: `s${i}`, replication: { auto: {} } });
      }
      return { done: true };
    }, 10_000); // far above any pause a busy machine puts between two steps 20 ms apart
    expect(evaluation.error).toBeUndefined();
    expect(evaluation.resources).toHaveLength(5);
    expect(evaluation.outputs).toEqual({ done: true });
    expect(process.listenerCount("beforeExit")).toBe(listeners);
  });
});
