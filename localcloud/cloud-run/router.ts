/**
 * The front end: one loopback port per service URL and one per tag URL, each proxying a request to
 * an instance of the revision its routing picks. The URL is stable for the service's (or the
 * tag's) life and is reported in the service's status, never built by callers. A tag that no longer
 * routes answers 404, as Google's front end does for a host it does not know.
 */
import { createServer, IncomingMessage, request, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Instance } from "../instances";

/** An instance already acquired for this request (its in-flight count includes it). */
export type Backend =
  | { readonly kind: "instance"; readonly instance: Instance; readonly revision: string; readonly timeoutMs: number }
  | { readonly kind: "error"; readonly status: number; readonly message: string };

export interface Endpoint {
  readonly service: string;
  readonly tag?: string;
  readonly port: number;
  readonly url: string;
}

/** The response header naming the revision that answered (a local diagnostic; Cloud Run sends none). */
export const REVISION_HEADER = "x-localcloud-revision";

const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection"]);

export class Router {
  private readonly servers = new Map<string, { endpoint: Endpoint; server: Server }>();

  constructor(
    private readonly backendFor: (service: string, tag: string | undefined) => Promise<Backend>,
    private readonly onAnswered: (revision: string, status: number) => void,
  ) {}

  /** The service's main URL, or one of its tag URLs (opened on first use, then kept). */
  async endpoint(service: string, tag?: string): Promise<Endpoint> {
    const key = endpointKey(service, tag);
    const existing = this.servers.get(key);
    if (existing) return existing.endpoint;
    const server = createServer((req, res) => void this.handle(service, tag, req, res));
    server.keepAliveTimeout = 5_000;
    const port = await new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
    });
    const endpoint: Endpoint = { service, ...(tag !== undefined ? { tag } : {}), port, url: `http://127.0.0.1:${port}` };
    // Two concurrent callers: keep the first, close the second.
    const raced = this.servers.get(key);
    if (raced) {
      server.close();
      return raced.endpoint;
    }
    this.servers.set(key, { endpoint, server });
    return endpoint;
  }

  existing(service: string, tag?: string): Endpoint | undefined {
    return this.servers.get(endpointKey(service, tag))?.endpoint;
  }

  /** Closes every URL of a service (or of all services), dropping open connections. */
  async close(service?: string): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const [key, { endpoint, server }] of this.servers) {
      if (service !== undefined && endpoint.service !== service) continue;
      this.servers.delete(key);
      closing.push(new Promise((resolve) => server.close(() => resolve())));
      server.closeAllConnections();
    }
    await Promise.all(closing);
  }

  private async handle(service: string, tag: string | undefined, req: IncomingMessage, res: ServerResponse): Promise<void> {
    let backend: Backend;
    try {
      backend = await this.backendFor(service, tag);
    } catch (err) {
      backend = { kind: "error", status: 503, message: err instanceof Error ? err.message : String(err) };
    }
    if (backend.kind === "error") {
      req.resume();
      sendText(res, backend.status, backend.message);
      return;
    }
    const { instance, revision } = backend;
    let released = false;
    let status = 0;
    const release = (): void => {
      if (released) return;
      released = true;
      clearTimeout(timer);
      instance.release();
      this.onAnswered(revision, status);
    };
    const headers = { ...req.headers };
    delete headers.connection;
    delete headers["keep-alive"];
    const upstream = request({
      host: "127.0.0.1",
      port: instance.port,
      method: req.method,
      path: req.url,
      headers,
      agent: instance.agent,
    });
    const timer = setTimeout(() => {
      upstream.destroy();
      if (!res.headersSent) {
        status = 504;
        sendText(res, 504, `upstream request timeout (the revision's request timeout is ${backend.timeoutMs} ms)`);
      } else {
        res.destroy();
      }
    }, backend.timeoutMs);
    upstream.on("response", (answer) => {
      status = answer.statusCode ?? 502;
      const out: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
      out[REVISION_HEADER] = revision;
      res.writeHead(status, out);
      answer.pipe(res);
      answer.on("aborted", () => res.destroy());
    });
    upstream.on("error", () => {
      if (!res.headersSent) {
        status = 503;
        sendText(res, 503, `the instance of revision ${revision} closed the connection`);
      } else {
        res.destroy();
      }
    });
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy();
      release();
    });
    req.pipe(upstream);
  }
}

function endpointKey(service: string, tag: string | undefined): string {
  return tag === undefined ? `${service}#main` : `${service}#tag:${tag}`;
}

function sendText(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
  res.end(`${message}\n`);
}
