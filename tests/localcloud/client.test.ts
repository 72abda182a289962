/**
 * The local cloud's client as the provider plugins load it: every engine run starts the plugins one
 * after another, so what they load at start is on the run's critical path. undici loads on the
 * first call to the cloud, which then works.
 */
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { ROOT } from "../support/project";

test("the gcp provider plugin's modules load without undici; the first call to the cloud loads it and gets its answer", () => {
  const script = [
    "const http = require('node:http');",
    "const undiciLoaded = () => Object.keys(require.cache).some((f) => f.includes('/node_modules/undici/'));",
    `const { gcpProvider } = require(${JSON.stringify(path.join(ROOT, "providers", "gcp", "provider.ts"))});`,
    `const { LocalCloudClient } = require(${JSON.stringify(path.join(ROOT, "localcloud", "client.ts"))});`,
    "gcpProvider();",
    "const before = undiciLoaded();",
    "const server = http.createServer((req, res) => {",
    "  res.setHeader('content-type', 'application/json');",
    "  res.end(JSON.stringify({ path: req.url, auth: req.headers.authorization }));",
    "});",
    "server.listen(0, '127.0.0.1', async () => {",
    "  const client = new LocalCloudClient(`http://127.0.0.1:${server.address().port}`, 't0ken');",
    "  const answer = await client.call('GET', '/localcloud/v1/state');",
    "  process.stdout.write(JSON.stringify({ before, after: undiciLoaded(), answer }));",
    "  server.close();",
    "});",
  ].join("\n");
  const result = JSON.parse(
    execFileSync(process.execPath, ["--require", path.join(ROOT, "tools", "register.js"), "-e", script], { cwd: ROOT, encoding: "utf8" }),
  ) as { before: boolean; after: boolean; answer: unknown };
  expect(result).toEqual({ before: false, after: true, answer: { path: "/localcloud/v1/state", auth: "Bearer t0ken" } });
});
