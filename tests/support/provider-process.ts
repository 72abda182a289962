/**
 * A provider plugin as the engine runs it: the installed executable (`pulumi-resource-<name>` in a
 * Pulumi home of the test's own), which prints its gRPC port, driven over gRPC with the stubs
 * shipped in @pulumi/pulumi, exactly the calls the engine makes.
 */
import { ChildProcess, spawn } from "node:child_process";
import * as grpc from "@grpc/grpc-js";
import { pluginPb, providerGrpc, providerPb } from "../../lib/sdk-internals/plugin-proto";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";

type Props = Record<string, unknown>;

export interface DiffAnswer {
  readonly changes: "none" | "some" | "unknown";
  readonly replaces: string[];
  readonly deleteBeforeReplace: boolean;
}

/** A gRPC error's details: what the engine would show. */
export interface CallError extends Error {
  readonly code?: number;
  readonly details?: string;
  readonly metadata?: grpc.Metadata;
}

export class ProviderProcess {
  private constructor(
    private readonly child: ChildProcess,
    private readonly client: providerGrpc.ResourceProviderClient,
    readonly stderr: () => string,
  ) {}

  /** Starts the executable with `env` and resolves once it serves gRPC. */
  static async start(executable: string, env: NodeJS.ProcessEnv): Promise<ProviderProcess> {
    const child = spawn(executable, [], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const port = await new Promise<number>((resolve, reject) => {
      let stdout = "";
      child.stdout?.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
        const line = /^([0-9]+)\s*$/m.exec(stdout);
        if (line) resolve(Number(line[1]));
      });
      child.once("exit", (code) => reject(new Error(`${executable} exited with ${code} before printing its port:\n${stderr}`)));
    });
    const client = new providerGrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    return new ProviderProcess(child, client, () => stderr);
  }

  /** One unary call, as a promise (the stub's callback style wrapped). */
  private call<Res>(invoke: (callback: (err: grpc.ServiceError | null, res: Res) => void) => unknown): Promise<Res> {
    return new Promise((resolve, reject) => invoke((err, res) => (err ? reject(err) : resolve(res))));
  }

  async pluginVersion(): Promise<string> {
    const info = await this.call<pluginPb.PluginInfo>((cb) => this.client.getPluginInfo(new Empty(), cb));
    return info.getVersion();
  }

  /** Configure, as the engine sends it (no provider config: the local providers read env). */
  async configure(): Promise<{ acceptSecrets: boolean }> {
    const request = new providerPb.ConfigureRequest();
    request.setAcceptsecrets(true);
    request.setAcceptresources(true);
    const response = await this.call<providerPb.ConfigureResponse>((cb) => this.client.configure(request, cb));
    return { acceptSecrets: response.getAcceptsecrets() };
  }

  async check(urn: string, olds: Props, news: Props): Promise<{ inputs: Props; failures: { property: string; reason: string }[] }> {
    const request = new providerPb.CheckRequest();
    request.setUrn(urn);
    request.setOlds(Struct.fromJavaScript(olds as never));
    request.setNews(Struct.fromJavaScript(news as never));
    const response = await this.call<providerPb.CheckResponse>((cb) => this.client.check(request, cb));
    return {
      inputs: response.getInputs()?.toJavaScript() ?? {},
      failures: response.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() })),
    };
  }

  async diff(urn: string, id: string, olds: Props, news: Props): Promise<DiffAnswer> {
    const request = new providerPb.DiffRequest();
    request.setUrn(urn);
    request.setId(id);
    request.setOlds(Struct.fromJavaScript(olds as never));
    request.setNews(Struct.fromJavaScript(news as never));
    const response = await this.call<providerPb.DiffResponse>((cb) => this.client.diff(request, cb));
    const changes = response.getChanges();
    return {
      changes:
        changes === providerPb.DiffResponse.DiffChanges.DIFF_NONE
          ? "none"
          : changes === providerPb.DiffResponse.DiffChanges.DIFF_SOME
            ? "some"
            : "unknown",
      replaces: response.getReplacesList(),
      deleteBeforeReplace: response.getDeletebeforereplace(),
    };
  }

  async create(urn: string, properties: Props): Promise<{ id: string; properties: Props }> {
    const request = new providerPb.CreateRequest();
    request.setUrn(urn);
    request.setProperties(Struct.fromJavaScript(properties as never));
    const response = await this.call<providerPb.CreateResponse>((cb) => this.client.create(request, cb));
    return { id: response.getId(), properties: response.getProperties()?.toJavaScript() ?? {} };
  }

  async read(urn: string, id: string, properties: Props): Promise<{ id: string; properties: Props }> {
    const request = new providerPb.ReadRequest();
    request.setUrn(urn);
    request.setId(id);
    request.setProperties(Struct.fromJavaScript(properties as never));
    const response = await this.call<providerPb.ReadResponse>((cb) => this.client.read(request, cb));
    return { id: response.getId(), properties: response.getProperties()?.toJavaScript() ?? {} };
  }

  async update(urn: string, id: string, olds: Props, news: Props): Promise<Props> {
    const request = new providerPb.UpdateRequest();
    request.setUrn(urn);
    request.setId(id);
    request.setOlds(Struct.fromJavaScript(olds as never));
    request.setNews(Struct.fromJavaScript(news as never));
    const response = await this.call<providerPb.UpdateResponse>((cb) => this.client.update(request, cb));
    return response.getProperties()?.toJavaScript() ?? {};
  }

  async delete(urn: string, id: string, properties: Props): Promise<void> {
    const request = new providerPb.DeleteRequest();
    request.setUrn(urn);
    request.setId(id);
    request.setProperties(Struct.fromJavaScript(properties as never));
    await this.call<Empty>((cb) => this.client.delete(request, cb));
  }

  async invoke(token: string, args: Props): Promise<Props> {
    const request = new providerPb.InvokeRequest();
    request.setTok(token);
    request.setArgs(Struct.fromJavaScript(args as never));
    const response = await this.call<providerPb.InvokeResponse>((cb) => this.client.invoke(request, cb));
    return response.getReturn()?.toJavaScript() ?? {};
  }

  async stop(): Promise<void> {
    this.client.close();
    if (this.child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      this.child.once("exit", () => resolve());
      this.child.kill("SIGTERM");
    });
  }
}

/** The engine's secret wrapper, as it sends a secret input to a provider that accepts secrets. */
export function secret(value: unknown): Props {
  return { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value };
}

export function isSecret(value: unknown): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Props)["4dabf18193072939515e22adb298388d"] === "1b47061264138c4ac30d75fd1eb44270"
  );
}

export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function urn(type: string, name: string): string {
  return `urn:pulumi:test::wallet-executor::${type}::${name}`;
}
