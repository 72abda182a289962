/**
 * Which Pulumi backend a command would use, read the way the Pulumi CLI reads it, without running
 * it (so an offline machine gets an answer at once): `PULUMI_BACKEND_URL`, else the project's
 * `backend.url` in Pulumi.yaml, else the `current` backend of `<PULUMI_HOME or ~/.pulumi>/credentials.json`
 * (written by `pulumi login`); `PULUMI_ACCESS_TOKEN` alone means the Pulumi Cloud.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface Backend {
  readonly url: string;
  /** Where the answer came from, for messages. */
  readonly source: string;
}

/** The backend the CLI would use in `projectDir`, or undefined when it would ask for `pulumi login`. */
export function currentBackend(env: NodeJS.ProcessEnv = process.env, projectDir?: string): Backend | undefined {
  if (env.PULUMI_BACKEND_URL) return { url: env.PULUMI_BACKEND_URL, source: "PULUMI_BACKEND_URL" };
  if (projectDir !== undefined) {
    try {
      const text = fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8");
      // `backend:` then an indented `url:`; a YAML parser is not worth loading for two keys.
      const match = /^backend:\s*\n(?:[ \t]+.*\n)*?[ \t]+url:\s*["']?([^"'\s#]+)/m.exec(text);
      if (match) return { url: match[1], source: "Pulumi.yaml backend.url" };
    } catch {
      // no project file: the other sources decide
    }
  }
  const home = env.PULUMI_HOME || path.join(env.HOME || os.homedir(), ".pulumi");
  const credentials = path.join(home, "credentials.json");
  try {
    const doc = JSON.parse(fs.readFileSync(credentials, "utf8")) as { current?: unknown };
    if (typeof doc.current === "string" && doc.current !== "") return { url: doc.current, source: `pulumi login (${credentials})` };
  } catch {
    // never logged in on this machine
  }
  if (env.PULUMI_ACCESS_TOKEN) return { url: "https://api.pulumi.com", source: "PULUMI_ACCESS_TOKEN" };
  return undefined;
}
