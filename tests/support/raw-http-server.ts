/**
 * A programmable raw HTTP server for tests of the verifier's HTTP plumbing: a real node:http server
 * on 127.0.0.1 whose handler answers each request however the test wants (crafted status codes,
 * duplicated headers, bodies in timed parts, oversized bodies, bytes that are not HTTP, no answer at
 * all). It records what arrived, when, and how many connections are still open, so a test can see
 * what the verifier sent and whether it left sockets behind. Never a mocked fetch: real sockets only.
 *
 *   const server = await startRawServer((req, res) => sendJson(res, 200, { ok: true }));
 *   try { ... } finally { await server.close(); }
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { performance } from "node:perf_hooks";

/** One request as it arrived (body drained before the handler runs). */
export interface RawRequest {
  method: string;
  /** Path and query as sent, e.g. "/prefix/status". */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** `performance.now()` when the request's headers arrived. */
  at: number;
}

/** Answers one request; leaving `response` unanswered makes the request hang until `close()`. */
export type RawHandler = (request: RawRequest, response: ServerResponse) => void;

export interface RawServer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  url: string;
  port: number;
  /** Every request received so far, in arrival order. */
  requests: RawRequest[];
  /** TCP connections accepted and not yet closed. */
  openConnections(): number;
  /** Stops listening and destroys every open connection, including hung ones. */
  close(): Promise<void>;
}

export async function startRawServer(handler: RawHandler): Promise<RawServer> {
  const requests: RawRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const at = performance.now();
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const request: RawRequest = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        at,
      };
      requests.push(request);
      handler(request, res);
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  // A client that stops reading (the verifier's body cap) resets the socket mid-write: not a test failure.
  server.on("clientError", (_error, socket: Socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    openConnections: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Answers with a JSON body (`raw` text as is, anything else JSON-encoded); header values given as arrays are sent as repeated lines. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string | string[]> = {},
  raw = false,
): void {
  const text = raw ? String(body) : JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(text);
}

/** Answers 200 with `parts` written one by one, `gapMs` apart, under one content-length (so the client reads them as separate chunks). */
export function sendInParts(res: ServerResponse, parts: readonly string[], gapMs: number): void {
  const total = parts.reduce((sum, part) => sum + Buffer.byteLength(part), 0);
  res.writeHead(200, { "content-type": "application/json", "content-length": String(total) });
  const next = (i: number): void => {
    if (res.destroyed) return;
    if (i === parts.length - 1) {
      res.end(parts[i]);
      return;
    }
    res.write(parts[i]);
    setTimeout(() => next(i + 1), gapMs);
  };
  next(0);
}

/** Answers with bytes that are not an HTTP response, then closes the connection. */
export function sendGarbage(res: ServerResponse, text: string): void {
  res.socket?.end(text);
}

/** Resolves true once `condition()` holds, false if it still does not after `withinMs`. */
export async function eventually(condition: () => boolean, withinMs: number): Promise<boolean> {
  const until = performance.now() + withinMs;
  while (!condition()) {
    if (performance.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
}
